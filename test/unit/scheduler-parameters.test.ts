/**
 * grm simulate --scheduler-parameters: slurm.conf's SchedulerParameters line, with slurmctld's
 * keys and bounds (sched/backfill's _load_config, job_scheduler.c), and a replay that uses it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../../src/cli/main.js';
import { parseSchedulerParameters } from '../../src/simulate/scheduler-parameters.js';
import { swfLine, type SwfJob } from '../../src/simulate/swf.js';

t.test('the modelled keys, in any case, from a bare list or a whole slurm.conf line', async (t) => {
  const p = parseSchedulerParameters('SchedulerParameters=bf_interval=1,BF_RESOLUTION=10,bf_max_job_test=50,default_queue_depth=20,bf_job_part_count_reserve=1');
  t.same(p.options, { bfInterval: 1, bfResolution: 10, bfMaxJobTest: 50, defaultQueueDepth: 20 });
  t.same(p.notes, [], 'a line the model fully covers: no note');
  t.same(parseSchedulerParameters(' bf_interval=30 , bf_job_part_count_reserve=1 ').options, { bfInterval: 30 }, 'spaces around items');
  t.same(parseSchedulerParameters('SchedulerParameters     = (null)').options, {}, "scontrol show config's line of a cluster that sets none");
});

t.test('keys without effect or not modelled are named, never dropped silently', async (t) => {
  const p = parseSchedulerParameters('bf_continue,bf_window=2880,bf_job_part_count_reserve=1,max_rpc_cnt=150');
  t.same(p.options, {});
  t.equal(p.notes.length, 3);
  t.match(p.notes[0], /^bf_continue changes nothing here: a replayed backfill pass is never interrupted/);
  t.equal(p.notes[1], 'bf_window=2880 is not modelled: ignored');
  t.equal(p.notes[2], 'max_rpc_cnt=150 is not modelled: ignored');
  t.match(parseSchedulerParameters('bf_interval=5').notes, [/bf_job_part_count_reserve is not given: SLURM's default \(0\) reserves for every job backfill tests; the slurm policy models 1 \(EASY\)/]);
});

t.test("values out of slurmctld's bounds: SLURM's words, and what to give", async (t) => {
  const bad = (text: string) => {
    try {
      parseSchedulerParameters(text);
      return 'accepted';
    } catch (e) {
      return `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
  };
  t.equal(bad('bf_interval=0'), 'E_REQUEST_INVALID: Invalid SchedulerParameters bf_interval: 0 (give a whole number of seconds from 1 to 10800)');
  t.equal(bad('bf_interval=10801'), 'E_REQUEST_INVALID: Invalid SchedulerParameters bf_interval: 10801 (give a whole number of seconds from 1 to 10800)');
  t.equal(bad('bf_resolution=3601'), 'E_REQUEST_INVALID: Invalid SchedulerParameters bf_resolution: 3601 (give a whole number of seconds from 1 to 3600)');
  t.equal(bad('bf_max_job_test=abc'), 'E_REQUEST_INVALID: Invalid SchedulerParameters bf_max_job_test: abc (give a whole number of jobs from 1 to 1000000)');
  t.equal(bad('default_queue_depth=-1'), 'E_REQUEST_INVALID: Invalid SchedulerParameters default_queue_depth: -1 (give a whole number of jobs from 1 to 9007199254740991)');
  t.equal(bad('bf_interval'), 'E_REQUEST_INVALID: Invalid SchedulerParameters bf_interval:  (give a whole number of seconds from 1 to 10800)', 'a numeric key without a value');
  t.match(bad('bf_job_part_count_reserve=0'), /^E_REQUEST_INVALID: Invalid SchedulerParameters bf_job_part_count_reserve: 0 \(the slurm policy models EASY backfill, bf_job_part_count_reserve=1/);
  t.equal(bad('bf_resolution=3600,bf_interval=10800,bf_max_job_test=1000000,default_queue_depth=1'), 'accepted', 'the bounds themselves');
});

t.test('grm simulate --scheduler-parameters: the replay uses the line; the options win over it; bad lines stop it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-sched-params-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // simulate.test.ts's bf_resolution case: J3 backfills only with a resolution finer than a minute
  const job = (id: number, submit: number, procs: number, runtime: number, limit: number): SwfJob => ({ id, submit, procs, runtime, limit, user: 1 });
  const lines = [job(1, 10, 1, 600, 600), job(2, 11, 4, 300, 300), job(3, 65, 1, 100, 540)].map(swfLine);
  fs.writeFileSync(path.join(dir, 't.swf'), ['; MaxNodes: 4', '; MaxProcs: 4', '; UnixStartTime: 0', ...lines].join('\n'));
  const run = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['simulate', '--trace', 't.swf', '--out', 'o.csv', ...args], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {}, cwd: dir });
    const j3 = code === 0 ? fs.readFileSync(path.join(dir, 'o.csv'), 'utf8').split('\n').find((l) => l.startsWith('3,'))!.split(',')[2] : undefined;
    return { code, stdout, stderr, j3 };
  };
  const fine = await run('--policy', 'slurm', '--scheduler-parameters', 'bf_interval=1,bf_resolution=1,bf_continue,bf_job_part_count_reserve=1');
  t.equal(fine.code, 0, fine.stderr);
  t.equal(fine.j3, '65', 'bf_resolution=1 from the line: J3 backfills');
  t.match(fine.stderr, /grm simulate: bf_continue changes nothing here/, 'the note is printed');
  const coarse = await run('--policy', 'slurm', '--scheduler-parameters', 'bf_interval=1,bf_resolution=60,bf_job_part_count_reserve=1');
  t.equal(coarse.j3, '910', 'bf_resolution=60 from the line: J3 waits');
  const flagWins = await run('--policy', 'slurm', '--scheduler-parameters', 'bf_interval=1,bf_resolution=1,bf_job_part_count_reserve=1', '--bf-resolution', '60');
  t.equal(flagWins.j3, '910', '--bf-resolution wins over the line');
  fs.rmSync(path.join(dir, 'o.csv'));
  const wrong = await run('--policy', 'slurm', '--scheduler-parameters', 'bf_interval=0');
  t.not(wrong.code, 0);
  t.match(wrong.stderr, /Invalid SchedulerParameters bf_interval: 0 \(give a whole number of seconds from 1 to 10800\)/);
  t.notMatch(wrong.stderr, /\n\s+at /, 'no stack trace');
  t.notOk(fs.existsSync(path.join(dir, 'o.csv')), 'stopped before replaying: no CSV');
  const easy = await run('--policy', 'easy', '--scheduler-parameters', 'bf_interval=1,bf_job_part_count_reserve=1');
  t.equal(easy.code, 0);
  t.match(easy.stderr, /--scheduler-parameters applies to --policy slurm only/);
});
