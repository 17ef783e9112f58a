/**
 * SlurmBackend against a REAL single-host SLURM cluster (scripts/slurm-cluster.sh: one
 * slurmctld and 4 slurmd, 2 CPUs and 2000 MiB each). One cluster for the whole file.
 */
import { execa } from 'execa';
import t from 'tap';
import { SlurmBackend } from '../../src/backends/slurm/slurm-backend.js';
import { SlurmCommands } from '../../src/backends/slurm/slurm-commands.js';
import { parseSqueueHolders, parseSqueueStatus, SQUEUE_HOLDER_FORMAT, SQUEUE_STATUS_FORMAT, type SqueueJobStatus } from '../../src/backends/slurm/squeue-parse.js';
import type { BackendEvent, ResourceRequest } from '../../src/backends/resource-backend.js';
import { expandHostlist } from '../../src/hostlist/hostlist.js';
import { isGrmError } from '../../src/errors.js';
import { createLocalUser } from '../helpers/local-user.js';
import { startSlurmctld, startTestCluster, stopSlurmctld, type TestCluster } from '../helpers/slurm-cluster.js';


/** One GRM instance id for the file: a second backend with it stands for a restarted GRM. */
const INSTANCE = `test${process.pid}`;

let nextJobId = 1000 + Math.floor(Math.random() * 1000) * 100;

function request(over: Partial<ResourceRequest> = {}): ResourceRequest {
  return {
    jobId: nextJobId++,
    name: 'test',
    user: 'root',
    partition: 'debug',
    minNodes: 1,
    maxNodes: 1,
    tasks: 1,
    cpusPerTask: 1,
    memoryPerNodeMiB: 256,
    gpusPerNode: 0,
    timeLimitMinutes: 10,
    exclusive: false,
    nice: 0,
    submitTime: Date.now(),
    ...over,
  };
}

