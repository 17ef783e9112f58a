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
    // the log reloads for the run chosen: what it shows once it has settled (or after 30 s, to fail on)
    const shownOnce = async (want: string[]) => {
      let got: string[] = [];
      for (let i = 0; i < 600; i++) {
        got = (await b.page.locator('.log-row .tx').allTextContents()).filter((l) => l.startsWith('run '));
        if (JSON.stringify(got) === JSON.stringify(want)) break;
        await b.page.waitForTimeout(50);
      }
      return got;
    };
    await run.selectOption('0');
    const first = ['run 0 line 1', 'run 0 line 2', 'run 0 line 3'];
    t.same(await shownOnce(first), first, "run 1: the first run's lines only");
    await run.selectOption('1');
    const second = ['run 1 line 1', 'run 1 line 2', 'run 1 line 3'];
    t.same(await shownOnce(second), second, "run 2: the second run's only");
    await b.screenshot('job-log-runs');
    fs.writeFileSync(go, '');
    await d.waitForState(id, ['COMPLETED']);
    t.same(b.pageErrors, [], 'no script error in the page');
  });
}
