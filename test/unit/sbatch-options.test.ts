import t from 'tap';
import { GrmError } from '../../src/errors.js';
import {
  expandOutputPattern,
  mergeDescriptions,
  parseSbatchArgs,
  parseScriptDirectives,
  recordedOnlyWarnings,
  resolveExport,
} from '../../src/sbatch/sbatch-options.js';

/** The description parsed from a command line. */
const cli = (...argv: string[]) => parseSbatchArgs(argv).description;
/** The description parsed from a script's directives. */
const script = (...lines: string[]) => parseScriptDirectives(['#!/bin/bash', ...lines].join('\n')).description;

type Wanted = { constructor: typeof GrmError; code: string; message: RegExp; field?: string };
const invalid = (field: string, message: RegExp): Wanted => ({ constructor: GrmError, code: 'E_OPTION_INVALID', field, message });
const unknown = (field: string, message: RegExp): Wanted => ({ constructor: GrmError, code: 'E_OPTION_UNKNOWN', field, message });
const badScript = (message: RegExp): Wanted => ({ constructor: GrmError, code: 'E_SCRIPT_INVALID', message });

/** A fixed local time: Saturday 15 June 2030, 12:30:00. */
const NOW = new Date(2030, 5, 15, 12, 30, 0);
const begin = (value: string) => parseSbatchArgs([`--begin=${value}`], { now: NOW }).description.begin_time;
const local = (...p: [number, number, number, number?, number?, number?]) =>
  new Date(p[0], p[1], p[2], p[3] ?? 0, p[4] ?? 0, p[5] ?? 0).toISOString();

// ---------------------------------------------------------------- option spellings

t.test('-J/--job-name in all four spellings sets name', async (t) => {
  for (const argv of [['-J', 'train'], ['-Jtrain'], ['--job-name=train'], ['--job-name', 'train']]) {
    t.equal(cli(...argv).name, 'train', argv.join(' '));
  }
});

t.test('-N/--nodes in all four spellings sets minimum and maximum nodes', async (t) => {
  for (const argv of [['-N', '2'], ['-N2'], ['--nodes=2'], ['--nodes', '2']]) {
    const d = cli(...argv);
    t.same([d.minimum_nodes, d.maximum_nodes], [2, 2], argv.join(' '));
  }
});

t.test('--nodes MIN-MAX sets a node range', async (t) => {
  const d = cli('--nodes', '2-4');
  t.same([d.minimum_nodes, d.maximum_nodes], [2, 4]);
  const e = cli('-N1-3');
  t.same([e.minimum_nodes, e.maximum_nodes], [1, 3]);
});

t.test('-n/--ntasks sets tasks', async (t) => {
  t.equal(cli('-n', '4').tasks, 4);
  t.equal(cli('-n8').tasks, 8);
  t.equal(cli('--ntasks=16').tasks, 16);
  t.equal(cli('--ntasks', '32').tasks, 32);
});

t.test('--ntasks-per-node sets tasks_per_node', async (t) => {
  t.equal(cli('--ntasks-per-node=2').tasks_per_node, 2);
  t.equal(cli('--ntasks-per-node', '3').tasks_per_node, 3);
});

t.test('-c/--cpus-per-task sets cpus_per_task', async (t) => {
  t.equal(cli('-c', '8').cpus_per_task, 8);
  t.equal(cli('-c4').cpus_per_task, 4);
  t.equal(cli('--cpus-per-task=2').cpus_per_task, 2);
  t.equal(cli('--cpus-per-task', '6').cpus_per_task, 6);
});

t.test('--mem without a suffix is in MiB', async (t) => {
  t.equal(cli('--mem=512').memory_per_node, 512);
  t.equal(cli('--mem', '100').memory_per_node, 100);
});

t.test('--mem accepts K, M, G and T suffixes in either case, optionally followed by B', async (t) => {
  t.equal(cli('--mem=2048K').memory_per_node, 2);
  t.equal(cli('--mem=300M').memory_per_node, 300);
  t.equal(cli('--mem=4G').memory_per_node, 4096);
  t.equal(cli('--mem=4g').memory_per_node, 4096);
  t.equal(cli('--mem=4GB').memory_per_node, 4096);
  t.equal(cli('--mem=1T').memory_per_node, 1048576);
});

t.test('--mem in K rounds up to a whole MiB, as sbatch does', async (t) => {
  t.equal(cli('--mem=1K').memory_per_node, 1);
  t.equal(cli('--mem=1025K').memory_per_node, 2);
});

t.test('--mem=0 is kept as 0 (all the memory of each node)', async (t) => {
  t.equal(cli('--mem=0').memory_per_node, 0);
});

t.test('--mem-per-cpu sets memory_per_cpu in MiB', async (t) => {
  t.equal(cli('--mem-per-cpu=2G').memory_per_cpu, 2048);
  t.equal(cli('--mem-per-cpu', '750').memory_per_cpu, 750);
});

