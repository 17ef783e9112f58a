/**
 * Job lists carry a summary per job, never its script, argv or environment (issue 14: one job
 * with a 7 MB argv made every GET /jobs 7 MB larger). The whole job is GET /jobs/:id's.
 */
import t from 'tap';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';

const SCRIPT = '#!/bin/bash\ntrue\n';
const MiB = 1024 * 1024;

t.test('a job with a 7 MB argv takes no more room in a list than one without', async (t) => {
  // limits raised so that the 7 MB job is accepted at all (the defaults refuse it)
  const d = await startDaemon(t, { ...SMALL_CLUSTER, limits: { bodyBytes: 16 * MiB, argvBytes: 8 * MiB } });
  const submit = async (argv: string[]) => {
    const res = await d.api('POST', '/api/v1/jobs', { script: SCRIPT, name: 'same', hold: true, argv, environment: { A: 'x'.repeat(1000) } });
    t.equal(res.status, 201, res.status === 201 ? 'submitted' : JSON.stringify(res.body));
    return res.body.job_id as number;
  };
  for (let i = 0; i < 20; i++) await submit(['small']);
  const bytes = async (route: string) => Buffer.byteLength(JSON.stringify((await d.api('GET', route)).body));
  const listBefore = await bytes('/api/v1/jobs?state=all');
  const otherPage = (await d.api('GET', '/api/v1/jobs?state=all&limit=5&cursor=5')).body.jobs;

  const bigArgv = Array.from({ length: 70 }, (_, i) => `${i}`.padEnd(100_000, 'x'));
  const big = await submit(bigArgv);
  const control = await submit(['small']);
  const list = (await d.api('GET', '/api/v1/jobs?state=all')).body;
  const listAfter = Buffer.byteLength(JSON.stringify(list));
  const entry = (id: number) => JSON.stringify(list.jobs.find((j: { job_id: number }) => j.job_id === id));
  t.comment(`GET /jobs: ${listBefore} bytes with 20 jobs; ${listAfter} bytes with the 7 MB-argv job and one more`);

  t.equal(entry(big).length, entry(control).length, 'the big job and a small one take the same room');
  t.ok(entry(big).length < 2048, `one job in a list is ${entry(big).length} bytes`);
  t.notOk('argv' in list.jobs[0] || 'request' in list.jobs[0] || 'script' in list.jobs[0] || 'environment' in list.jobs[0], 'no argv, request, script or environment in a list');
  t.ok(listAfter < listBefore + 2 * entry(control).length + 100, 'the list grew by two summaries, not by 7 MB');
  t.same((await d.api('GET', '/api/v1/jobs?state=all&limit=5&cursor=5')).body.jobs, otherPage, 'another page is the same as before');
  for (const route of ['/api/v1/jobs?state=all&ids=' + big, `/api/v1/jobs/${big}/report`]) {
    t.ok((await bytes(route)) < 16384, `${route} carries no argv`);
  }
  const whole = (await d.api('GET', `/api/v1/jobs/${big}`)).body;
  t.same(whole.argv, bigArgv, 'GET /jobs/:id carries the job whole');
  const cancelled = await d.api('DELETE', `/api/v1/jobs/${big}`);
  t.ok(Buffer.byteLength(JSON.stringify(cancelled.body)) < 4096, 'scancel answers with the summary');
});

t.test('a summary carries what squeue, sacct and the viewer show', async (t) => {
  const d = await startDaemon(t, SMALL_CLUSTER);
  const res = await d.api('POST', '/api/v1/jobs', {
    script: SCRIPT,
    hold: true,
    minimum_nodes: 2,
    tasks_per_node: 2,
    cpus_per_task: 2,
    account: 'proj',
    qos: 'normal',
    comment: 'a comment',
    nice: 5,
    current_working_directory: '/tmp',
    memory_per_node: 1024,
    tres_per_node: 'gres/gpu:0',
  });
  t.equal(res.status, 201, res.status === 201 ? 'submitted' : JSON.stringify(res.body));
  const [job] = (await d.api('GET', '/api/v1/jobs?state=all')).body.jobs;
  t.match(job, {
    account: 'proj',
    qos: 'normal',
    comment: 'a comment',
    nice: 5,
    current_working_directory: '/tmp',
    minimum_nodes: 2,
    tasks: 4,
    cpus_per_task: 2,
    cpus: 8,
    memory_per_node: 1024,
    memory_per_cpu: null,
    tres_per_node: 'gres/gpu:0',
    time_limit: null,
    partition: 'batch',
    state_reason: 'JobHeldUser',
  });
  const out = await d.cli('squeue', '-h', '-o', '%a|%q|%k|%y|%Z|%D|%C');
  t.equal(out.stdout, 'proj|normal|a comment|5|/tmp|2|8\n', 'squeue reads them from the list');
  const sacct = await d.cli('sacct', '-a', '-n', '-P', '-j', String(job.job_id), '-o', 'Account,QOS,Comment,WorkDir,ReqCPUS,ReqNodes');
  t.equal(sacct.stdout, 'proj|normal|a comment|/tmp|8|2\n', 'sacct too');
});
