/**
 * Issue 18, item 1, in the viewer: a requeued job's runs are kept apart. The job page's log
 * has a Run filter once there is more than one run; each run shows only its own lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { requireSystem } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { startBrowser } from '../helpers/browser.js';
import { untilFileExists, waitForLogLine } from '../helpers/wait.js';

declare const window: any;

if (requireSystem(t, 'browser')) {
  t.test("a requeued job's log: one Run per run, each with only its own lines", { timeout: 180_000 }, async (t) => {
    const d = await startDaemon(t, SMALL_CLUSTER);
    const b = await startBrowser(t);
    await b.page.addInitScript((token: string) => window.sessionStorage.setItem('grm.token', token), d.token);
    const go = path.join(d.dataDir, 'go');
    const script = `#!/bin/bash\nfor i in 1 2 3; do echo "run \${SLURM_RESTART_COUNT:-0} line $i"; done\nif [ "\${SLURM_RESTART_COUNT:-0}" = 0 ]; then sleep 600; fi\n${untilFileExists(go)}\n`;
    const id = (await d.api('POST', '/api/v1/jobs', { script })).body.job_id as number;
    await waitForLogLine(d, id, 'run 0 line 3');
    await b.page.goto(`${d.url}/#/jobs/${id}`);
    await b.page.locator('.log-row').first().waitFor();
    const run = b.page.getByLabel('Run', { exact: true });
    t.ok(await run.isHidden(), 'one run: no Run filter');

    t.equal((await d.api('POST', `/api/v1/jobs/${id}/requeue`)).status, 200);
    await waitForLogLine(d, id, 'run 1 line 3');
    await run.waitFor({ state: 'visible', timeout: 30_000 });
    t.same(await run.locator('option').allTextContents(), ['All runs', 'Run 1 (first)', 'Run 2 (restart 1)']);
    const shown = () => b.page.locator('.log-row .tx').allTextContents();
    await run.selectOption('0');
    const first = (await shown()).filter((l) => l.startsWith('run '));
    t.same(first, ['run 0 line 1', 'run 0 line 2', 'run 0 line 3'], "run 1: the first run's lines only");
    await run.selectOption('1');
    t.same((await shown()).filter((l) => l.startsWith('run ')), ['run 1 line 1', 'run 1 line 2', 'run 1 line 3'], "run 2: the second run's only");
    await b.screenshot('job-log-runs');
    fs.writeFileSync(go, '');
    await d.waitForState(id, ['COMPLETED']);
    t.same(b.pageErrors, [], 'no script error in the page');
  });
}
