/**
 * The sandbox console's server side over real HTTP: a redelivery keeps the webhook-id and is signed
 * again, the catch endpoint verifies with the subscription's secret and rejects a tampered body,
 * the actions refuse requests without the console token or from another origin, and the live stream
 * starts with the sandbox's real state.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { verifyDelivery } from '../../src/core/signature';
import type { DeliveryRequest, SandboxServer } from '../../src/sandbox/server';
import { startWatchedSandbox } from './contract-watch';

const SCHEDULE = { baseDelayMs: 50, capDelayMs: 200, maxAttempts: 2, timeoutMs: 10_000 };
let sandbox: SandboxServer;
let sent: DeliveryRequest[];

beforeEach(async () => {
  sent = [];
  sandbox = await startWatchedSandbox({ delivery: SCHEDULE, onDelivery: (d) => sent.push(d) });
});

afterEach(async () => {
  await sandbox.close();
});

const action = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-token': sandbox.console.token, ...headers },
    body: JSON.stringify(body),
  });

/** Waits, bounded, until the clock is in a later second than `unixSeconds`. */
async function nextSecond(unixSeconds: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (Math.floor(Date.now() / 1000) <= unixSeconds) {
    if (Date.now() > deadline) throw new Error('the clock did not move');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a redelivery keeps the webhook-id and body, with a fresh timestamp and a signature that verifies', async () => {
  const received: Array<Record<string, string | string[] | undefined>> = [];
  const receiver = http.createServer((req, res) => {
    received.push(req.headers);
    req.resume().on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const uri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const res = await fetch(`${sandbox.apiBaseUrl}/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'webhook', event: 'Audit:Create', uri, filters: {} }),
    });
    const sub = (await res.json()) as { id: string; secret: string };
    sandbox.fire('Audit:Create');
    await sandbox.settled(10_000);
    const [first] = sandbox.console.history.allDeliveries();
    await nextSecond(Number(sent[0]!.headers['webhook-timestamp']));

    const answer = await action('/console/api/redeliver', { delivery_id: first!.id });
    expect(answer.status).toBe(202);
    const { delivery_id: again } = (await answer.json()) as { delivery_id: string };
    await sandbox.settled(10_000);

    expect(sent).toHaveLength(2);
    const [a, b] = sent as [DeliveryRequest, DeliveryRequest];
    expect([a.deliveryId, b.deliveryId]).toEqual([first!.id, again]);
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(b.body).toBe(a.body);
    expect(Number(b.headers['webhook-timestamp'])).toBeGreaterThan(Number(a.headers['webhook-timestamp']));
    expect(b.headers['webhook-signature']).not.toBe(a.headers['webhook-signature']);
    for (const d of [a, b]) {
      const check = verifyDelivery(sub.secret, { webhookId: d.headers['webhook-id'], webhookTimestamp: d.headers['webhook-timestamp'], webhookSignature: d.headers['webhook-signature'], bodies: [d.body] }, new Date());
      expect(check.ok).toBe(true);
    }
    expect(received).toHaveLength(2);
    expect(sandbox.console.history.delivery(again)).toMatchObject({ redeliveryOf: first!.id, state: 'delivered' });

    // The detail route shows both sends, the signatures shortened.
    const detail = (await (await fetch(`${sandbox.url}/console/api/deliveries/${first!.id}`)).json()) as { sends: Array<{ headers: Record<string, string> }>; body: string };
    expect(detail.sends.map((s) => s.headers['webhook-signature'])).toEqual([
      `${a.headers['webhook-signature']!.slice(0, 11)}…`,
      `${b.headers['webhook-signature']!.slice(0, 11)}…`,
    ]);
    expect(detail.body).toBe(a.body);
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});

test('the catch endpoint verifies real deliveries and rejects a tampered body or a missing signature', async () => {
  const subscribed = await action('/console/api/catch', {});
  expect(subscribed.status).toBe(200);
  expect(sandbox.subscriptions().filter((s) => s.uri === sandbox.console.catchUrl)).toHaveLength(6);

  sandbox.fire('RequestQuote:Create');
  await sandbox.settled(10_000);
  const [delivery] = sandbox.console.history.allDeliveries();
  expect(delivery).toMatchObject({ state: 'delivered', attempts: [{ attempt: 1, status: 204, verification: { ok: true } }] });

  const original = sent[0]!;
  const post = (body: string, headers: Record<string, string>) =>
    fetch(sandbox.console.catchUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = {
    'webhook-id': original.headers['webhook-id']!,
    'webhook-timestamp': original.headers['webhook-timestamp']!,
    'webhook-signature': original.headers['webhook-signature']!,
  };
  const tampered = await post(original.body.replace('"RequestQuote:Create"', '"RequestQuote:Create" '), signed);
  expect(tampered.status).toBe(400);
  expect(await tampered.json()).toEqual({ error: { code: 'signature_rejected', message: 'the signature did not match' } });
  const unsigned = await post(original.body, { 'webhook-id': signed['webhook-id'], 'webhook-timestamp': signed['webhook-timestamp'] });
  expect(unsigned.status).toBe(400);
  const untouched = await post(original.body, signed);
  expect(untouched.status).toBe(204);

  expect(sandbox.console.history.caught().map((c) => c.verification)).toEqual([
    { ok: true },
    { ok: false, reason: 'the signature did not match' },
    { ok: false, reason: 'the webhook-signature header is missing' },
    { ok: true },
  ]);
  // Another path under /console/catch/ is not the endpoint.
  expect((await fetch(`${sandbox.url}/console/catch/other`, { method: 'POST', body: '{}' })).status).toBe(404);
});

test('the actions refuse a request without the token or from another origin, and change nothing', async () => {
  const before = sandbox.stats();
  const refused: Array<Record<string, string>> = [{ 'x-console-token': '' }, { origin: 'http://127.0.0.1:1' }, { 'sec-fetch-site': 'cross-site' }];
  for (const headers of refused) {
    for (const path of ['/console/api/fire', '/console/api/catch', '/console/api/redeliver']) {
      const res = await action(path, { event: 'Audit:Create' }, headers);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('cross_site');
    }
  }
  const after = sandbox.stats();
  expect(after.storedEvents).toBe(before.storedEvents);
  expect(after.subscriptions).toBe(0);
  expect(sandbox.console.history.allEvents()).toEqual([]);
});

test('firing from the console reports the API its own answer, the refusals included', async () => {
  const ok = (await (await action('/console/api/fire', { event: 'Audit:Assign', count: 2, data: '' })).json()) as { api_status: number; api_body: { event_ids: string[] } };
  expect(ok.api_status).toBe(202);
  expect(ok.api_body.event_ids).toHaveLength(2);
  const bad = (await (await action('/console/api/fire', { event: 'Audit:Assign', data: '{"occurred_at": "yesterday"}' })).json()) as { api_status: number; api_body: unknown };
  expect(bad).toEqual({ api_status: 400, api_body: { error: { code: 'invalid_event_data', message: 'the event would not be valid: data.occurred_at: expected an ISO-8601 UTC time' } } });
  const noEvent = (await (await action('/console/api/fire', { event: 'Audit:Nope' })).json()) as { api_status: number; api_body: { error: { code: string } } };
  expect([noEvent.api_status, noEvent.api_body.error.code]).toEqual([400, 'invalid_event']);
  const notJson = await action('/console/api/fire', { event: 'Audit:Assign', data: '{nope' });
  expect(notJson.status).toBe(400);
  expect(sandbox.console.history.allEvents().map((e) => e.event)).toEqual(['Audit:Assign', 'Audit:Assign']);
});

test('the page and the stream: the console token in the page, a snapshot of the real state first', async () => {
  const page = await fetch(`${sandbox.url}/console`);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(await page.text()).toContain(`data-token="${sandbox.console.token}"`);
  sandbox.fire('Audit:Simulate');
  const controller = new AbortController();
  const stream = await fetch(`${sandbox.url}/console/stream`, { signal: controller.signal });
  expect(stream.headers.get('content-type')).toContain('text/event-stream');
  const reader = stream.body!.getReader();
  let text = '';
  while (!text.includes('\n\n', text.indexOf('event: snapshot'))) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  const data = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)![1]!) as { timeline: Array<{ event: string }>; subscriptions: unknown[]; catch_url: string };
  expect(data.timeline.map((e) => e.event)).toEqual(['Audit:Simulate']);
  expect(data.subscriptions).toEqual([]);
  expect(data.catch_url).toBe(sandbox.console.catchUrl);
});
