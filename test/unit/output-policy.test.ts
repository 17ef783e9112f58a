/**
 * The daemon side of -o/-e/-D, on real folders (symlinks resolved as the kernel resolves them):
 * never into another job's folder or the store, whoever asks; non-admins kept to the roots.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputPolicy, realPathOf } from '../../src/jobs/output-policy.js';
import type { JobDescription } from '../../src/jobs/job-types.js';
import { masterIdentity, type MasterIdentity, type RunAs } from '../../src/runtime/run-as.js';

const ALICE: RunAs = { uid: 1234, gid: 1234, groups: [1234, 2000] };

function setup(t: { teardown(fn: () => void): void }) {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'grm-policy-')));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(path.join(dataDir, 'jobs', '7'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'grm.sqlite'), '');
  return { dir, dataDir };
}

const asRoot = (): MasterIdentity => ({ kind: 'daemon', uid: 0 });
const asAlice = (): MasterIdentity => ({ kind: 'user', runAs: ALICE });

function policy(dataDir: string, identity: (u: string) => MasterIdentity, extra: { roots?: string[]; admins?: string[] } = {}) {
  return new OutputPolicy({ dataDir, roots: extra.roots ?? [], identity, isAdmin: (u) => (extra.admins ?? []).includes(u) });
}

const check = (p: OutputPolicy, description: JobDescription, user = 'alice') => () => p.checkRequest(description, user, 'job');

t.test('realPathOf: symlinks of the existing part resolved, a `..` after a symlink leaves its target', async (t) => {
  const { dir } = setup(t);
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'a', 'b'), path.join(dir, 'link'));
  t.equal(realPathOf(path.join(dir, 'link', 'new', 'file')), path.join(dir, 'a', 'b', 'new', 'file'));
  t.equal(realPathOf(`${dir}/link/../x`), path.join(dir, 'a', 'x'), 'the kernel goes up from the target, not from the link');
  t.equal(realPathOf(`${dir}/missing/./y`), path.join(dir, 'missing', 'y'));
});

t.test("another job's folder and the store: refused at submit, for everyone, through .. or a symlink", async (t) => {
  const { dir, dataDir } = setup(t);
  const p = policy(dataDir, asAlice, { admins: ['root'] });
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  fs.symlinkSync(path.join(dataDir, 'jobs'), path.join(work, 'jobs-link'));
  t.throws(check(p, { standard_output: '../../7/stdout.log' }), { code: 'E_PERMISSION_DENIED', field: 'standard_output', message: /^--output '\.\.\/\.\.\/7\/stdout\.log' \(.*\/data\/jobs\/7\/stdout\.log\) is refused: it is inside another job's folder$/ }, 'relative to the default work folder, as at start');
  t.throws(check(p, { standard_output: '../../../grm.sqlite' }), { message: /is refused: it is inside GRM's data directory \(the daemon's store\)$/ });
  t.throws(check(p, { standard_error: `${dataDir}/grm.sqlite` }, 'root'), { field: 'standard_error', message: /the daemon's store/ }, 'an admin neither');
  t.throws(check(p, { current_working_directory: work, standard_output: 'jobs-link/7/x.log' }), { message: /another job's folder/ }, 'through a symlink');
  t.throws(check(p, { current_working_directory: path.join(dataDir, 'jobs', '7') }), { field: 'current_working_directory', message: /another job's folder/ });
  t.doesNotThrow(check(p, { standard_output: `${dataDir}/jobs/%j/out-%j.log` }), "its own folder, named with %j");
  t.doesNotThrow(check(p, { standard_output: 'out.log' }), 'a relative name in its own work folder');
  t.throws(check(p, { standard_output: `${dataDir}/jobs/%j/project.xml` }), { message: /GRM's own project\.xml/ });
});

t.test('text problems and an unmapped user: refused before anything else', async (t) => {
  const { dataDir } = setup(t);
  const p = policy(dataDir, asAlice);
  t.throws(check(p, { standard_output: 'a\0b' }), { code: 'E_OPTION_INVALID', field: 'standard_output', message: /NUL/ });
  t.throws(check(p, { current_working_directory: 'relative' }), { code: 'E_OPTION_INVALID', field: 'current_working_directory', message: /absolute/ });
  const unmapped = policy(dataDir, (user) => masterIdentity(user, { daemonUid: 0, runAsUser: true, resolve: () => null }));
  t.throws(check(unmapped, {}), { code: 'E_PERMISSION_DENIED', field: 'user', message: /user alice has no local account mapped/ });
});

t.test('roots: anywhere for a master run as a non-root account, /tmp for one run as root, the configured ones for non-admins', async (t) => {
  const { dataDir } = setup(t);
  t.doesNotThrow(check(policy(dataDir, asAlice), { standard_output: '/etc/x' }), 'the OS decides (at start: permission denied)');
  t.throws(check(policy(dataDir, asRoot), { standard_output: '/etc/x' }), { code: 'E_PERMISSION_DENIED', message: "--output '/etc/x' is refused: it is outside the directories open to job output (/tmp, the job's folder)" });
  t.doesNotThrow(check(policy(dataDir, asRoot, { admins: ['root'] }), { standard_output: '/etc/x' }, 'root'), 'an admin is not kept to roots');
  t.doesNotThrow(check(policy(dataDir, asRoot), { standard_output: '/tmp/out.log' }));
  const scratch = policy(dataDir, asAlice, { roots: ['/scratch'] });
  t.throws(check(scratch, { standard_output: '/tmp/x' }), { message: /outside the directories open to job output \(\/scratch, the job's folder\)$/ });
  t.doesNotThrow(check(scratch, { standard_output: '/scratch/alice/%j.out' }));
  t.throws(check(scratch, { current_working_directory: '/home/alice' }), { code: 'E_PERMISSION_DENIED', field: 'current_working_directory', message: /outside the directories/ }, '-D too');
});
