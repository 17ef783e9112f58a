/**
 * COMPSs applications as runcompss takes them: a Python file with or without #!, a Java main
 * class on --classpath, a C binary. Parsing, the refusals, the runcompss argv of each kind and
 * the project.xml <Application> entries (checked by xmllint against the COMPSs XSD).
 */
import t from 'tap';
import type { Allocation } from '../../src/backends/resource-backend.js';
import { compssFilesForAllocation } from '../../src/compss/allocation-xml.js';
import { applicationModelOf, checkCompssApplication, compssPathFlags, resolveCompssPaths } from '../../src/compss/compss-app.js';
import { buildProjectXml, parseProjectXml } from '../../src/compss/project-xml.js';
import { masterCommandLine, type MasterCommandContext } from '../../src/jobs/master-command.js';
import type { JobDescription, JobRecord } from '../../src/jobs/job-types.js';
import { mergeDescriptions, parseSbatchArgs, parseScriptDirectives } from '../../src/sbatch/sbatch-options.js';
import { refusal } from '../helpers/refusal.js';
import { validateWithXmllint, xmllintReady } from '../helpers/xmllint.js';

const PYCOMPSS_APP = '# a PyCOMPSs app as written: no #! line\n#SBATCH -N 3\n#GRM --pythonpath=/home/alice/lib\nfrom pycompss.api.task import task\n#SBATCH -N 9\n';

const CTX: MasterCommandContext = {
  scriptPath: '/var/lib/grm/jobs/7/app.py',
  projectPath: '/var/lib/grm/jobs/7/project.xml',
  resourcesPath: '/var/lib/grm/jobs/7/resources.xml',
  jobDir: '/var/lib/grm/jobs/7',
  runcompss: '/opt/COMPSs/Runtime/scripts/user/runcompss',
  masterHost: 'ctl',
  masterPort: 43020,
};
const GRM_FLAGS = [
  '--project=/var/lib/grm/jobs/7/project.xml',
  '--resources=/var/lib/grm/jobs/7/resources.xml',
];
const TAIL_FLAGS = ['--master_name=ctl', '--master_port=43020', '--specific_log_dir=/var/lib/grm/jobs/7/compss', '--log_level=off'];

const job = (description: JobDescription, argv: string[] = []): JobRecord => ({ runtime: 'compss', description, argv }) as unknown as JobRecord;

// ---------------------------------------------------------------- parsing

t.test('a Python app without #! is read with --runtime=compss: directives of the leading comment block only', async (t) => {
  const { description } = parseScriptDirectives(PYCOMPSS_APP, {}, { runtime: 'compss' });
  t.same(description, { minimum_nodes: 3, maximum_nodes: 3, pythonpath: '/home/alice/lib' });
});

t.test("a Python app without #! is read when its own '#GRM --runtime=compss' says it is one", async (t) => {
  const { description } = parseScriptDirectives('#GRM --runtime=compss\nimport sys\n');
  t.equal(description.runtime, 'compss');
});

