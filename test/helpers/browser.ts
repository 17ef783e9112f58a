/**
 * A headless Debian chromium for the viewer tests, driven by playwright-core: its own empty
 * profile in a temp dir, every request to a host other than 127.0.0.1 blocked and recorded,
 * closed when the test ends (also when it fails). Call requireSystem(t, 'browser') first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const SCREENS_DIR = '/tmp/grm-screens';

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** URLs the page tried to reach outside 127.0.0.1 (blocked) */
  blocked: string[];
  /** console errors and uncaught exceptions of the page */
  pageErrors: string[];
  dir: string;
  /** saves <dir>/<name>.png and copies it to /tmp/grm-screens/ */
  screenshot(name: string, page?: Page): Promise<string>;
}

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export async function startBrowser(t: Teardownable): Promise<TestBrowser> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-browser-'));
  const profile = path.join(dir, 'profile');
  fs.mkdirSync(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(async () => {
    await context.close().catch(() => undefined);
    fs.rmSync(profile, { recursive: true, force: true });
  });
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  await context.route(
    (url) => url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1',
    (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  // Every wait of a page (locator.waitFor, waitForFunction, waitForResponse, actions,
  // navigations) fails after 30 s instead of hanging the test; a test that needs longer says so.
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  context.on('page', (p) => watch(p));
  const watch = (p: Page) => {
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      // A daemon without a route answers 404, which chromium logs as a resource error.
      if (m.type() === 'error' && !/status of 404/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  };
  watch(page);
  fs.mkdirSync(SCREENS_DIR, { recursive: true });
  return {
    context,
    page,
    blocked,
    pageErrors,
    dir,
    async screenshot(name, p = page) {
      const file = path.join(dir, `${name}.png`);
      await p.screenshot({ path: file, fullPage: false });
      fs.copyFileSync(file, path.join(SCREENS_DIR, `${name}.png`));
      return file;
    },
  };
}
