/**
 * Regressions of -o/-e/-D and the file routes (issue 14): a job makes GRM write nowhere it
 * should not, a FIFO freezes nothing, a job's symlink serves no secret, and a bad path is
 * refused at submit with a reason instead of failing at start.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;
/** Nobody is an admin here: the roots apply to every submission. */
const NO_ADMINS = { isAdmin: () => false };

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-paths-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function submit(d: TestDaemon, body: Record<string, unknown>) {
  return d.api('POST', '/api/v1/jobs', { script: sh('echo ran'), ...body });
}

t.test('-o naming a FIFO: the API keeps answering, the job fails to start saying why', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER, NO_ADMINS);
  const fifo = path.join(scratch(t), 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const res = await submit(d, { standard_output: fifo });
  t.equal(res.status, 201, 'a FIFO is a path like another at submit');
  // every poll below is an answer of the daemon's event loop while the master tries the FIFO
  const job = await d.waitForState(res.body.job_id, ['FAILED', 'COMPLETED']);
  t.equal(job.job_state, 'FAILED');
  t.equal(job.state_reason, 'MasterStartFailed');
  const why = job.events.map((e: any) => e.reason).join('\n');
  t.match(why, `cannot open the standard output file '${fifo}': it is a FIFO (named pipe); job output goes only to regular files and /dev/null`);
  t.equal((await d.api('GET', '/api/v1/health')).status, 200, 'still answering');
  t.ok(job.command_line, 'it got as far as the supervisor: RUNNING was written, then the start failed');
});

t.test('-o /dev/null is allowed (runtime.outputDevices); another device is not', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const ok = await submit(d, { standard_output: '/dev/null' });
  t.equal((await d.waitForState(ok.body.job_id, ['COMPLETED', 'FAILED'])).job_state, 'COMPLETED');
  const zero = await submit(d, { standard_output: '/dev/zero' });
  const failed = await d.waitForState(zero.body.job_id, ['COMPLETED', 'FAILED']);
  t.equal(failed.state_reason, 'MasterStartFailed');
  t.match(failed.events.map((e: any) => e.reason).join('\n'), /'\/dev\/zero': it is a character device/);
});

t.test("a job's project.xml replaced by a symlink to /etc/shadow: refused, /etc/shadow never served", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const swap = sh('ln -sf /etc/shadow "$GRM_JOB_DIR/.p" && mv -f "$GRM_JOB_DIR/.p" "$GRM_JOB_DIR/project.xml" && echo swapped');
  const id = (await submit(d, { script: swap })).body.job_id;
  await d.waitForState(id, ['COMPLETED', 'FAILED']);
  t.equal(fs.lstatSync(path.join(d.dataDir, 'jobs', String(id), 'project.xml')).isSymbolicLink(), true, 'the job (run as root here) did swap it');
  const res = await d.api('GET', `/api/v1/jobs/${id}/files/project.xml`);
  t.equal(res.status, 404);
  t.equal(res.body.error.code, 'E_FILE_NOT_FOUND');
  t.notMatch(JSON.stringify(res.body), /root:/, 'nothing of /etc/shadow');
  const untouched = await d.api('GET', `/api/v1/jobs/${id}/files/resources.xml`);
  t.equal(untouched.status, 200, 'the file GRM wrote is still served');
  t.match(untouched.body, /<ResourcesList/);
});

t.test("`-o ../../<id>/stdout.log` and `-o ../../../grm.sqlite`: refused at submit, nothing written there", async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const victim = (await submit(d, { script: sh('echo victim') })).body.job_id;
  await d.waitForState(victim, ['COMPLETED']);
  const log = path.join(d.dataDir, 'jobs', String(victim), 'stdout.log');
  const db = path.join(d.dataDir, 'grm.sqlite');
  const dbSize = fs.statSync(db).size;

  const inject = await submit(d, { script: sh('echo INJECTED'), standard_output: `../../${victim}/stdout.log` });
  t.equal(inject.status, 403);
  t.equal(inject.body.error.code, 'E_PERMISSION_DENIED');
  t.equal(inject.body.error.field, 'standard_output');
  t.match(inject.body.error.message, new RegExp(`^--output '\\.\\./\\.\\./${victim}/stdout\\.log' \\(\\S+/jobs/${victim}/stdout\\.log\\) is refused: it is inside another job's folder$`));

  const store = await submit(d, { standard_error: '../../../grm.sqlite' });
  t.equal(store.status, 403);
  t.match(store.body.error, { field: 'standard_error', message: /grm\.sqlite\) is refused: it is inside GRM's data directory \(the daemon's store\)$/ });
  const viaChdir = await submit(d, { current_working_directory: d.dataDir, standard_output: 'grm.sqlite' });
  t.equal(viaChdir.status, 403, '-D into the data dir neither');

  const cli = await d.cli('sbatch', '-o', `../../${victim}/stdout.log`, d.writeScript('x.sh', sh('echo INJECTED')));
  t.equal(cli.code, 1);
  t.match(cli.stderr, /is refused: it is inside another job's folder/, 'grm sbatch says why');
  t.equal(fs.readFileSync(log, 'utf8'), 'victim\n', "the other job's log is untouched");
  t.equal(fs.statSync(db).size, dbSize, 'the store did not grow');
  t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 1, 'nothing was stored');
});

