/**
 * What the CLI prints is safe for a terminal (issue 14): control characters in names, reasons
 * and log lines are shown escaped (`\n`, `\x1b`), never obeyed; --json stays JSON; a reader
 * that stops early ends the CLI quietly, as SIGPIPE ends squeue.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import t, { type Test } from 'tap';
import { PROJECT_ROOT } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const EVIL = 'evil\n\x1b[2J\rname\u009b1m';
const SHOWN = 'evil\\n\\x1b[2J\\rname\\x9b1m';
/** Anything a terminal would act on: C0 but newline, DEL, C1. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

async function heldEvilJob(t: Test, d: TestDaemon): Promise<number> {
  const res = await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', name: EVIL, comment: `c\x1b]0;title\x07`, hold: true });
  t.equal(res.status, 201, 'submitted');
  return res.body.job_id;
}

t.test('names with newlines and escapes: squeue rows stay one line each, shown escaped', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const id = await heldEvilJob(t, d);
  const queue = await d.cli('squeue');
  t.equal(queue.code, 0, queue.stderr);
  t.notMatch(queue.stdout, RAW_CONTROL, 'nothing a terminal would obey');
  t.equal(queue.stdout.trimEnd().split('\n').length, 2, 'a header and one row');
  t.match(queue.stdout, /^\s+1\s+batch\s+evil\\n\\x\s/m, 'the name cut to 8 characters of its escaped form');
  const full = await d.cli('squeue', '-h', '-o', '%i|%j|%k');
  t.equal(full.stdout, `${id}|${SHOWN}|c\\x1b]0;title\\x07\n`);
  const json = await d.cli('squeue', '--json');
  t.equal(JSON.parse(json.stdout).jobs[0].name, EVIL, '--json keeps the name as it is (JSON escapes it)');
});

t.test('scontrol show job, show job and sacct show the name escaped on one line', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const id = await heldEvilJob(t, d);
  for (const argv of [['scontrol', 'show', 'job', String(id)], ['show', 'job', String(id)]]) {
    const out = await d.cli(...argv);
    t.equal(out.code, 0, out.stderr);
    t.notMatch(out.stdout, RAW_CONTROL, argv.join(' '));
    t.match(out.stdout, new RegExp(`^JobId=${id} JobName=${SHOWN.replace(/[\\[\]]/g, '\\$&')}$`, 'm'), argv.join(' '));
  }
  const sacct = await d.cli('sacct', '-a', '-n', '-P', '-j', String(id), '-o', 'JobID,JobName,Comment');
  t.equal(sacct.stdout, `${id}|${SHOWN}|c\\x1b]0;title\\x07\n`);
  const fixed = await d.cli('sacct', '-a', '-j', String(id), '-o', 'JobName%40');
  t.notMatch(fixed.stdout, RAW_CONTROL);
  t.equal(fixed.stdout.trimEnd().split('\n').length, 3, 'header, dashes, one row');
});

t.test("logs show a job's escape sequences and carriage returns escaped, tabs kept", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const script = d.writeScript('loud.sh', "#!/bin/bash\nprintf 'before\\033[2Jafter\\rover\\ttab\\n'\nprintf 'bell\\a del\\177 csi\\302\\2331m\\n'\n");
  const sub = await d.cli('sbatch', '--parsable', '-J', 'loud', script);
  const id = Number(sub.stdout.trim());
  await d.waitForState(id, ['COMPLETED']);
  const logs = await d.cli('logs', String(id));
  t.equal(logs.stdout, 'before\\x1b[2Jafter\\rover\ttab\nbell\\x07 del\\x7f csi\\x9b1m\n');
  const stamped = await d.cli('logs', '--timestamps', String(id));
  t.notMatch(stamped.stdout.replace(/\t/g, ''), RAW_CONTROL);
});

t.test('an error quoting what was typed shows it escaped', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const out = await d.cli('scancel', '12\x1b[2J');
  t.equal(out.code, 1);
  t.notMatch(out.stderr, RAW_CONTROL);
  t.match(out.stderr, /^scancel: error: Invalid job id 12\\x1b\[2J \(use JOBID/);
});

/** Runs the installed grm with stdout into a pipe whose reader goes away as `closeAfter` says. */
function grmIntoClosedPipe(d: TestDaemon, args: string[], closeAfter: 'nothing' | 'first chunk') {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/grm.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', GRM_URL: d.url, GRM_TOKEN: d.token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  if (closeAfter === 'nothing') child.stdout.destroy();
  else child.stdout.once('data', () => child.stdout.destroy());
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
}

t.test('a reader that stops early (grm ... | head) ends the CLI quietly with status 141', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  for (let i = 0; i < 300; i++) await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\ntrue\n', name: `job${i}`, hold: true });
  const script = d.writeScript('many.sh', '#!/bin/bash\nseq 1 200000\n');
  const id = Number((await d.cli('sbatch', '--parsable', script)).stdout.trim());
  await d.waitForState(id, ['COMPLETED']);
  const cases: [string[], 'nothing' | 'first chunk'][] = [
    [['squeue', '--json'], 'nothing'],
    [['squeue', '--json'], 'first chunk'],
    [['squeue', '-a'], 'first chunk'],
    [['logs', String(id)], 'first chunk'],
  ];
  for (const [args, closeAfter] of cases) {
    const out = await grmIntoClosedPipe(d, args, closeAfter);
    t.equal(out.code, 141, `grm ${args.join(' ')}, reader gone after ${closeAfter}`);
    t.equal(out.stderr, '', 'no stack trace, no message');
  }
});
