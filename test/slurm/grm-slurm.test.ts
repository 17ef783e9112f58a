/**
 * The GRM daemon on its SLURM backend, against a REAL single-host SLURM cluster
 * (scripts/slurm-cluster.sh: slurmctld + 4 slurmd, 2 CPUs and 2000 MiB each). One cluster
 * for the file; each subtest its own daemon (free port, temp dir).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execa } from 'execa';
import t from 'tap';
import { isProcessAlive } from '../../src/runtime/proc.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { createLocalUser } from '../helpers/local-user.js';
import { startSlurmctld, startTestCluster, stopSlurmctld, type TestCluster } from '../helpers/slurm-cluster.js';
import { PROJECT_ROOT } from '../helpers/system.js';
import { xmllintReady } from '../helpers/xmllint.js';
import { waitUntil } from '../helpers/wait.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
const RUNCOMPSS = path.join(PROJECT_ROOT, 'test/fixtures/runcompss-double/runcompss.mjs');

interface Holder {
  job_id: number;
  job_state: string;
  nodes: string;
  comment: string;
  user_name: string;
  user_id: number;
}

async function holders(cluster: TestCluster): Promise<Holder[]> {
  const { stdout } = await execa('squeue', ['--json'], { env: cluster.env });
  return (JSON.parse(stdout).jobs as Holder[]).filter((j) => /^grm:/.test(j.comment ?? ''));
}
const live = (h: Holder) => h.job_state === 'RUNNING' || h.job_state === 'PENDING';


async function grm(t: Parameters<typeof startDaemon>[0], cluster: TestCluster, extra: Record<string, unknown> = {}): Promise<TestDaemon> {
  return startDaemon(t, { backend: 'slurm', slurm: { slurmConf: cluster.slurmConf, pollIntervalMs: 300 }, ...extra });
}

async function runAll(cluster: TestCluster): Promise<void> {
  t.test('bad requests come back 4xx with SLURM reasons, nothing stored', async (t) => {
    const d = await grm(t, cluster);
    const badPartition = await d.api('POST', '/api/v1/jobs', { partition: 'nope', script: sh('true') });
    t.equal(badPartition.status, 400);
    t.equal(badPartition.body.error.code, 'E_PARTITION_UNKNOWN');
    t.match(badPartition.body.error.message, /nope/);
    const tooMany = await d.api('POST', '/api/v1/jobs', { minimum_nodes: 5, script: sh('true') });
    t.equal(tooMany.status, 400);
    t.equal(tooMany.body.error.code, 'E_NODE_CONFIG_UNAVAILABLE');
    t.equal(tooMany.body.error.message, 'Requested node configuration is not available: partition debug has 4 nodes, the job asks for at least 5');
    t.equal(tooMany.body.error.field, 'minimum_nodes', "slurmrestd's field name");
    const tooBig = await d.api('POST', '/api/v1/jobs', { cpus_per_task: 3, script: sh('true') });
    t.equal(tooBig.status, 400);
    t.match(tooBig.body.error, { code: 'E_NODE_CONFIG_UNAVAILABLE', field: 'cpus_per_task', message: /3 CPUs per task requested, the largest node of partition debug has 2 CPUs$/ });
    t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 0);
  });

  t.test('a 3-node job: project.xml lists the holder\'s nodes, srun reaches them, the holder is gone after', async (t) => {
    const d = await grm(t, cluster);
    const script = sh(`srun --jobid=$SLURM_JOB_ID --overlap -N3 bash -c 'echo on $SLURMD_NODENAME'\nsleep 2`);
    const id = (await d.api('POST', '/api/v1/jobs', { minimum_nodes: 3, script })).body.job_id;
    const running = await d.waitForState(id, ['RUNNING'], 60_000);
    const holder = (await holders(cluster)).find((h) => String(h.job_id) === running.backend_id);
    t.ok(holder, `holder ${running.backend_id} in squeue`);
    const squeueNodes = (await execa('scontrol', ['show', 'hostnames', holder!.nodes], { env: cluster.env })).stdout.split('\n');
    const project = (await d.api('GET', `/api/v1/jobs/${id}/files/project.xml`)).body as string;
    t.same([...project.matchAll(/<ComputeNode Name="([^"]+)"/g)].map((m) => m[1]), squeueNodes, 'exactly the nodes squeue shows');
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 60_000);
    t.equal(job.job_state, 'COMPLETED', JSON.stringify(job.events));
    const lines = (await d.cli('logs', String(id))).stdout.trim().split('\n').sort();
    t.same(lines, squeueNodes.map((n) => `on ${n}`).sort(), 'the three node names are in the log');
    t.notOk((await holders(cluster)).some((h) => String(h.job_id) === running.backend_id && live(h)), 'no holder left');
  });

  t.test('srun -o "$GRM_TASK_OUTPUT_DIR/%t.out" on SLURM: one file per task, each stored with its rank', async (t) => {
    const d = await grm(t, cluster);
    const script = sh(`srun --jobid=$SLURM_JOB_ID --overlap -N2 -n4 -o "$GRM_TASK_OUTPUT_DIR/%t.out" bash -c 'echo "task $SLURM_PROCID on $SLURMD_NODENAME"'`);
    const id = (await d.api('POST', '/api/v1/jobs', { minimum_nodes: 2, tasks: 4, script })).body.job_id;
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 60_000);
    t.equal(job.job_state, 'COMPLETED', (await d.cli('logs', String(id))).stdout);
    for (const rank of [0, 1, 2, 3]) {
      const lines = (await d.api('GET', `/api/v1/jobs/${id}/logs?rank=${rank}`)).body.lines;
      t.match(lines, [{ source: `task:${rank}.out`, rank, line: new RegExp(`^task ${rank} on \\S+$`) }], `rank ${rank}: its file's line`);
      t.equal(lines.length, 1);
    }
  });

  t.test('6 jobs of 2 nodes on 4 nodes: at most 2 at once, all complete, SLURM\'s pending reason shows', async (t) => {
    const d = await grm(t, cluster);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await d.api('POST', '/api/v1/jobs', { minimum_nodes: 2, exclusive: true, script: sh('sleep 1') })).body.job_id);
    }
    const jobs = [];
    for (const id of ids) jobs.push(await d.waitForState(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 120_000));
    t.ok(jobs.every((j) => j.job_state === 'COMPLETED'), jobs.map((j) => j.job_state).join(','));
    const edges = jobs.flatMap((j) => [{ at: Date.parse(j.start_time), d: 1 }, { at: Date.parse(j.end_time), d: -1 }]).sort((a, b) => a.at - b.at || a.d - b.d);
    let now = 0;
    let peak = 0;
    for (const e of edges) peak = Math.max(peak, (now += e.d));
    t.ok(peak <= 2, `peak ${peak} <= 2`);
    t.ok(jobs.some((j) => j.events.some((e: any) => e.actor === 'backend' && /reason: (Resources|Priority)/.test(e.reason))), 'a SLURM pending reason was recorded');
  });

  t.test('time limit, cancel and an external scancel, side by side', async (t) => {
    const d = await grm(t, cluster);
    const timeout = (await d.api('POST', '/api/v1/jobs', { time_limit: 1, script: sh('echo start; sleep 600') })).body.job_id;

    const pidFile = path.join(d.dataDir, 'pids');
    const cancelled = (await d.api('POST', '/api/v1/jobs', { script: sh(`sleep 300 & echo $! >> ${pidFile}\necho $$ >> ${pidFile}\nwait`) })).body.job_id;
    const c = await d.waitForState(cancelled, ['RUNNING'], 60_000);
    for (let i = 0; i < 100 && (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim().split('\n').length < 2); i++) await new Promise((r) => setTimeout(r, 50));
    const pids = fs.readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    t.equal((await d.api('DELETE', `/api/v1/jobs/${cancelled}`)).status, 200);
    t.equal((await d.waitForState(cancelled, ['CANCELLED', 'FAILED', 'COMPLETED'])).job_state, 'CANCELLED');
    t.same(pids.filter((p) => isProcessAlive(p)), [], 'the master\'s processes are gone');
    t.notOk((await holders(cluster)).some((h) => String(h.job_id) === c.backend_id && live(h)), 'the holder is gone');

    const external = (await d.api('POST', '/api/v1/jobs', { script: sh('sleep 300') })).body.job_id;
    const e = await d.waitForState(external, ['RUNNING'], 60_000);
    await execa('scancel', [e.backend_id], { env: cluster.env });
    const ended = await d.waitForState(external, ['CANCELLED', 'FAILED', 'COMPLETED'], 60_000);
    t.equal(ended.job_state, 'CANCELLED');
    t.match(JSON.stringify(ended.events), /backend ended the allocation: CANCELLED/);

    const timedOut = await d.waitForState(timeout, ['TIMEOUT', 'FAILED', 'COMPLETED', 'CANCELLED'], 200_000);
    t.equal(timedOut.job_state, 'TIMEOUT', JSON.stringify(timedOut.events));
  });

  t.test('with slurmctld down, submissions wait (BackendUnavailable) and run exactly once when it is back', async (t) => {
    if (!cluster.managed) return t.skip('the reused cluster was not started by scripts/slurm-cluster.sh', () => {});
    const d = await grm(t, cluster, { slurm: { slurmConf: cluster.slurmConf, pollIntervalMs: 300, commandTimeoutMs: 15000 } });
    await stopSlurmctld(cluster.dir);
    let restarted = false;
    t.teardown(async () => {
      if (!restarted) await startSlurmctld(cluster.dir);
    });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await d.api('POST', '/api/v1/jobs', { script: sh('echo ran') });
      t.equal(res.status, 201, JSON.stringify(res.body));
      t.match(res.body.warnings.join(' '), /unreachable/);
      ids.push(res.body.job_id);
    }
    const waiting = await d.waitForState(ids[0]!, ['PENDING'], 5000);
    t.equal(waiting.job_state, 'PENDING');
    // throws, failing the test, if it never comes
    await waitUntil('the pending reason to be BackendUnavailable', async () => (await d.api('GET', `/api/v1/jobs/${ids[0]}`)).body.state_reason === 'BackendUnavailable');
    await startSlurmctld(cluster.dir);
    restarted = true;
    for (const id of ids) {
      const done = await d.waitForState(id, ['COMPLETED', 'FAILED'], 120_000);
      t.equal(done.job_state, 'COMPLETED');
      t.equal(done.partition, 'debug', 'the default partition, known once SLURM answered');
    }
    const all = await holders(cluster);
    const instance = fs.readFileSync(path.join(d.dataDir, 'instance-id'), 'utf8').trim();
    for (const id of ids) t.equal(all.filter((h) => h.comment === `grm:${instance}:${id}`).length, 1, `job ${id} had exactly one holder`);
  });

  t.test('a COMPSs job on SLURM: the test master\'s tasks run on the 3 allocated nodes', async (t) => {
    if (!xmllintReady(t)) return;
    const d = await grm(t, cluster, { compss: { runcompss: RUNCOMPSS } });
    const app = d.writeScript('app.py', '#!/usr/bin/env python3\n#GRM --runtime=compss\nprint("app done")\n');
    t.equal((await d.cli('sbatch', '-N', '3', app)).code, 0);
    const job = await d.waitForState(1, ['COMPLETED', 'FAILED'], 120_000);
    t.equal(job.job_state, 'COMPLETED', (await d.cli('logs', '1')).stdout);
    const nodes = (await execa('scontrol', ['show', 'hostnames', job.nodes], { env: cluster.env })).stdout.split('\n');
    const out = (await d.cli('logs', '--source', 'stdout', '1')).stdout;
    for (const [i, node] of nodes.entries()) t.match(out, new RegExp(`task ${i + 1} ran on ${node}\\n`));
    t.equal((await d.cli('logs', '--source', 'compss:jobs/job2_NEW.out', '1')).stdout, `task 2 ran on ${nodes[1]}\n`);
    const show = (await d.cli('show', 'job', '1')).stdout;
    t.match(show, /Command=\S*runcompss\.mjs --project=\S+\/jobs\/1\/project\.xml --resources=\S+\/jobs\/1\/resources\.xml/);
  });

  t.test('an array with a % limit and a held job, on SLURM: GRM sends one task at a time, a held job not at all', async (t) => {
    const d = await grm(t, cluster);
    const go = path.join(d.dataDir, 'go');
    const held = d.writeScript('held.sh', sh('echo held ran'));
    const heldId = Number((await d.cli('sbatch', '--parsable', '-H', held)).stdout.trim());
    const sweep = d.writeScript('sweep.sh', sh(`until [ -e '${go}' ]; do sleep 0.05; done\nsrun --jobid=$SLURM_JOB_ID --overlap -N1 bash -c 'echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT on $SLURMD_NODENAME"'`));
    const sub = await d.cli('sbatch', '--parsable', '-a', '1-3%1', sweep);
    t.equal(sub.code, 0, sub.stderr);
    const id = Number(sub.stdout.trim());
    await waitUntil('a running task', async () => (await d.api('GET', `/api/v1/jobs?ids=${id}&state=R`)).body.total === 1);
    const folded = (await d.cli('squeue', '-h', '-o', '%i %t %r', '-j', String(id))).stdout;
    t.match(folded, new RegExp(`^${id}_\\[2-3%1\\] PD JobArrayTaskLimit$`, 'm'), 'the other tasks wait in GRM, folded');
    const grmHolders = (await holders(cluster)).filter(live);
    t.equal(grmHolders.length, 1, 'SLURM holds one allocation: the running task; the held job and the waiting tasks were never sent');
    fs.writeFileSync(go, '');
    const tasks = await waitUntil('every task to complete', async () => {
      const { jobs } = (await d.api('GET', `/api/v1/jobs?ids=${id}&state=all`)).body;
      return jobs.length === 3 && jobs.every((j: any) => j.job_state === 'COMPLETED') ? (jobs as any[]) : undefined;
    }, { timeoutMs: 180_000 });
    for (const task of tasks) {
      const out = (await d.cli('logs', String(task.job_id))).stdout;
      t.match(out, new RegExp(`^task ${task.array_task_id} of 3 on node\\d$`, 'm'), `task ${task.array_task_id} ran in its own SLURM allocation`);
    }
    t.equal((await d.api('GET', `/api/v1/jobs/${heldId}`)).body.state_reason, 'JobHeldUser');
    t.equal((await d.cli('scontrol', 'release', String(heldId))).code, 0);
    t.equal((await d.waitForState(heldId, ['COMPLETED', 'FAILED'], 60_000)).job_state, 'COMPLETED', 'released, it runs');
  });

  t.test('scontrol update on SLURM: a pending job waits in GRM with its new request; a running one gets a lower limit on its holder', async (t) => {
    const d = await grm(t, cluster);
    const script = d.writeScript('wait.sh', sh('sleep 3600'));
    const pending = (await d.cli('sbatch', '--parsable', '-H', '-t', '10', script)).stdout.trim();
    t.equal((await d.cli('scontrol', 'update', `JobId=${pending}`, 'NumNodes=5')).code, 1, 'a request the cluster cannot hold is refused by SLURM, as at submit');
    t.equal((await d.cli('scontrol', 'update', `JobId=${pending}`, 'NumNodes=2', 'TimeLimit=7')).code, 0);
    t.equal((await d.cli('scontrol', 'release', pending)).code, 0);
    const job = await d.waitForState(Number(pending), ['RUNNING'], 60_000);
    t.equal(job.node_count, 2, 'it got the updated node count');
    const holderLimit = async () => (await holders(cluster)).find((h) => String(h.job_id) === job.backend_id) as (Holder & { time_limit: number }) | undefined;
    t.equal((await holderLimit())?.time_limit, 7, "SLURM's holder has the updated limit");
    const lower = await d.cli('scontrol', 'update', `JobId=${pending}`, 'TimeLimit=3');
    t.equal(lower.code, 0, lower.stderr);
    t.equal((await holderLimit())?.time_limit, 3, 'lowered on the running holder too');
    t.equal((await d.cli('scancel', pending)).code, 0);
    t.equal((await d.waitForState(Number(pending), ['CANCELLED'], 60_000)).job_state, 'CANCELLED', 'cancelled, its holder gone');
  });

  t.test("squeue --start on SLURM: the forecast from SLURM's own nodes and jobs, a foreign job's time limit included", async (t) => {
    const d = await grm(t, cluster);
    const env = cluster.env;
    const blocker = (await execa('sbatch', ['--parsable', '-N4', '--exclusive', '--time=5', '-o', '/dev/null', '-J', 'blocker', '--wrap=sleep 600'], { env })).stdout.trim();
    t.teardown(() => execa('scancel', [blocker], { env }).catch(() => {}));
    const startOf = async () => (await execa('squeue', ['-h', '-j', blocker, '-o', '%T|%S'], { env })).stdout.trim().split('|');
    let started = await startOf();
    for (let i = 0; started[0] !== 'RUNNING' && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      started = await startOf();
    }
    const end = new Date(started[1]!).getTime() + 5 * 60_000; // squeue prints local time
    const script = d.writeScript('short.sh', sh('true'));
    const first = Number((await d.cli('sbatch', '--parsable', '-N1', '-t', '5', script)).stdout.trim());
    const wide = Number((await d.cli('sbatch', '--parsable', '-N4', '--exclusive', '-t', '5', script)).stdout.trim());
    const expected = async (id: number) => (await d.api('GET', `/api/v1/jobs/${id}`)).body.expected_start as string | null;
    const near = (iso: string | null, at: number) => iso !== null && Math.abs(Date.parse(iso) - at) < 60_000;
    // a forecast slower than the listing's wait (a loaded machine) leaves the job without one: ask again
    const until = async (id: number, at: number, what: string) => {
      let seen = await expected(id);
      for (let i = 0; i < 120 && !near(seen, at); i++) {
        await new Promise((r) => setTimeout(r, 500)); // the forecast holds 10 s when GRM's queue does not change
        seen = await expected(id);
      }
      t.ok(near(seen, at), `${what} (${seen})`);
    };
    await until(first, end, 'the first job: when the blocker reaches its limit');
    await until(wide, end + 5 * 60_000, 'the wide one after it: 5 minutes later');
    const out = await d.cli('squeue', '--start', '-h', '-o', '%i %S');
    t.match(out.stdout, new RegExp(`^\\s*${first} \\d{4}-\\d\\d-\\d\\dT`, 'm'), 'squeue --start shows it');
    // A foreign job of the whole cluster (--exclusive: squeue counts its 4 CPUs, %h says it
    // wants the nodes whole), newer than GRM's: where SLURM's priority puts it, the forecast
    // follows (squeue's %Q), above GRM's two, then below them.
    const ours = await Promise.all([first, wide].map(async (id) => (await d.api('GET', `/api/v1/jobs/${id}`)).body.backend_id as string));
    const prio = (await execa('squeue', ['-h', '-j', ours.join(','), '-o', '%Q'], { env })).stdout.trim().split('\n').map(Number);
    const top = Math.max(...prio) + 1000;
    const foreign = (await execa('sbatch', ['--parsable', '-N4', '--exclusive', '--time=10', `--priority=${top}`, '-o', '/dev/null', '-J', 'foreign', '--wrap=true'], { env })).stdout.trim();
    t.teardown(() => execa('scancel', [foreign], { env }).catch(() => {}));
    await until(wide, end + 15 * 60_000, `priority ${top} above GRM's holders (${prio.join(', ')}): the foreign job first, the wide one 10 minutes later`);
    await execa('scontrol', ['update', `JobId=${foreign}`, 'Priority=1'], { env });
    await until(wide, end + 5 * 60_000, 'priority 1: the foreign job after GRM\'s, the wide one back to its first forecast');
    for (const id of [first, wide]) await d.cli('scancel', String(id));
    await execa('scancel', [blocker], { env });
    for (const id of [first, wide]) await d.waitForState(id, ['CANCELLED', 'COMPLETED'], 60_000);
  });

  t.test("run as the user on SLURM: the holder is the user's job, the master and its srun run as the user", async (t) => {
    const user = createLocalUser(t);
    if (!user) return;
    const d = await startDaemon(
      t,
      { backend: 'slurm', slurm: { slurmConf: cluster.slurmConf, pollIntervalMs: 300 }, runtime: { killGraceMs: 1000, runAsUser: true } },
      { runAs: () => user },
    );
    fs.chmodSync(d.dataDir, 0o711); // mkdtemp's 0700 would keep the user from its job folder
    const go = path.join(d.dataDir, 'jobs', 'go');
    const script = sh(`id -u\nsrun --jobid=$SLURM_JOB_ID --overlap -N1 id -u\nuntil [ -e '${go}' ]; do sleep 0.05; done`);
    const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id;
    const running = await d.waitForState(id, ['RUNNING'], 60_000);
    const holder = (await holders(cluster)).find((h) => String(h.job_id) === running.backend_id);
    t.match(holder, { user_name: user.name, user_id: user.uid }, 'SLURM accounts the allocation to the user (sbatch --uid)');
    fs.writeFileSync(go, '');
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 60_000);
    t.equal(job.job_state, 'COMPLETED', JSON.stringify(job.events));
    const lines = (await d.cli('logs', '--source', 'stdout', String(id))).stdout.trim().split('\n');
    t.same(lines, [String(user.uid), String(user.uid)], 'the master and its step on the holder run as the user');
  });

  t.test("GRM's order holds on SLURM: after alice's 8 jobs, bob's 2 start before alice's remaining ones (fair share, look-ahead 1)", async (t) => {
    const policy = { accounts: [{ name: 'physics' }, { name: 'chem' }], weights: { fairshare: 10000 }, calcPeriodSeconds: 1, lookAhead: 1 };
    const d = await grm(t, cluster, { policy, runtime: { runAsUser: false } });
    const alice = await d.asUser('alice', { accounts: ['physics'] });
    const bob = await d.asUser('bob', { accounts: ['chem'] });
    const go = path.join(d.dataDir, 'go');
    // every job takes a whole node (2 CPUs) and runs until told, then 1 s more
    const body = { cpus_per_task: 2, script: sh(`until [ -e '${go}' ]; do sleep 0.05; done\nsleep 1`) };
    const submit = async (who: typeof alice) => (await who.api('POST', '/api/v1/jobs', body)).body.job_id as number;
    // what SLURM holds pending of GRM's, sampled while the queue drains: never more than the look-ahead
    let maxPending = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxPending = Math.max(maxPending, (await holders(cluster)).filter((h) => h.job_state === 'PENDING').length);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const a: number[] = [];
    for (let i = 0; i < 8; i++) a.push(await submit(alice));
    for (const id of a.slice(0, 4)) await d.waitForState(id, ['RUNNING'], 60_000);
    // alice's running jobs are charged at the next calculations: her fair share falls below bob's
    await waitUntil("alice's usage charged", async () => {
      const shares = (await d.api('GET', '/api/v1/shares')).body.shares as { user: string; raw_usage: number }[];
      return (shares.find((r) => r.user === 'alice')?.raw_usage ?? 0) > 0 || undefined;
    });
    const b = [await submit(bob), await submit(bob)];
    const sprio = (await d.api('GET', '/api/v1/priority')).body.jobs as { job_id: number; priority: number }[];
    const prio = (id: number) => sprio.find((j) => j.job_id === id)?.priority ?? 0;
    t.ok(prio(b[0]!) > prio(a[7]!), `bob's job ${prio(b[0]!)} above alice's last ${prio(a[7]!)}`);
    fs.writeFileSync(go, '');
    for (const id of [...a, ...b]) t.equal((await d.waitForState(id, ['COMPLETED', 'FAILED'], 120_000)).job_state, 'COMPLETED');
    sampling = false;
    await sampler;
    const startOf = (id: number) => d.daemon.store.events(id).find((e) => e.toState === 'RUNNING')!.id;
    // a[4] was sent (the look-ahead) before bob submitted; a[5..7] were still in GRM's queue
    for (const late of a.slice(5)) t.ok(startOf(b[0]!) < startOf(late) && startOf(b[1]!) < startOf(late), `bob's jobs started before alice's job ${late}`);
    t.ok(maxPending <= 1, `SLURM never held more than the look-ahead pending (${maxPending})`);
    const who = new Map([...a.map((id, i) => [id, `alice${i + 1}`] as const), ...b.map((id, i) => [id, `bob${i + 1}`] as const)]);
    t.comment(`order of starts on SLURM: ${[...a, ...b].sort((x, y) => startOf(x) - startOf(y)).map((id) => who.get(id)).join(' ')}`);
  });

  t.test('a node taken down on SLURM by grm scontrol update: the holder ends NODE_FAIL, the job is requeued and completes; drain and resume', async (t) => {
    const d = await grm(t, cluster);
    const go = path.join(d.dataDir, 'go');
    // outside the data dir: GRM refuses -o into it
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-nodefail-'));
    t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
    const out = path.join(outDir, 'train.out');
    const script = sh(`trap 'echo "run \${SLURM_RESTART_COUNT:-0} checkpointed"; exit 0' TERM\necho "run \${SLURM_RESTART_COUNT:-0} on $SLURM_JOB_NODELIST"\nuntil [ -e '${go}' ]; do sleep 0.1; done & wait`);
    const id = (await d.api('POST', '/api/v1/jobs', { script, standard_output: out })).body.job_id as number;
    const first = (await d.waitForState(id, ['RUNNING'], 60_000)).nodes as string;
    await waitUntil('the first run', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('run 0 on'), { timeoutMs: 60_000 });
    // whatever happens, the node is back in service for the tests after this one
    t.teardown(() => execa('scontrol', ['update', `nodename=${first}`, 'state=resume'], { env: cluster.env, reject: false }));
    const down = await d.cli('scontrol', 'update', `nodename=${first}`, 'state=down', 'reason=grm test');
    t.equal(down.code, 0, down.stderr);
    // (the test cluster's ReturnToService=2 puts the node back as soon as its slurmd registers
    // again, so the second run may land on it again)
    await waitUntil('the second run', () => fs.readFileSync(out, 'utf8').includes('run 1 on'), { timeoutMs: 120_000 });
    const again = (await d.api('GET', `/api/v1/jobs/${id}`)).body;
    t.equal(again.restart_cnt, 1);
    t.match(JSON.stringify(again.events), /backend ended the allocation: NODE_FAIL[^"]*requeued after a node failure: restart 1/);
    t.match(fs.readFileSync(out, 'utf8'), /^run 0 on \S+\nrun 0 checkpointed\nrun 1 on /, 'SIGTERM first: the first run checkpointed');
    fs.writeFileSync(go, '');
    t.equal((await d.waitForState(id, ['COMPLETED', 'FAILED', 'NODE_FAIL', 'CANCELLED'], 60_000)).job_state, 'COMPLETED');

    // drain and resume through GRM: SLURM's own node state and reason
    const state = async () => (await execa('sinfo', ['-h', '-N', '-n', first, '-o', '%T|%E'], { env: cluster.env })).stdout.trim();
    t.equal((await d.cli('scontrol', 'update', `nodename=${first}`, 'state=drain', 'reason=grm drain test')).code, 0);
    t.match(await state(), /^drain(ed|ing)\|grm drain test$/, "SLURM shows the node drained with GRM's reason");
    const resume = await d.cli('scontrol', 'update', `nodename=${first}`, 'state=resume');
    t.equal(resume.code, 0, resume.stderr);
    await waitUntil('the node back in service', async () => /^(idle|mixed|allocated)\|/.test(await state()), { timeoutMs: 60_000 });
    const badNode = await d.cli('scontrol', 'update', 'nodename=node99', 'state=drain', 'reason=x');
    t.match(badNode.stderr, /Invalid node name specified/, "SLURM's refusal of an unknown node, in its words");
    await waitUntil('no holder of the job left', async () => !(await holders(cluster)).some(live), { timeoutMs: 30_000 });
  });

  t.test('a node that does not answer the pre-flight fails a COMPSs job, naming the node', async (t) => {
    if (!cluster.managed) return t.skip('the reused cluster was not started by scripts/slurm-cluster.sh', () => {});
    if (!xmllintReady(t)) return;
    // Stop node4's slurmd: slurmctld still counts it as up for a while and allocates it.
    const pidFile = path.join(cluster.dir, 'run', 'slurmd-node4.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    // bounded: a restart that never returns would keep this file alive past tap's timeout
    t.teardown(() => execa(path.join(PROJECT_ROOT, 'scripts/slurm-cluster.sh'), ['start', '--dir', cluster.dir], { timeout: 120_000, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }).catch(() => undefined));
    const d = await grm(t, cluster, { compss: { runcompss: RUNCOMPSS } });
    const app = d.writeScript('app.py', '#!/usr/bin/env python3\n#GRM --runtime=compss\nprint("never")\n');
    t.equal((await d.cli('sbatch', '-N', '4', app)).code, 0);
    const job = await d.waitForState(1, ['FAILED', 'COMPLETED'], 120_000);
    t.equal(job.job_state, 'FAILED');
    t.match(job.state_reason, /pre-flight: node node4 did not answer/);
    t.equal(job.command_line, null, 'no master was started');
  });
}

// If this file ever outlives its tests again (it did once in CI, killed by tap's timeout
// after every subtest passed), say what keeps it alive.
t.teardown(() => {
  const alive = setTimeout(() => console.error('grm-slurm.test: still alive 30 s after its tests:', process.getActiveResourcesInfo()), 30_000);
  alive.unref();
});
const cluster = await startTestCluster(t, { nodes: 4 });
if (!cluster) t.end();
else await runAll(cluster);
