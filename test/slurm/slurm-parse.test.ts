/**
 * The SLURM backend's pure parts on outputs captured from a real Slurm 22.05.8 cluster
 * (scripts/slurm-cluster.sh) in test/slurm/fixtures/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { pickTaker, shapeKey } from '../../src/backends/slurm/handover.js';
import { HOLDER_SCRIPT, holderSallocArgs, holderSbatchArgs, parseHolderComment, slurmPriority } from '../../src/backends/slurm/holder-job.js';
import { nodeStateFromSlurm, parseScontrolPartitions, parseSinfoJson, slurmFitPartition } from '../../src/backends/slurm/sinfo-parse.js';
import { requestFitError } from '../../src/backends/request-fit.js';
import { classifySlurmError } from '../../src/backends/slurm/slurm-commands.js';
import { endStateOf } from '../../src/backends/slurm/holder-status.js';
import {
  parseGpuGres,
  parseJobDetail,
  parseScontrolRecords,
  parseSlurmMinutes,
  parseSlurmTime,
  parseSqueueHolders,
  parseSqueueWaiting,
  parseSqueueStatus,
  phaseOf,
} from '../../src/backends/slurm/squeue-parse.js';
import type { ResourceRequest } from '../../src/backends/resource-backend.js';
import { expandHostlist } from '../../src/hostlist/hostlist.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

// local time, as squeue prints it
const at = (text: string) => new Date(text).getTime();

t.test('squeue status lines: running, pending, cancelled, timed out, and a forged line skipped', async (t) => {
  const jobs = parseSqueueStatus(fixture('squeue-status-22.05.txt') + fixture('squeue-timeout-22.05.txt'), expandHostlist);
  const byId = new Map(jobs.map((j) => [j.slurmJobId, j]));
  t.match(byId.get('1229'), {
    partition: 'debug',
    state: 'RUNNING',
    phase: 'RUNNING',
    reason: 'None',
    nodeList: 'node[1-2]',
    nodes: [
      { name: 'node1', cpus: 1 },
      { name: 'node2', cpus: 1 },
    ],
    startTime: at('2026-12-07T10:07:21'),
    endTime: at('2026-12-07T10:17:21'),
    timeLimitMinutes: 10,
    uid: 0,
  });
  t.match(byId.get('1230'), { state: 'CANCELLED', phase: 'ENDED', endTime: at('2026-12-07T10:07:23') });
  t.match(byId.get('1231'), { state: 'PENDING', phase: 'PENDING', reason: 'Resources', nodes: [], nodeList: '', startTime: null, endTime: null, timeLimitMinutes: null });
  const timedOut = jobs.find((j) => j.state === 'TIMEOUT');
  t.match(timedOut, { phase: 'ENDED', reason: 'TimeLimit', timeLimitMinutes: 1 }, 'a holder out of time');
  t.same(parseSqueueStatus('999|RUNNING|0|grm:abc:22\nnot a line\n', expandHostlist), [], 'lines of another shape are skipped');
  t.equal(parseSlurmTime('N/A'), null);
  t.equal(parseSlurmTime('NONE'), null);
  t.equal(parseSlurmTime('2026-12-07T10:07:21'), at('2026-12-07T10:07:21'));
});

t.test("squeue waiting lines: priority and whole nodes (an operator raised job 3, --exclusive, above the older job 2)", async (t) => {
  t.same([...parseSqueueWaiting(fixture('squeue-waiting-22.05.txt'))], [['3', { priority: 4294901800, exclusive: true }], ['2', { priority: 4294901758, exclusive: false }]], 'running job 1 is not waiting');
  t.same([...parseSqueueWaiting('5|PENDING|12|OK\nnot a line\n6|PENDING|x|OK\n')], [['5', { priority: 12, exclusive: false }]], 'lines of another shape are skipped');
});

t.test('squeue holder lines: by comment; a job id printed twice (a comment that forged a line) is dropped', async (t) => {
  const holders = parseSqueueHolders(fixture('squeue-holders-22.05.txt'));
  const byId = new Map(holders.map((h) => [h.slurmJobId, h]));
  t.match(byId.get('1229'), { grmInstance: 'abc', grmJobId: 22, state: 'RUNNING', phase: 'RUNNING', uid: 0 });
  t.match(byId.get('1231'), { grmJobId: 24, phase: 'PENDING' });
  t.match(byId.get('1230'), { grmJobId: 23, phase: 'ENDED' });
  t.notOk(byId.has('1232'), 'a job whose comment is no holder comment');
  // the fixture's job 1232 has the comment "x\n999|RUNNING|0|grm:abc:22": job 999 does not exist;
  // the backend drops it for that (its status lines have no job 999), and this parser drops ids seen twice
  t.ok(byId.has('999'), 'a forged line with a new id parses (the status lines refute it)');
  const forgedTwice = parseSqueueHolders('1229|RUNNING|0|grm:abc:22\n1232|RUNNING|1000|x\n1229|RUNNING|0|grm:abc:99\n');
  t.same(forgedTwice, [], 'an id seen twice is trusted in neither line');
});

t.test('scontrol show job -d: per-node CPUs, memory, GPUs (nodes grouped by layout)', async (t) => {
  t.same(parseJobDetail(fixture('scontrol-job-22.05.txt'), expandHostlist), {
    nodes: [
      { name: 'node1', cpus: 1, memoryMiB: 512, gpus: 0 },
      { name: 'node2', cpus: 1, memoryMiB: 512, gpus: 0 },
    ],
    exitStatus: 0,
  });
  t.same(parseJobDetail(fixture('scontrol-job-gpu-22.05.txt'), expandHostlist).nodes, [
    { name: 'node1', cpus: 2, memoryMiB: 2000, gpus: 2, gpuType: 'tesla' },
    { name: 'node2', cpus: 2, memoryMiB: 2000, gpus: 2, gpuType: 'tesla' },
  ]);
  t.throws(() => parseJobDetail('slurm_load_jobs error: Invalid job id specified\n', expandHostlist), { code: 'E_BACKEND' });
});

t.test('sinfo --json nodes, with a drained node and GPUs', async (t) => {
  const nodes = parseSinfoJson(fixture('sinfo-22.05.json'));
  t.equal(nodes.length, 4);
  t.match(nodes[0], { name: 'node1', cpus: 2, memoryMiB: 2000, partitions: ['debug'], gpus: 0, allocations: [] });
  t.same(
    nodes.map((n) => n.state),
    ['allocated', 'mixed', 'mixed', 'idle'],
  );
  t.same(nodes.map((n) => n.cpusAllocated), [2, 1, 1, 0]);
  const drained = parseSinfoJson(fixture('sinfo-drain-22.05.json'));
  t.match(drained[3], { name: 'node4', state: 'drained', reason: 'test drain' });
  const gpus = parseSinfoJson(fixture('sinfo-gpu-22.05.json'));
  t.match(gpus[0], { gpus: 2, gpusAllocated: 1, gpuType: 'tesla' });
});

t.test('node state words', async (t) => {
  const cases: [string, string[], string][] = [
    ['idle', [], 'idle'],
    ['idle*', [], 'idle'],
    ['IDLE', ['NOT_RESPONDING'], 'idle'],
    ['idle', ['DRAIN'], 'drained'],
    ['drain', [], 'drained'],
    ['drained', [], 'drained'],
    ['draining', [], 'drained'],
    ['down*', [], 'down'],
    ['down', ['DRAIN'], 'down'],
    ['unknown', [], 'down'],
    ['alloc', [], 'allocated'],
    ['allocated', [], 'allocated'],
    ['mix~', [], 'mixed'],
    ['MIXED', [], 'mixed'],
    ['completing', [], 'allocated'],
  ];
  for (const [word, flags, want] of cases) t.equal(nodeStateFromSlurm(word, flags), want, `${word} ${flags.join(',')}`);
});

t.test('scontrol show partition -o', async (t) => {
  const parts = parseScontrolPartitions(fixture('scontrol-partition-22.05.txt'), expandHostlist);
  t.same(parts, [
    {
      name: 'debug',
      isDefault: true,
      maxTimeMinutes: null,
      defaultTimeMinutes: null,
      nodes: ['node1', 'node2', 'node3', 'node4'],
      state: 'UP',
      nodeList: 'node[1-4]',
      maxNodes: null,
      totalNodes: 4,
    },
  ]);
  const [rec] = parseScontrolRecords('JobId=1 JobName=a b Comment=grm:7  StdErr=/dev/null TRES=cpu=3,mem=1.50G AllocNode:Sid=localhost:49');
  t.match(rec, { JobId: '1', JobName: 'a b', Comment: 'grm:7', StdErr: '/dev/null', TRES: 'cpu=3,mem=1.50G', 'AllocNode:Sid': 'localhost:49' });
  t.equal(parseSlurmMinutes('UNLIMITED'), null);
  t.equal(parseSlurmMinutes('NONE'), null);
  t.equal(parseSlurmMinutes('1-02:03:00'), 1563);
  t.equal(parseSlurmMinutes('02:30:00'), 150);
  t.equal(parseSlurmMinutes('30'), 30);
  t.equal(parseSlurmMinutes('05:30'), 6);
});

t.test('gres, phases, end states, comments', async (t) => {
  t.same(parseGpuGres('gpu:tesla:2(IDX:0-1)'), { count: 2, type: 'tesla' });
  t.same(parseGpuGres('gres:gpu:1'), { count: 1 });
  t.same(parseGpuGres('(null)'), { count: 0 });
  t.same(parseGpuGres(''), { count: 0 });
  t.equal(phaseOf('PENDING'), 'PENDING');
  t.equal(phaseOf('COMPLETING'), 'RUNNING');
  t.equal(phaseOf('COMPLETED'), 'ENDED');
  t.equal(endStateOf('TIMEOUT'), 'TIMEOUT');
  t.equal(endStateOf('NODE_FAIL'), 'NODE_FAIL');
  t.equal(endStateOf('CANCELLED'), 'CANCELLED');
  t.equal(endStateOf('COMPLETED'), 'FAILED');
  t.equal(endStateOf('OUT_OF_MEMORY'), 'FAILED');
  t.same(parseHolderComment('grm:ab12:42'), { instance: 'ab12', jobId: 42 });
  t.equal(parseHolderComment('grm:42'), null, 'a comment without an instance is not ours');
  t.equal(parseHolderComment('grm:ab12:x'), null);
  t.equal(parseHolderComment(''), null);
});

const base: ResourceRequest = {
  jobId: 7,
  name: 'my train',
  user: 'u',
  partition: 'gpu',
  minNodes: 2,
  maxNodes: 4,
  tasks: 8,
  tasksPerNode: 4,
  cpusPerTask: 2,
  memoryPerNodeMiB: 2048,
  gpusPerNode: 2,
  gpuType: 'a100',
  timeLimitMinutes: 90,
  exclusive: true,
  account: 'proj',
  qos: 'high',
  nice: 10,
  submitTime: 0,
};

t.test('holder salloc argv: the same request, no script, no output files', async (t) => {
  t.same(holderSallocArgs(base, { workDir: '/scratch', instance: 'i1', account: { uid: 1234, gid: 5678 } }), [
    '--no-shell',
    ...holderSbatchArgs(base, { instance: 'i1', account: { uid: 1234, gid: 5678 } }).filter((a) => !['--parsable', '--no-requeue', '--output=/dev/null', '--error=/dev/null', '--chdir=/tmp'].includes(a)),
    '--chdir=/scratch',
  ]);
});

t.test('handover: the taker is the first waiting holder in SLURM order, of the same shape and account, with nobody else waiting', async (t) => {
  const key = (r: ResourceRequest) => shapeKey(holderSbatchArgs(r, { instance: 'i1', account: r.user === 'v' ? { uid: 1001, gid: 1001 } : null, setPriority: true }));
  const job = (jobId: number, over: Partial<ResourceRequest> = {}): ResourceRequest => ({ ...base, jobId, ...over });
  const w = (backendId: string, r: ResourceRequest) => ({ backendId, request: r });
  const from = { request: job(1) };
  t.equal(key(job(1)), key(job(2, { name: 'other', timeLimitMinutes: 5, nice: 3, priority: 9 })), 'name, comment, time, nice and priority are the job\'s own');
  for (const [what, over] of [
    ['nodes', { minNodes: 3 }],
    ['tasks', { tasks: 4 }],
    ['cpus', { cpusPerTask: 1 }],
    ['memory', { memoryPerNodeMiB: 1024 }],
    ['gpus', { gpusPerNode: 1 }],
    ['account', { account: 'other' }],
    ['qos', { qos: 'low' }],
    ['exclusive', { exclusive: false }],
    ['owner', { user: 'v' }],
  ] as const) {
    t.not(key(job(2, over)), key(job(1)), `another ${what} is another shape`);
  }
  t.equal(pickTaker(from, [w('20', job(2))], false, key)?.backendId, '20');
  t.equal(pickTaker(from, [w('20', job(2))], true, key), undefined, 'a foreign job waits: SLURM decides');
  t.equal(pickTaker(from, [], false, key), undefined, 'nobody waits');
  t.equal(pickTaker(from, [w('20', job(2, { partition: 'cpu' }))], false, key), undefined, 'another partition');
  const first = [w('21', job(3, { priority: 5 })), w('20', job(2, { priority: 50, minNodes: 3 }))];
  t.equal(pickTaker(from, first, false, key), undefined, 'the first in SLURM order asks for another shape: it is not passed over');
  const order = [w('22', job(4, { priority: 5 })), w('21', job(3, { priority: 50 })), w('20', job(2, { priority: 50 }))];
  t.equal(pickTaker(from, order, false, key)?.backendId, '20', 'highest priority, then the older SLURM job');
});

t.test('holder sbatch argv', async (t) => {
  t.same(holderSbatchArgs(base, { workDir: '/scratch', instance: 'i1' }), [
    '--parsable',
    '--job-name=grm-7-my_train',
    '--comment=grm:i1:7',
    '--nodes=2-4',
    '--ntasks=8',
    '--ntasks-per-node=4',
    '--cpus-per-task=2',
    '--mem=2048M',
    '--gres=gpu:a100:2',
    '--time=90',
    '--partition=gpu',
    '--account=proj',
    '--qos=high',
    '--exclusive',
    '--nice=10',
    '--no-requeue',
    '--output=/dev/null',
    '--error=/dev/null',
    '--chdir=/scratch',
  ]);
  const minimal: ResourceRequest = { ...base, maxNodes: 2, tasksPerNode: undefined, memoryPerNodeMiB: undefined, memoryPerCpuMiB: 500, gpusPerNode: 0, gpuType: undefined, timeLimitMinutes: null, exclusive: false, account: undefined, qos: undefined, nice: 0 };
  t.same(holderSbatchArgs(minimal, { instance: 'i1' }), [
    '--parsable',
    '--job-name=grm-7-my_train',
    '--comment=grm:i1:7',
    '--nodes=2',
    '--ntasks=8',
    '--cpus-per-task=2',
    '--mem-per-cpu=500M',
    '--partition=gpu',
    '--no-requeue',
    '--output=/dev/null',
    '--error=/dev/null',
    '--chdir=/tmp',
  ]);
  t.ok(holderSbatchArgs({ ...base, memoryPerNodeMiB: 0 }, { instance: 'i1' }).includes('--mem=0'), 'exclusive + 0 MiB = whole node');
  t.notOk(holderSbatchArgs({ ...base, memoryPerNodeMiB: 0, exclusive: false }, { instance: 'i1' }).some((a) => a.startsWith('--mem')));
  t.ok(holderSbatchArgs({ ...base, gpuType: undefined }, { instance: 'i1' }).includes('--gres=gpu:2'));
  t.notOk(holderSbatchArgs({ ...base, partition: '' }, { instance: 'i1' }).some((a) => a.startsWith('--partition')), 'no partition: SLURM picks its default');
  const forUser = holderSbatchArgs(minimal, { instance: 'i1', account: { uid: 1234, gid: 5678 } });
  t.same(forUser.slice(-6), ['--uid=1234', '--gid=5678', '--no-requeue', '--output=/dev/null', '--error=/dev/null', '--chdir=/tmp'], 'a root daemon submits the holder for the job\'s user');
  t.notOk(holderSbatchArgs(minimal, { instance: 'i1', account: null }).some((a) => /^--[ug]id=/.test(a)), 'no account: the daemon\'s own');
  t.match(HOLDER_SCRIPT, /^#!\/bin\/sh\n[\s\S]*exec sleep infinity\n$/);
  const ranked = { ...base, priority: 1234.6 };
  t.ok(holderSbatchArgs(ranked, { instance: 'i1', setPriority: true }).includes('--priority=1235'), "an operator's holder gets GRM's priority");
  t.notOk(holderSbatchArgs(ranked, { instance: 'i1', setPriority: true }).some((a) => a.startsWith('--nice')), '...which counts the nice already');
  t.ok(holderSbatchArgs(ranked, { instance: 'i1' }).includes('--nice=10'), 'otherwise the nice alone');
  t.notOk(holderSbatchArgs(ranked, { instance: 'i1' }).some((a) => a.startsWith('--priority')));
  t.equal(slurmPriority(0), 1, 'never 0 (held)');
  t.equal(slurmPriority(1e12), 4_294_967_293, 'within 32 bits');
});

t.test('the fit check reads a partition as scontrol and sinfo describe it', async (t) => {
  const parts = parseScontrolPartitions(fixture('scontrol-partition-22.05.txt'), expandHostlist);
  const gpuNodes = parseSinfoJson(fixture('sinfo-gpu-22.05.json'));
  const fit = slurmFitPartition(parts, gpuNodes, 'debug');
  t.match(fit, { name: 'debug', maxTimeMinutes: null, maxNodesPerJob: null, totalNodes: 4 });
  t.same(
    fit?.nodes.map((n) => [n.name, n.cpus, n.memoryMiB, n.gpus, n.gpuType]),
    [['node1', 2, 2000, 2, 'tesla'], ['node2', 2, 2000, 2, 'tesla']],
    'the member nodes sinfo reports, whatever their state',
  );
  t.equal(slurmFitPartition(parts, gpuNodes, '')?.name, 'debug', 'no name: the default partition');
  t.equal(slurmFitPartition(parts, gpuNodes, 'nope'), undefined);
  const limited = parseScontrolPartitions(
    fixture('scontrol-partition-22.05.txt').replace('MaxNodes=UNLIMITED', 'MaxNodes=2').replace('MaxTime=UNLIMITED', 'MaxTime=01:00:00'),
    expandHostlist,
  );
  t.match(slurmFitPartition(limited, gpuNodes, 'debug'), { maxTimeMinutes: 60, maxNodesPerJob: 2 });
  const ask = { ...base, partition: 'debug', minNodes: 1, maxNodes: 2, tasks: 2, tasksPerNode: undefined, cpusPerTask: 1, memoryPerNodeMiB: 1000, exclusive: false, timeLimitMinutes: 30 };
  t.equal(requestFitError(fit, { ...ask, gpusPerNode: 2, gpuType: 'tesla' }), undefined);
  t.match(requestFitError(fit, { ...ask, gpusPerNode: 1, gpuType: 'a100' }), { code: 'E_NODE_CONFIG_UNAVAILABLE', message: /1 a100 GPU per node requested, partition debug has no a100 GPUs$/ });
  t.match(requestFitError(slurmFitPartition(limited, gpuNodes, 'debug'), { ...ask, minNodes: 3, maxNodes: 3, tasks: 3 }), {
    message: /partition debug allows at most 2 nodes per job \(MaxNodes\), the job asks for at least 3$/,
    field: 'minimum_nodes',
  });
  t.match(requestFitError(slurmFitPartition(limited, gpuNodes, 'debug'), { ...ask, timeLimitMinutes: 61 }), { field: 'time_limit', message: /^Requested time limit is invalid/ });
});

t.test('SLURM error messages keep their words and get a code', async (t) => {
  const cases: [string, string][] = [
    ['sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n', 'E_BACKEND_UNAVAILABLE'],
    ['sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n', 'E_PARTITION_UNKNOWN'],
    ['sbatch: error: CPU count per node can not be satisfied\nsbatch: error: Batch job submission failed: Requested node configuration is not available\n', 'E_NODE_CONFIG_UNAVAILABLE'],
    ['sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)\n', 'E_NODE_CONFIG_UNAVAILABLE'],
    ['sbatch: error: Batch job submission failed: Node count specification invalid\n', 'E_NODE_CONFIG_UNAVAILABLE'],
    ['allocation failure: Requested node configuration is not available\n', 'E_NODE_CONFIG_UNAVAILABLE'],
    ['sbatch: error: Invalid --time specification\n', 'E_BACKEND'],
  ];
  for (const [stderr, code] of cases) {
    const e = classifySlurmError('sbatch', stderr);
    t.equal(e.code, code, stderr);
    t.notMatch(e.message, /sbatch: error:/);
    t.match(e.message, /^sbatch: \S/);
  }
  t.equal(
    classifySlurmError('sbatch', 'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n').message,
    'sbatch: invalid partition specified: nope; Batch job submission failed: Invalid partition name specified',
  );
});

t.test("start forecast on SLURM: SLURM's own jobs first (running to their limits, waiting by SLURM's priority), GRM's holders with their whole request, then GRM's queue", async (t) => {
  const { slurmForecast } = await import('../../src/backends/slurm/slurm-forecast.js');
  const node = (name: string) => ({ name, state: 'idle' as const, partitions: ['debug'], cpus: 2, cpusAllocated: 0, memoryMiB: 2000, memoryAllocatedMiB: 0, gpus: 0, gpusAllocated: 0, allocations: [] });
  const partitions = [{ name: 'debug', isDefault: true, maxTimeMinutes: null, defaultTimeMinutes: null, nodes: ['n1', 'n2'], state: 'UP' as const, nodeList: 'n[1-2]', maxNodes: null, totalNodes: 2 }];
  const status = (id: string, phase: 'RUNNING' | 'PENDING', over: Record<string, unknown> = {}) => ({
    slurmJobId: id, partition: 'debug', state: phase, phase, reason: 'None', nodeList: '', nodes: [], startTime: null, endTime: null, timeLimitMinutes: 10, uid: 0, cpus: 4, nodeCount: 2, ...over,
  });
  const now = 1_000_000;
  const running = status('7', 'RUNNING', { nodes: [{ name: 'n1', cpus: 2, memoryMiB: 0, gpus: 0 }, { name: 'n2', cpus: 2, memoryMiB: 0, gpus: 0 }], endTime: now + 600_000 });
  const foreignWaiting = status('9', 'PENDING'); // the whole cluster for 10 minutes, before GRM's holder
  const holder = status('8', 'PENDING', { cpus: 1, nodeCount: 1 });
  const grmHolder = { ...base, jobId: 41, partition: '', minNodes: 1, maxNodes: 1, tasks: 1, tasksPerNode: undefined, cpusPerTask: 1, memoryPerNodeMiB: 0, gpusPerNode: 0, gpuType: undefined, timeLimitMinutes: 5, exclusive: true };
  const waiting = { ...grmHolder, jobId: 42, exclusive: false };
  // priority/basic: the older, the higher
  const waitingJobs = new Map([['8', { priority: 4294901758, exclusive: false }], ['9', { priority: 4294901757, exclusive: false }]]);
  const starts = slurmForecast({ nodes: [node('n1'), node('n2')], partitions, jobs: [foreignWaiting, running, holder], waitingJobs, holders: new Map([['8', grmHolder]]), waiting: [waiting], now, maxJobs: 100 });
  t.same(
    Object.fromEntries(starts),
    { 41: now + 600_000, 42: now + 600_000 },
    "GRM's holder (job 8, older than 9) starts at the running job's limit, on a whole node (exclusive); the foreign job 9 then waits for both nodes, and GRM's queued 5-minute job backfills on the other, ending by 9's start",
  );
  const later = slurmForecast({ nodes: [node('n1'), node('n2')], partitions, jobs: [foreignWaiting, running, holder], waitingJobs, holders: new Map([['8', grmHolder]]), waiting: [{ ...waiting, timeLimitMinutes: 6 }], now, maxJobs: 100 });
  t.equal(later.get(42), now + 600_000 + 300_000 + 600_000, 'a minute longer, it would delay job 9: it waits for it');
  // an operator (or a fair share) put job 9 above GRM's holder: SLURM starts 9 first, the forecast too
  const raised = new Map([['8', { priority: 4294901758, exclusive: false }], ['9', { priority: 4294901800, exclusive: false }]]);
  const after = slurmForecast({ nodes: [node('n1'), node('n2')], partitions, jobs: [foreignWaiting, running, holder], waitingJobs: raised, holders: new Map([['8', grmHolder]]), waiting: [waiting], now, maxJobs: 100 });
  t.same(Object.fromEntries(after), { 41: now + 1_200_000, 42: now + 1_200_000 }, "job 9 first by its priority, though younger: GRM's holder and job after its 10 minutes");
  const none = slurmForecast({ nodes: [node('n1'), node('n2')], partitions, jobs: [foreignWaiting, running, holder], waitingJobs: new Map(), holders: new Map([['8', grmHolder]]), waiting: [waiting], now, maxJobs: 100 });
  t.same(Object.fromEntries(none), Object.fromEntries(starts), 'no priority known: the older first');
  // a foreign waiting job of one CPU (squeue counts 1 even when it wants the node whole, --exclusive)
  const small = status('9', 'PENDING', { cpus: 1, nodeCount: 1, timeLimitMinutes: 10 });
  const shared = { priority: 4294901800, exclusive: false };
  const sharedStarts = slurmForecast({ nodes: [node('n1')], partitions: [{ ...partitions[0]!, nodes: ['n1'] }], jobs: [small, status('7', 'RUNNING', { nodes: [{ name: 'n1', cpus: 1, memoryMiB: 0, gpus: 0 }], endTime: now + 600_000, cpus: 1, nodeCount: 1 })], waitingJobs: new Map([['9', shared]]), holders: new Map(), waiting: [{ ...waiting, exclusive: false, timeLimitMinutes: 5 }], now, maxJobs: 100 });
  t.equal(sharedStarts.get(42), now + 600_000, "job 9 shares n1's second CPU with the running job; GRM's 5-minute job waits for the running one's limit");
  const wholeStarts = slurmForecast({ nodes: [node('n1')], partitions: [{ ...partitions[0]!, nodes: ['n1'] }], jobs: [small, status('7', 'RUNNING', { nodes: [{ name: 'n1', cpus: 1, memoryMiB: 0, gpus: 0 }], endTime: now + 600_000, cpus: 1, nodeCount: 1 })], waitingJobs: new Map([['9', { ...shared, exclusive: true }]]), holders: new Map(), waiting: [{ ...waiting, exclusive: false, timeLimitMinutes: 5 }], now, maxJobs: 100 });
  t.equal(wholeStarts.get(42), now, "job 9 wants n1 whole: it waits for the running job's limit, and GRM's 5-minute job takes the free CPU before it");
});
