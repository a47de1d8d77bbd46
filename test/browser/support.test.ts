// The browser support itself: Chromium starts, a page's errors are seen, axe-core finds a serious
// violation where there is one, and a page takes clicks again after another tab was in front of it.
// If these fail, the console tests cannot be trusted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'puppeteer-core';
import { inOtherTab, launchBrowser, openPage, seriousViolations } from '../support/browser';

let browser: Browser;
let server: Server;
let base: string;

const PAGES: Record<string, string> = {
  '/good': '<!doctype html><html lang="en"><head><title>Good</title></head><body><main><h1>Fine</h1><button>Go</button></main></body></html>',
  '/bad': '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><h1>Broken</h1><button></button><img src="data:,"></main><script>console.error("boom")</script></body></html>',
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const page = PAGES[req.url ?? ''];
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html' }).end(page ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server.close(resolve));
});

test('a clean page has no problems and no serious violations', async () => {
  const watched = await openPage(browser, `${base}/good`);
  expect(watched.problems).toEqual([]);
  expect(await seriousViolations(watched.page)).toEqual([]);
  await watched.page.close();
});

test('console errors and serious violations are caught', async () => {
  const watched = await openPage(browser, `${base}/bad`);
  await watched.page.waitForNetworkIdle({ idleTime: 100, timeout: 10_000 });
  expect(watched.problems).toContain('console error: boom');
  expect((await seriousViolations(watched.page)).map((violation) => violation.id)).toEqual(expect.arrayContaining(['button-name', 'image-alt']));
  await watched.page.close();
});

test('after another tab, the page is in front again and takes a click', async () => {
  const watched = await openPage(browser, `${base}/good`);
  const { page } = watched;
  await page.evaluate('document.querySelector("button").addEventListener("click", () => { document.title = "clicked"; })');
  const seenBehind = await inOtherTab(browser, page, async (other) => {
    await other.goto(`${base}/bad`);
    return page.evaluate('document.visibilityState');
  });
  // Hidden while the other tab was in front: the state in which a click would never land.
  expect(seenBehind).toBe('hidden');
  expect(await page.evaluate('document.visibilityState')).toBe('visible');
  await page.click('button');
  expect(await page.title()).toBe('clicked');
  await page.close();
});