t.test('--gres=gpu means one GPU per node', async (t) => {
  t.equal(cli('--gres=gpu').tres_per_node, 'gres/gpu:1');
});

t.test('--gres=gpu:N and gpu:TYPE:N become tres_per_node', async (t) => {
  t.equal(cli('--gres=gpu:2').tres_per_node, 'gres/gpu:2');
  t.equal(cli('--gres', 'gpu:a100:2').tres_per_node, 'gres/gpu:a100:2');
  t.equal(cli('--gres=gpu:a100').tres_per_node, 'gres/gpu:a100:1');
  t.equal(cli('--gres=gres/gpu:4').tres_per_node, 'gres/gpu:4');
});

t.test('-G/--gpus sets tres_per_job, with an optional type', async (t) => {
  t.equal(cli('-G', '4').tres_per_job, 'gres/gpu:4');
  t.equal(cli('-G2').tres_per_job, 'gres/gpu:2');
  t.equal(cli('--gpus=8').tres_per_job, 'gres/gpu:8');
  t.equal(cli('--gpus', 'a100:2').tres_per_job, 'gres/gpu:a100:2');
});

t.test('-t/--time in all four spellings', async (t) => {
  for (const argv of [['-t', '30'], ['-t30'], ['--time=30'], ['--time', '30']]) {
    t.equal(cli(...argv).time_limit, 30, argv.join(' '));
  }
});

t.test('time format M is minutes', async (t) => {
  t.equal(cli('-t', '90').time_limit, 90);
});

t.test('time format M:S is minutes and seconds, rounded up', async (t) => {
  t.equal(cli('-t', '10:00').time_limit, 10);
  t.equal(cli('-t', '10:01').time_limit, 11);
  t.equal(cli('-t', '0:30').time_limit, 1);
});

t.test('time format H:M:S is hours, minutes and seconds, rounded up', async (t) => {
  t.equal(cli('-t', '2:30:00').time_limit, 150);
  t.equal(cli('-t', '1:00:30').time_limit, 61);
});

t.test('time format D-H is days and hours', async (t) => {
  t.equal(cli('-t', '1-2').time_limit, 1560);
});

t.test('time format D-H:M is days, hours and minutes', async (t) => {
  t.equal(cli('-t', '1-02:30').time_limit, 1590);
});

t.test('time format D-H:M:S is days, hours, minutes and seconds, rounded up', async (t) => {
  t.equal(cli('-t', '2-00:00:00').time_limit, 2880);
  t.equal(cli('-t', '0-00:00:01').time_limit, 1);
});

t.test('time UNLIMITED, INFINITE and -1 (any case) are UNLIMITED', async (t) => {
  for (const v of ['UNLIMITED', 'unlimited', 'INFINITE', 'Infinite', '-1']) t.equal(cli(`--time=${v}`).time_limit, 'UNLIMITED', v);
});

t.test('time 0 means UNLIMITED, as in sbatch', async (t) => {
  t.equal(cli('-t', '0').time_limit, 'UNLIMITED');
});

t.test('-p/--partition sets partition', async (t) => {
  t.equal(cli('-p', 'gpu').partition, 'gpu');
  t.equal(cli('-pgpu').partition, 'gpu');
  t.equal(cli('--partition=batch').partition, 'batch');
  t.equal(cli('--partition', 'batch').partition, 'batch');
});

t.test('-A/--account sets account', async (t) => {
  t.equal(cli('-A', 'proj1').account, 'proj1');
  t.equal(cli('--account=proj2').account, 'proj2');
});

t.test('-q/--qos sets qos', async (t) => {
  t.equal(cli('-q', 'high').qos, 'high');
  t.equal(cli('--qos=low').qos, 'low');
});

t.test('-o/--output keeps the pattern as written', async (t) => {
  t.equal(cli('-o', 'out-%j.log').standard_output, 'out-%j.log');
  t.equal(cli('--output=logs/%x_%A_%a.out').standard_output, 'logs/%x_%A_%a.out');
});

t.test('-e/--error keeps the pattern as written', async (t) => {
  t.equal(cli('-e', 'err-%j.log').standard_error, 'err-%j.log');
  t.equal(cli('--error', '%5j.err').standard_error, '%5j.err');
});

t.test('-D/--chdir sets current_working_directory', async (t) => {
  t.equal(cli('-D', '/scratch/run').current_working_directory, '/scratch/run');
  t.equal(cli('--chdir=/tmp').current_working_directory, '/tmp');
});

t.test('--export keeps ALL, NONE and lists as written', async (t) => {
  t.equal(cli('--export=ALL').export, 'ALL');
  t.equal(cli('--export=NONE').export, 'NONE');
  t.equal(cli('--export', 'PATH,OMP_NUM_THREADS=4').export, 'PATH,OMP_NUM_THREADS=4');
});

t.test('--exclusive sets exclusive', async (t) => {
  t.equal(cli('--exclusive').exclusive, true);
});

