/**
 * The web viewer in a real (Debian) chromium against a real daemon: the jobs table and its
 * keyboard use, a long queue that stays virtualised, a live log, find-in-log, the cluster, the
 * report, and a 200,000-line log that stays virtualised. No request may leave 127.0.0.1. Screenshots go to the test's temp dir
 * and /tmp/grm-screens/.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Response } from 'playwright-core';
import { requireSystem } from '../helpers/system.js';
import { SMALL_CLUSTER, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { untilFileExists, waitForLogLine } from '../helpers/wait.js';

// page.evaluate callbacks run in the page; this project compiles without the DOM library.
declare const document: any;
declare const window: any;
type HTMLElement = any;

const sh = (body: string) => `#!/bin/bash\n${body}\n`;

if (requireSystem(t, 'browser')) {
  let d: TestDaemon;
  let b: TestBrowser;

  t.before(async () => {
    d = await startDaemon(t, SMALL_CLUSTER);
    b = await startBrowser(t);
  });

  /**
   * A subtest that ends by checking the page made no script error and asked no other host.
   * Every Playwright wait gives up after 30 s (startBrowser); `timeoutMs` bounds the whole
   * subtest, so that even a wait Playwright cannot time out (a page.evaluate whose promise never
   * settles) fails this test instead of hanging the file.
   */
  const pageTest = (name: string, fn: (t: Test) => Promise<void>, { timeoutMs = 120_000 } = {}) =>
    t.test(name, { timeout: timeoutMs }, async (t) => {
      await fn(t);
      t.same(b.pageErrors.splice(0), [], 'no script error in the page');
      t.same(b.blocked, [], 'the viewer asked no host but the daemon');
    });

  const submit = async (body: Record<string, unknown>, user = 'alice') => {
    const res = await (await d.asUser(user)).api('POST', '/api/v1/jobs', body);
    if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.job_id as number;
  };

  /** Takes out of the page's errors the 401s a test caused on purpose (chromium logs each failed request). */
  const expected401s = () => {
    const all = b.pageErrors.splice(0);
    b.pageErrors.push(...all.filter((e) => !/status of 401/.test(e)));
    return all.length - b.pageErrors.length;
  };

  pageTest('the viewer asks for a token first, refuses a wrong one, and keeps a right one in the tab only', async (t) => {
    const { page } = b;
    await page.goto(`${d.url}/#/`);
    const token = page.getByLabel('Token');
    await token.waitFor();
    t.ok(await page.locator('#main-nav').isHidden(), 'no page but the sign-in before a token');
    t.equal(await page.locator('table.jobs').count(), 0, 'no job shown');
    t.equal(await page.evaluate(() => document.activeElement?.id), 'login-token', 'the token field has the focus');
    await b.screenshot('login');
    await token.fill('grm_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: /^Invalid authentication credential/ }).waitFor();
    t.equal(await page.evaluate(() => window.sessionStorage.getItem('grm.token')), null, 'a refused token is not kept');
    await b.screenshot('login-refused');
    await token.fill(d.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const admin = (await d.api('GET', '/api/v1/whoami')).body.user_name;
    await page.locator('#identity', { hasText: `${admin} (admin)` }).waitFor();
    await page.locator('table.jobs').waitFor();
    t.ok(await page.locator('#main-nav').isVisible(), 'the pages once signed in');
    t.equal(await page.evaluate(() => window.sessionStorage.getItem('grm.token')), d.token, "kept in this tab's session storage");
    t.equal(await page.evaluate(() => window.localStorage.length), 0, 'nothing in local storage');
    t.notMatch(page.url(), /grm_/, 'never in the address');
    t.equal(expected401s(), 1, "the wrong token's refusal, and nothing else, failed");
    // leave the jobs page: the next test opens it afresh, as a user arriving at it would
    await page.goto(`${d.url}/#/cluster`);
    await page.locator('.node-tile').first().waitFor();
  });

  /** A file in the daemon's data dir that a job waits for (untilFileExists) and the test creates. */
  const signal = (name: string) => path.join(d.dataDir, `signal-${name}`);
  const give = (file: string) => fs.writeFileSync(file, '');

  /** The log panel of one job: never the panel of the page the test navigated away from. */
  const logPanel = (id: number) => b.page.locator(`section.log-panel[aria-labelledby="log-${id}-h"]`);

  pageTest('the jobs page lists a submitted job, keeps its filters and focus while refreshing, and opens it from the keyboard', async (t) => {
    const id = await submit({ name: 'web-list', minimum_nodes: 2, script: sh('sleep 3600') }); // cancelled below
    await d.waitForState(id, ['RUNNING']);
    const { page } = b;
    await page.goto(`${d.url}/#/`);
    const row = page.locator(`tr[data-job-id="${id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    t.equal(cells[0], String(id), 'JOBID');
    t.equal(cells[2], 'web-list', 'NAME');
    t.equal(cells[3], 'alice', 'USER');
    t.equal(cells[4], 'R', 'ST');
    t.equal(cells[6], '2', 'NODES');
    t.match(cells[7], /^node\[\d+-\d+\]$/, 'NODELIST');
    t.same(await page.locator('table.jobs thead th').allTextContents(), ['JOBID', 'PARTITION', 'NAME', 'USER', 'ST', 'TIME', 'NODES', 'NODELIST(REASON)', 'EXIT']);

    // Filters are labelled controls; the free text filters the rows; the focus survives polls.
    await page.getByLabel('Search').fill('web-l');
    await page.getByLabel('Search').focus();
    // Two polls of the job list answered: the first one's rows were rendered before the
    // second was asked for (the page polls again only after rendering).
    const jobsPoll = (r: Response) => new URL(r.url()).pathname === '/api/v1/jobs' && r.request().method() === 'GET';
    await page.waitForResponse(jobsPoll);
    await page.waitForResponse(jobsPoll);
    t.equal(await page.evaluate(() => document.activeElement?.id), 'f-text', 'the focus stays in the filter across refreshes');
    t.equal(await page.getByLabel('Search').inputValue(), 'web-l', 'the filter keeps its value');
    t.equal(await row.count(), 1);
    t.match(page.url(), /q=web-l/, 'the filters are in the address');
    await page.getByLabel('Search').fill('no-such-job');
    await page.locator('.empty:not([hidden])').waitFor();
    t.equal(await row.count(), 0, 'filtered out');
    await page.getByLabel('State').selectOption('RUNNING');
    await page.getByLabel('Search').fill('');
    await row.waitFor();
    await b.screenshot('jobs');

    // Keyboard: Tab from the last filter reaches the rows; Enter opens the job.
    await page.getByRole('button', { name: 'Clear filters' }).focus();
    let onRow = false;
    for (let i = 0; i < 5 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = await page.evaluate(() => document.activeElement?.tagName === 'TR');
    }
    t.ok(onRow, 'Tab reaches the jobs table rows');
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.jobId);
    t.equal(focused, String(id), 'the newest job is the first row');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/jobs/${id}$`));
    await page.locator('h2', { hasText: `Job ${id}: web-list` }).waitFor();
    t.pass('Enter on a row opens the job');
    await d.api('DELETE', `/api/v1/jobs/${id}`);
  });

  pageTest('the job page shows its log live while the job runs', async (t) => {
    // ticks until cancelled at the end: a slow machine cannot make it run out of ticks
    const id = await submit({ name: 'ticker', script: sh('seq -f "warm-up %g" 1 60\ni=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done') });
    await d.waitForState(id, ['RUNNING']);
    const { page } = b;
    await page.goto(`${d.url}/#/jobs/${id}`);
    await page.evaluate(() => ((window as any).__noReload = true));
    const maxTick = () =>
      page.evaluate(() =>
        Math.max(0, ...[...document.querySelectorAll('.log-row .tx')].map((e) => Number(/^tick (\d+)$/.exec(e.textContent ?? '')?.[1] ?? 0))),
      );
    await page.locator('.log-row .tx', { hasText: /^tick \d+$/ }).first().waitFor();
    const first = await maxTick();
    await page.waitForFunction((n) => [...document.querySelectorAll('.log-row .tx')].some((e) => e.textContent === `tick ${n}`), first + 5);
    t.ok((await maxTick()) >= first + 5, `lines printed after the page opened appear (from tick ${first} to ${await maxTick()})`);
    t.equal(await page.evaluate(() => (window as any).__noReload), true, 'without a reload');
    t.match(await page.locator('.log-info').textContent(), /live: (streaming|polling)/, 'says how it follows');
    t.equal(await page.getByRole('button', { name: /^Following$/ }).getAttribute('aria-pressed'), 'true', 'following the tail');
    t.ok(await page.getByRole('button', { name: 'Cancel job…' }).isVisible(), 'a live job can be cancelled');

    // Scrolling up pauses following; the button resumes it.
    await page.locator('.log-viewport').evaluate((e) => (e.scrollTop = 0));
    await page.getByRole('button', { name: /^Follow/ }).and(page.locator('[aria-pressed="false"]')).waitFor();
    // new lines arrive while paused (the button counts them) and the view does not move
    await page.getByRole('button', { name: /^Follow \(\d+ new\)$/ }).waitFor();
    t.ok(await page.locator('.log-row .tx', { hasText: /^warm-up 1$/ }).isVisible(), 'stays where the user scrolled');
    await page.locator('.log-panel').scrollIntoViewIfNeeded();
    await b.screenshot('job-live-paused');
    await page.getByRole('button', { name: /^Follow/ }).click();
    const before = await maxTick();
    await page.waitForFunction((n) => [...document.querySelectorAll('.log-row .tx')].some((e) => e.textContent === `tick ${n}`), before + 2);
    t.pass('following again shows the newest lines');
    await b.screenshot('job-live');
    await d.api('DELETE', `/api/v1/jobs/${id}`);
  });

  pageTest('the job page plots the training metrics it prints, one line per rank, growing live', async (t) => {
    const go = path.join(d.dataDir, `metrics-go-${Date.now()}`);
    const steps = (from: number, to: number) =>
      `for s in $(seq ${from} ${to}); do for r in 0 1; do echo "$r: GRM_METRIC loss=0.$(printf %03d $((1000 / (s + r + 1)))) accuracy=0.$((50 + s)) step=$s"; done; done`;
    const id = await submit({ name: 'train', script: sh(`${steps(1, 20)}\n${untilFileExists(go)}\n${steps(21, 30)}`) });
    await d.waitForState(id, ['RUNNING']);
    const { page } = b;
    await page.goto(`${d.url}/#/jobs/${id}`);
    const section = page.getByRole('region', { name: 'Training metrics' });
    await section.getByText('80 points of 2 metrics from 2 ranks.').waitFor();
    const figures = section.locator('figure.chart');
    t.same(await figures.locator('figcaption > span').allTextContents(), ['loss', 'accuracy'], 'one chart per metric');
    t.same(await figures.first().locator('path.series').evaluateAll((ps: any[]) => ps.map((p) => p.dataset.series)), ['rank 0', 'rank 1'], 'one line per rank');
    const colours = await figures.first().locator('path.series').evaluateAll((ps: any[]) => ps.map((p) => p.getAttribute('stroke')));
    t.equal(new Set(colours).size, 2, 'in two colours');
    await section.scrollIntoViewIfNeeded();
    await b.screenshot('job-metrics');
    fs.writeFileSync(go, '');
    await section.getByText('120 points of 2 metrics from 2 ranks.').waitFor();
    t.pass('points printed after the page opened are drawn without a reload');
    await figures.first().getByRole('button', { name: 'Show as table' }).click();
    t.equal(await figures.first().locator('tbody tr').count(), 60, 'the table: every loss point of both ranks');
    await d.waitForState(id, ['COMPLETED']);

    // the log: a rank filter (srun --label ranks), each rank's lines marked in its colour
    const rank = page.getByLabel('Rank', { exact: true });
    await rank.waitFor();
    t.same(await rank.locator('option').allTextContents(), ['All ranks', 'Rank 0', 'Rank 1']);
    await page.locator('.log-row.rank-c0').first().waitFor();
    await rank.selectOption('1');
    await page.locator('.log-info', { hasText: /^30 of / }).waitFor();
    const shown = await page.locator('.log-row').evaluateAll((rows: any[]) => rows.map((r) => [r.classList.contains('rank-c1'), r.querySelector('.tx').textContent.startsWith('1: ')]));
    t.ok(shown.length > 0 && shown.every(([c, text]: boolean[]) => c && text), `only rank 1's lines, in its colour (${shown.length} rows in view)`);
    await page.locator('.log-panel').scrollIntoViewIfNeeded();
    await b.screenshot('job-log-rank');
  });

  pageTest('find in the log highlights matches; first error jumps to stderr', async (t) => {
    // stdout and stderr are two files tailed side by side: a line's place among the other
    // file's lines is ingest order. The job goes on only once its previous line is stored,
    // so the stderr line is always between the needles (and the same test every run).
    const [errorMayCome, moreMayCome] = [signal('needle-error'), signal('needle-more')];
    const id = await submit({
      name: 'needle',
      script: sh(
        `for i in $(seq 1 400); do echo "hay $i"; done\necho "the Needle is here"\n${untilFileExists(errorMayCome)}\n` +
          `echo "oops: disk full" >&2\n${untilFileExists(moreMayCome)}\nfor i in $(seq 1 400); do echo "more hay $i"; done\necho "second needle"`,
      ),
    });
    await waitForLogLine(d, id, 'the Needle is here');
    give(errorMayCome);
    await waitForLogLine(d, id, 'oops: disk full');
    give(moreMayCome);
    await d.waitForState(id, ['COMPLETED']);
    const { page } = b;
    await page.goto(`${d.url}/#/jobs/${id}`);
    const panel = logPanel(id);
    await panel.locator('.log-info', { hasText: 'every line loaded' }).waitFor();
    const find = page.getByLabel('Find', { exact: true });
    await find.fill('needle');
    await find.press('Enter');
    const mark = page.locator('.log-row.current mark');
    await mark.waitFor();
    t.equal((await mark.textContent())?.toLowerCase(), 'needle', 'the match is a <mark>');
    t.match(await page.locator('.match-status').textContent(), /Match 1 of 2/);
    t.ok(await mark.isVisible(), 'the match is scrolled into view');
    await find.press('Enter');
    await page.locator('.log-row.current .tx', { hasText: 'second needle' }).waitFor();
    t.match(await page.locator('.match-status').textContent(), /Match 2 of 2/, 'Enter goes to the next match');
    await find.press('Shift+Enter');
    await page.locator('.log-row.current .tx', { hasText: 'the Needle is here' }).waitFor();
    t.pass('Shift+Enter goes back');
    await page.locator('.log-panel').scrollIntoViewIfNeeded();
    await b.screenshot('job-search');
    await page.getByRole('button', { name: 'First error' }).click();
    const flash = page.locator('.log-row.flash');
    await flash.waitFor();
    t.equal(await flash.locator('.tx').textContent(), 'oops: disk full');
    t.equal(await panel.locator('button.follow').getAttribute('aria-pressed'), 'false', 'jumping stops following');
    await page.getByLabel('Source', { exact: true }).selectOption('stderr');
    await page.waitForFunction(() => document.querySelectorAll('.log-row').length === 1);
    t.equal(await page.locator('.log-row .tx').textContent(), 'oops: disk full', 'the source filter');
    t.ok(await page.getByRole('button', { name: 'Cancel job…' }).isHidden(), 'an ended job has no cancel button');
    t.equal(await page.getByRole('link', { name: 'Download' }).getAttribute('href'), `/api/v1/jobs/${id}/logs.txt`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    t.equal(download.suggestedFilename(), `job-${id}.log`);
    t.match(fs.readFileSync((await download.path())!, 'utf8'), /stderr: oops: disk full\n/, 'the download carries the token: the whole log');
    await page.locator('summary', { hasText: 'project.xml' }).click();
    await page.locator('pre.xml', { hasText: '<Project' }).first().waitFor();
    t.pass('project.xml shows as text');
    await page.locator('summary', { hasText: 'project.xml' }).scrollIntoViewIfNeeded();
    await b.screenshot('job-done');
  });

  pageTest('jumping to an error among the last lines stops following too', async (t) => {
    // The error is the last stdout/stderr line (written once every stdout line is stored; only
    // the daemon's own closing lines come after it): the jump to it scrolls the log to its
    // bottom, which must not count as the user returning to the tail.
    const errorMayCome = signal('tail-error');
    const id = await submit({ name: 'tail-error', script: sh(`seq -f "line %g" 1 300\n${untilFileExists(errorMayCome)}\necho "late: disk full" >&2`) });
    await waitForLogLine(d, id, 'line 300');
    give(errorMayCome);
    await d.waitForState(id, ['COMPLETED']);
    const { page } = b;
    await page.goto(`${d.url}/#/jobs/${id}`);
    const panel = logPanel(id);
    await panel.locator('.log-info', { hasText: 'every line loaded' }).waitFor();
    const follow = panel.locator('button.follow');
    t.equal(await follow.getAttribute('aria-pressed'), 'true', 'following the tail at first');
    // Go to the top first (the viewer's scroll handler stops following), so that the jump
    // scrolls the log: from the tail the error line would already be in view.
    const viewport = panel.locator('.log-viewport');
    await viewport.evaluate((v) => {
      v.scrollTop = 0;
    });
    await panel.locator('button.follow[aria-pressed="false"]').waitFor();
    // That scroll event has been handled (it turned following off). Record the next one, the
    // jump's, as the viewer's own handler (added first) left things. (The callbacks return
    // nothing: page.evaluate would wait for a returned promise.)
    await viewport.evaluate((v) => {
      const w = window as any;
      w.__jumpScroll = null;
      const button = v.closest('section.log-panel').querySelector('button.follow');
      v.addEventListener('scroll', () => {
        w.__jumpScroll = { atBottom: v.scrollTop + v.clientHeight >= v.scrollHeight - 18, pressed: button.getAttribute('aria-pressed') };
      }, { once: true });
    });
    await panel.getByRole('button', { name: 'First error' }).click();
    const flash = panel.locator('.log-row.flash');
    await flash.waitFor();
    t.equal(await flash.locator('.tx').textContent(), 'late: disk full');
    const jumpScroll = await (await page.waitForFunction(() => (window as any).__jumpScroll)).jsonValue();
    t.same(jumpScroll, { atBottom: true, pressed: 'false' }, 'the jump scrolled the log to its bottom, and the viewer did not take that for the user returning to the tail');
    t.ok(await viewport.evaluate((v) => v.scrollTop + v.clientHeight >= v.scrollHeight - 18), 'the log stays at its bottom');
    t.equal(await follow.getAttribute('aria-pressed'), 'false', 'jumping stops following');
    t.equal(await follow.textContent(), 'Follow');
  });

  pageTest('the cluster page shows the 8 nodes and a running job on its node', async (t) => {
    const id = await submit({ name: 'where', minimum_nodes: 1, script: sh('sleep 3600') }); // cancelled below
    const job = await d.waitForState(id, ['RUNNING']);
    const { page } = b;
    await page.goto(`${d.url}/#/cluster`);
    await page.locator('.node-tile').first().waitFor();
    t.equal(await page.locator('.node-tile').count(), 8, '8 node tiles');
    t.equal(await page.locator('table.data tbody tr[data-node]').count(), 8, '8 rows in the node table');
    const tile = page.locator(`.node-tile[data-node="${job.nodes}"]`);
    await tile.locator(`a[href="#/jobs/${id}"]`).waitFor();
    t.match(await tile.locator('.state').textContent(), /^(alloc|mix)$/, 'the state in words, not colour alone');
    t.ok(await page.locator('.legend li').count() >= 3, 'a legend');
    await b.screenshot('cluster');
    await tile.locator(`a[href="#/jobs/${id}"]`).click();
    await page.locator('h2', { hasText: `Job ${id}: where` }).waitFor();
    t.pass('a job on a node links to the job');
    await d.api('DELETE', `/api/v1/jobs/${id}`);
  });

  pageTest('the report page renders its charts', async (t) => {
    const failing = await submit({ name: 'fails', script: sh('echo bad >&2; exit 3') });
    await d.waitForState(failing, ['FAILED']);
    const probe = await d.api('GET', `/api/v1/report?since=${new Date(Date.now() - 86400_000).toISOString()}&until=${new Date().toISOString()}`);
    const { page } = b;
    await page.goto(`${d.url}/#/report`);
    await page.locator('figure.chart svg').first().waitFor();
    const source = await page.locator('.report-body').getAttribute('data-source');
    t.ok(await page.locator('figure.chart svg[role="img"] title').count() >= 4, 'charts with a text title');
    t.ok((await page.locator('figure.chart svg desc').first().textContent())!.length > 0, 'and a description');
    await page.getByRole('button', { name: 'Show as table' }).first().click();
    await page.locator('.chart-table:not([hidden]) table').first().waitFor();
    t.pass('each chart can show its numbers as a table');
    t.ok(await page.locator('.failures td', { hasText: /exit 3|FAILED|NonZero/ }).count(), 'the failure shows among the reasons');
    await page.getByLabel('Last 7 days').check();
    await page.waitForURL(/range=7d/);
    await b.screenshot('report');
    if (probe.status === 404) {
      t.equal(source, 'local', 'without the report API the page computes the report from the job list');
      t.skip('GET /api/v1/report answered 404: the report API is not on this daemon yet, so the API-backed report is untested', () => {});
      return;
    }
    t.equal(probe.status, 200, JSON.stringify(probe.body));
    t.equal(source, 'api', 'the report comes from GET /api/v1/report');
    t.ok(await page.locator('.chart-svg .area').count(), 'the utilisation area chart');
  });

  pageTest('the jobs page lists a long queue whole: few rows in the DOM, read as it scrolls, the count stated', async (t) => {
    // Held jobs of a user of their own: they never run, and the filter makes the count exact.
    const N = 650;
    const user = 'longq';
    const ids: number[] = [];
    for (let i = 0; i < N; i += 25) {
      ids.push(...(await Promise.all(Array.from({ length: Math.min(25, N - i) }, (_, k) => submit({ name: `long-${i + k}`, hold: true, script: sh('true') }, user)))));
    }
    const [oldest, newest] = [Math.min(...ids), Math.max(...ids)];
    const { page } = b;
    const reads: URL[] = [];
    const onRequest = (r: { url(): string }) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/v1/jobs') reads.push(url);
    };
    page.on('request', onRequest);
    await page.goto(`${d.url}/#/?user=${user}`);
    const status = page.locator('#jobs-status');
    await status.filter({ hasText: `${N} jobs, newest first` }).waitFor();
    await page.locator(`tr[data-job-id="${newest}"]`).waitFor();
    t.equal((await d.api('GET', `/api/v1/jobs?user=${user}&limit=1`)).body.total, N, 'the count shown is the daemon\'s');
    const viewport = page.locator('.jobs-viewport');
    const rowCount = () => page.locator('table.jobs tbody tr[data-job-id]').count();
    t.ok((await rowCount()) < 100, `far fewer rows in the DOM than jobs (${await rowCount()} of ${N})`);
    t.equal(await page.locator('table.jobs').getAttribute('aria-rowcount'), String(N + 1), 'the table tells assistive technology every row');
    const tall = await viewport.evaluate((v) => v.scrollHeight);
    t.ok(tall > N * 20, `the scrollbar spans every job (${tall} px)`);

    /** Whether the row of job `id` is inside the scroller's visible box, below its sticky header. */
    const inView = (id: number) =>
      page.waitForFunction((id) => {
        const row = document.querySelector(`tr[data-job-id="${id}"]`);
        const v = document.querySelector('.jobs-viewport');
        if (!row || !v) return false;
        const r = row.getBoundingClientRect();
        const box = v.getBoundingClientRect();
        return r.top >= box.top + v.querySelector('thead').offsetHeight - 1 && r.bottom <= box.top + v.clientHeight + 1;
      }, id);

    await viewport.evaluate((v) => (v.scrollTop = v.scrollHeight));
    await inView(oldest);
    t.pass('scrolled to the bottom, the oldest job is in view');
    t.ok((await rowCount()) < 100, `still few rows at the bottom (${await rowCount()})`);
    t.ok(reads.some((u) => u.searchParams.has('cursor') && u.searchParams.get('order') === 'newest'), 'the rows below the first page were read through the cursor');
    await b.screenshot('jobs-long-bottom');

    // Keyboard: Home and End on a row go to the newest and the oldest job.
    await page.locator(`tr[data-job-id="${oldest}"]`).focus();
    await page.keyboard.press('Home');
    await inView(newest);
    t.equal(await page.evaluate(() => document.activeElement?.dataset.jobId), String(newest), 'Home focuses the newest job');
    await page.keyboard.press('End');
    await inView(oldest);
    t.equal(await page.evaluate(() => document.activeElement?.dataset.jobId), String(oldest), 'End focuses the oldest job');

    // Live: a new job is counted and listed, and the view stays on the oldest job.
    const late = await submit({ name: 'long-late', hold: true, script: sh('true') }, user);
    await status.filter({ hasText: `${N + 1} jobs, newest first` }).waitFor();
    await inView(oldest);
    t.equal(await page.evaluate(() => document.activeElement?.dataset.jobId), String(oldest), 'the focus stays on the oldest job');
    await page.keyboard.press('Home');
    await inView(late);
    t.pass('the new job is first');
    await b.screenshot('jobs-long-top');

    // The free text search counts its matches among every job, not among the rows read so far.
    await page.getByLabel('Search').fill('long-1');
    await status.filter({ hasText: `111 of ${N + 1} jobs match “long-1”.` }).waitFor(); // long-1, long-1x, long-1xx
    t.ok((await rowCount()) < 100, `few rows under a search too (${await rowCount()})`);
    page.off('request', onRequest);
  });

  pageTest('a 200,000-line log stays virtualised and scrolls to its end', async (t) => {
    const id = await submit({ name: 'big', script: sh('seq 1 200000') });
    await d.waitForState(id, ['COMPLETED'], 120_000);
    const { page } = b;
    const started = Date.now();
    await page.goto(`${d.url}/#/jobs/${id}`);
    await page.locator('.log-info', { hasText: 'every line loaded' }).waitFor({ timeout: 60_000 });
    await page.locator('.log-row .tx', { hasText: /^200000$/ }).waitFor();
    t.comment(`200,000 lines loaded and shown in ${Date.now() - started} ms`);
    const rows = () => page.locator('.log-row').count();
    t.ok((await rows()) < 300, `few row elements in the DOM (${await rows()})`);
    t.ok(await page.locator('.log-row .tx', { hasText: /^200000$/ }).isVisible(), 'the last line is on screen (following)');
    const viewport = page.locator('.log-viewport');
    await viewport.focus();
    await page.keyboard.press('Home');
    await page.locator('.log-row .tx', { hasText: /^1$/ }).waitFor();
    t.ok((await rows()) < 300, 'still few rows at the top');
    await viewport.evaluate((e) => (e.scrollTop = e.scrollHeight / 2));
    await page.locator('.log-row .tx', { hasText: /^100000$/ }).waitFor();
    await page.locator('.log-panel').scrollIntoViewIfNeeded();
    await b.screenshot('job-200k-middle');
    await page.keyboard.press('End');
    await page.locator('.log-row .tx', { hasText: /^200000$/ }).waitFor();
    t.ok(await page.locator('.log-row .tx', { hasText: /^200000$/ }).isVisible(), 'End shows line 200000');
    t.ok((await rows()) < 300, `still few rows at the end (${await rows()})`);
    const find = page.getByLabel('Find', { exact: true });
    const t0 = Date.now();
    await find.fill('199999');
    await find.press('Enter');
    await page.locator('.log-row.current mark', { hasText: '199999' }).waitFor();
    t.comment(`find over 200,000 lines: ${Date.now() - t0} ms`);
    await page.locator('.log-panel').scrollIntoViewIfNeeded();
    await b.screenshot('job-200k');
  }, { timeoutMs: 300_000 }); // the job's own 120 s and the load's 60 s, with room

  pageTest('signing out brings the sign-in back; another user sees only their own jobs and streams their log', async (t) => {
    const { page } = b;
    const bob = await d.asUser('bob');
    const id = (await bob.api('POST', '/api/v1/jobs', { name: 'bobs-ticker', script: sh('i=0; while :; do i=$((i+1)); echo "bob tick $i"; sleep 0.2; done') })).body.job_id as number;
    await d.waitForState(id, ['RUNNING']);
    await page.goto(`${d.url}/#/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    t.equal(await page.evaluate(() => window.sessionStorage.getItem('grm.token')), null, 'the token is forgotten');
    await page.getByLabel('Token').fill(bob.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#identity', { hasText: 'bob (user)' }).waitFor();
    await page.locator(`tr[data-job-id="${id}"]`).waitFor();
    const users = await page.locator('table.jobs tbody tr[data-job-id] td:nth-child(4)').allTextContents();
    t.same([...new Set(users)], ['bob'], "bob's list holds bob's jobs only");
    await page.goto(`${d.url}/#/jobs/${id}`);
    await page.locator('.log-row .tx', { hasText: /^bob tick \d+$/ }).first().waitFor();
    await page.locator('.log-info', { hasText: /live: streaming/ }).waitFor();
    t.pass("bob's log streams to him");
    await d.api('DELETE', `/api/v1/jobs/${id}`);
  });
}
