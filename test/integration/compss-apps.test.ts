/**
 * The three kinds of COMPSs application submitted unchanged through `grm sbatch`, as one would
 * give them to runcompss: a PyCOMPSs file without #!, a Java main class with --classpath, a C
 * binary. The runcompss TEST DOUBLE (test/fixtures/runcompss-double) logs the argv it received
 * and validates the XML files against the COMPSs XSDs; the test checks both.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { PROJECT_ROOT } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { validateWithXmllint, xmllintReady } from '../helpers/xmllint.js';

const RUNCOMPSS = path.join(PROJECT_ROOT, 'test/fixtures/runcompss-double/runcompss.mjs');

/** The argv the double logged, the job's record, its project.xml: once the job has ended. */
async function finished(d: TestDaemon, id: number) {
  const job = await d.waitForState(id, ['COMPLETED', 'FAILED'], 60_000);
  const jobDir = path.join(d.dataDir, 'jobs', String(id));
  const log = fs.readFileSync(path.join(jobDir, 'compss', 'runtime.log'), 'utf8');
  const received = JSON.parse(log.match(/Arguments: (\[.*\])\n/)![1]!) as string[];
  const project = (await d.api('GET', `/api/v1/jobs/${id}/files/project.xml`)).body as string;
  return { job, jobDir, received, project, log };
}

/** GRM's own flags, as runcompss got them: the job's files, port and log dir. */
function grmFlags(jobDir: string, lang: string, received: string[]): string[] {
  const master = received.filter((a) => a.startsWith('--master_name=') || a.startsWith('--master_port='));
  return [`--project=${jobDir}/project.xml`, `--resources=${jobDir}/resources.xml`, `--lang=${lang}`, ...master, `--specific_log_dir=${jobDir}/compss`, '--log_level=off'];
}

function validProject(t: Test, xml: string): void {
  const r = validateWithXmllint(xml, 'project');
  t.ok(r.ok, `project.xml validates against the COMPSs XSD: ${r.output}`);
}

t.test('a PyCOMPSs app without #! runs as written: directives read, --pythonpath resolved, run with the interpreter', async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  d.writeScript('wordcount.py', '# PyCOMPSs word count\n#SBATCH -J wc\nimport sys\nprint("wordcount", sys.argv[1:])\n');
  const sub = await d.cli('sbatch', '--runtime=compss', '--lang=python', '-N', '3', '--pythonpath=lib', '--appdir=.', 'wordcount.py', 'in.txt');
  t.equal(sub.code, 0, sub.stderr);
  const { job, jobDir, received, project } = await finished(d, 1);
  t.equal(job.job_state, 'COMPLETED', (await d.cli('logs', '--source', 'stdout', '1')).stdout);
  t.equal(job.name, 'wc', 'the #SBATCH line of the leading comments applies');
  t.same(received, [...grmFlags(jobDir, 'python', received), `--appdir=${d.dataDir}`, `--pythonpath=${d.dataDir}/lib`, path.join(jobDir, 'app.py'), 'in.txt']);
  t.same(job.command_line, [RUNCOMPSS, ...received], 'grm show job prints what runcompss got');
  t.match((await d.cli('logs', '--source', 'stdout', '1')).stdout, /wordcount \['in\.txt'\]/);
  t.equal(project.match(/<Application>\s*<AppDir>[^<]*<\/AppDir>\s*<Pythonpath>[^<]*<\/Pythonpath>\s*<\/Application>/g)?.length, 3, 'on each of the 3 workers');
  t.ok(project.includes(`<Pythonpath>${d.dataDir}/lib</Pythonpath>`));
  validProject(t, project);
});

t.test('a Java app is its main class and --classpath: no file read, the class handed to runcompss', async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  const sub = await d.cli('sbatch', '--runtime=compss', '--lang=java', '--classpath=matmul.jar:/opt/deps/*', '-N', '2', 'matmul.Matmul', '4', '8');
  t.equal(sub.code, 0, sub.stderr);
  const { job, jobDir, received, project, log } = await finished(d, 1);
  t.equal(job.job_state, 'COMPLETED');
  t.equal(job.name, 'matmul.Matmul');
  const classpath = `${d.dataDir}/matmul.jar:/opt/deps/*`;
  t.same(received, [...grmFlags(jobDir, 'java', received), `--classpath=${classpath}`, 'matmul.Matmul', '4', '8']);
  t.notOk(fs.existsSync(path.join(jobDir, 'app.py')), 'no script file in the job folder');
  t.match(log, /lang java/);
  t.equal(project.split(`<Classpath>${classpath}</Classpath>`).length - 1, 2, 'on each of the 2 workers');
  validProject(t, project);
});

t.test('a C app is its binary, resolved against the submit directory, with --library-path', async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  // stands in for a compiled COMPSs C master binary: the double only executes it
  const binary = d.writeScript('simple', '#!/bin/sh\necho "simple binary ran with $*"\n');
  const sub = await d.cli('sbatch', '--runtime=compss', '--lang=c', '--library-path=lib', 'simple', '7');
  t.equal(sub.code, 0, sub.stderr);
  const { job, jobDir, received, project } = await finished(d, 1);
  t.equal(job.job_state, 'COMPLETED', (await d.cli('logs', '--source', 'stdout', '1')).stdout);
  t.same(received, [...grmFlags(jobDir, 'c', received), `--library_path=${d.dataDir}/lib`, binary, '7']);
  t.match((await d.cli('logs', '--source', 'stdout', '1')).stdout, /simple binary ran with 7/);
  t.ok(project.includes(`<LibraryPath>${d.dataDir}/lib</LibraryPath>`));
  validProject(t, project);
});

t.test('refusals reach the user in sbatch words before anything is submitted', async (t) => {
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  d.writeScript('noshebang.py', 'import sys\n');
  const plain = await d.cli('sbatch', 'noshebang.py');
  t.equal(plain.code, 1);
  t.match(plain.stderr, /This does not look like a batch script.*submit it with --runtime=compss/);
  const cp = await d.cli('sbatch', '--runtime=compss', '--classpath=a.jar', 'noshebang.py');
  t.equal(cp.code, 1);
  t.match(cp.stderr, /--classpath is for Java applications \(--lang=java\); for a python application use --pythonpath/);
  const jar = await d.cli('sbatch', '--runtime=compss', '--lang=java', 'matmul.jar');
  t.match(jar.stderr, /'matmul\.jar' is a file name/);
  const rest = await d.api('POST', '/api/v1/jobs', { runtime: 'compss', lang: 'java', application: 'a.B', classpath: 'rel.jar' });
  t.equal(rest.status, 400);
  t.match(rest.body.error, { code: 'E_OPTION_INVALID', field: '--classpath' });
  t.same((await d.api('GET', '/api/v1/jobs')).body.jobs, []);
});