t.test('--exclusive=user is accepted as whole-node exclusive with a warning', async (t) => {
  const r = parseSbatchArgs(['--exclusive=user']);
  t.equal(r.description.exclusive, true);
  t.match(r.warnings, [/--exclusive=user is treated as --exclusive/]);
});

t.test('-a/--array keeps the spec as written', async (t) => {
  t.equal(cli('-a', '1-10').array, '1-10');
  t.equal(cli('-a1,3,5').array, '1,3,5');
  t.equal(cli('--array=0-15:4').array, '0-15:4');
  t.equal(cli('--array', '1-100%5').array, '1-100%5');
  t.equal(cli('--array=0,6,16-32:2%4').array, '0,6,16-32:2%4');
});

t.test('-d/--dependency keeps a valid spec as written', async (t) => {
  t.equal(cli('-d', 'afterok:12:13,afterany:14').dependency, 'afterok:12:13,afterany:14');
  t.equal(cli('--dependency=afterok:20?afternotok:21').dependency, 'afterok:20?afternotok:21');
  t.equal(cli('--dependency', 'singleton').dependency, 'singleton');
  t.equal(cli('-d', 'aftercorr:7').dependency, 'aftercorr:7');
});

t.test('--dependency accepts array tasks and after:ID+MINUTES', async (t) => {
  t.equal(cli('-d', 'afterok:12_3').dependency, 'afterok:12_3');
  t.equal(cli('-d', 'after:12+5:13').dependency, 'after:12+5:13');
});

t.test('--nice without a value is 100', async (t) => {
  t.equal(cli('--nice').nice, 100);
});

t.test('--nice=N sets nice, negative allowed', async (t) => {
  t.equal(cli('--nice=10').nice, 10);
  t.equal(cli('--nice=-5').nice, -5);
});

t.test('--nice takes its value only with = (the next word is the script)', async (t) => {
  const r = parseSbatchArgs(['--nice', 'job.sh']);
  t.equal(r.description.nice, 100);
  t.equal(r.scriptPath, 'job.sh');
});

t.test('--comment records any text, even empty', async (t) => {
  t.equal(cli('--comment', 'hello world').comment, 'hello world');
  t.equal(cli('--comment=').comment, '');
});

t.test('--mail-type and --mail-user are recorded', async (t) => {
  const d = cli('--mail-type=END,FAIL', '--mail-user', 'a@b.c');
  t.equal(d.mail_type, 'END,FAIL');
  t.equal(d.mail_user, 'a@b.c');
});

// ---------------------------------------------------------------- --begin

t.test('--begin=now is the given now', async (t) => {
  t.equal(begin('now'), NOW.toISOString());
});

t.test('--begin=now+N counts seconds by default', async (t) => {
  t.equal(begin('now+60'), local(2030, 5, 15, 12, 31));
});

t.test('--begin=now+Nunit accepts seconds, minutes, hours, days and weeks', async (t) => {
  t.equal(begin('now+30seconds'), local(2030, 5, 15, 12, 30, 30));
  t.equal(begin('now+10minutes'), local(2030, 5, 15, 12, 40));
  t.equal(begin('now+1hour'), local(2030, 5, 15, 13, 30));
  t.equal(begin('now+2days'), local(2030, 5, 17, 12, 30));
  t.equal(begin('now+1week'), local(2030, 5, 22, 12, 30));
});

t.test('--begin=HH:MM later today is today', async (t) => {
  t.equal(begin('16:00'), local(2030, 5, 15, 16, 0));
});

t.test('--begin=HH:MM already past is tomorrow', async (t) => {
  t.equal(begin('10:00'), local(2030, 5, 16, 10, 0));
});

t.test('--begin=HH:MM:SS and AM/PM', async (t) => {
  t.equal(begin('16:00:30'), local(2030, 5, 15, 16, 0, 30));
  t.equal(begin('4:00 pm'), local(2030, 5, 15, 16, 0));
  t.equal(begin('12:00am'), local(2030, 5, 16, 0, 0));
});

t.test('--begin=YYYY-MM-DD is midnight of that day', async (t) => {
  t.equal(begin('2030-07-01'), local(2030, 6, 1));
});

t.test('--begin=YYYY-MM-DDTHH:MM[:SS]', async (t) => {
  t.equal(begin('2030-07-01T08:09'), local(2030, 6, 1, 8, 9));
  t.equal(begin('2030-07-01T08:09:10'), local(2030, 6, 1, 8, 9, 10));
});

t.test('--begin named days and times: today, tomorrow, midnight, noon, teatime', async (t) => {
  t.equal(begin('today'), local(2030, 5, 15));
  t.equal(begin('tomorrow'), local(2030, 5, 16));
  t.equal(begin('midnight'), local(2030, 5, 16));
  t.equal(begin('teatime'), local(2030, 5, 15, 16));
  t.equal(begin('noon tomorrow'), local(2030, 5, 16, 12));
  t.equal(begin('tomorrow 16:00'), local(2030, 5, 16, 16));
});