/** Collects events; waitFor polls the backend until one matches. */
class Recorder {
  readonly events: BackendEvent[] = [];
  constructor(private readonly backend: SlurmBackend) {
    backend.onEvent((e) => this.events.push(e));
  }
  async waitFor(pred: (e: BackendEvent) => boolean, what: string, timeoutMs = 30_000): Promise<BackendEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no event ${what} after ${timeoutMs} ms; got ${JSON.stringify(this.events)}`);
      await this.backend.pollNow().catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function runAll(c: TestCluster): Promise<void> {
  const cmds = new SlurmCommands({ env: c.env });
  const squeue = async (): Promise<SqueueJobStatus[]> => parseSqueueStatus(await cmds.squeueLines(SQUEUE_STATUS_FORMAT), expandHostlist);
  const holders = async () => parseSqueueHolders(await cmds.squeueLines(SQUEUE_HOLDER_FORMAT));
  const holder = async (id: string) => (await squeue()).find((j) => j.slurmJobId === id);
  const idleNodes = async () => (await execa('sinfo', ['-h', '-N', '-t', 'idle', '-o', '%N'], { env: c.env })).stdout.split('\n').filter(Boolean);
  const waitUntil = async (ok: () => Promise<boolean>, what: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const newBackend = (o: { reuseAllocations?: boolean } = {}) => new SlurmBackend({ instance: INSTANCE, env: c.env, pollIntervalMs: 500, ...o });

  await t.test('grant 3 nodes, srun on them, release', async (tt) => {
    const b = newBackend();
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const req = request({ minNodes: 3, maxNodes: 3, tasks: 3, name: 'three' });
    const id = await b.allocate(req);
    tt.match(id, /^\d+$/);
    const g = await rec.waitFor((e) => e.type === 'granted', 'granted');
    if (g.type !== 'granted') throw new Error('unreachable');
    const seen = await holder(id);
    tt.equal(seen?.state, 'RUNNING');
    const names = g.allocation.nodes.map((n) => n.name);
    tt.same(names, expandHostlist(seen!.nodeList), 'exactly the nodes squeue shows');
    tt.equal(names.length, 3);
    tt.equal(g.allocation.nodeList, seen!.nodeList);
    tt.equal(g.jobId, req.jobId);
    for (const n of g.allocation.nodes) {
      tt.equal(n.cpus, 1, `${n.name} cpus`);
      tt.equal(n.memoryMiB, 256, `${n.name} memory`);
    }
    tt.ok(g.allocation.endTime! - g.allocation.startTime >= 9 * 60_000, 'endTime from the time limit');
    tt.same(b.allocationOf(id), g.allocation);

    const out = await execa('srun', [`--jobid=${id}`, '--overlap', '-N3', 'bash', '-c', 'echo $SLURMD_NODENAME'], {
      env: c.env,
      timeout: 60_000,
    });
    tt.same(out.stdout.split('\n').filter(Boolean).sort(), [...names].sort(), 'srun ran on the allocated nodes');

    const listed = await b.list();
    tt.match(listed.find((l) => l.backendId === id), { jobId: req.jobId, state: 'RUNNING' }, 'list() finds it by comment');

    await b.release(id);
    await b.release(id); // idempotent
    await waitUntil(async () => {
      const h = await holder(id);
      return !h || h.phase === 'ENDED';
    }, 'holder gone');
    await waitUntil(async () => (await idleNodes()).length === 4, 'nodes idle');
    await b.pollNow();
    tt.notOk(rec.events.some((e) => e.type === 'ended'), 'no ended event for our own release');
    tt.notOk((await b.list()).some((l) => l.backendId === id), 'released holder no longer listed');
  });

  await t.test("a holder submitted for a user (sbatch --uid/--gid as root) is that user's job; srun into it works as that user, the pre-flight too", async (tt) => {
    const user = createLocalUser(tt);
    if (!user) return;
    const b = new SlurmBackend({
      instance: INSTANCE,
      env: c.env,
      pollIntervalMs: 500,
      holderAccount: (name) => (name === 'alice' ? { uid: user.uid, gid: user.gid } : null),
    });
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const req = request({ user: 'alice', name: 'mine' });
    await b.validate(req); // sbatch --test-only --uid: checked as the user
    const id = await b.allocate(req);
    const g = await rec.waitFor((e) => e.type === 'granted' && e.jobId === req.jobId, 'granted');
    if (g.type !== 'granted') throw new Error('unreachable');
    const raw = (await execa('squeue', ['-h', '-j', id, '-o', '%U|%G|%u'], { env: c.env })).stdout.trim();
    tt.equal(raw, `${user.uid}|${user.gid}|${user.name}`, 'SLURM accounts the holder to the user');
    // what the master does, running as the user: srun into its holder
    const asUser = ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups'];
    const out = await execa('setpriv', [...asUser, 'srun', `--jobid=${id}`, '--overlap', '-N1', 'id', '-u'], { env: c.env, timeout: 60_000 });
    tt.equal(out.stdout.trim(), String(user.uid), 'the step runs as the user');
    const asRoot = await execa('srun', [`--jobid=${id}`, '--overlap', '-N1', 'true'], { env: c.env, timeout: 60_000, reject: false });
    tt.match(asRoot.stderr, /Access\/permission denied/, 'SLURM refuses root a step in a user\'s job...');
    tt.same(await b.preflight(g.allocation), [], '...so the pre-flight srun runs as the holder\'s user');
    await b.release(id);
    await waitUntil(async () => {
      const h = await holder(id);
      return !h || h.phase === 'ENDED';
    }, 'holder gone');
  });

  await t.test('3 x 2 nodes on 4 nodes: third pends, granted after a release', async (tt) => {
    const b = newBackend({ reuseAllocations: false }); // SLURM's own grant (the handover has its test)
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const reqs = [1, 2, 3].map(() => request({ minNodes: 2, maxNodes: 2, tasks: 2, exclusive: true, memoryPerNodeMiB: 0 }));
    const ids: string[] = [];
    for (const r of reqs) ids.push(await b.allocate(r));
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === reqs[1]!.jobId, 'second granted');
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === reqs[0]!.jobId, 'first granted');
    const p = await rec.waitFor((e) => e.type === 'pending' && e.jobId === reqs[2]!.jobId, 'third pending');
    tt.match(p, { type: 'pending', backendId: ids[2], reason: /^(Resources|Priority)$/ });
    tt.notOk(rec.events.some((e) => e.type === 'granted' && e.jobId === reqs[2]!.jobId));
    await b.release(ids[0]!);
    const g3 = await rec.waitFor((e) => e.type === 'granted' && e.jobId === reqs[2]!.jobId, 'third granted', 30_000);
    if (g3.type === 'granted') {
      tt.equal(g3.allocation.nodes.length, 2);
      tt.same(g3.allocation.nodes.map((n) => n.cpus), [2, 2], 'exclusive: all cpus of each node');
    }
    const pendings = rec.events.filter((e) => e.type === 'pending' && e.jobId === reqs[2]!.jobId);
    tt.ok(pendings.length >= 1 && pendings.length <= 3, 'pending only when the reason changes');
    const grants = rec.events.filter((e) => e.type === 'granted');
    tt.equal(grants.length, 3, 'each granted once');
    await b.release(ids[1]!);
    await b.release(ids[2]!);
  });

  await t.test('salloc holders: the grant reaches GRM without a poll; a stopped GRM leaves a waiting one queued, the next adopts it', async (tt) => {
    // polls a minute apart: only salloc's exit can report the grant within the test's bounds
    const slow = () => new SlurmBackend({ instance: INSTANCE, env: c.env, pollIntervalMs: 60_000, holder: 'salloc', reuseAllocations: false });
    const b = slow();
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    await b.pollNow(); // the first poll, due at start, is behind us
    const whole = () => request({ minNodes: 4, maxNodes: 4, tasks: 4, exclusive: true, memoryPerNodeMiB: 0 });
    const first = whole();
    const second = whole();
    const id1 = await b.allocate(first);
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === first.jobId, 'first granted', 10_000);
    const id2 = await b.allocate(second);
    await waitUntil(async () => (await holder(id2))?.phase === 'PENDING', 'second waits');
    tt.equal((await execa('scontrol', ['show', 'job', id1], { env: c.env })).stdout.match(/BatchFlag=(\d)/)?.[1], '0', 'an allocation without a batch script');
    await b.release(id1);
    // within 10 s with polls 60 s apart, and no fast polls while a salloc waits: salloc told GRM
    const g = await rec.waitFor((e) => e.type === 'granted' && e.jobId === second.jobId, 'second granted after the release', 10_000);
    tt.equal(g.type === 'granted' && g.allocation.nodes.length, 4);
    await b.release(id2);
    await waitUntil(async () => (await idleNodes()).length === 4, 'nodes idle');

    // a waiting salloc when GRM stops: abandoned, its job stays queued
    const blocker = whole();
    const queued = whole();
    const idB = await b.allocate(blocker);
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === blocker.jobId, 'blocker granted', 10_000);
    const idQ = await b.allocate(queued);
    await b.stop();
    await new Promise((r) => setTimeout(r, 500));
    tt.equal((await holder(idQ))?.phase, 'PENDING', 'still queued in SLURM after the stop');
    const b2 = slow();
    const rec2 = new Recorder(b2);
    await b2.start();
    tt.teardown(() => b2.stop());
    tt.equal(await b2.allocate(queued), idQ, 'the restarted GRM adopts it');
    await execa('scancel', [idB], { env: c.env });
    // adopted without a salloc: the fast polls notice the grant
    await rec2.waitFor((e) => e.type === 'granted' && e.jobId === queued.jobId, 'adopted holder granted', 15_000);
    await b2.release(idQ);
    await waitUntil(async () => (await idleNodes()).length === 4, 'nodes idle');
  });

  await t.test("GRM's order passed down: a holder gets GRM's priority (--priority, as root), so SLURM starts waiting holders in GRM's order", { skip: process.getuid?.() !== 0 && 'needs root (a SLURM operator)' }, async (tt) => {
    const b = newBackend({ reuseAllocations: false });
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const whole = (priority: number) => ({ ...request({ minNodes: 4, maxNodes: 4, tasks: 4, exclusive: true, memoryPerNodeMiB: 0 }), priority });
    const blocker = whole(5);
    const idB = await b.allocate(blocker);
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === blocker.jobId, 'blocker granted');
    // admitted first but lower: SLURM's FIFO (priority/basic here) alone would start it first
    const low = whole(10);
    const high = whole(1000);
    const idLow = await b.allocate(low);
    const idHigh = await b.allocate(high);
    const prio = async (id: string) => (await execa('squeue', ['-h', '-j', id, '-o', '%Q'], { env: c.env })).stdout.trim();
    tt.same([await prio(idLow), await prio(idHigh)], ['10', '1000'], 'SLURM shows GRM\'s priorities');
    await b.release(idB);
    const first = await rec.waitFor((e) => e.type === 'granted' && e.jobId !== blocker.jobId, 'a waiting holder granted');
    tt.equal(first.jobId, high.jobId, 'the higher one started first');
    tt.equal((await holder(idLow))?.phase, 'PENDING', 'the lower one still waits');
    await b.release(idHigh);
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === low.jobId, 'then the lower one');
    await b.release(idLow);
    await waitUntil(async () => (await idleNodes()).length === 4, 'nodes idle');
  });

  await t.test('a finished holder goes to the waiting one SLURM would start next, when it asks for the same and nobody else waits', { skip: process.getuid?.() !== 0 && 'needs root (a SLURM operator)' }, async (tt) => {
    const b = newBackend();
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const whole = (over: Partial<ResourceRequest> = {}) => request({ minNodes: 4, maxNodes: 4, tasks: 4, exclusive: true, memoryPerNodeMiB: 0, timeLimitMinutes: 10, ...over });
    const comment = async (id: string) => (await execa('squeue', ['-h', '-j', id, '-o', '%k|%j|%l'], { env: c.env })).stdout.trim();
    const a = whole();
    const next = whole({ timeLimitMinutes: 3, name: 'next' });
    const idA = await b.allocate(a);
    const gA = await rec.waitFor((e) => e.type === 'granted' && e.jobId === a.jobId, 'a granted');
    const idNext = await b.allocate(next);
    await waitUntil(async () => (await holder(idNext))?.phase === 'PENDING', 'next waits');
    await b.pollNow(); // what else waits in SLURM: nothing
    await b.release(idA, a.jobId);
    const g = await rec.waitFor((e) => e.type === 'granted' && e.jobId === next.jobId, 'next granted');
    if (g.type !== 'granted' || gA.type !== 'granted') throw new Error('unreachable');
    tt.equal(g.allocation.backendId, idA, "a's holder, handed over");
    tt.equal(g.replaces, idNext, 'its own request withdrawn');
    tt.equal(g.allocation.nodeList, gA.allocation.nodeList);
    tt.match(await comment(idA), new RegExp(`^grm:${INSTANCE}:${next.jobId}\\|grm-${next.jobId}-next\\|`), 'the holder names its new job (a restart adopts it for that one)');
    tt.match(await comment(idA), /\|4:00$/, "its time limit now ends with the new job's (3 minutes from now, in whole minutes since its start)");
    await waitUntil(async () => (await holder(idNext))?.phase !== 'PENDING', 'the withdrawn request gone from the queue');
    await b.release(idA, a.jobId); // a late release from the job that gave it back: not its to give
    await b.pollNow();
    tt.equal((await holder(idA))?.phase, 'RUNNING', "a's late release leaves the holder to its new job");
    tt.same(b.allocationOf(idA)?.nodeList, gA.allocation.nodeList);

    // another shape waits: the allocation goes back to SLURM, which starts that one
    const half = whole({ minNodes: 2, maxNodes: 2, tasks: 2 });
    const idHalf = await b.allocate(half);
    await waitUntil(async () => (await holder(idHalf))?.phase === 'PENDING', 'half waits');
    await b.release(idA, next.jobId);
    const gHalf = await rec.waitFor((e) => e.type === 'granted' && e.jobId === half.jobId, 'half granted by SLURM');
    tt.equal(gHalf.type === 'granted' && gHalf.allocation.backendId, idHalf, 'its own holder');

    // someone else waits in the partition: back to SLURM too
    const other = whole({ minNodes: 2, maxNodes: 2, tasks: 2 });
    const idOther = await b.allocate(other); // the cluster full: half and other
    await rec.waitFor((e) => e.type === 'granted' && e.jobId === other.jobId, 'other granted');
    const same = whole({ minNodes: 2, maxNodes: 2, tasks: 2, priority: 1000 });
    const idSame = await b.allocate(same);
    const fill = (await execa('sbatch', ['--parsable', '-N2', '--exclusive', '--time=1', '-o', '/dev/null', '--job-name=foreign', '--wrap=true'], { env: c.env })).stdout.trim();
    tt.teardown(() => execa('scancel', [fill], { env: c.env, reject: false }));
    await waitUntil(async () => (await holder(idSame))?.phase === 'PENDING' && (await holder(fill))?.phase === 'PENDING', 'both wait');
    await b.pollNow();
    await b.release(idHalf, half.jobId);
    const gSame = await rec.waitFor((e) => e.type === 'granted' && e.jobId === same.jobId, 'same granted by SLURM');
    tt.equal(gSame.type === 'granted' && gSame.allocation.backendId, idSame, 'not handed over: a foreign job waited');
    await b.release(idOther, other.jobId);
    await b.release(idSame, same.jobId);
    await execa('scancel', [fill], { env: c.env, reject: false });
    await waitUntil(async () => (await idleNodes()).length === 4, 'nodes idle');
  });

  await t.test("batch holders (slurm.holder: 'batch', for clusters with InactiveLimit): granted by polls, srun into them, released", async (tt) => {
    const b = new SlurmBackend({ instance: INSTANCE, env: c.env, pollIntervalMs: 500, holder: 'batch' });
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    tt.equal(await newBackend().holderKind(), 'salloc', "auto: salloc on this cluster (InactiveLimit=0)");
    const req = request({ minNodes: 2, maxNodes: 2, tasks: 2 });
    const id = await b.allocate(req);
    const g = await rec.waitFor((e) => e.type === 'granted' && e.jobId === req.jobId, 'granted');
    tt.equal((await execa('scontrol', ['show', 'job', id], { env: c.env })).stdout.match(/BatchFlag=(\d)/)?.[1], '1', 'a batch job');
    const out = await execa('srun', [`--jobid=${id}`, '--overlap', '-N2', 'bash', '-c', 'echo $SLURMD_NODENAME'], { env: c.env, timeout: 60_000 });
    tt.same(out.stdout.split('\n').filter(Boolean).sort(), g.type === 'granted' ? g.allocation.nodes.map((n) => n.name).sort() : [], 'srun ran on its nodes');
    await b.release(id);
    await waitUntil(async () => {
      const h = await holder(id);
      return !h || h.phase === 'ENDED';
    }, 'holder gone');
  });

  await t.test('an external scancel ends the holder with CANCELLED', async (tt) => {
    const b = newBackend();
    const rec = new Recorder(b);
    await b.start();
    tt.teardown(() => b.stop());
    const id = await b.allocate(request());
    await rec.waitFor((e) => e.type === 'granted', 'granted');
    await execa('scancel', [id], { env: c.env });
    const e = await rec.waitFor((ev) => ev.type === 'ended', 'ended');
    tt.match(e, { type: 'ended', backendId: id, state: 'CANCELLED' });
    await b.release(id);
  });

  // The TIMEOUT case takes over a minute: its holder (1 cpu of one node) runs while the tests
  // below, which need no free nodes, do.
  const tb = newBackend();
  const trec = new Recorder(tb);
  t.teardown(() => tb.stop());
  const timeoutReq = request({ timeLimitMinutes: 1, memoryPerNodeMiB: 100, name: 'timeout' });
  let timeoutId = '';
  // (inside a subtest: tap ends the root test when it has no subtest to wait for)
  await t.test('submit a holder with a 1-minute limit', async (tt) => {
    await tb.start();
    timeoutId = await tb.allocate(timeoutReq);
    tt.match(timeoutId, /^\d+$/);
  });

  await t.test('validate refuses with SLURM reasons', async (tt) => {
    const b = newBackend();
    const refuses = (over: Partial<ResourceRequest>, code: string, field: string, message: string) =>
      tt.rejects(b.validate(request(over)), { code, field, message }, JSON.stringify(over));
    const NODE_CONFIG = 'Requested node configuration is not available: ';
    await refuses({ partition: 'nope' }, 'E_PARTITION_UNKNOWN', 'partition', 'invalid partition specified: nope');
    await refuses({ minNodes: 5, maxNodes: 5, tasks: 5 }, 'E_NODE_CONFIG_UNAVAILABLE', 'minimum_nodes', `${NODE_CONFIG}partition debug has 4 nodes, the job asks for at least 5`);
    await refuses({ cpusPerTask: 8 }, 'E_NODE_CONFIG_UNAVAILABLE', 'cpus_per_task', `${NODE_CONFIG}8 CPUs per task requested, the largest node of partition debug has 2 CPUs`);
    await refuses({ gpusPerNode: 1 }, 'E_NODE_CONFIG_UNAVAILABLE', 'tres_per_node', `${NODE_CONFIG}1 GPU per node requested, partition debug has no GPUs`);
    await refuses({ memoryPerNodeMiB: 4000 }, 'E_NODE_CONFIG_UNAVAILABLE', 'memory_per_node', `${NODE_CONFIG}4000 MiB of memory per node requested, the largest node of partition debug has 2000 MiB`);
    await refuses(
      { tasks: 9, minNodes: 1, maxNodes: 4 },
      'E_NODE_CONFIG_UNAVAILABLE',
      'tasks',
      `${NODE_CONFIG}9 tasks of 1 CPU each do not fit on at most 4 nodes of partition debug: a node takes at most 2 of them`,
    );
    await refuses({ tasks: 1, minNodes: 2, maxNodes: 2 }, 'E_REQUEST_INVALID', 'tasks', "can't run 1 processes on 2 nodes: ask for fewer nodes or more tasks");
    await tt.resolves(b.validate(request({ minNodes: 4, maxNodes: 4, tasks: 4 })));
    await tt.resolves(b.validate(request({ minNodes: 1, maxNodes: 4, tasks: 8 })), 'tasks spread over the nodes they need');
    await tt.resolves(b.validate(request({ partition: '' })), 'no partition: the default one');
    // sbatch itself says the same at allocate
    const err = await b.allocate(request({ partition: 'nope' })).catch((e: unknown) => e);
    tt.ok(isGrmError(err) && err.code === 'E_PARTITION_UNKNOWN', `allocate: ${String(err)}`);
  });

  await t.test('sbatch --test-only is asked once per request shape (acceptances only), not once per job', async (tt) => {
    const b = newBackend();
    const testOnly = () => b.commands.stats.get('sbatch --test-only')?.calls ?? 0;
    // ten jobs of one shape (names and ids differ), at once and one after the other
    await Promise.all(Array.from({ length: 5 }, (_, i) => b.validate(request({ name: `sweep-${i}`, tasks: 2, minNodes: 1, maxNodes: 1 }))));
    for (let i = 5; i < 10; i++) await b.validate(request({ name: `sweep-${i}`, tasks: 2, minNodes: 1, maxNodes: 1 }));
    tt.equal(testOnly(), 1, 'one question for ten alike jobs');
    await b.validate(request({ tasks: 2, minNodes: 2, maxNodes: 2 }));
    tt.equal(testOnly(), 2, 'another shape: asked');
    // a refusal of SLURM's own (sbatch: "Invalid nice value") is not remembered: asked again each time
    for (let i = 0; i < 2; i++) await tt.rejects(b.validate(request({ nice: 2_147_483_647 })), { message: /^sbatch: .*nice/i });
    tt.equal(testOnly(), 4, 'refusals asked again');
    tt.equal(b.commands.stats.get('sbatch --test-only')?.errors, 2, 'the refusals counted as errors');
  });

  await t.test('allocate twice for one GRM job adopts the first holder', async (tt) => {
    const b1 = newBackend();
    const req = request({ name: 'adopt' });
    const id1 = await b1.allocate(req);
    const id2 = await b1.allocate(req);
    tt.equal(id2, id1);
    const b2 = newBackend(); // a restarted GRM
    const rec2 = new Recorder(b2);
    const id3 = await b2.allocate(req);
    tt.equal(id3, id1);
    const live = (await holders()).filter((j) => j.grmJobId === req.jobId && j.phase !== 'ENDED');
    tt.equal(live.length, 1, 'one holder in squeue');
    await rec2.waitFor((e) => e.type === 'granted', 'adopted holder granted');
    tt.match((await b2.list()).find((l) => l.jobId === req.jobId), { backendId: id1, state: 'RUNNING' });
    await b2.release(id1);
  });

  await t.test('nodes() and partitions()', async (tt) => {
    const b = newBackend();
    const nodes = await b.nodes();
    tt.equal(nodes.length, 4);
    for (const n of nodes) {
      tt.match(n, { cpus: 2, memoryMiB: 2000, partitions: ['debug'], gpus: 0 });
      tt.ok(['idle', 'mixed', 'allocated'].includes(n.state), `${n.name} ${n.state}`);
    }
    const parts = await b.partitions();
    tt.match(parts, [{ name: 'debug', isDefault: true, maxTimeMinutes: null, nodes: c.nodes, state: 'UP' }]);
  });

  await t.test('missing binaries and a missing slurm.conf: E_BACKEND_UNAVAILABLE', async (tt) => {
    const missing = new SlurmBackend({ instance: INSTANCE, env: c.env, binDir: '/nonexistent/bin' });
    await tt.rejects(missing.list(), { code: 'E_BACKEND_UNAVAILABLE', message: /slurm\.binDir/ });
    const noConf = new SlurmBackend({ instance: INSTANCE, env: c.env, slurmConf: '/nonexistent/slurm.conf', commandTimeoutMs: 3000 });
    await tt.rejects(noConf.allocate(request()), { code: 'E_BACKEND_UNAVAILABLE' });
  });

  await t.test('hostlist expansion agrees with scontrol show hostnames', async (tt) => {
    let seed = 12345; // mulberry32: a fixed seed, so a failure repeats
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return (((x ^ (x >>> 14)) >>> 0) % n);
    };
    const range = () => {
      const width = rand(3) + 1;
      const pad = (v: number) => String(v).padStart(width, '0');
      const parts: string[] = [];
      for (let k = rand(3) + 1; k > 0; k--) {
        const lo = rand(rand(2) ? 12 : 120);
        parts.push(rand(2) ? `${pad(lo)}-${pad(lo + rand(12))}` : pad(lo));
      }
      return `[${parts.join(',')}]`;
    };
    // NB: Slurm 22.05 rejects text after the last bracket ("Invalid hostlist: n[1-2]-ib"),
    // so a suffix here always ends with a bracket.
    const hostlist = () => {
      const terms: string[] = [];
      for (let k = rand(3) + 1; k > 0; k--) {
        const prefix = ['n', 'node', 'gpu', 'a', 'rack1-n'][rand(5)]!;
        let term = rand(8) === 0 ? `${prefix}${rand(100)}` : prefix + range();
        if (rand(3) === 0) term += `x${range()}`;
        if (rand(5) === 0) term += `-ib${range()}`;
        terms.push(term);
      }
      return terms.join(',');
    };
    const lists = Array.from({ length: 200 }, hostlist);
    // batches of 20, separated by a marker name scontrol passes through
    let compared = 0;
    for (let i = 0; i < lists.length; i += 20) {
      const batch = lists.slice(i, i + 20);
      const names = await cmds.showHostnames(batch.join(',zzsep,'));
      const groups: string[][] = [[]];
      for (const n of names) {
        if (n === 'zzsep') groups.push([]);
        else groups[groups.length - 1]!.push(n);
      }
      tt.equal(groups.length, batch.length);
      batch.forEach((hl, k) => {
        const ours = expandHostlist(hl);
        if (JSON.stringify(ours) !== JSON.stringify(groups[k])) tt.same(ours, groups[k], hl);
        else compared++;
      });
    }
    tt.equal(compared, 200, 'all 200 hostlists agree');
    // A known difference: SLURM 22.05 refuses a suffix after the last bracket, which
    // expandHostlist accepts and compressHostlist emits (n1-ib,n2-ib → n[1-2]-ib).
    await tt.rejects(cmds.showHostnames('n[1-2]-ib'), { message: /Invalid hostlist/ }, 'scontrol rejects n[1-2]-ib');
  });

  await t.test('a holder past its time limit ends with TIMEOUT', { timeout: 240_000 }, async (tt) => {
    const g = await trec.waitFor((e) => e.type === 'granted', 'granted');
    tt.match(g, { type: 'granted', jobId: timeoutReq.jobId });
    const ended = await trec.waitFor((e) => e.type === 'ended', 'ended', 200_000);
    tt.match(ended, { type: 'ended', backendId: timeoutId, jobId: timeoutReq.jobId, state: 'TIMEOUT' });
    const startTime = g.type === 'granted' ? g.allocation.startTime : 0;
    tt.comment(`ended ${((Date.now() - startTime) / 1000).toFixed(0)} s after its start, reason ${(ended as { reason: string }).reason}`);
    tt.match((await tb.list()).find((l) => l.backendId === timeoutId), { jobId: timeoutReq.jobId, state: 'ENDED' }, 'listed as ENDED until released');
    tt.equal(trec.events.filter((e) => e.type === 'ended').length, 1, 'ended once');
    await tb.release(timeoutId);
    await tb.stop();
  });

  await t.test('slurmctld down: polls report errors and go on, allocate throws E_BACKEND_UNAVAILABLE', { skip: !c.managed && 'cluster not started by the script' }, async (tt) => {
    const errors: unknown[] = [];
    const b = new SlurmBackend({ instance: INSTANCE, env: c.env, pollIntervalMs: 300, onError: (e) => errors.push(e) });
    const rec = new Recorder(b);
    const req = request({ name: 'ctld-down' });
    const id = await b.allocate(req);
    await b.start();
    tt.teardown(() => b.stop());
    await rec.waitFor((e) => e.type === 'granted', 'granted');
    await stopSlurmctld(c.dir);
    try {
      const err = await b.allocate(request()).catch((e: unknown) => e);
      tt.match(err, { code: 'E_BACKEND_UNAVAILABLE' });
      tt.comment(`allocate with slurmctld down: ${String(err)}`);
      await waitUntil(async () => errors.length > 0, 'a poll error', 60_000);
      tt.match(errors[0], { code: 'E_BACKEND_UNAVAILABLE' });
    } finally {
      await startSlurmctld(c.dir);
    }
    const before = rec.events.length;
    await b.pollNow();
    tt.equal(rec.events.length, before, 'the holder survived the restart: no event');
    tt.match((await b.list()).find((l) => l.backendId === id), { state: 'RUNNING' });
    // the retried allocate adopts it
    tt.equal(await b.allocate(req), id);
    await b.release(id);
  });
}

const cluster = await startTestCluster(t, { nodes: 4 });
if (!cluster) {
  t.end();
} else {
  await runAll(cluster);
}
