/**
 * Run as the user: a daemon running as root runs each master as its user's mapped account,
 * with a local user this test creates (root only; skipped otherwise, a failure under CI).
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { RunAs } from '../../src/runtime/run-as.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { createLocalUser, rootOnlyDir, userDir, type LocalUser } from '../helpers/local-user.js';
import { waitForLogLine } from '../helpers/wait.js';

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

interface Tap {
  teardown(fn: () => unknown): void;
}

async function runAsDaemon(t: Tap, resolve: (user: string) => RunAs | null): Promise<TestDaemon> {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, runtime: { killGraceMs: 1000, runAsUser: true } }, { runAs: resolve, isAdmin: () => false });
  // mkdtemp made the data dir 0700: the job's account must be able to pass through it
  fs.chmodSync(d.dataDir, 0o711);
  return d;
}

async function stdoutOf(d: TestDaemon, id: number): Promise<string[]> {
  return (await d.api('GET', `/api/v1/jobs/${id}/logs?source=stdout&limit=1000`)).body.lines.map((l: { line: string }) => l.line);
}

const reasons = (job: { events: { reason: string }[] }) => job.events.map((e) => e.reason).join('\n');

function runAll(user: LocalUser): void {
  t.test("a mapped user's job runs as its uid, gid and groups; its output is its own; GRM's files are not", async (t) => {
    const d = await runAsDaemon(t, () => user);
    const script = sh(
      [
        'id -u; id -g; id -G',
        'touch "$GRM_JOB_DIR/planted" 2>/dev/null || echo cannot-write-job-folder',
        'echo "{}" > "$GRM_JOB_DIR/master.json" 2>/dev/null || echo cannot-write-master-json',
        'ln -sf /etc/shadow "$GRM_JOB_DIR/project.xml" 2>/dev/null || echo cannot-replace-project-xml',
        'cat "$GRM_JOB_DIR/../../grm.sqlite" >/dev/null 2>&1 || echo cannot-read-store',
        'touch work-file && echo wrote-work-folder',
        'echo "$USER $LOGNAME $HOME"',
      ].join('\n'),
    );
    const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id;
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED']);
    t.equal(job.job_state, 'COMPLETED', reasons(job));
    const [uid, gid, groups, ...rest] = await stdoutOf(d, id);
    t.equal(Number(uid), user.uid, 'id -u');
    t.equal(Number(gid), user.gid, 'id -g');
    t.same(groups!.split(' ').map(Number).sort(), [...user.groups].sort(), 'id -G: the mapped groups, no more (no root group)');
    t.same(rest, ['cannot-write-job-folder', 'cannot-write-master-json', 'cannot-replace-project-xml', 'cannot-read-store', 'wrote-work-folder', `${user.name} ${user.name} /nonexistent`], 'a bare REST environment gets the account\'s USER, LOGNAME and HOME');
    const jobDir = path.join(d.dataDir, 'jobs', String(id));
    t.equal(fs.statSync(path.join(jobDir, 'stdout.log')).uid, user.uid, 'the output file is the user\'s');
    t.equal(fs.statSync(path.join(jobDir, 'work', 'work-file')).uid, user.uid);
    for (const grm of ['', 'master.json', 'exit.json', 'project.xml']) t.equal(fs.lstatSync(path.join(jobDir, grm)).uid, 0, `${grm || 'the job folder'} stays GRM's`);
    t.match(reasons(job), new RegExp(`master started \\(pid \\d+, process group \\d+, uid ${user.uid} gid ${user.gid}\\)`));

    const own = userDir(t, user);
    const second = (await d.api('POST', '/api/v1/jobs', { script: sh('echo mine'), standard_output: path.join(own, 'out-%j.log') })).body.job_id;
    await d.waitForState(second, ['COMPLETED']);
    const out = path.join(own, `out-${second}.log`);
    t.equal(fs.readFileSync(out, 'utf8'), 'mine\n');
    t.equal(fs.statSync(out).uid, user.uid, '-o in its own folder: created by the user');
  });

  t.test('-o into a folder only root may enter: the job fails to start, permission denied as the user', async (t) => {
    const d = await runAsDaemon(t, () => user);
    const closed = rootOnlyDir(t);
    const target = path.join(closed, 'out.log');
    const res = await d.api('POST', '/api/v1/jobs', { script: sh('echo never'), standard_output: target });
    t.equal(res.status, 201, 'anywhere at submit: the OS decides, as the user');
    const job = await d.waitForState(res.body.job_id, ['COMPLETED', 'FAILED']);
    t.equal(job.job_state, 'FAILED');
    t.equal(job.state_reason, 'MasterStartFailed');
    t.match(reasons(job), `cannot open the standard output file '${target}' (as uid ${user.uid}): Permission denied`);
    t.notOk(fs.existsSync(target), 'nothing was created there');
    const closedDir = rootOnlyDir(t);
    const chdir = await d.api('POST', '/api/v1/jobs', { script: sh('echo never'), current_working_directory: closedDir });
    const failed = await d.waitForState(chdir.body.job_id, ['COMPLETED', 'FAILED']);
    t.equal(failed.job_state, 'FAILED', '-D the user cannot enter: no run');
    t.match(reasons(failed), /cannot use working directory .*: not an existing directory this job may enter/);
  });

  t.test("an unmapped user's job is refused, never run as root", async (t) => {
    let mapped = false;
    const d = await runAsDaemon(t, () => (mapped ? user : null));
    const refused = await d.api('POST', '/api/v1/jobs', { script: sh('id -u') });
    t.equal(refused.status, 403);
    t.equal(refused.body.error.code, 'E_PERMISSION_DENIED');
    t.match(refused.body.error.message, /has no local account mapped \(uid\/gid\): GRM runs as root and never runs a job as root for an unmapped user/);
    mapped = true;
    const held = (await d.api('POST', '/api/v1/jobs', { script: sh('echo ran; id -u'), hold: true })).body.job_id;
    mapped = false; // the mapping is taken away before the job starts
    t.equal((await d.api('POST', `/api/v1/jobs/${held}/release`)).status, 200);
    const job = await d.waitForState(held, ['COMPLETED', 'FAILED']);
    t.equal(job.job_state, 'FAILED');
    t.equal(job.state_reason, 'MasterStartFailed');
    t.match(reasons(job), /master could not start: user \S+ has no local account mapped/);
    t.same(await stdoutOf(d, held), [], 'it never ran');
  });

  t.test('a job that swaps its output for a link to /etc/shadow: the daemon does not read it', async (t) => {
    const d = await runAsDaemon(t, () => user);
    const own = userDir(t, user);
    fs.mkdirSync(path.join(own, 'logs'));
    fs.chownSync(path.join(own, 'logs'), user.uid, user.gid);
    // -o <own>/logs/shadow; then logs/ becomes a symlink to /etc: the path now names /etc/shadow
    const script = sh(`echo before-swap\nsleep 0.3\nmv "${own}/logs" "${own}/old" && ln -s /etc "${own}/logs" && echo swapped >&2`);
    const id = (await d.api('POST', '/api/v1/jobs', { script, standard_output: path.join(own, 'logs', 'shadow'), standard_error: path.join(own, 'err.log') })).body.job_id;
    await waitForLogLine(d, id, 'before-swap');
    const job = await d.waitForState(id, ['COMPLETED', 'FAILED']);
    t.equal(job.job_state, 'COMPLETED', reasons(job));
    await waitForLogLine(d, id, 'swapped');
    const lines = (await d.api('GET', `/api/v1/jobs/${id}/logs?limit=10000`)).body.lines.map((l: { line: string }) => l.line) as string[];
    t.ok(lines.includes('before-swap'));
    t.ok(lines.some((l) => /^GRM: stdout file .* was truncated; following it again/.test(l)), 'the tailer saw the swap and looked at the new file');
    t.notOk(lines.some((l) => /^root:/.test(l)), 'no line of /etc/shadow was stored');
  });
}

const user = createLocalUser(t);
if (user) runAll(user);
