// The sandbox console in a real Chromium, against a sandbox started in this process: the catch
// endpoint subscribed with one click, a quote request fired from the form and seen delivered and
// verified without a reload, its headers and body, a redelivery with the same webhook-id and a new
// signature, the API's own error for invalid data, and a console action refused from another site.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'puppeteer-core';

import { type SandboxServer, startSandbox } from '../../src/sandbox/server';
import { expectAccessible, expectNoPageErrors, inOtherTab, launchBrowser, openPage, screenshot, waitInPage, type WatchedPage } from '../support/browser';

let browser: Browser;
let sandbox: SandboxServer;
let foreign: Server;
let foreignUrl: string;
let watched: WatchedPage;
let page: Page;
const logLines: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({
    delivery: { baseDelayMs: 100, capDelayMs: 500, maxAttempts: 3, timeoutMs: 10_000 },
    docs: null,
    log: (line) => logLines.push(line),
  });
  // A page on another origin (another port) that tries to use the console's actions.
  foreign = createServer((req, res) => {
    const action = `${sandbox.url}/console/api/fire`;
    const pages: Record<string, string> = {
      '/form': `<!doctype html><html lang="en"><head><title>Elsewhere</title></head><body>
        <form method="post" action="${action}" enctype="text/plain"><input type="hidden" name='{"event":"Audit:Create","x":"' value='"}'></form>
        <script>document.forms[0].submit()</script></body></html>`,
      '/fetch': `<!doctype html><html lang="en"><head><title>Elsewhere</title></head><body><p id="done">no</p>
        <script>fetch(${JSON.stringify(action)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"event":"Audit:Create"}' })
          .finally(() => { document.getElementById('done').textContent = 'yes'; });</script></body></html>`,
    };
    const body = pages[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html' }).end(body ?? '');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  watched = await openPage(browser, `${sandbox.url}/console`);
  page = watched.page;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
  await new Promise((resolve) => foreign?.close(resolve));
});

const texts = (selector: string): Promise<string[]> => page.$$eval(selector, (els: any[]) => els.map((el) => String(el.textContent).trim()));

test('one click subscribes the catch endpoint to the six events through the subscribe API', async () => {
  await page.waitForSelector('button.subscribe-catch:not([disabled])');
  await page.click('button.subscribe-catch');
  await waitInPage(page, 'document.querySelectorAll("tr.subscription").length === 6');
  const subs = sandbox.subscriptions();
  expect(subs).toHaveLength(6);
  // Real subscriptions: each with its own secret, none of which reaches the page.
  expect(subs.every((s) => typeof s.secret === 'string' && s.uri === sandbox.console.catchUrl)).toBe(true);
  const html = await page.content();
  for (const s of subs) expect(html).not.toContain(s.secret!);
  await waitInPage(page, 'document.querySelector("button.subscribe-catch").disabled');
});

test('a quote request fired from the form is delivered and verified, live', async () => {
  await page.select('select[name="event"]', 'RequestQuote:Create');
  await page.click('button.fire');
  await waitInPage(page, 'document.querySelector(".fire-status").textContent.includes("Fired 1 RequestQuote:Create event")');
  await waitInPage(page, '[...document.querySelectorAll("tr.delivery")].some((tr) => tr.dataset.state === "delivered" && tr.textContent.includes("verified"))');
  const [eventId] = (await page.$$eval('tbody.event', (els: any[]) => els.map((el) => String(el.dataset.eventId)))) as string[];
  expect(sandbox.eventName(eventId!)).toBe('RequestQuote:Create');
  const row = await texts('tr.delivery');
  expect(row[0]).toMatch(/delivered/);
  expect(row[0]).toMatch(/204/);
  expect(row[0]).toMatch(/\d+ ms/);
});

test('a delivery shows its headers, the signature shortened, and its body; a redelivery keeps the webhook-id and re-signs', async () => {
  await page.click('tr.delivery button.select');
  await page.waitForSelector('.detail .send [data-header="webhook-signature"]');
  const [signature] = await texts('.detail .send [data-header="webhook-signature"]');
  expect(signature).toMatch(/^v1,[A-Za-z0-9+/=]{8}…$/);
  const [webhookId] = await texts('.detail .send [data-header="webhook-id"]');
  const [timestamp] = await texts('.detail .send [data-header="webhook-timestamp"]');
  expect(webhookId).toMatch(/^evt_/);
  const body = await page.$eval('.detail pre.body-json', (el: any) => String(el.textContent));
  expect(JSON.parse(body)).toMatchObject({ event: 'RequestQuote:Create', event_id: webhookId });

  // A signature covers the second it was made: redeliver in a later second, so it must differ.
  await waitInPage(page, `Math.floor(Date.now() / 1000) > ${Number(timestamp)}`, 5000);
  await page.click('.detail button.redeliver');
  await waitInPage(page, 'document.querySelectorAll(".detail .send").length === 2 && document.querySelectorAll(".detail .send .verification.ok").length === 2');
  const ids = await texts('.detail .send [data-header="webhook-id"]');
  const signatures = await texts('.detail .send [data-header="webhook-signature"]');
  expect(ids).toEqual([webhookId, webhookId]);
  expect(signatures[1]).not.toBe(signatures[0]);
  expect(await texts('.detail .send strong')).toEqual([expect.stringMatching(/attempt 1$/), expect.stringMatching(/\(redelivery\), attempt 1$/)]);
  await waitInPage(page, 'document.querySelectorAll("tr.delivery").length === 2');
});

test('invalid data gets the API its own error, in words', async () => {
  await page.select('select[name="event"]', 'RequestQuote:Create');
  await page.type('textarea[name="data"]', '{"reply_email": 5}');
  const before = sandbox.stats().storedEvents;
  await page.click('button.fire');
  await page.waitForSelector('.fire-status.bad');
  const [message] = await texts('.fire-status');
  expect(message).toContain('The sandbox refused it: the event would not be valid: data.reply_email: expected string (400 invalid_event_data)');
  expect(sandbox.stats().storedEvents).toBe(before);
  // Leave the form clean for the screenshot.
  await page.$eval('textarea[name="data"]', (el: any) => {
    el.value = '';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
});

test('a console action posted from another site is refused and changes nothing', async () => {
  const before = sandbox.stats();
  await inOtherTab(browser, page, async (other) => {
    await other.goto(`${foreignUrl}/form`, { waitUntil: 'domcontentloaded' });
    await waitInPage(other, 'location.port !== "" && document.body !== null && document.body.innerText.includes("cross_site")');
    await other.goto(`${foreignUrl}/fetch`, { waitUntil: 'domcontentloaded' });
    await waitInPage(other, 'document.getElementById("done").textContent === "yes"');
  });
  expect(logLines.filter((line) => line === 'POST /console/api/fire -> 403')).toHaveLength(2);
  const after = sandbox.stats();
  expect(after.storedEvents).toBe(before.storedEvents);
  expect(after.enqueued).toBe(before.enqueued);
});

test('a few deliveries later, the page is accessible, error-free, and photographed', async () => {
  await page.select('select[name="event"]', 'Audit:Create');
  await page.$eval('input[name="count"]', (el: any) => {
    el.value = '2';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.click('button.fire');
  await waitInPage(page, 'document.querySelectorAll("tr.delivery[data-state=delivered]").length === 4 && document.querySelectorAll("tr.delivery .verification.ok").length === 4');
  await screenshot(page, 'sandbox-console');
  await expectAccessible(page);
  expectNoPageErrors(watched);
});
