/**
 * The sbatch options added with job arrays: --array (now kept and acted on), -H/--hold,
 * --wrap, the GPU options, --requeue/--no-requeue, --signal, --open-mode, --test-only and
 * the help/usage/version flags: on the command line, in #SBATCH lines, in conflict, and
 * with bad values.
 */
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { JobDescriptionSchema } from '../../src/api/schemas.js';
import { GrmError } from '../../src/errors.js';
import { mergeDescriptions, parseSbatchArgs, parseScriptDirectives } from '../../src/sbatch/sbatch-options.js';

const cli = (...argv: string[]) => parseSbatchArgs(argv).description;
const script = (...lines: string[]) => parseScriptDirectives(['#!/bin/bash', ...lines].join('\n')).description;
const invalid = (field: string, message: RegExp) => ({ constructor: GrmError, code: 'E_OPTION_INVALID', field, message });
const unknown = (field: string, message: RegExp) => ({ constructor: GrmError, code: 'E_OPTION_UNKNOWN', field, message });

// ---------------------------------------------------------------- --array

t.test('--array is kept as written and no longer warns', async (t) => {
  const r = parseSbatchArgs(['--array=0-99:3%5', 'job.sh']);
  t.equal(r.description.array, '0-99:3%5');
  t.same(r.warnings, []);
  t.same(parseScriptDirectives('#!/bin/sh\n#SBATCH -a 1,3,5-7\n').warnings, []);
  t.equal(script('#SBATCH --array=007').array, '007');
});

t.test('--array indexes must be below MaxArraySize (default 1001, or the context)', async (t) => {
  t.throws(() => cli('--array=0-1001'), invalid('--array', /^Invalid job array specification '0-1001' for --array: index 1001 is out of range: indexes must be less than MaxArraySize \(1001\)$/));
  t.equal(parseSbatchArgs(['--array=0-4999'], { maxArraySize: 5000 }).description.array, '0-4999');
  t.throws(() => parseScriptDirectives('#!/bin/sh\n#SBATCH --array=5\n', { maxArraySize: 5 }), invalid('--array', /^script line 2: Invalid job array specification '5'/));
});

t.test('--array refuses what SLURM would misread', async (t) => {
  t.throws(() => cli('-a', '+1'), invalid('--array', /'\+1' is not N, N-M or N-M:STEP/));
  t.throws(() => cli('-a', '1,,2'), invalid('--array', /empty index between commas/));
});

// ---------------------------------------------------------------- -H/--hold

t.test('-H/--hold sets hold, on the command line and in a script', async (t) => {
  t.equal(cli('-H').hold, true);
  t.equal(cli('--hold').hold, true);
  t.same(cli('-HN2'), { hold: true, minimum_nodes: 2, maximum_nodes: 2 });
  t.equal(script('#SBATCH --hold').hold, true);
  t.equal(cli('-N', '1').hold, undefined);
});

