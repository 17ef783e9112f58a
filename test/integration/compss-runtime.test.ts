import path from 'node:path';
import t from 'tap';
import { PROJECT_ROOT } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { xmllintReady } from '../helpers/xmllint.js';

// The runcompss TEST DOUBLE (test/fixtures/runcompss-double), set through the same config key
// a real installation uses for COMPSs' own runcompss.
const RUNCOMPSS = path.join(PROJECT_ROOT, 'test/fixtures/runcompss-double/runcompss.mjs');
const APP = '#!/usr/bin/env python3\n#GRM --runtime=compss\n#GRM --lang=python\nimport sys\nprint("app args", sys.argv[1:])\nsys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)\n';

t.test('a compss job runs runcompss with its own XML, one task per node, and its COMPSs logs as sources', async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  const app = d.writeScript('train.py', APP);
  const sub = await d.cli('sbatch', '-N', '3', '--compss-flags=--graph', app, '0');
  t.equal(sub.code, 0, sub.stderr);
  const job = await d.waitForState(1, ['COMPLETED', 'FAILED'], 60_000);
  t.equal(job.job_state, 'COMPLETED', (await d.cli('logs', '--source', 'stderr', '1')).stdout);
  const jobDir = path.join(d.dataDir, 'jobs', '1');
  t.equal(job.command_line[0], RUNCOMPSS);
  t.ok(job.command_line.includes(`--project=${path.join(jobDir, 'project.xml')}`));
  t.ok(job.command_line.includes(`--resources=${path.join(jobDir, 'resources.xml')}`));
  t.ok(job.command_line.includes(`--specific_log_dir=${path.join(jobDir, 'compss')}`));
  t.ok(job.command_line.includes('--graph'));
  const show = await d.cli('show', 'job', '1');
  t.match(show.stdout, new RegExp(`Command=${RUNCOMPSS.replace(/[/.]/g, '\\$&')} --project=${path.join(jobDir, 'project.xml').replace(/[/.]/g, '\\$&')}`));

  const stdout = (await d.cli('logs', '--source', 'stdout', '1')).stdout;
  t.match(stdout, /task 1 ran on node01\ntask 2 ran on node02\ntask 3 ran on node03\n/);
  t.match(stdout, /app args \['0'\]/);
  const { body } = await d.api('GET', '/api/v1/jobs/1/logs?limit=1000');
  const sources = body.sources.map((s: { source: string }) => s.source);
  for (const source of ['compss:runtime.log', 'compss:resources.log', 'compss:jobs/job1_NEW.out', 'compss:jobs/job3_NEW.out', 'compss:workers/node02/worker.log']) {
    t.ok(sources.includes(source), `source ${source} in ${sources.join(', ')}`);
  }
  const task3 = (await d.cli('logs', '--source', 'compss:jobs/job3_NEW.out', '1')).stdout;
  t.equal(task3, 'task 3 ran on node03\n');
  t.match((await d.cli('logs', '--source', 'compss:runtime.log', '1')).stdout, /project\.xml validated against project_schema\.xsd/);
});

t.test("a compss job ends FAILED with the application's exit code", async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  const app = d.writeScript('fail.py', APP);
  await d.cli('sbatch', app, '3');
  const job = await d.waitForState(1, ['COMPLETED', 'FAILED'], 60_000);
  t.equal(job.job_state, 'FAILED');
  t.equal(job.exit_code, 3);
});

t.test('two compss jobs on the same node at once get disjoint ports and separate working dirs', async (t) => {
  if (!xmllintReady(t)) return;
  const d = await startDaemon(t, { ...SMALL_CLUSTER, compss: { runcompss: RUNCOMPSS } });
  const app = d.writeScript('sleep.py', '#!/usr/bin/env python3\n#GRM --runtime=compss\nimport time\ntime.sleep(2)\n');
  await d.cli('sbatch', '-n', '1', app);
  await d.cli('sbatch', '-n', '1', app);
  const a = await d.waitForState(1, ['RUNNING']);
  const b = await d.waitForState(2, ['RUNNING']);
  t.equal(a.nodes, 'node01');
  t.equal(b.nodes, 'node01', 'both jobs share node01');
  const ports = async (id: number) => {
    const xml = (await d.api('GET', `/api/v1/jobs/${id}/files/resources.xml`)).body as string;
    return [Number(xml.match(/<MinPort>(\d+)</)![1]), Number(xml.match(/<MaxPort>(\d+)</)![1])] as const;
  };
  const [aMin, aMax] = await ports(1);
  const [bMin, bMax] = await ports(2);
  t.ok(aMax < bMin || bMax < aMin, `port ranges ${aMin}-${aMax} and ${bMin}-${bMax} are disjoint`);
  const workDir = async (id: number) => ((await d.api('GET', `/api/v1/jobs/${id}/files/project.xml`)).body as string).match(/<WorkingDir>([^<]+)</)![1];
  t.equal(await workDir(1), '/tmp/COMPSsWorker/1/');
  t.equal(await workDir(2), '/tmp/COMPSsWorker/2/');
  await d.waitForState(1, ['COMPLETED'], 60_000);
  await d.waitForState(2, ['COMPLETED'], 60_000);
});
