/**
 * A real browser for the console tests: Debian's Chromium (`apt-get install chromium`; `.ci/run`
 * installs it when missing) driven by puppeteer-core, headless. Playwright's and Puppeteer's own
 * browser downloads cannot be reached here, so the browser is never downloaded.
 *
 * - `openPage` records every console error, page error and failed request: `expectNoPageErrors`.
 * - `expectAccessible` runs axe-core in the page and fails on serious or critical violations.
 * - `screenshot` writes <name>.png: the README's images in docs/screenshots with UPDATE_SCREENSHOTS=1.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(
  (path): path is string => typeof path === 'string' && path !== '',
);

export const chromiumPath = (): string => {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error('no Chromium found: install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)');
  return found;
};

export const launchBrowser = (): Promise<Browser> =>
  puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container has no user namespace sandbox; /dev/shm is small there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
    defaultViewport: { width: 1280, height: 900 },
    // A busy two-core machine starts Chromium slowly. A browser call that never returns fails on
    // its own, naming the call, well before the test's timeout hides which call it was.
    timeout: 60_000,
    protocolTimeout: 30_000,
  });

export interface WatchedPage {
  readonly page: Page;
  /** Console errors, uncaught page errors and failed requests, as text. */
  readonly problems: string[];
}

export const openPage = async (browser: Browser, url: string): Promise<WatchedPage> => {
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  page.on('requestfailed', (request) => {
    // An event stream closed by navigation or by closing the page is not a failure of the page.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, problems };
};

/**
 * Runs `use` in a second tab of the same browser (another site open beside the console), then
 * closes it and brings `back` to the front. A tab behind another is hidden and paints nothing, so a
 * click there waits for a frame that never comes; closing the other tab does not always show it
 * again in time on a busy machine.
 */
export const inOtherTab = async <T>(browser: Browser, back: Page, use: (other: Page) => Promise<T>): Promise<T> => {
  const other = await browser.newPage();
  other.setDefaultTimeout(20_000);
  try {
    return await use(other);
  } finally {
    await other.close();
    await back.bringToFront();
    await waitInPage(back, 'document.visibilityState === "visible"');
  }
};

export const expectNoPageErrors = (watched: WatchedPage): void => {
  expect(watched.problems).toEqual([]);
};

const AXE_SOURCE = (): string => readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** axe-core's violations of impact serious or critical on the page as it is now. */
export const seriousViolations = async (page: Page): Promise<AxeViolation[]> => {
  // Evaluated, not added as a script tag: the consoles' content policy refuses inline scripts.
  await page.evaluate(AXE_SOURCE());
  // A string, not a function: this project type-checks without the DOM library.
  const violations = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  })()`)) as AxeViolation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
};

export const expectAccessible = async (page: Page): Promise<void> => {
  expect(await seriousViolations(page)).toEqual([]);
};

/**
 * Saves a screenshot of the page as `<name>.png`: in docs/screenshots (the README's images) when
 * UPDATE_SCREENSHOTS=1, otherwise in .tmp/screenshots, so a test run leaves the committed images
 * as they are. Either way the test takes it, so a console that cannot render fails here.
 */
export const screenshot = async (page: Page, name: string): Promise<string> => {
  const root = join(__dirname, '..', '..');
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(root, 'docs', 'screenshots') : join(root, '.tmp', 'screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
};

/** Waits until `predicate` holds in the page, bounded (a busy machine renders slowly). */
export const waitInPage = (page: Page, predicate: string | (() => unknown), timeoutMs = 20_000) =>
  page.waitForFunction(predicate as never, { timeout: timeoutMs, polling: 50 });