t.test('-o /etc/x by a non-admin outside the roots: refused at submit, /etc untouched; inside them: accepted', async (t) => {
  const roots = scratch(t);
  const d = await startDaemon(t, { ...SMALL_CLUSTER, runtime: { killGraceMs: 1000, runAsUser: false, outputRoots: [roots] } }, NO_ADMINS);
  const target = `/etc/grm-test-${process.pid}-x`;
  const res = await submit(d, { standard_output: target });
  t.equal(res.status, 403);
  t.equal(res.body.error.message, `--output '${target}' is refused: it is outside the directories open to job output (${fs.realpathSync(roots)}, the job's folder)`);
  t.notOk(fs.existsSync(target));
  const inside = await submit(d, { standard_output: path.join(roots, 'out-%j.log') });
  t.equal(inside.status, 201);
  await d.waitForState(inside.body.job_id, ['COMPLETED']);
  t.equal(fs.readFileSync(path.join(roots, `out-${inside.body.job_id}.log`), 'utf8'), 'ran\n');
  const byDefault = await submit(d, {});
  t.equal((await d.waitForState(byDefault.body.job_id, ['COMPLETED'])).job_state, 'COMPLETED', 'the default output, in the job folder, is always open');
});

t.test('without configured roots, a master run as root may write only under /tmp (and its folder) for a non-admin', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER, NO_ADMINS);
  const res = await submit(d, { standard_output: '/etc/x' });
  t.equal(res.status, 403);
  t.match(res.body.error.message, /outside the directories open to job output \(\/tmp, the job's folder\)$/);
  const chdir = await submit(d, { current_working_directory: '/etc' });
  t.equal(chdir.status, 403);
  t.equal(chdir.body.error.field, 'current_working_directory');
});

t.test('NUL bytes, overlong and relative paths: handled at submit', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const nul = await submit(d, { standard_output: 'out\u0000.log' });
  t.equal(nul.status, 400);
  t.match(nul.body.error, { code: 'E_OPTION_INVALID', field: 'standard_output', message: 'Invalid --output (8 bytes): the value contains a NUL byte' });
  const long = await submit(d, { standard_error: `/tmp/${'x'.repeat(4092)}` });
  t.equal(long.status, 400);
  const relDir = await submit(d, { current_working_directory: 'rel/dir' });
  t.equal(relDir.status, 400);
  t.match(relDir.body.error, { code: 'E_OPTION_INVALID', field: 'current_working_directory', message: /^Invalid --chdir 'rel\/dir': the directory must be an absolute path/ });
  t.equal((await d.api('GET', '/api/v1/jobs')).body.total, 0, 'none of them was stored');

  const relOut = await submit(d, { standard_output: 'logs-%j.out' });
  t.equal(relOut.status, 201, 'a relative -o is relative to the working directory');
  await d.waitForState(relOut.body.job_id, ['COMPLETED']);
  t.equal(fs.readFileSync(path.join(d.dataDir, 'jobs', String(relOut.body.job_id), 'work', `logs-${relOut.body.job_id}.out`), 'utf8'), 'ran\n');
});

t.test('grm sbatch -D sub -o out.log: -D resolved against where sbatch runs, -o against -D', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  fs.mkdirSync(path.join(d.dataDir, '..', path.basename(d.dataDir) + '-sub'), { recursive: true });
  const sub = path.join(d.dataDir, '..', path.basename(d.dataDir) + '-sub');
  t.teardown(() => fs.rmSync(sub, { recursive: true, force: true }));
  const script = d.writeScript('pwd.sh', sh('pwd'));
  // the CLI runs in the data dir: -D ../<data dir>-sub is relative to it
  const res = await d.cli('sbatch', '--parsable', '-D', `../${path.basename(sub)}`, '-o', 'out-%j.log', script);
  t.equal(res.code, 0, res.stderr);
  const id = Number(res.stdout.trim());
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED']);
  t.equal(job.job_state, 'COMPLETED', JSON.stringify(job.events));
  t.equal(fs.readFileSync(path.join(sub, `out-${id}.log`), 'utf8'), `${fs.realpathSync(sub)}\n`);
});

t.test('a job renamed so that %x leaves for another folder: the update is refused', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await submit(d, { hold: true, standard_output: '%x.log' });
  t.equal(res.status, 201);
  const id = res.body.job_id;
  const victim = (await submit(d, { script: sh('echo victim') })).body.job_id;
  const rename = await d.api('PATCH', `/api/v1/jobs/${id}`, { name: `../../${victim}/stdout` });
  t.equal(rename.status, 403);
  t.match(rename.body.error.message, /is refused: it is inside another job's folder/);
  t.equal((await d.api('DELETE', `/api/v1/jobs/${id}`)).status, 200);
});
