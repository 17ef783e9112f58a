import t from 'tap';
import { parseSbatchArgs } from '../../src/sbatch/sbatch-options.js';
import {
  PATH_MAX,
  dataDirViolation,
  isInside,
  pathTextError,
  pathTextProblem,
  resolveOutputPath,
  rootsViolation,
} from '../../src/sbatch/output-path.js';

const values = { jobId: 42, jobName: 'train', user: 'alice', nodeName: 'node01' };
const layout = { dataDir: '/var/lib/grm', ownJobDir: '/var/lib/grm/jobs/42' };

t.test('a path as text: not empty, no NUL, at most PATH_MAX bytes', async (t) => {
  t.equal(pathTextProblem('/scratch/out.log'), null);
  t.equal(pathTextProblem(''), 'the value must not be empty');
  t.equal(pathTextProblem('out\0.log'), 'the value contains a NUL byte');
  t.equal(pathTextProblem('/' + 'a'.repeat(PATH_MAX - 1)), null, 'exactly PATH_MAX bytes');
  t.match(pathTextProblem('/' + 'a'.repeat(PATH_MAX)), /longer than 4096 bytes/);
  t.match(pathTextProblem('/' + 'é'.repeat(2048)), /longer than 4096 bytes/, 'counted in bytes, as the kernel does');
});

t.test('the field messages: sbatch option names, no NUL or huge value echoed, -D must be absolute', async (t) => {
  t.equal(pathTextError('standard_output', 'out-%j.log'), null, 'a relative -o is fine');
  t.equal(pathTextError('standard_output', 'a\0b'), 'Invalid --output (3 bytes): the value contains a NUL byte');
  t.equal(pathTextError('standard_error', ''), "Invalid --error '': the value must not be empty");
  t.match(pathTextError('current_working_directory', 'rel/dir'), /^Invalid --chdir 'rel\/dir': the directory must be an absolute path/);
  t.equal(pathTextError('current_working_directory', '/scratch/run'), null);
});

t.test('sbatch refuses the same values while parsing (the CLI tells before any daemon)', async (t) => {
  t.throws(() => parseSbatchArgs(['-o', 'a\0b', 'job.sh']), { code: 'E_OPTION_INVALID', field: '--output', message: /NUL byte/ });
  t.throws(() => parseSbatchArgs(['--error', '/' + 'x'.repeat(5000), 'job.sh']), { code: 'E_OPTION_INVALID', message: /PATH_MAX/ });
  t.throws(() => parseSbatchArgs(['-D', 'a\0', 'job.sh']), { code: 'E_OPTION_INVALID', field: '--chdir' });
  t.equal(parseSbatchArgs(['-o', 'logs/%x_%j.out', 'job.sh']).description.standard_output, 'logs/%x_%j.out', 'patterns pass as written');
});

t.test('an output pattern: expanded, joined to the working directory, not normalised', async (t) => {
  t.equal(resolveOutputPath('/scratch/%x-%j.out', values, '/home/alice'), '/scratch/train-42.out');
  t.equal(resolveOutputPath('out-%5j.log', values, '/home/alice/'), '/home/alice/out-00042.log');
  t.equal(resolveOutputPath('../x/%u.log', values, '/home/alice/run'), '/home/alice/run/../x/alice.log', 'the kernel decides what .. means');
  t.equal(resolveOutputPath('%x/%N.log', { ...values, jobName: '../../etc' }, '/w'), '/w/../../etc/node01.log', 'a name is text in the path');
});

t.test('inside: the folder itself and below, not a sibling with the same prefix', async (t) => {
  t.ok(isInside('/var/lib/grm', '/var/lib/grm'));
  t.ok(isInside('/var/lib/grm/jobs/1', '/var/lib/grm'));
  t.notOk(isInside('/var/lib/grm2/x', '/var/lib/grm'));
  t.ok(isInside('/anything', '/'));
});

t.test("the data dir: the job's own folder is open, another job's folder and the store are not", async (t) => {
  t.equal(dataDirViolation('/home/alice/out.log', layout, 'standard_output'), null, 'outside the data dir: not its business');
  t.equal(dataDirViolation('/var/lib/grm/jobs/42/stdout.log', layout, 'standard_output'), null);
  t.equal(dataDirViolation('/var/lib/grm/jobs/42/work/out.log', layout, 'standard_output'), null);
  t.equal(dataDirViolation('/var/lib/grm/jobs/7/stdout.log', layout, 'standard_output'), "it is inside another job's folder");
  t.equal(dataDirViolation('/var/lib/grm/jobs/420/x', layout, 'standard_output'), "it is inside another job's folder", 'not fooled by a shared prefix');
  t.equal(dataDirViolation('/var/lib/grm/grm.sqlite', layout, 'standard_output'), "it is inside GRM's data directory (the daemon's store)");
  t.equal(dataDirViolation('/var/lib/grm/jobs', layout, 'current_working_directory'), "it is inside GRM's data directory (the daemon's store)");
  t.equal(dataDirViolation('/var/lib/grm/jobs/42/project.xml', layout, 'standard_output'), "it is GRM's own project.xml of the job");
  t.equal(dataDirViolation('/var/lib/grm/jobs/42/exit.json', layout, 'standard_error'), "it is GRM's own exit.json of the job");
  t.equal(dataDirViolation('/var/lib/grm/jobs/42', layout, 'standard_output'), "it is the job's folder itself");
  t.equal(dataDirViolation('/var/lib/grm/jobs/42', layout, 'current_working_directory'), null, '-D may be the job folder');
});

t.test('roots: under one of them, or refused naming them', async (t) => {
  t.equal(rootsViolation('/tmp/a/b', ['/tmp', '/scratch']), null);
  t.equal(rootsViolation('/etc/x', ['/tmp', '/scratch']), 'it is outside the directories open to job output (/tmp, /scratch)');
  t.equal(rootsViolation('/etc/x', ['/']), null);
});
