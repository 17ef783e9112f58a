/**
 * Issue 18, item 4, in the viewer: when the data dir fills up and log storage pauses, every
 * page says so above its content (from /api/v1/health), and the notice goes once space is back.
 */
import path from 'node:path';
import fs from 'node:fs';
import t from 'tap';
import { requireSystem } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon } from '../helpers/daemon.js';
import { startBrowser } from '../helpers/browser.js';
import { fillFilesystem, mountOrSkip } from '../helpers/small-filesystem.js';
import { waitForLogLine, waitUntil } from '../helpers/wait.js';

declare const window: any;

if (requireSystem(t, 'browser')) {
  t.test('a full data dir: the viewer shows what is wrong, and stops once it is fixed', { timeout: 180_000 }, async (t) => {
    const root = await mountOrSkip(t, '16m');
    if (!root) return;
    const d = await startDaemon(t, { ...SMALL_CLUSTER, dataDir: path.join(root, 'var') });
    const b = await startBrowser(t);
    await b.page.addInitScript((token: string) => window.sessionStorage.setItem('grm.token', token), d.token);
    // a job whose lines keep coming: storing them is what fails
    const outDir = fs.mkdtempSync('/tmp/grm-viewer-full-');
    t.teardown(() => fs.rmSync(outDir, { recursive: true, force: true }));
    const id = (await d.api('POST', '/api/v1/jobs', { script: '#!/bin/bash\necho first\nwhile true; do seq 1 200; sleep 0.02; done\n', standard_output: path.join(outDir, 'out') })).body.job_id as number;
    await waitForLogLine(d, id, 'first');
    await b.page.goto(`${d.url}/#/jobs/${id}`);
    const notice = b.page.locator('#daemon-status');
    t.ok(await notice.isHidden(), 'no notice while all is well');

    const filler = fillFilesystem(root);
    await waitUntil('the daemon to notice', async () => (await d.api('GET', '/api/v1/health')).body.status === 'degraded');
    await notice.waitFor({ state: 'visible', timeout: 30_000 });
    t.match(await notice.textContent(), /^GRM is degraded: log storage paused since \S+: .*full.*; \d+ lines wait in memory/);
    t.equal(await notice.getAttribute('role'), 'alert', 'announced to screen readers');
    await b.screenshot('daemon-degraded');

    fs.rmSync(filler);
    await notice.waitFor({ state: 'hidden', timeout: 30_000 });
    t.pass('the notice went once space was back');
    await d.api('DELETE', `/api/v1/jobs/${id}`);
    await d.waitForState(id, ['CANCELLED']);
    t.same(b.pageErrors, [], 'no script error in the page');
    t.same(b.blocked, [], 'the viewer asked no host but the daemon');
  });
}