t.test('--begin=MM/DD is this year when ahead, else next year', async (t) => {
  t.equal(begin('07/04'), local(2030, 6, 4));
  t.equal(begin('06/01'), local(2031, 5, 1));
  t.equal(begin('07/04/31'), local(2031, 6, 4));
});

t.test('--begin rejects unknown forms, units and impossible dates', async (t) => {
  t.throws(() => begin('later'), invalid('--begin', /Invalid --begin specification 'later': use now/));
  t.throws(() => begin('now+1h'), invalid('--begin', /unknown unit 'h'/));
  t.throws(() => begin('2030-02-30'), invalid('--begin', /no such date/));
  t.throws(() => begin('25:00'), invalid('--begin', /'25:00'/));
});

// ---------------------------------------------------------------- GRM flags

t.test('--dry-run, --json and --parsable set flags, not the description', async (t) => {
  const r = parseSbatchArgs(['--dry-run', '--json', '--parsable', 'job.sh']);
  t.same(r.flags, { dryRun: true, json: true, parsable: true, testOnly: false, help: false, usage: false, version: false });
  t.same(r.description, {});
});

t.test('flags default to false', async (t) => {
  t.same(parseSbatchArgs([]).flags, { dryRun: false, json: false, parsable: false, testOnly: false, help: false, usage: false, version: false });
});

t.test('--runtime=command|compss sets runtime', async (t) => {
  t.equal(cli('--runtime=compss').runtime, 'compss');
  t.equal(cli('--runtime', 'command').runtime, 'command');
});

t.test('--lang=python|java|c sets lang', async (t) => {
  t.equal(cli('--lang=python').lang, 'python');
  t.equal(cli('--lang', 'java').lang, 'java');
  t.equal(cli('--lang=c').lang, 'c');
});

t.test('--runtime and --lang reject other values', async (t) => {
  t.throws(() => cli('--runtime=docker'), invalid('--runtime', /Invalid --runtime 'docker': use command or compss/));
  t.throws(() => cli('--lang=rust'), invalid('--lang', /Invalid --lang 'rust': use python or java or c/));
});

// ---------------------------------------------------------------- argv structure

t.test('options stop at the first non-option, which is the script path', async (t) => {
  const r = parseSbatchArgs(['-N', '2', 'job.sh', '-N', '5', '--foo']);
  t.equal(r.scriptPath, 'job.sh');
  t.same(r.scriptArgs, ['-N', '5', '--foo']);
  t.equal(r.description.minimum_nodes, 2);
});

t.test('-- ends options; the next word is the script', async (t) => {
  const r = parseSbatchArgs(['-n', '2', '--', '--weird-name.sh', 'a']);
  t.equal(r.scriptPath, '--weird-name.sh');
  t.same(r.scriptArgs, ['a']);
});

t.test('without a script path, scriptPath is undefined (stdin)', async (t) => {
  const r = parseSbatchArgs(['-N', '1']);
  t.equal(r.scriptPath, undefined);
  t.same(r.scriptArgs, []);
});

t.test('a lone - is the script path', async (t) => {
  t.equal(parseSbatchArgs(['-']).scriptPath, '-');
});

t.test('a required value is taken from the next word even if it starts with -', async (t) => {
  t.equal(cli('-J', '-odd-').name, '-odd-');
});

t.test('an option given twice keeps the last value', async (t) => {
  t.equal(cli('-N', '2', '--nodes=3').minimum_nodes, 3);
  t.equal(cli('-t', '10', '-t', '20').time_limit, 20);
});

// ---------------------------------------------------------------- errors

t.test('an unknown long option is E_OPTION_UNKNOWN naming it', async (t) => {
  t.throws(() => cli('--foo'), unknown('--foo', /^unrecognized option '--foo'$/));
});

t.test('an unknown long option close to a known one gets a hint', async (t) => {
  t.throws(() => cli('--nodse=2'), unknown('--nodse', /unrecognized option '--nodse' \(did you mean '--nodes'\?\)/));
  t.throws(() => cli('--parition', 'x'), unknown('--parition', /did you mean '--partition'/));
  t.throws(() => cli('--part=x'), unknown('--part', /did you mean '--partition'/));
});

t.test('an sbatch option GRM does not support says so', async (t) => {
  t.throws(() => cli('--constraint=intel'), unknown('--constraint', /'--constraint' \(a SLURM sbatch option that GRM does not support\)/));
});

t.test('an unknown short option is E_OPTION_UNKNOWN', async (t) => {
  t.throws(() => cli('-x', 'n1'), unknown('-x', /unrecognized option '-x'/));
});

t.test('a missing value is E_OPTION_INVALID', async (t) => {
  t.throws(() => cli('--nodes'), invalid('--nodes', /option '--nodes' requires an argument/));
  t.throws(() => cli('-N'), invalid('--nodes', /option '-N' \(--nodes\) requires an argument/));
});