t.test('without --runtime=compss a file without #! is still refused in sbatch words', async (t) => {
  for (const runtime of [undefined, 'command'] as const) {
    const e = refusal(() => parseScriptDirectives('import sys\n', {}, runtime ? { runtime } : {}));
    t.equal(e.code, 'E_SCRIPT_INVALID');
    t.match(e.message, /^This does not look like a batch script\. The first line must start with #!/);
  }
  t.match(refusal(() => parseScriptDirectives('import sys\n')).message, /a COMPSs application needs none: submit it with --runtime=compss/);
});

t.test('the command line wins over #GRM: --runtime=command refuses a file without #! even if it says compss', async (t) => {
  t.equal(refusal(() => parseScriptDirectives('#GRM --runtime=compss\nx = 1\n', {}, { runtime: 'command' })).code, 'E_SCRIPT_INVALID');
});

t.test('a Java app is a main class and its --classpath; the class name is the positional, its args follow', async (t) => {
  const parsed = parseSbatchArgs(['--runtime=compss', '--lang=java', '--classpath=lib/matmul.jar:classes', '-N', '3', 'matmul.Matmul', '4', '8']);
  t.same(parsed.description, { runtime: 'compss', lang: 'java', classpath: 'lib/matmul.jar:classes', minimum_nodes: 3, maximum_nodes: 3 });
  t.equal(parsed.scriptPath, 'matmul.Matmul');
  t.same(parsed.scriptArgs, ['4', '8']);
});

t.test('--appdir and --library-path are GRM options, in #GRM lines too, never in #SBATCH', async (t) => {
  const parsed = parseSbatchArgs(['--runtime=compss', '--lang=c', '--appdir=app', '--library-path=/usr/local/lib:lib', 'bin/simple']);
  t.same(parsed.description, { runtime: 'compss', lang: 'c', appdir: 'app', library_path: '/usr/local/lib:lib' });
  const fromGrm = parseScriptDirectives('#!/usr/bin/env python3\n#GRM --appdir=/app --library-path=/lib\n', {}, { runtime: 'compss' });
  t.same(fromGrm.description, { appdir: '/app', library_path: '/lib' });
  const e = refusal(() => parseScriptDirectives('#!/bin/sh\n#SBATCH --classpath=/a.jar\n'));
  t.same([e.code, e.field], ['E_OPTION_INVALID', '--classpath']);
  t.match(e.message, /--classpath is a GRM option: put it in a '#GRM --classpath=\.\.\.' line/);
});

t.test('relative paths are resolved against the submit directory, entry by entry; a C binary too', async (t) => {
  const d = resolveCompssPaths(
    { runtime: 'compss', lang: 'c', application: 'bin/simple', appdir: '.', library_path: 'lib:/usr/lib', classpath: undefined } as JobDescription,
    '/home/alice/sim',
  );
  t.same(d, { runtime: 'compss', lang: 'c', application: '/home/alice/sim/bin/simple', appdir: '/home/alice/sim', library_path: '/home/alice/sim/lib:/usr/lib', classpath: undefined });
  const java = resolveCompssPaths({ runtime: 'compss', lang: 'java', application: 'matmul.Matmul', classpath: 'matmul.jar:../deps/*' }, '/home/alice/mm');
  t.same([java.application, java.classpath], ['matmul.Matmul', '/home/alice/mm/matmul.jar:/home/alice/deps/*'], 'a class name is not a path');
});

// ---------------------------------------------------------------- refusals

const refused = (d: JobDescription) => refusal(() => checkCompssApplication(d));

t.test('--classpath only with --lang=java, naming what to use instead', async (t) => {
  const e = refused({ runtime: 'compss', script: '#!x', classpath: '/a.jar' });
  t.same([e.code, e.field], ['E_OPTION_INVALID', '--classpath']);
  t.equal(e.message, '--classpath is for Java applications (--lang=java); for a python application use --pythonpath');
  t.match(refused({ runtime: 'compss', lang: 'c', application: '/b', classpath: '/a.jar' }).message, /for a c application use --library-path/);
});

t.test('--pythonpath only with Python apps', async (t) => {
  const e = refused({ runtime: 'compss', lang: 'java', application: 'a.B', pythonpath: '/py' });
  t.same([e.code, e.field], ['E_OPTION_INVALID', '--pythonpath']);
  t.equal(e.message, '--pythonpath is for Python applications (--lang=python); for a java application use --classpath');
});

t.test('the path options need --runtime=compss', async (t) => {
  const e = refused({ script: '#!/bin/sh\n', library_path: '/lib' });
  t.same([e.code, e.field, e.message], ['E_OPTION_INVALID', '--library-path', '--library-path is for COMPSs applications: add --runtime=compss, or remove --library-path']);
});

t.test('a REST client sends absolute paths: a relative entry is refused', async (t) => {
  const e = refused({ runtime: 'compss', lang: 'java', application: 'a.B', classpath: '/a.jar:lib/b.jar' });
  t.same([e.field, e.message], ['--classpath', "Invalid --classpath '/a.jar:lib/b.jar': every entry must be an absolute path (grm sbatch resolves relative ones against the submit directory)"]);
  t.match(refused({ runtime: 'compss', lang: 'c', application: 'bin/simple' }).message, /the C binary must be an absolute path, got "bin\/simple"/);
});

t.test('a Java app needs a main class, not a jar or a path', async (t) => {
  t.match(refused({ runtime: 'compss', lang: 'java' }).message, /--lang=java needs the application: the main class, e\.g\. grm sbatch --runtime=compss --lang=java --classpath=app\.jar matmul\.Matmul/);
  t.match(refused({ runtime: 'compss', lang: 'java', application: 'matmul.jar' }).message, /'matmul\.jar' is a file name: with --lang=java give the main class \(e\.g\. matmul\.Matmul\) and put the jar or class folder in --classpath/);
  t.match(refused({ runtime: 'compss', lang: 'java', application: 'build/Matmul' }).message, /'build\/Matmul' is not a Java class name/);
  t.equal(refused({ runtime: 'compss', lang: 'java', application: 'build/Matmul' }).field, 'application');
  t.doesNotThrow(() => checkCompssApplication({ runtime: 'compss', lang: 'java', application: 'es.bsc.compss.Main$Inner', classpath: '/a.jar' }));
});

t.test('Java and C apps have no script; Python apps and batch scripts have no application', async (t) => {
  t.match(refused({ runtime: 'compss', lang: 'c', application: '/bin/x', script: '#!/bin/sh\n' }).message, /a COMPSs C application has no script: give the binary path as the application/);
  t.equal(refused({ runtime: 'compss', script: 'x', application: 'a.B' }).field, 'application');
  t.equal(refused({ script: '#!/bin/sh\n', application: '/bin/x' }).field, 'application');
  t.match(refused({ runtime: 'compss', lang: 'c', application: '/bin/x\0y' }).message, /the C binary must be an absolute path/);
});

// ---------------------------------------------------------------- runcompss argv

t.test('runcompss argv of a Python app: the file in the job folder, --pythonpath and --appdir after the interpreter', async (t) => {
  const d: JobDescription = { runtime: 'compss', python_interpreter: 'python3.11', appdir: '/home/alice/app', pythonpath: '/home/alice/lib:/opt/py', library_path: '/usr/local/lib', compss_flags: ['--graph'] };
  const cmd = masterCommandLine(job(d, ['10', 'out']), CTX);
  t.equal(cmd.command, CTX.runcompss);
  t.same(cmd.args, [
    ...GRM_FLAGS, '--lang=python', ...TAIL_FLAGS, '--python_interpreter=python3.11',
    '--appdir=/home/alice/app', '--pythonpath=/home/alice/lib:/opt/py', '--library_path=/usr/local/lib',
    '--graph', '/var/lib/grm/jobs/7/app.py', '10', 'out',
  ]);
});

t.test('runcompss argv of a Java app: --classpath, then the main class where the file would be', async (t) => {
  const d: JobDescription = { runtime: 'compss', lang: 'java', application: 'matmul.Matmul', classpath: '/home/alice/mm/matmul.jar:/home/alice/deps/*' };
  t.same(masterCommandLine(job(d, ['4', '8']), CTX).args, [
    ...GRM_FLAGS, '--lang=java', ...TAIL_FLAGS, '--classpath=/home/alice/mm/matmul.jar:/home/alice/deps/*', 'matmul.Matmul', '4', '8',
  ]);
});

t.test('runcompss argv of a C app: the binary as given, --appdir and --library_path', async (t) => {
  const d: JobDescription = { runtime: 'compss', lang: 'c', application: '/home/alice/sim/master/simple', appdir: '/home/alice/sim', library_path: '/home/alice/sim/lib' };
  t.same(masterCommandLine(job(d, ['1']), CTX).args, [
    ...GRM_FLAGS, '--lang=c', ...TAIL_FLAGS, '--appdir=/home/alice/sim', '--library_path=/home/alice/sim/lib', '/home/alice/sim/master/simple', '1',
  ]);
});

t.test('compssPathFlags spells the flags as runcompss does (--library_path with an underscore)', async (t) => {
  t.same(compssPathFlags({ library_path: '/l', classpath: '/c', appdir: '/a', pythonpath: '/p' }), ['--classpath=/c', '--appdir=/a', '--pythonpath=/p', '--library_path=/l']);
  t.same(compssPathFlags({}), []);
});

// ---------------------------------------------------------------- project.xml

const allocation: Allocation = {
  backendId: '7',
  partition: 'batch',
  nodes: [1, 2, 3].map((i) => ({ name: `node0${i}`, cpus: 4, memoryMiB: 4096, gpus: 0 })),
  nodeList: 'node[01-03]',
  startTime: 0,
  endTime: null,
};

const projectOf = (d: JobDescription, config = {}) => {
  const application = applicationModelOf(d);
  return compssFilesForAllocation({ grmJobId: 7, allocation, config, ...(application ? { application } : {}) }).project;
};

t.test('the Application entries of each kind are on every worker and validate against the COMPSs XSD', async (t) => {
  const kinds: Record<string, JobDescription> = {
    python: { runtime: 'compss', appdir: '/home/alice/app', pythonpath: '/home/alice/lib', library_path: '/usr/local/lib' },
    java: { runtime: 'compss', lang: 'java', application: 'matmul.Matmul', classpath: '/home/alice/mm/matmul.jar', appdir: '/home/alice/mm' },
    c: { runtime: 'compss', lang: 'c', application: '/home/alice/sim/simple', appdir: '/home/alice/sim', library_path: '/home/alice/sim/lib' },
  };
  for (const [kind, d] of Object.entries(kinds)) {
    const xml = buildProjectXml(projectOf(d));
    const parsed = parseProjectXml(xml);
    t.equal(parsed.computeNodes.length, 3, kind);
    for (const node of parsed.computeNodes) t.same(node.application, applicationModelOf(d), `${kind}: ${node.name}`);
    if (!xmllintReady(t)) continue;
    const r = validateWithXmllint(xml, 'project');
    t.ok(r.ok, `${kind}: ${r.output}`);
  }
});

t.test("the Application children are written in the XSD's order: AppDir, LibraryPath, Classpath, Pythonpath", async (t) => {
  const xml = buildProjectXml(projectOf({ runtime: 'compss', lang: 'java', application: 'a.B', classpath: '/c.jar', library_path: '/l', appdir: '/a' }));
  t.match(xml, /<Application>\s*<AppDir>\/a<\/AppDir>\s*<LibraryPath>\/l<\/LibraryPath>\s*<Classpath>\/c\.jar<\/Classpath>\s*<\/Application>/);
});

t.test("the job's paths replace the config's one by one; the others stay", async (t) => {
  const config = { application: { appDir: '/shared/app', libraryPath: '/shared/lib' } };
  const project = projectOf({ runtime: 'compss', lang: 'java', application: 'a.B', classpath: '/c.jar', appdir: '/mine' }, config);
  t.same(project.computeNodes[0]!.application, { appDir: '/mine', libraryPath: '/shared/lib', classpath: '/c.jar' });
  t.equal(projectOf({ runtime: 'compss', script: '#!x' }).computeNodes[0]!.application, undefined, 'no paths: no Application element');
});

t.test('the command line wins over #GRM path directives, as for every option', async (t) => {
  const fromScript = parseScriptDirectives(PYCOMPSS_APP, {}, { runtime: 'compss' }).description;
  t.equal(mergeDescriptions(fromScript, { pythonpath: '/cli' }).pythonpath, '/cli');
});
