// The receiver's console in a real browser, against `npm run receiver`'s own code (the bundled CLI)
// with CONSOLE_PORT and a forwarder posting to a CRM stand-in: deliveries appear live with their
// outcomes, a CRM that refuses makes a dead letter, a click replays it once the CRM is healthy,
// customer details stay masked until one item is revealed, and another site cannot replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { expectAccessible, expectNoPageErrors, inOtherTab, launchBrowser, openPage, screenshot, waitInPage, type WatchedPage } from '../support/browser';
import { fixture, OTHER_SECRET, SECRET, signed } from '../support/receiver-kit';
import { bundleReceiverCli, startReceiverProcess, type ReceiverProcess } from '../support/receiver-process';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const readAll = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
  });

/** The CRM stand-in: answers `status`, keeps what it was sent. */
const crm = { status: 400, received: [] as Array<{ status: number; item: Record<string, unknown> }> };
const crmServer = createServer(async (req, res) => {
  const body = await readAll(req);
  crm.received.push({ status: crm.status, item: JSON.parse(body) as Record<string, unknown> });
  res.writeHead(crm.status, { 'content-type': 'application/json' }).end('{}');
});

let browser: Browser;
let receiver: ReceiverProcess;
let consoleUrl: string;
let attackerServer: Server;
let attacker: string;
let dataDir: string;
let watched: WatchedPage;

const AUDIT_ID = 'evt_console_audit_1';
const QUOTE_ID = 'evt_console_quote_1';
const audit = { ...fixture('audit_created'), event_id: AUDIT_ID };
const quote = { ...fixture('quote_request_created'), event_id: QUOTE_ID };
/** What the deliveries say about the customers, none of which the masked page may show. */
const PERSONAL = ['mei.chen@example.com', 'Mei', 'Chen', '9374 4000', '9374', 'Bondi Road', 'jack.thompson@example.com', 'Jack', 'Thompson', '0423 456 789', 'Banksia'];

const deliver = async (body: unknown, options: { secret?: string; webhookId?: string } = {}) => {
  const request = signed(body, options);
  const response = await fetch(receiver.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(10_000) });
  return response.status;
};

const state = async () => (await (await fetch(`${consoleUrl}/api/state`, { signal: AbortSignal.timeout(10_000) })).json()) as { outbox: { rows: Array<{ name: string; state: string }> } };

