import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { PROJECT_ROOT } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const run = promisify(execFile);
const ME = os.userInfo().username.slice(0, 8);
const HELLO = '#!/bin/bash\n#SBATCH --job-name=hello\n#SBATCH -N 2\necho "hello from $SLURM_JOB_NODELIST"\necho step two\n';

t.test('sbatch prints "Submitted batch job N"; squeue, show, logs and scancel read it back', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('hello.sh', HELLO);
  const sub = await d.cli('sbatch', '-t', '5', script);
  t.equal(sub.code, 0, sub.stderr);
  t.equal(sub.stdout, 'Submitted batch job 1\n');
  await d.waitForState(1, ['COMPLETED']);

  const show = await d.cli('show', 'job', '1');
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /^JobId=1 JobName=hello$/m);
  t.match(show.stdout, /JobState=COMPLETED Reason=None ExitCode=0:0/);
  t.match(show.stdout, /TimeLimit=5:00/);
  t.match(show.stdout, /NodeList=node\[01-02\] NumNodes=2/);
  t.match(show.stdout, /^ {3}node01 CPUs=1 /m);
  t.match(show.stdout, /RUNNING -> COMPLETING master ended: exit code 0/);

  const logs = await d.cli('logs', '1');
  t.equal(logs.stdout, 'hello from node[01-02]\nstep two\n');
  const stdoutOnly = await d.cli('logs', '--source', 'grm', '1');
  t.match(stdoutOnly.stdout, /PENDING -> ALLOCATING/);

  const all = await d.cli('squeue', '--all');
  t.match(all.stdout, /^\s+JOBID PARTITION\s+NAME\s+USER ST\s+TIME\s+NODES NODELIST\(REASON\)$/m);
  t.match(all.stdout, new RegExp(`^\\s+1\\s+batch\\s+hello\\s+${ME}\\s+CD\\s+\\d+:\\d\\d\\s+2 node\\[01-02\\]$`, 'm'));
  const active = await d.cli('squeue');
  t.notMatch(active.stdout, /hello/, 'ended jobs are not in the default squeue');

  const again = await d.cli('scancel', '1');
  t.equal(again.code, 1);
  t.match(again.stderr, /scancel: error: Kill job error on job id 1: .*already completing or completed/);
});

t.test('squeue shows a pending job with its reason, scancel ends it', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('long.sh', '#!/bin/bash\nsleep 60\n');
  t.equal((await d.cli('sbatch', '--parsable', '-N', '8', '--exclusive', '-J', 'big', script)).stdout, '1\n');
  t.equal((await d.cli('sbatch', '--parsable', '-N', '8', '--exclusive', '-J', 'next', script)).stdout, '2\n');
  await d.waitForState(1, ['RUNNING']);
  await d.waitForState(2, ['ALLOCATING', 'PENDING']);
  let queue = '';
  for (let i = 0; i < 100 && !/\(Resources\)|\(Priority\)/.test(queue); i++) {
    queue = (await d.cli('squeue')).stdout;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(queue, new RegExp(`^\\s+1\\s+batch\\s+big\\s+${ME}\\s+R\\s+\\d+:\\d\\d\\s+8 node\\[01-08\\]$`, 'm'));
  t.match(queue, new RegExp(`^\\s+2\\s+batch\\s+next\\s+${ME}\\s+(PD|CF)\\s+0:00\\s+8 \\((Resources|Priority)\\)$`, 'm'));
  const cancel = await d.cli('scancel', '2', '1');
  t.equal(cancel.code, 0, cancel.stderr);
  t.equal((await d.waitForState(1, ['CANCELLED'])).job_state, 'CANCELLED');
  t.equal((await d.waitForState(2, ['CANCELLED'])).job_state, 'CANCELLED');
});

t.test('sinfo shows partitions and nodes like sinfo', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const out = await d.cli('sinfo');
  t.equal(out.code, 0, out.stderr);
  t.equal(out.stdout, 'PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\nbatch*       up   infinite      8   idle node[01-08]\n');
  const nodes = await d.cli('sinfo', '-N');
  t.match(nodes.stdout, /^node08\s+batch\s+idle\s+0\/4\s+0\/16384\s+0\/0\s+-$/m);
});

t.test('logs -f follows a running job until it ends', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('slow.sh', '#!/bin/bash\nfor i in 1 2 3; do echo "tick $i"; sleep 0.3; done\n');
  await d.cli('sbatch', script);
  await d.waitForState(1, ['RUNNING']);
  const follow = await d.cli('logs', '-f', '1');
  t.equal(follow.code, 0);
  t.equal(follow.stdout, 'tick 1\ntick 2\ntick 3\n');
  t.equal((await d.api('GET', '/api/v1/jobs/1')).body.job_state, 'COMPLETED');
});

t.test('--export: ALL sends the environment, NONE nothing, a list only what it names', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('env.sh', '#!/bin/bash\necho "A=${A:-unset} B=${B:-unset}"\n');
  process.env.A = 'from-env';
  t.teardown(() => delete process.env.A);
  await d.cli('sbatch', script);
  await d.cli('sbatch', '--export=NONE', script);
  await d.cli('sbatch', '--export=B=given', script);
  const lines = [];
  for (const id of [1, 2, 3]) {
    await d.waitForState(id, ['COMPLETED']);
    lines.push((await d.cli('logs', String(id))).stdout.trim());
  }
  t.same(lines, ['A=from-env B=unset', 'A=unset B=unset', 'A=unset B=given']);
});