t.test('a value given to a flag is E_OPTION_INVALID', async (t) => {
  t.throws(() => cli('--dry-run=yes'), invalid('--dry-run', /option '--dry-run' doesn't allow an argument/));
});

t.test('invalid node counts use SLURM wording', async (t) => {
  t.throws(() => cli('-N', 'x'), invalid('--nodes', /"x" is not a valid node count/));
  t.throws(() => cli('-N', '0'), invalid('--nodes', /"0" is not a valid node count/));
  t.throws(() => cli('--nodes=4-2'), invalid('--nodes', /invalid number of nodes \(-N 4-2\)/));
});

t.test('task and cpu counts must be positive integers', async (t) => {
  t.throws(() => cli('-n', '0'), invalid('--ntasks', /Invalid numeric value "0" for --ntasks: must be a positive integer/));
  t.throws(() => cli('-c', 'two'), invalid('--cpus-per-task', /Invalid numeric value "two" for --cpus-per-task/));
  t.throws(() => cli('--ntasks-per-node=-1'), invalid('--ntasks-per-node', /"-1"/));
  t.throws(() => cli('-n', '1.5'), invalid('--ntasks', /"1.5"/));
});

t.test('a bad time limit says "Invalid time limit specification" and lists the formats', async (t) => {
  for (const v of ['abc', '1:2:3:4', '1-2-3', '10m', '', '1:']) {
    t.throws(() => cli(`--time=${v}`), invalid('--time', /Invalid time limit specification '.*' for --time: use minutes, minutes:seconds, hours:minutes:seconds, days-hours/), v);
  }
});

t.test('a bad memory size names the option and the rule', async (t) => {
  t.throws(() => cli('--mem=4X'), invalid('--mem', /Invalid --mem specification '4X': use a whole number with an optional K, M, G or T suffix \(default M\)/));
  t.throws(() => cli('--mem-per-cpu=1.5G'), invalid('--mem-per-cpu', /Invalid --mem-per-cpu specification '1.5G'/));
  t.throws(() => cli('--mem=-1'), invalid('--mem', /'-1'/));
});

t.test('--mem and --mem-per-cpu together are mutually exclusive', async (t) => {
  t.throws(() => cli('--mem=1G', '--mem-per-cpu=1G'), invalid('--mem', /^--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive\.$/));
});

t.test('--gres other than gpu, or a bad gpu count, is invalid', async (t) => {
  t.throws(() => cli('--gres=nvme:1'), invalid('--gres', /GRM supports only the gpu GRES/));
  t.throws(() => cli('--gres=gpu:0'), invalid('--gres', /at least 1/));
  t.throws(() => cli('--gres=gpu:a100:x'), invalid('--gres', /use gpu, gpu:COUNT/));
});

t.test('--gpus needs a positive count', async (t) => {
  t.throws(() => cli('--gpus=0'), invalid('--gpus', /Invalid --gpus specification '0'/));
  t.throws(() => cli('-G', 'a100'), invalid('--gpus', /use COUNT or TYPE:COUNT/));
});

t.test('--export rejects invalid variable names and NONE with variables', async (t) => {
  t.throws(() => cli('--export=1BAD'), invalid('--export', /'1BAD' is not a valid environment variable name/));
  t.throws(() => cli('--export=A-B=1'), invalid('--export', /'A-B'/));
  t.throws(() => cli('--export=NONE,FOO'), invalid('--export', /NONE cannot be combined/));
});

t.test('--exclusive with an unknown value is invalid', async (t) => {
  t.throws(() => cli('--exclusive=maybe'), invalid('--exclusive', /Invalid --exclusive specification 'maybe'/));
});

t.test('invalid job arrays are rejected with the reason', async (t) => {
  t.throws(() => cli('--array=5-2'), invalid('--array', /Invalid job array specification '5-2' for --array: range '5-2' goes backwards/));
  t.throws(() => cli('-a', 'x'), invalid('--array', /'x' is not N, N-M or N-M:STEP/));
  t.throws(() => cli('-a', '1-10%0'), invalid('--array', /limit '0' must be a positive integer/));
  t.throws(() => cli('-a', '1-10:0'), invalid('--array', /step in '1-10:0' must be at least 1/));
  t.throws(() => cli('-a', '%4'), invalid('--array', /no indexes given/));
  t.throws(() => cli('-a', '0-4000001'), invalid('--array', /at most 4000000/));
});

t.test('invalid dependencies are rejected with the reason', async (t) => {
  t.throws(() => cli('-d', 'afterok:1,afterany:2?afterok:3'), invalid('--dependency', /use either ',' .* or '\?' .*, not both/));
  t.throws(() => cli('-d', 'afterfoo:1'), invalid('--dependency', /unknown dependency type 'afterfoo' \(use after, afterany, afterok, afternotok, aftercorr, singleton\)/));
  t.throws(() => cli('-d', 'afterok'), invalid('--dependency', /names no job id/));
  t.throws(() => cli('-d', 'afterok:abc'), invalid('--dependency', /'abc' is not a job id/));
  t.throws(() => cli('-d', 'afterok:12+5'), invalid('--dependency', /'12\+5' is not a job id/));
  t.throws(() => cli('-d', 'singleton:4'), invalid('--dependency', /singleton takes no job ids/));
  t.throws(() => cli('-d', 'afterok:1,'), invalid('--dependency', /empty dependency/));
});

t.test('--nice rejects non-integers and values out of range', async (t) => {
  t.throws(() => cli('--nice=abc'), invalid('--nice', /Invalid --nice value 'abc': must be an integer/));
  t.throws(() => cli('--nice=2147483646'), invalid('--nice', /Invalid --nice value, out of range \(\+\/- 2147483645\)/));
});

t.test('--mail-type rejects unknown events', async (t) => {
  t.throws(() => cli('--mail-type=END,SOMETIMES'), invalid('--mail-type', /'SOMETIMES' is not one of NONE, BEGIN, END/));
});

t.test('text options reject an empty value', async (t) => {
  t.throws(() => cli('--job-name='), invalid('--job-name', /Invalid --job-name '': the value must not be empty/));
  t.throws(() => cli('-o', ''), invalid('--output', /must not be empty/));
});

// ---------------------------------------------------------------- warnings

t.test('--mail-type and --mail-user warn that GRM does not act on them', async (t) => {
  const r = parseSbatchArgs(['--mail-type=ALL', '--mail-user=me@x']);
  t.same(r.warnings, [
    'sbatch option --mail-type is recorded but GRM does not act on it',
    'sbatch option --mail-user is recorded but GRM does not act on it',
  ]);
});

t.test('--qos warns on the simulator backend only; --account never (GRM checks it against the user\'s accounts)', async (t) => {
  t.same(parseSbatchArgs(['-A', 'p', '-q', 'hi'], { backend: 'simulator' }).warnings, [
    'sbatch option --qos is recorded but GRM does not act on it',
  ]);
  t.same(parseSbatchArgs(['-A', 'p', '-q', 'hi'], { backend: 'slurm' }).warnings, []);
  t.same(parseSbatchArgs(['-A', 'p']).warnings, []);
});

t.test('--begin is acted on, so it gives no warning', async (t) => {
  t.same(parseSbatchArgs(['--begin=now+60'], { now: NOW, backend: 'simulator' }).warnings, []);
});

t.test('recordedOnlyWarnings works on any description (e.g. one received over REST)', async (t) => {
  t.same(recordedOnlyWarnings({ qos: 'x', mail_user: 'y' }, 'simulator'), [
    'sbatch option --qos is recorded but GRM does not act on it',
    'sbatch option --mail-user is recorded but GRM does not act on it',
  ]);
  t.same(recordedOnlyWarnings({ name: 'x' }, 'simulator'), []);
});

// ---------------------------------------------------------------- script directives

t.test('a script must start with #! (sbatch wording)', async (t) => {
  t.throws(
    () => parseScriptDirectives('echo hi\n'),
    badScript(/^This does not look like a batch script\. The first line must start with #! followed by the path to an interpreter\./),
  );
  t.throws(() => parseScriptDirectives('\n#!/bin/sh\n'), badScript(/does not look like a batch script/));
});

t.test('an empty or blank script is rejected', async (t) => {
  t.throws(() => parseScriptDirectives(''), badScript(/Batch script is empty/));
  t.throws(() => parseScriptDirectives('  \n\n'), badScript(/only whitespace/));
});

t.test('a script with DOS line breaks or NUL is rejected', async (t) => {
  t.throws(() => parseScriptDirectives('#!/bin/sh\r\n#SBATCH -N 1\r\n'), badScript(/DOS line breaks/));
  t.throws(() => parseScriptDirectives('#!/bin/sh\necho \0\n'), badScript(/NUL character/));
});

t.test('#SBATCH directives are read into the description', async (t) => {
  t.same(script('#SBATCH -N 2', '#SBATCH --time=1:00:00', '#SBATCH --job-name train'), {
    minimum_nodes: 2,
    maximum_nodes: 2,
    time_limit: 60,
    name: 'train',
  });
});

t.test('a script without directives gives an empty description', async (t) => {
  t.same(script('echo hi'), {});
});

t.test('one directive line may hold several options', async (t) => {
  t.same(script('#SBATCH -N 2 -n 8 --mem=1G'), { minimum_nodes: 2, maximum_nodes: 2, tasks: 8, memory_per_node: 1024 });
});

t.test('directive values may be quoted or escaped', async (t) => {
  t.equal(script('#SBATCH -J "my job"').name, 'my job');
  t.equal(script("#SBATCH --comment='a # b'").comment, 'a # b');
  t.equal(script('#SBATCH -J my\\ job').name, 'my job');
});

t.test('an unquoted # ends a directive line (a trailing comment)', async (t) => {
  t.same(script('#SBATCH -N 2 # two nodes -n 99'), { minimum_nodes: 2, maximum_nodes: 2 });
});

t.test('blank lines and comments do not end the directives', async (t) => {
  t.equal(script('', '# a comment', '   ', '#SBATCH -n 3').tasks, 3);
});

t.test('directives stop at the first command; later #SBATCH lines are comments', async (t) => {
  t.same(script('#SBATCH -n 2', 'module load x', '#SBATCH -n 9', '#SBATCH --bogus'), { tasks: 2 });
});

t.test('an indented #SBATCH is a comment, not a directive', async (t) => {
  t.same(script('  #SBATCH -n 9', '#SBATCH -n 1'), { tasks: 1 });
});

t.test('#GRM lines set GRM options next to #SBATCH ones', async (t) => {
  t.same(script('#SBATCH -N 1', '#GRM --runtime=compss --lang=python'), {
    minimum_nodes: 1,
    maximum_nodes: 1,
    runtime: 'compss',
    lang: 'python',
  });
});

t.test('#GRM lines also stop at the first command', async (t) => {
  t.same(script('true', '#GRM --runtime=compss'), {});
});

t.test('a GRM option in an #SBATCH line is refused with the fix', async (t) => {
  t.throws(() => script('#SBATCH --runtime=compss'), invalid('--runtime', /script line 2: --runtime is a GRM option: put it in a '#GRM --runtime=\.\.\.' line/));
});

t.test('an sbatch option in a #GRM line is refused', async (t) => {
  t.throws(() => script('#GRM --nodes=2'), invalid('--nodes', /#GRM lines take only GRM options \(--runtime, --lang, --compss-\*, --python-interpreter, --classpath, --appdir, --pythonpath, --library-path\); put --nodes in an #SBATCH line/));
});

t.test('command-line flags are refused in directives, except --parsable which warns', async (t) => {
  t.throws(() => script('#SBATCH --dry-run'), invalid('--dry-run', /cannot be used in a script directive/));
  t.throws(() => script('#SBATCH --json'), invalid('--json', /cannot be used in a script directive/));
  const r = parseScriptDirectives('#!/bin/sh\n#SBATCH --parsable\n');
  t.same(r.description, {});
  t.match(r.warnings, [/--parsable only affects the sbatch command line/]);
});

t.test('an unknown option in a directive names the line and the option', async (t) => {
  t.throws(() => script('#SBATCH -N 1', '#SBATCH --nodez=2'), unknown('--nodez', /^script line 3: unrecognized option '--nodez' \(did you mean '--nodes'\?\)/));
});

t.test('a bad value in a directive names the line', async (t) => {
  t.throws(() => script('#SBATCH --time=soon'), invalid('--time', /^script line 2: Invalid time limit specification 'soon'/));
});

t.test('a non-option word in a directive is an invalid directive', async (t) => {
  t.throws(() => script('#SBATCH hello'), badScript(/script line 2: Invalid directive found in batch script: hello/));
});

t.test('an unmatched quote in a directive is refused', async (t) => {
  t.throws(() => script('#SBATCH -J "oops'), badScript(/script line 2: unmatched " in/));
});

t.test('#SLURM is read as #SBATCH with a warning', async (t) => {
  const r = parseScriptDirectives('#!/bin/sh\n#SLURM -n 2\n');
  t.equal(r.description.tasks, 2);
  t.match(r.warnings, [/change #SLURM to #SBATCH/]);
});

t.test('directive warnings include recorded-only options', async (t) => {
  const r = parseScriptDirectives('#!/bin/sh\n#SBATCH --mail-type=END\n');
  t.same(r.warnings, ['sbatch option --mail-type is recorded but GRM does not act on it']);
});

t.test('--mem and --mem-per-cpu in the same script are mutually exclusive', async (t) => {
  t.throws(() => script('#SBATCH --mem=1G', '#SBATCH --mem-per-cpu=1G'), invalid('--mem', /mutually exclusive/));
});

t.test('--begin in a directive uses the given now', async (t) => {
  const r = parseScriptDirectives('#!/bin/sh\n#SBATCH --begin=now+1hour\n', { now: NOW });
  t.equal(r.description.begin_time, local(2030, 5, 15, 13, 30));
});

// ---------------------------------------------------------------- merging

t.test('merge: the command line wins over the script', async (t) => {
  const merged = mergeDescriptions(script('#SBATCH -N 2-4 -t 10 -J s'), cli('-N', '3', '-J', 'c'));
  t.same(merged, { minimum_nodes: 3, maximum_nodes: 3, time_limit: 10, name: 'c' });
});

t.test('merge: options only in the script are kept', async (t) => {
  t.same(mergeDescriptions(script('#SBATCH -p gpu'), cli('-n', '2')), { partition: 'gpu', tasks: 2 });
});

t.test('merge: undefined command-line fields do not erase script values', async (t) => {
  t.same(mergeDescriptions({ name: 's' }, { name: undefined }), { name: 's' });
});

t.test('merge: --mem on the command line replaces --mem-per-cpu from the script, and back', async (t) => {
  t.same(mergeDescriptions({ memory_per_cpu: 100 }, { memory_per_node: 2048 }), { memory_per_node: 2048 });
  t.same(mergeDescriptions({ memory_per_node: 2048 }, { memory_per_cpu: 100 }), { memory_per_cpu: 100 });
});

t.test('merge: the inputs are not modified', async (t) => {
  const s = { name: 's', tasks: 1 };
  const c = { name: 'c' };
  mergeDescriptions(s, c);
  t.same(s, { name: 's', tasks: 1 });
  t.same(c, { name: 'c' });
});

// ---------------------------------------------------------------- resolveExport

const ENV = { PATH: '/bin', HOME: '/home/a', EDITOR: 'vi', UNSET: undefined };

t.test('resolveExport: no spec means ALL (the whole environment, without unset values)', async (t) => {
  t.same(resolveExport(undefined, ENV), { PATH: '/bin', HOME: '/home/a', EDITOR: 'vi' });
  t.same(resolveExport('ALL', ENV), { PATH: '/bin', HOME: '/home/a', EDITOR: 'vi' });
});

t.test('resolveExport: NONE and NIL export nothing', async (t) => {
  t.same(resolveExport('NONE', ENV), {});
  t.same(resolveExport('NIL', ENV), {});
});

t.test('resolveExport: a list takes named variables and NAME=value pairs', async (t) => {
  t.same(resolveExport('PATH,ARG1=test', ENV), { PATH: '/bin', ARG1: 'test' });
});

t.test('resolveExport: named variables missing from the environment are skipped', async (t) => {
  t.same(resolveExport('NOPE,UNSET,HOME', ENV), { HOME: '/home/a' });
});

t.test('resolveExport: NAME=value overrides the environment in a plain list', async (t) => {
  t.same(resolveExport('EDITOR=emacs', ENV), { EDITOR: 'emacs' });
});

t.test("resolveExport: ALL,NAME=value keeps the caller's NAME when set (sbatch's documented precedence)", async (t) => {
  t.same(resolveExport('ALL,EDITOR=emacs,NEW=1', ENV), { PATH: '/bin', HOME: '/home/a', EDITOR: 'vi', NEW: '1' });
});

t.test('resolveExport: quoted values may contain commas', async (t) => {
  t.same(resolveExport('LIST="a,b",X=1', ENV), { LIST: 'a,b', X: '1' });
});

t.test('resolveExport: an invalid spec throws E_OPTION_INVALID', async (t) => {
  t.throws(() => resolveExport('9X', ENV), invalid('--export', /'9X' is not a valid environment variable name/));
});

// ---------------------------------------------------------------- output patterns

const JOB = { jobId: 42, jobName: 'train', user: 'alice', nodeName: 'node01' };

t.test('expandOutputPattern: %j %x %u %N', async (t) => {
  t.equal(expandOutputPattern('%x-%j-%u-%N.out', JOB), 'train-42-alice-node01.out');
});

t.test('expandOutputPattern: %% is a literal percent', async (t) => {
  t.equal(expandOutputPattern('100%%-%j', JOB), '100%-42');
});

t.test('expandOutputPattern: %A and %a in a job array', async (t) => {
  t.equal(expandOutputPattern('slurm-%A_%a.out', { ...JOB, arrayJobId: 40, arrayTaskId: 7 }), 'slurm-40_7.out');
});

t.test('expandOutputPattern: outside an array %A is the job id and %a is SLURM\'s NO_VAL', async (t) => {
  t.equal(expandOutputPattern('%A_%a', JOB), '42_4294967294');
});

t.test('expandOutputPattern: %5j zero-pads numbers, capped at 10 wide', async (t) => {
  t.equal(expandOutputPattern('job%5j.out', JOB), 'job00042.out');
  t.equal(expandOutputPattern('%3a', { ...JOB, arrayJobId: 40, arrayTaskId: 7 }), '007');
  t.equal(expandOutputPattern('%12j', JOB), '0000000042');
});

t.test('expandOutputPattern: a width on a text field is ignored', async (t) => {
  t.equal(expandOutputPattern('%5x', JOB), 'train');
});

t.test('expandOutputPattern: unknown specifiers are kept as written', async (t) => {
  t.equal(expandOutputPattern('a%qb%3Z', JOB), 'a%qb%3Z');
});

t.test('expandOutputPattern: a backslash disables expansion and is removed', async (t) => {
  t.equal(expandOutputPattern('out\\%j', JOB), 'out%j');
});

t.test('expandOutputPattern: plain text passes through', async (t) => {
  t.equal(expandOutputPattern('/scratch/out.log', JOB), '/scratch/out.log');
});
