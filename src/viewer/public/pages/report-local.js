// The report computed in the browser from /jobs and /nodes, for a daemon without
// GET /api/v1/report (same shape as that route's answer, approximate: at most 10,000 jobs).
import { getJSON } from '../api.js';
import { FINAL_STATES } from '../util.js';

const SAMPLES = 120;

export async function localReport(since, until) {
  const [{ jobs }, { nodes }] = await Promise.all([getJSON('/jobs?limit=10000'), getJSON('/nodes')]);
  const s = Date.parse(since);
  const u = Date.parse(until);
  const now = Date.now();
  const jobsByState = {};
  const byUser = {};
  const byPartition = {};
  const reasons = new Map();
  const spans = [];
  for (const j of jobs) {
    const end = j.end_time ? Date.parse(j.end_time) : null;
    if (end !== null && end >= s && end <= u && FINAL_STATES.includes(j.job_state)) {
      jobsByState[j.job_state] = (jobsByState[j.job_state] ?? 0) + 1;
      if (j.job_state !== 'COMPLETED') {
        const reason = j.job_state === 'FAILED' && j.exit_code !== null
          ? `NonZeroExitCode (exit ${j.exit_code}${j.exit_signal ? `, ${j.exit_signal}` : ''})`
          : j.state_reason && j.state_reason !== 'None' ? `${j.job_state}: ${j.state_reason}` : j.job_state;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
    if (!j.start_time || !j.node_count) continue;
    const a = Math.max(s, Date.parse(j.start_time));
    const b = Math.min(u, end ?? now);
    if (b <= a) continue;
    const hours = ((b - a) / 3600_000) * j.node_count;
    byUser[j.user_name] = (byUser[j.user_name] ?? 0) + hours;
    byPartition[j.partition] = (byPartition[j.partition] ?? 0) + hours;
    spans.push([a, b, j.node_count]);
  }
  const utilisation = [];
  const last = Math.min(u, now);
  for (let i = 0; i <= SAMPLES && last > s; i++) {
    const t = s + ((last - s) * i) / SAMPLES;
    let busy = 0;
    for (const [a, b, n] of spans) if (a <= t && t < b) busy += n;
    utilisation.push({ time: new Date(t).toISOString(), nodes_busy: Math.min(busy, nodes.length), nodes_total: nodes.length });
  }
  return {
    since, until,
    jobs_by_state: jobsByState,
    node_hours_by_user: byUser,
    node_hours_by_partition: byPartition,
    failure_reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((x, y) => y.count - x.count),
    utilisation,
  };
}