beforeAll(async () => {
  const crmUrl = await listen(crmServer);
  // Another site open in the same browser: its page posts a form to the console's replay action.
  attackerServer = createServer((req, res) => {
    const target = decodeURIComponent((req.url ?? '').split('?target=')[1] ?? '');
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><head><title>Elsewhere</title></head><body>
<form id="f" method="POST" action="${target}" enctype="text/plain"><input type="hidden" name='{"name":"Audit:Create/${AUDIT_ID}","x":"' value='"}'></form>
<script>fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: JSON.stringify({ name: 'Audit:Create/${AUDIT_ID}' }) }).finally(() => document.getElementById('f').submit());</script>
</body></html>`);
  });
  attacker = await listen(attackerServer);
  dataDir = mkdtempSync(join(tmpdir(), 'receiver-console-'));
  const [started, launched] = await Promise.all([
    startReceiverProcess(
      { file: bundleReceiverCli('receiver-console') },
      { ECOLOGIC_WEBHOOK_SECRETS: SECRET, PORT: '0', CONSOLE_PORT: '0', HOST: '0.0.0.0', DATA_DIR: dataDir, FORWARD_URL: `${crmUrl}/hooks/catch/1` },
    ),
    launchBrowser(),
  ]);
  receiver = started;
  browser = launched;
  const listening = receiver.logs.find((line) => String(line.message).startsWith('listening on'))!;
  consoleUrl = String(listening.console);
}, 90_000);

afterAll(async () => {
  await watched?.page.close();
  await browser?.close();
  await receiver?.stop();
  await new Promise((resolve) => crmServer.close(resolve));
  await new Promise((resolve) => attackerServer?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the console is on 127.0.0.1 at its own port, even with HOST=0.0.0.0', () => {
  expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console$/);
  expect(new URL(consoleUrl).port).not.toBe(new URL(receiver.url).port);
});

// One page through the steps below, each its own test: a step that fails or hangs is named, and
// cannot use up the time of the steps after it.
let page: WatchedPage['page'];
const deadRow = `tr.outbox-row[data-name="Audit:Create/${AUDIT_ID}"]`;

test('deliveries appear live with their outcomes', async () => {
  watched = await openPage(browser, consoleUrl);
  page = watched.page;
  await waitInPage(page, 'document.querySelector("[data-live=yes]") !== null && document.querySelector("section") !== null');

  // Live: accepted, then the same event again (a duplicate), then a bad signature (rejected).
  expect(await deliver(audit)).toBe(200);
  await waitInPage(page, 'document.querySelectorAll("tr.delivery").length >= 1');
  expect(await deliver(audit)).toBe(200);
  expect(await deliver(quote, { secret: OTHER_SECRET })).toBe(401);
  await waitInPage(page, 'document.querySelectorAll("tr.delivery").length >= 3');
  const outcomes = await page.$$eval('tr.delivery', (rows: any[]) => rows.map((row) => row.dataset.outcome));
  expect(outcomes).toEqual(['rejected', 'duplicate', 'accepted']);
  const hour = (outcome: string) => page.$eval(`table.outcomes tr[data-outcome=${outcome}] td[data-span=hour]`, (cell: any) => cell.textContent);
  expect([await hour('accepted'), await hour('duplicate'), await hour('rejected'), await hour('unavailable')]).toEqual(['1', '1', '1', '0']);
  expect(await page.$eval('tr.delivery[data-outcome=accepted]', (row: any) => row.textContent)).toContain('Audit:Create');
  expect(await page.$eval('tr.delivery[data-outcome=rejected]', (row: any) => row.textContent)).toContain('invalid_signature');
}, 45_000);

test('a CRM that refuses makes a dead letter, with its attempts and last error, masked', async () => {
  // The CRM refuses (400): a dead letter at once, with its attempts and the last error.
  await waitInPage(page, `document.querySelector('${deadRow}[data-state=dead]') !== null`);
  expect(await page.$eval(`${deadRow} td:nth-child(5)`, (cell: any) => cell.textContent)).toBe('1');
  expect(await page.$eval(`${deadRow} td.last-error`, (cell: any) => cell.textContent)).toBe('rejected: HTTP 400');
  expect(crm.received).toHaveLength(1);

  // Masked everywhere, the item's own view included.
  await page.click(`${deadRow} button.details`);
  await waitInPage(page, 'document.querySelector("pre.item.masked") !== null');
  const masked = await page.content();
  for (const value of PERSONAL) expect(masked).not.toContain(value);
  expect(masked).toContain('m***@example.com');
  expect(masked).toContain('M*** C***');
}, 45_000);

test("another site's page cannot replay", async () => {
  // Another site's page posts to the replay action: refused, nothing replayed.
  const refusedStatus = await inOtherTab(browser, page, async (other) => {
    const refused = other.waitForResponse((response) => response.url() === `${consoleUrl}/api/replay` && response.request().method() === 'POST' && response.request().resourceType() === 'document');
    await other.goto(`${attacker}/?target=${encodeURIComponent(`${consoleUrl}/api/replay`)}`);
    return (await refused).status();
  });
  expect(refusedStatus).toBe(403);
  expect((await state()).outbox.rows.find((row) => row.name === `Audit:Create/${AUDIT_ID}`)?.state).toBe('dead');
  expect(crm.received).toHaveLength(1);
  expect(receiver.logs.filter((line) => line.message === 'console action refused').length).toBeGreaterThanOrEqual(1);
}, 45_000);

test('the page is accessible; a replay from the page is delivered once the CRM is healthy', async () => {
  await expectAccessible(page);
  await screenshot(page, 'receiver-console');

  // The CRM is healthy again: replayed from the page, delivered, and the CRM has the item.
  crm.status = 200;
  await page.click(`${deadRow} button.replay`);
  await waitInPage(page, `document.querySelector('${deadRow}[data-state=delivered]') !== null`);
  expect(await page.$eval('[role=status]', (el: any) => el.textContent)).toContain('replayed, pending delivery again');
  expect(crm.received).toHaveLength(2);
  expect(crm.received[1]).toMatchObject({ status: 200, item: { id: AUDIT_ID, email: 'mei.chen@example.com' } });
}, 45_000);

test('one item is revealed and hidden again, nothing personal reaches the logs, and the page had no errors', async () => {
  // One item revealed through the protected action, and hidden again.
  await page.click(`${deadRow} button.reveal`);
  await waitInPage(page, 'document.querySelector("pre.item.revealed") !== null');
  expect(await page.$eval('pre.item.revealed', (el: any) => el.textContent)).toContain('mei.chen@example.com');
  await page.click(`${deadRow} button.hide`);
  await waitInPage(page, 'document.querySelector("pre.item.revealed") === null');
  expect(await page.content()).not.toContain('mei.chen@example.com');

  // Nothing personal reached the logs, the reveal included.
  const logs = receiver.logs.map((line) => JSON.stringify(line)).join('\n');
  for (const value of ['mei.chen@example.com', '9374 4000', 'Bondi Road']) expect(logs).not.toContain(value);
  expect(receiver.logs.some((line) => line.message === 'item revealed in the console' && line.event_id === AUDIT_ID)).toBe(true);

  await expectAccessible(page);
  expectNoPageErrors(watched);
}, 45_000);

test('an action without the console token, or to another host name, is refused', async () => {
  const name = `Audit:Create/${AUDIT_ID}`;
  const noToken = await fetch(`${consoleUrl}/api/reveal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(noToken.status).toBe(403);
  expect(await noToken.text()).not.toContain('mei.chen');
  // A DNS name pointed at 127.0.0.1 (rebinding): the console answers its own host name only.
  const port = new URL(consoleUrl).port;
  const rebound = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/console/api/state', headers: { host: `attacker.example:${port}` } }, (res: IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(rebound).toBe(421);
  // The console's JSON is never cached.
  expect((await fetch(`${consoleUrl}/api/state`)).headers.get('cache-control')).toBe('no-store');
});