t.test('bad input: the CLI says what is wrong and exits 1, no stack trace', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('ok.sh', '#!/bin/bash\ntrue\n');
  const cases: [string[], RegExp][] = [
    [['sbatch', '--nodes=abc', script], /sbatch: error: .*--nodes/],
    [['sbatch', '--frobnicate', script], /sbatch: error: unrecognized option '--frobnicate'/],
    [['sbatch', '-N', '20', script], /sbatch: error: Requested node configuration is not available/],
    [['sbatch', '-p', 'nope', script], /sbatch: error: invalid partition specified: nope/],
    [['sbatch', path.join(d.dataDir, 'missing.sh')], /sbatch: error: Unable to open file/],
    [['show', 'job', '42'], /show: error: Invalid job id specified: 42/],
    [['logs', 'x'], /logs: error: /],
    [['scancel', 'abc'], /scancel: error: Invalid job id abc/],
    [['squeue', '-t', 'BOGUS'], /squeue: error: /],
  ];
  for (const [argv, message] of cases) {
    const out = await d.cli(...argv);
    t.equal(out.code, 1, argv.join(' '));
    t.match(out.stderr, message, argv.join(' '));
    t.notMatch(out.stderr, /\n\s+at /, 'no stack trace');
  }
  t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 0, 'nothing was stored');
});

t.test('sbatch --dry-run --json parses without a daemon', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-dry-run-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'job.sh');
  fs.writeFileSync(script, '#!/bin/bash\n#SBATCH -N 3\n#SBATCH --time=1-02:03\n#SBATCH -J fromscript\necho hi\n');
  const { stdout } = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin/grm.js'), 'sbatch', '--dry-run', '--json', '-J', 'cli', '--export=NONE', script, 'arg1'], {
    env: { PATH: process.env.PATH ?? '', GRM_URL: 'http://127.0.0.1:1' },
  });
  const parsed = JSON.parse(stdout);
  t.equal(parsed.name, 'cli', 'the command line wins over the directive');
  t.equal(parsed.minimum_nodes, 3);
  t.equal(parsed.maximum_nodes, 3);
  t.equal(parsed.time_limit, 24 * 60 + 2 * 60 + 3);
  t.same(parsed.argv, ['arg1']);
  t.same(parsed.environment, {});
});

t.test('the installed grm command talks to a daemon through GRM_URL', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('hello.sh', HELLO);
  // the first admin's token file, as `grm` on the daemon's host finds it (GRM_TOKEN_FILE)
  const env = { PATH: process.env.PATH ?? '', GRM_URL: d.url, HOME: process.env.HOME ?? '/', GRM_TOKEN_FILE: path.join(d.dataDir, 'admin.token') };
  const grm = (...args: string[]) => run(process.execPath, [path.join(PROJECT_ROOT, 'bin/grm.js'), ...args], { env });
  t.equal((await grm('sbatch', script)).stdout, 'Submitted batch job 1\n');
  await d.waitForState(1, ['COMPLETED']);
  t.match((await grm('logs', '1')).stdout, /step two/);
  const down = await grm('squeue').catch((e) => e);
  t.equal(down.code ?? 0, 0);
  const unreachable = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin/grm.js'), 'squeue'], {
    env: { ...env, GRM_URL: 'http://127.0.0.1:9' },
  }).catch((e) => e);
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, /squeue: error: cannot reach the GRM daemon at http:\/\/127\.0\.0\.1:9/);
});

t.test('grmd (npm start: grm daemon with its node flags) serves on its port and stops cleanly on SIGTERM', async (t) => {
  const net = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-daemon-'));
  const { spawn } = await import('node:child_process');
  // run as systemd and the image run it: the file itself, its #! line giving node its flags
  const child = spawn(path.join(PROJECT_ROOT, 'bin/grmd.js'), [], {
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, GRM_PORT: String(port), GRM_DATA_DIR: dataDir, GRM_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  let health: any;
  for (let i = 0; i < 100 && !health; i++) {
    health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.json(), () => undefined);
    if (!health) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(health?.status, 'ok');
  t.equal(health?.backend, 'simulator');
  t.ok(fs.existsSync(path.join(dataDir, 'grm.sqlite')), 'data in GRM_DATA_DIR');
  const argv = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  t.ok(argv.includes('--max-semi-space-size=2'), `node runs with the daemon's flags: ${argv.join(' ')}`);
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('a wrong config value stops the daemon with a message naming the key', async (t) => {
  const out = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin/grm.js'), 'daemon'], {
    env: { PATH: process.env.PATH ?? '', GRM_BACKEND: 'pbs', GRM_DATA_DIR: os.tmpdir() },
  }).catch((e) => e);
  t.equal(out.code, 1);
  t.match(out.stderr, /grm daemon: error: invalid configuration:\n\s+backend: must be one of "simulator", "slurm" \(got "pbs"\)/);
  t.notMatch(out.stderr, /\n\s+at /);
});

t.test('options GRM records but does not act on are accepted with one warning each', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('w.sh', '#!/bin/bash\n#SBATCH --mail-type=END\ntrue\n');
  const out = await d.cli('sbatch', '-A', 'proj', '--qos=high', '--mail-user=me@example.org', script);
  t.equal(out.code, 0, out.stderr);
  t.equal(out.stdout, 'Submitted batch job 1\n');
  t.notMatch(out.stderr, /--account/, 'the account is checked against the user\'s: no warning');
  for (const option of ['qos', 'mail-user', 'mail-type']) {
    const re = new RegExp(`sbatch: warning: sbatch option --${option} is recorded but GRM does not act on it`, 'g');
    t.equal(out.stderr.match(re)?.length, 1, `one warning for --${option}: ${out.stderr}`);
  }
  const job = await d.waitForState(1, ['COMPLETED']);
  t.equal(job.request.account, 'proj', 'recorded');
  t.equal(job.request.mail_type, 'END');
});
