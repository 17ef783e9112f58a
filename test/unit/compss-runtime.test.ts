import t from 'tap';
import { splitCompssFlags } from '../../src/compss/compss-flags.js';
import { masterCommandLine } from '../../src/jobs/master-command.js';
import type { JobRecord } from '../../src/jobs/job-types.js';
import { parseSbatchArgs, parseScriptDirectives } from '../../src/sbatch/sbatch-options.js';

const ctx = {
  scriptPath: '/var/jobs/7/app.py',
  projectPath: '/var/jobs/7/project.xml',
  resourcesPath: '/var/jobs/7/resources.xml',
  jobDir: '/var/jobs/7',
  runcompss: '/opt/COMPSs/Runtime/scripts/user/runcompss',
  masterHost: 'master.example',
  masterPort: 43040,
};
const job = (description: JobRecord['description'], runtime: JobRecord['runtime'] = 'compss', argv: string[] = []) =>
  ({ runtime, description, argv }) as unknown as JobRecord;

t.test('compss flags are split like shell words but never reach a shell', async (t) => {
  t.same(splitCompssFlags('--tracing=true --graph  "--jvm_workers_opts=-Xms1g -Xmx8g"'), ['--tracing=true', '--graph', '--jvm_workers_opts=-Xms1g -Xmx8g']);
  t.same(splitCompssFlags("--summary '$HOME'"), ['--summary', '$HOME']);
  t.same(splitCompssFlags('--x=$HOME'), ['--x=$HOME'], '$NAME stays literal');
});

t.test('shell operators in compss flags are refused', async (t) => {
  for (const bad of ['--graph; rm -rf /', '--graph | tee x', '--graph && true', '--graph > out']) {
    t.throws(() => splitCompssFlags(bad), { code: 'E_OPTION_INVALID', message: /shell operator .* is not allowed/ }, bad);
  }
});

t.test('compss flags may not override what GRM sets for the job', async (t) => {
  t.throws(() => splitCompssFlags('--project=/etc/x.xml'), { message: /--project is set by GRM for each job/ });
  t.throws(() => splitCompssFlags('--master_port 1'), { message: /--master_port is set by GRM/ });
  t.throws(() => splitCompssFlags('--lang=java'), { message: /use --lang/ });
});

t.test('the command runtime runs the script itself with its arguments', async (t) => {
  t.same(masterCommandLine(job({}, 'command', ['a', 'b c']), ctx), { command: '/var/jobs/7/app.py', args: ['a', 'b c'] });
});

t.test('the compss runtime builds the runcompss command line with the job files', async (t) => {
  const line = masterCommandLine(
    job({ lang: 'python', compss_log_level: 'debug', python_interpreter: 'python3.11', compss_flags: ['--graph'] }, 'compss', ['--epochs', '3']),
    ctx,
  );
  t.equal(line.command, ctx.runcompss);
  t.same(line.args, [
    '--project=/var/jobs/7/project.xml',
    '--resources=/var/jobs/7/resources.xml',
    '--lang=python',
    '--master_name=master.example',
    '--master_port=43040',
    '--specific_log_dir=/var/jobs/7/compss',
    '--log_level=debug',
    '--python_interpreter=python3.11',
    '--graph',
    '/var/jobs/7/app.py',
    '--epochs',
    '3',
  ]);
});

t.test('log level defaults to off; python_interpreter is only for python', async (t) => {
  const line = masterCommandLine(job({ lang: 'java', python_interpreter: 'python3' }), ctx);
  t.ok(line.args.includes('--log_level=off'));
  t.notOk(line.args.some((a) => a.startsWith('--python_interpreter')));
});

t.test('sbatch and #GRM directives select the compss runtime and its options', async (t) => {
  const cli = parseSbatchArgs(['--runtime=compss', '--lang=python', '--compss-flags=--graph --tracing=true', 'app.py', 'x']);
  t.equal(cli.description.runtime, 'compss');
  t.same(cli.description.compss_flags, ['--graph', '--tracing=true']);
  t.same(cli.scriptArgs, ['x']);
  const script = parseScriptDirectives('#!/usr/bin/env python3\n#GRM --runtime=compss\n#GRM --compss-log-level=info\n#SBATCH -N 3\nprint(1)\n');
  t.equal(script.description.runtime, 'compss');
  t.equal(script.description.compss_log_level, 'info');
  t.equal(script.description.minimum_nodes, 3);
  t.throws(() => parseScriptDirectives('#!/bin/sh\n#SBATCH --compss-flags=--graph\n'), { message: /is a GRM option/ });
});
