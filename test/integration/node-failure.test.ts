/**
 * Node failures on the simulator (issue 18, item 1): `grm scontrol update nodename=X state=...`
 * takes a node down, drains or resumes it; a job whose node goes down gets SIGTERM first, then
 * is requeued when it allows it (with a bounded number of restarts, each reason in its events)
 * or ends NODE_FAIL. The same on the real SLURM cluster: test/slurm/grm-slurm.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { untilFileExists, waitUntil } from '../helpers/wait.js';

const nodeOf = async (d: TestDaemon, id: number): Promise<string> => (await d.api('GET', `/api/v1/jobs/${id}`)).body.nodes as string;
const eventsOf = async (d: TestDaemon, id: number): Promise<string[]> =>
  ((await d.api('GET', `/api/v1/jobs/${id}`)).body.events as { reason: string }[]).map((e) => e.reason);

t.test('a node taken down under a job: SIGTERM first, requeued elsewhere with its reasons, bounded by MaxBatchRequeue; --no-requeue ends NODE_FAIL', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, runtime: { killGraceMs: 5000, runAsUser: false, maxBatchRequeue: 1 } });
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-nodefail-'));
  t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const go = path.join(d.dataDir, 'go');
  // a training job's way: checkpoint on SIGTERM, then stop
  const script = d.writeScript(
    'train.sh',
    `#!/bin/bash\ntrap 'echo "run \${SLURM_RESTART_COUNT:-0} checkpointed"; exit 0' TERM\necho "run \${SLURM_RESTART_COUNT:-0} on $SLURM_JOB_NODELIST"\n${untilFileExists(go)} & wait\n`,
  );
  const out = path.join(outDir, 'train.out');
  const id = Number((await d.cli('sbatch', '--parsable', '-o', out, script)).stdout.trim());
  await waitUntil('the first run', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('run 0 on'));
  const first = await nodeOf(d, id);

  const down = await d.cli('scontrol', 'update', `nodename=${first}`, 'state=down', 'reason=disk failure');
  t.equal(down.code, 0, down.stderr);
  await waitUntil('the second run', () => fs.readFileSync(out, 'utf8').includes('run 1 on'));
  const text = fs.readFileSync(out, 'utf8');
  t.match(text, /^run 0 on \S+\nrun 0 checkpointed\nrun 1 on /, 'the first run got SIGTERM and checkpointed before the second began');
  const second = await nodeOf(d, id);
  t.not(second, first, 'the second run is on another node: the first is down');
  t.match((await eventsOf(d, id)).join('\n'), /backend ended the allocation: NODE_FAIL \(NodeDown\); requeued after a node failure: restart 1 of at most 1/);
  // each run's lines kept apart: the first run's under run 0, the second's under run 1
  const runLines = async (run: number) => ((await d.api('GET', `/api/v1/jobs/${id}/logs?run=${run}&source=stdout`)).body.lines as { line: string; run: number }[]);
  await waitUntil('the second run\'s first line stored', async () => (await runLines(1)).some((l) => l.line.startsWith('run 1 on')));
  t.same((await runLines(0)).map((l) => l.line.replace(/ on \S+$/, ' on')), ['run 0 on', 'run 0 checkpointed'], 'run 0: the first run\'s lines');
  t.ok((await runLines(1)).every((l) => l.run === 1 && l.line.startsWith('run 1')), 'run 1: only the second run\'s');
  const viaCli = await d.cli('logs', '--run', '0', String(id));
  t.match(viaCli.stdout, /^run 0 on \S+\nrun 0 checkpointed\n$/, 'grm logs --run 0');
  t.match((await d.cli('logs', '--run', 'x', String(id))).stderr, /Invalid --run "x"/);
  const sinfo = (await d.api('GET', '/api/v1/nodes')).body.nodes.find((n: { name: string }) => n.name === first);
  t.same([sinfo.state, sinfo.reason], ['down', 'disk failure'], 'sinfo shows the node down, with the reason');

  // a second failure: the restart bound is reached
  t.equal((await d.cli('scontrol', 'update', `nodename=${second}`, 'state=down', 'reason=fan')).code, 0);
  const ended = await d.waitForState(id, ['NODE_FAIL']);
  t.equal(ended.restart_cnt, 1);
  t.match((await eventsOf(d, id)).join('\n'), /not requeued: restarted 1 times already \(MaxBatchRequeue=1\)/);
  t.match(fs.readFileSync(out, 'utf8'), /run 1 checkpointed\n$/, 'the second run was told too');

  // --no-requeue: the first failure ends it
  const once = Number((await d.cli('sbatch', '--parsable', '--no-requeue', script)).stdout.trim());
  await d.waitForState(once, ['RUNNING']);
  t.equal((await d.cli('scontrol', 'update', `nodename=${await nodeOf(d, once)}`, 'state=down', 'reason=psu')).code, 0);
  await d.waitForState(once, ['NODE_FAIL']);
  t.match((await eventsOf(d, once)).join('\n'), /not requeued: submitted with --no-requeue/);
});

t.test('drain keeps running jobs and takes no new ones; resume returns the node; admin only, with a reason, in SLURM words', async (t) => {
  const d = await startDaemon(t, { cluster: { nodes: [{ names: 'node[01-02]', cpus: 1, memory: '4G' }], partitions: [{ name: 'batch', nodes: 'node[01-02]', default: true, maxTime: 'UNLIMITED' }] } });
  const go = path.join(d.dataDir, 'go');
  const hold = d.writeScript('hold.sh', `#!/bin/bash\n${untilFileExists(go)}\n`);
  const sub = async () => Number((await d.cli('sbatch', '--parsable', hold)).stdout.trim());
  const running = await sub();
  await d.waitForState(running, ['RUNNING']);
  const busy = await nodeOf(d, running);
  const other = busy === 'node01' ? 'node02' : 'node01';

  const noReason = await d.cli('scontrol', 'update', `nodename=${other}`, 'state=drain');
  t.equal(noReason.code, 1);
  t.match(noReason.stderr, /You must specify a reason when DOWNING or DRAINING a node/);
  t.match((await d.cli('scontrol', 'update', 'nodename=node09', 'state=drain', 'reason=x')).stderr, /Invalid node name specified: node09/);
  t.match((await d.cli('scontrol', 'update', `nodename=${other}`, 'state=sleepy')).stderr, /Invalid node state specified: sleepy/);
  const bob = await d.asUser('bob');
  const refused = await bob.cli('scontrol', 'update', `nodename=${other}`, 'state=drain', 'reason=mine');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /admin/i, 'a user may not drain a node');

  // both nodes drained: the running job goes on, a new one waits
  t.equal((await d.cli('scontrol', 'update', 'nodename=node[01-02]', 'state=drain', 'reason=maintenance')).code, 0);
  const waiting = await sub();
  await waitUntil('the new job to be refused the drained nodes', async () => {
    const v = (await d.api('GET', `/api/v1/jobs/${waiting}`)).body;
    return ['PENDING', 'ALLOCATING'].includes(v.job_state) && v.state_reason === 'Resources' ? v : undefined;
  });
  t.equal((await d.api('GET', `/api/v1/jobs/${running}`)).body.job_state, 'RUNNING', 'the running job was left alone');
  const nodes = (await d.api('GET', '/api/v1/nodes')).body.nodes as { name: string; state: string; reason?: string }[];
  t.ok(nodes.every((n) => n.reason === 'maintenance' && /drain/.test(n.state)), `both drained: ${JSON.stringify(nodes.map((n) => n.state))}`);

  t.equal((await d.cli('scontrol', 'update', `nodename=${other}`, 'state=resume')).code, 0);
  await d.waitForState(waiting, ['RUNNING']);
  t.equal(await nodeOf(d, waiting), other, 'the resumed node takes the waiting job');
  fs.writeFileSync(go, '');
  await d.waitForState(running, ['COMPLETED']);
  await d.waitForState(waiting, ['COMPLETED']);
});

t.test('node states an admin set survive a daemon restart, as slurmctld keeps them; resume clears them', async (t) => {
  const first = await startDaemon(t, SMALL_CLUSTER);
  t.equal((await first.cli('scontrol', 'update', 'nodename=node03', 'state=drain', 'reason=disk swap')).code, 0);
  t.equal((await first.cli('scontrol', 'update', 'nodename=node04', 'state=down', 'reason=psu')).code, 0);
  t.equal((await first.cli('scontrol', 'update', 'nodename=node05', 'state=drain', 'reason=x')).code, 0);
  t.equal((await first.cli('scontrol', 'update', 'nodename=node05', 'state=resume')).code, 0);
  await first.daemon.stop();
  const again = await startDaemon(t, { ...SMALL_CLUSTER, dataDir: first.dataDir });
  const nodes = (await again.api('GET', '/api/v1/nodes')).body.nodes as { name: string; state: string; reason?: string }[];
  const of = (name: string) => nodes.find((n) => n.name === name)!;
  t.match(of('node03'), { state: /drain/, reason: 'disk swap' }, 'still drained, with its reason');
  t.match(of('node04'), { state: 'down', reason: 'psu' }, 'still down');
  t.equal(of('node05').state, 'idle', 'a resumed node is in service');
  t.notOk('reason' in of('node05'));
  // and the scheduler honours it: 8 one-node jobs find 6 nodes in service
  const hold = again.writeScript('hold.sh', `#!/bin/bash\n${untilFileExists(path.join(again.dataDir, 'go'))}\n`);
  const ids = await Promise.all(Array.from({ length: 8 }, async () => Number((await again.cli('sbatch', '--parsable', '--exclusive', hold)).stdout.trim())));
  await waitUntil('six running, two waiting', async () => {
    const states = await Promise.all(ids.map(async (id) => (await again.api('GET', `/api/v1/jobs/${id}`)).body.job_state as string));
    return states.filter((s) => s === 'RUNNING').length === 6 && states.filter((s) => s !== 'RUNNING').length === 2;
  });
  const used = await Promise.all(ids.map((id) => nodeOf(again, id)));
  t.notOk(used.includes('node03') || used.includes('node04'), 'nothing started on the drained or down node');
  fs.writeFileSync(path.join(again.dataDir, 'go'), '');
});