t.test('--hold takes no value', async (t) => {
  t.throws(() => cli('--hold=yes'), invalid('--hold', /option '--hold' doesn't allow an argument/));
});

// ---------------------------------------------------------------- --wrap

const WRAPPED = '#!/bin/sh\n# This script was created by sbatch --wrap.\n\nsrun hostname; echo done\n';

t.test('--wrap makes the script sbatch writes, named "wrap"', async (t) => {
  for (const argv of [['--wrap=srun hostname; echo done'], ['--wrap', 'srun hostname; echo done']]) {
    const r = parseSbatchArgs(argv);
    t.equal(r.description.script, WRAPPED);
    t.equal(r.description.name, 'wrap');
    t.equal(r.scriptPath, undefined);
    t.same(r.scriptArgs, []);
  }
});

t.test('-J names a wrapped job, before or after --wrap', async (t) => {
  t.equal(cli('-J', 'mine', '--wrap=true').name, 'mine');
  t.equal(cli('--wrap=true', '-J', 'mine').name, 'mine');
});

t.test('the wrapped script has no directives of its own', async (t) => {
  t.same(parseScriptDirectives(cli('--wrap=hostname').script as string).description, {});
});

t.test('a script file (or arguments) next to --wrap is refused in SLURM words', async (t) => {
  const err = invalid('--wrap', /^Script arguments not permitted with --wrap option$/);
  t.throws(() => cli('--wrap=hostname', 'job.sh'), err);
  t.throws(() => cli('--wrap=hostname', '--', 'x'), err);
  t.throws(() => cli('--wrap=hostname', '-'), err);
});

t.test('--wrap needs a command and cannot be a directive', async (t) => {
  t.throws(() => cli('--wrap='), invalid('--wrap', /^Invalid --wrap '': give the command to run, e\.g\. --wrap="hostname"$/));
  t.throws(() => script('#SBATCH --wrap=hostname'), invalid('--wrap', /^script line 2: --wrap is an sbatch command-line option and cannot be used in a script directive$/));
});

// ---------------------------------------------------------------- GPUs

t.test('--gpus-per-node=[type:]N sets tres_per_node, like --gres=gpu', async (t) => {
  t.equal(cli('--gpus-per-node=2').tres_per_node, 'gres/gpu:2');
  t.equal(cli('--gpus-per-node', 'a100:4').tres_per_node, 'gres/gpu:a100:4');
  t.equal(cli('--gpus-per-node=2').tres_per_node, cli('--gres=gpu:2').tres_per_node);
  t.equal(script('#SBATCH --gpus-per-node=1').tres_per_node, 'gres/gpu:1');
});

t.test('--gpus-per-node and --gres in one source are mutually exclusive (SLURM words)', async (t) => {
  const err = (field: string) => invalid(field, /^--gpus-per-node and --gres=gpu are mutually exclusive\.$/);
  t.throws(() => cli('--gres=gpu:2', '--gpus-per-node=2'), err('--gres'));
  t.throws(() => cli('--gpus-per-node=1', '--gres=gpu:1'), err('--gres'));
  t.throws(() => script('#SBATCH --gres=gpu', '#SBATCH --gpus-per-node=1'), err('--gres'));
});

t.test('--gpus-per-node on the command line replaces the script --gres', async (t) => {
  t.equal(mergeDescriptions(script('#SBATCH --gres=gpu:1'), cli('--gpus-per-node=3')).tres_per_node, 'gres/gpu:3');
});

t.test('--gpus-per-task=[type:]N sets tres_per_task', async (t) => {
  t.equal(cli('--gpus-per-task=1').tres_per_task, 'gres/gpu:1');
  t.equal(cli('--gpus-per-task', 'v100:2').tres_per_task, 'gres/gpu:v100:2');
  t.equal(script('#SBATCH --gpus-per-task=1').tres_per_task, 'gres/gpu:1');
});

t.test('bad GPU counts name the option', async (t) => {
  t.throws(() => cli('--gpus-per-node=0'), invalid('--gpus-per-node', /^Invalid --gpus-per-node specification '0': use COUNT or TYPE:COUNT with a count of at least 1$/));
  t.throws(() => cli('--gpus-per-task=a100'), invalid('--gpus-per-task', /^Invalid --gpus-per-task specification 'a100'/));
});

t.test('--cpus-per-gpu sets cpus_per_gpu', async (t) => {
  t.equal(cli('--cpus-per-gpu=8').cpus_per_gpu, 8);
  t.equal(script('#SBATCH --cpus-per-gpu 4').cpus_per_gpu, 4);
  t.throws(() => cli('--cpus-per-gpu=0'), invalid('--cpus-per-gpu', /^Invalid numeric value "0" for --cpus-per-gpu: must be a positive integer$/));
});

t.test('--cpus-per-gpu and -c are mutually exclusive in one source; the command line replaces the script', async (t) => {
  t.throws(() => cli('-c', '2', '--cpus-per-gpu=4'), invalid('--cpus-per-task', /^--cpus-per-task and --cpus-per-gpu are mutually exclusive$/));
  t.same(mergeDescriptions(script('#SBATCH -c 2'), cli('--cpus-per-gpu=4')), { cpus_per_gpu: 4 });
  t.same(mergeDescriptions(script('#SBATCH --cpus-per-gpu=4'), cli('-c', '2')), { cpus_per_task: 2 });
});

t.test('--mem-per-gpu sets memory_per_gpu in MiB', async (t) => {
  t.equal(cli('--mem-per-gpu=4G').memory_per_gpu, 4096);
  t.equal(cli('--mem-per-gpu', '500').memory_per_gpu, 500);
  t.equal(script('#SBATCH --mem-per-gpu=1T').memory_per_gpu, 1048576);
});

t.test('--mem-per-gpu must be a size of at least 1M', async (t) => {
  t.throws(() => cli('--mem-per-gpu=0'), invalid('--mem-per-gpu', /^Invalid --mem-per-gpu specification '0': the size must be at least 1M$/));
  t.throws(() => cli('--mem-per-gpu=lots'), invalid('--mem-per-gpu', /use a whole number with an optional K, M, G or T suffix/));
});

t.test('--mem, --mem-per-cpu and --mem-per-gpu: one per source, the command line replaces the script', async (t) => {
  const err = /^--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive\.$/;
  t.throws(() => cli('--mem=1G', '--mem-per-gpu=1G'), invalid('--mem', err));
  t.throws(() => cli('--mem-per-cpu=1G', '--mem-per-gpu=1G'), invalid('--mem-per-cpu', err));
  t.throws(() => script('#SBATCH --mem-per-gpu=1G --mem=2G'), invalid('--mem', err));
  t.same(mergeDescriptions(script('#SBATCH --mem=2G'), cli('--mem-per-gpu=1G')), { memory_per_gpu: 1024 });
  t.same(mergeDescriptions(script('#SBATCH --mem-per-gpu=1G'), cli('--mem-per-cpu=100')), { memory_per_cpu: 100 });
});

// ---------------------------------------------------------------- --requeue / --no-requeue

t.test('--requeue and --no-requeue set requeue; the last one wins', async (t) => {
  t.equal(cli('--requeue').requeue, true);
  t.equal(cli('--no-requeue').requeue, false);
  t.equal(cli('--requeue', '--no-requeue').requeue, false);
  t.equal(cli('--no-requeue', '--requeue').requeue, true);
  t.equal(script('#SBATCH --no-requeue').requeue, false);
  t.equal(mergeDescriptions(script('#SBATCH --requeue'), cli('--no-requeue')).requeue, false);
});

t.test('--requeue takes no value (SLURM\'s =expedite is not supported)', async (t) => {
  t.throws(() => cli('--requeue=expedite'), invalid('--requeue', /option '--requeue' doesn't allow an argument/));
});

// ---------------------------------------------------------------- --signal

t.test('--signal=SIG defaults to 60 seconds, all processes', async (t) => {
  t.same(cli('--signal=USR1').signal, { name: 'USR1', seconds: 60, batch_only: false });
  t.same(cli('--signal', 'TERM@120').signal, { name: 'TERM', seconds: 120, batch_only: false });
  t.same(cli('--signal=USR2@0').signal, { name: 'USR2', seconds: 0, batch_only: false });
  t.same(cli('--signal=KILL@65535').signal, { name: 'KILL', seconds: 65535, batch_only: false });
});

t.test('--signal names: SIG prefix and any case; numbers become names when SLURM has one', async (t) => {
  t.equal(cli('--signal=SIGUSR1').signal?.name, 'USR1');
  t.equal(cli('--signal=sigterm').signal?.name, 'TERM');
  t.equal(cli('--signal=10').signal?.name, 'USR1');
  t.equal(cli('--signal=1').signal?.name, 'HUP');
  t.equal(cli('--signal=40').signal?.name, '40');
  t.equal(cli('--signal=64').signal?.name, '64');
});

t.test('--signal B: is the batch shell only; R: adds the reservation flag; both in either order', async (t) => {
  t.same(cli('--signal=B:USR1@90').signal, { name: 'USR1', seconds: 90, batch_only: true });
  t.same(cli('--signal=R:TERM').signal, { name: 'TERM', seconds: 60, batch_only: false, reservation: true });
  t.same(cli('--signal=RB:10@300').signal, { name: 'USR1', seconds: 300, batch_only: true, reservation: true });
  t.same(cli('--signal=br:sigusr2').signal, { name: 'USR2', seconds: 60, batch_only: true, reservation: true });
});

t.test('--signal in a directive', async (t) => {
  t.same(script('#SBATCH --signal=B:USR1@120').signal, { name: 'USR1', seconds: 120, batch_only: true });
});

t.test('--signal refuses bad signals and times, naming the value', async (t) => {
  const format = /^Invalid --signal specification '.*': use \[\{R\|B\}:\]SIGNAL\[@SECONDS\], e\.g\. USR1, B:TERM@120 or 10@300$/;
  const notSignal = /^Invalid --signal specification '.*': '.*' is not a signal \(use a number from 1 to 64 or one of HUP, INT, .*XCPU\)$/;
  const badTime = /^Invalid --signal specification '.*': the time '@.*' must be a whole number of seconds from 0 to 65535$/;
  for (const v of ['', '@60', 'B:', 'B:@60']) t.throws(() => cli(`--signal=${v}`), invalid('--signal', format), v);
  for (const v of ['0', '65', 'FOO', 'X:USR1', 'SIG', 'USR1 ', '+10', 'BUSR1']) t.throws(() => cli(`--signal=${v}`), invalid('--signal', notSignal), v);
  for (const v of ['USR1@', 'USR1@x', 'USR1@65536', 'USR1@-1', 'USR1@1@2', 'USR1@1.5']) t.throws(() => cli(`--signal=${v}`), invalid('--signal', badTime), v);
});

// ---------------------------------------------------------------- --open-mode

t.test('--open-mode=append|truncate, any case or a beginning of the word', async (t) => {
  t.equal(cli('--open-mode=append').open_mode, 'append');
  t.equal(cli('--open-mode', 'truncate').open_mode, 'truncate');
  t.equal(cli('--open-mode=APPEND').open_mode, 'append');
  t.equal(cli('--open-mode=a').open_mode, 'append');
  t.equal(cli('--open-mode=Trunc').open_mode, 'truncate');
  t.equal(script('#SBATCH --open-mode=append').open_mode, 'append');
});

t.test('--open-mode refuses anything else', async (t) => {
  for (const v of ['', 'x', 'appendix', 'overwrite']) {
    t.throws(() => cli(`--open-mode=${v}`), invalid('--open-mode', new RegExp(`^Invalid --open-mode specification '${v}': use append or truncate$`)), v);
  }
});

// ---------------------------------------------------------------- flags

t.test('--test-only, -h/--help, --usage and -V/--version set flags, not the description', async (t) => {
  t.equal(parseSbatchArgs(['--test-only', 'job.sh']).flags.testOnly, true);
  for (const [argv, name] of [[['-h'], 'help'], [['--help'], 'help'], [['--usage'], 'usage'], [['-V'], 'version'], [['--version'], 'version']] as const) {
    const r = parseSbatchArgs([...argv]);
    t.equal(r.flags[name], true, argv.join(' '));
    t.same(r.description, {});
  }
});

t.test('--help with --wrap and a script still parses (help wins, as in sbatch)', async (t) => {
  t.equal(parseSbatchArgs(['--wrap=x', '--help', 'job.sh']).flags.help, true);
});

t.test('command-line-only sbatch options are refused in directives', async (t) => {
  for (const o of ['--test-only', '--help', '--usage', '--version', '-h', '-V']) {
    const long = { '-h': '--help', '-V': '--version' }[o] ?? o;
    t.throws(() => script(`#SBATCH ${o}`), invalid(long, new RegExp(`^script line 2: ${long} is an sbatch command-line option and cannot be used in a script directive$`)), o);
  }
});

// ---------------------------------------------------------------- unknown options

t.test('misspelt new options get a suggestion; SLURM options GRM lacks say so', async (t) => {
  t.throws(() => cli('--gpus-per-nod=1'), unknown('--gpus-per-nod', /did you mean '--gpus-per-node'\?/));
  t.throws(() => cli('--wrapp=x'), unknown('--wrapp', /did you mean '--wrap'\?/));
  t.throws(() => cli('--singal=USR1'), unknown('--singal', /did you mean '--signal'\?/));
  t.throws(() => cli('--gpus-per-socket=1'), unknown('--gpus-per-socket', /a SLURM sbatch option that GRM does not support/));
  t.throws(() => cli('--tres-per-task=gres/gpu:1'), unknown('--tres-per-task', /a SLURM sbatch option that GRM does not support/));
});

// ---------------------------------------------------------------- the REST schema

t.test('every new field passes JobDescriptionSchema', async (t) => {
  const d = {
    ...cli('-H', '--requeue', '--signal=RB:USR1@90', '--open-mode=truncate', '--gpus-per-node=a100:2', '--gpus-per-task=1', '--cpus-per-gpu=8', '--mem-per-gpu=16G', '--array=0-99:3%5'),
    script: '#!/bin/sh\n',
  };
  t.ok(Value.Check(JobDescriptionSchema, d), JSON.stringify([...Value.Errors(JobDescriptionSchema, d)].map((e) => e.path)));
  t.ok(Value.Check(JobDescriptionSchema, { ...cli('--signal=40', '--no-requeue'), script: '#!/bin/sh\n' }));
  t.ok(Value.Check(JobDescriptionSchema, cli('--wrap=hostname')));
});

t.test('JobDescriptionSchema bounds the new fields', async (t) => {
  const base = { script: '#!/bin/sh\n' };
  const signal = { name: 'USR1', seconds: 60, batch_only: false };
  for (const bad of [
    { signal: { ...signal, seconds: 65536 } },
    { signal: { ...signal, name: 'usr1' } },
    { signal: { ...signal, extra: 1 } },
    { signal: { name: 'USR1', seconds: 60 } },
    { open_mode: 'overwrite' },
    { memory_per_gpu: 0 },
    { cpus_per_gpu: 0 },
    { tres_per_task: 'nvme:1' },
    { hold: 'yes' },
  ]) {
    t.notOk(Value.Check(JobDescriptionSchema, { ...base, ...bad }), JSON.stringify(bad));
  }
});
