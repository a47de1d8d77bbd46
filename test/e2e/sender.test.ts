/**
 * The sandbox's webhook sender: the backoff schedule and Retry-After arithmetic, and its behaviour
 * against a bare loopback receiver (no app involved).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

import { newWebhookSecret } from '../../src/sandbox/fixtures';
import {
  type AttemptReport,
  backoffCeilingMs,
  PRODUCTION_SCHEDULE,
  retryDelayMs,
  WebhookSender,
} from '../../src/sandbox/sender';
import { retryAfterMs } from '../../src/core/net';
import { waitUntil } from '../support/bounded-wait';

describe('backoff schedule (contract 3.4)', () => {
  test('retry n waits at most min(cap, base * 2^(n-1)) with the production numbers', () => {
    expect(backoffCeilingMs(1, PRODUCTION_SCHEDULE)).toBe(5_000);
    expect(backoffCeilingMs(2, PRODUCTION_SCHEDULE)).toBe(10_000);
    expect(backoffCeilingMs(4, PRODUCTION_SCHEDULE)).toBe(40_000);
    expect(backoffCeilingMs(11, PRODUCTION_SCHEDULE)).toBe(5_120_000);
    expect(backoffCeilingMs(12, PRODUCTION_SCHEDULE)).toBe(7_200_000);
    expect(backoffCeilingMs(2000, PRODUCTION_SCHEDULE)).toBe(7_200_000);
    expect(() => backoffCeilingMs(0, PRODUCTION_SCHEDULE)).toThrow(RangeError);
  });

  test('12 attempts fit in the 24-hour horizon even at the longest waits', () => {
    let worst = 0;
    for (let n = 1; n < PRODUCTION_SCHEDULE.maxAttempts; n++) worst += backoffCeilingMs(n, PRODUCTION_SCHEDULE);
    expect(PRODUCTION_SCHEDULE.maxAttempts).toBe(12);
    expect(worst).toBeLessThan(PRODUCTION_SCHEDULE.horizonMs);
  });

  test('full jitter spans [0, ceiling]', () => {
    const s = { baseDelayMs: 100, capDelayMs: 1000 };
    expect(retryDelayMs(3, s, () => 0)).toBe(0);
    expect(retryDelayMs(3, s, () => 0.5)).toBe(200);
    expect(retryDelayMs(3, s, () => 0.999999)).toBe(399);
    expect(retryDelayMs(9, s, () => 0.999999)).toBe(999);
  });

  test('a longer Retry-After is honoured, capped at the step after; a shorter one is ignored', () => {
    const s = { baseDelayMs: 100, capDelayMs: 10_000 };
    expect(retryDelayMs(1, s, () => 0, 150)).toBe(150); // longer than the jittered 0, under ceiling(2) = 200
    expect(retryDelayMs(1, s, () => 0, 60_000)).toBe(200); // capped at ceiling(2)
    expect(retryDelayMs(1, s, () => 0.9, 10)).toBe(90); // shorter than the backoff: backoff wins
    expect(retryDelayMs(20, s, () => 0, 60_000)).toBe(10_000); // never past the cap
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2026-11-27T03:15:00Z');
  test.each([
    ['120', 120_000],
    [' 5 ', 5_000],
    ['0', 0],
    ['Fri, 27 Nov 2026 03:16:30 GMT', 90_000],
    ['Fri, 27 Nov 2026 03:00:00 GMT', 0],
  ])('%p -> %p ms', (value, ms) => {
    expect(retryAfterMs(value, now)).toBe(ms);
  });

  test.each([[undefined], [''], ['soon'], ['-1'], ['1.5']])('%p is not a usable Retry-After', (value) => {
    expect(retryAfterMs(value, now)).toBeUndefined();
  });

  test('the first of repeated headers counts', () => {
    expect(retryAfterMs(['3', '9'], now)).toBe(3_000);
  });
});

interface Hit {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver whose answers the test scripts, one per request. */
async function receiver(
  answer: (hit: Hit, n: number, res: http.ServerResponse) => void,
): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      answer(hit, hits.length, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      if (!server.listening) return r();
      server.close(() => r());
      server.closeAllConnections();
    });
  cleanups.push(close);
  return { url: `http://127.0.0.1:${port}/hooks/x/`, hits, close };
}

/**
 * Tiny waits between retries; production's timeout, far above what the scripted receivers below take
 * to answer even on a busy machine, so that no attempt here times out unless a test makes it (by
 * never answering, with a short timeout of its own).
 */
const TINY = { baseDelayMs: 1, capDelayMs: 5, maxAttempts: 5, timeoutMs: PRODUCTION_SCHEDULE.timeoutMs };
/** The bound of a wait for deliveries to end: a few loopback requests end well within it on a busy machine. */
const SETTLE_MS = 10_000;

/** Closed after each test, whether it passed or not. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function senderFor(
  uri: string,
  extra: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {},
  signing: 'signed' | 'unsigned' = 'signed',
): { sender: WebhookSender; reports: AttemptReport[]; secret: string | undefined } {
  const secret = signing === 'signed' ? newWebhookSecret() : undefined;
  const reports: AttemptReport[] = [];
  const sender = track(new WebhookSender({
    schedule: TINY,
    lookup: (id) => (id === 'ntf_1' ? { id, uri, secret } : undefined),
    onAttempt: (r) => reports.push(r),
    ...extra,
  }));
  return { sender, reports, secret };
}

function track(sender: WebhookSender): WebhookSender {
  cleanups.push(() => sender.close());
  return sender;
}

describe('WebhookSender against a loopback receiver', () => {
  const body = JSON.stringify({ event_id: 'evt_1', event: 'Audit:Create', occurred_at: '2026-11-27T03:15:00Z' });

  test('retries 5xx with the same webhook-id and a fresh, valid signature per attempt', async () => {
    const rx = await receiver((_h, n, res) => {
      res.writeHead(n < 3 ? 503 : 204);
      res.end();
    });
    let clock = Date.parse('2026-11-27T03:15:00Z');
    const { sender, reports, secret } = senderFor(rx.url, { now: () => (clock += 1000) });
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(rx.hits).toHaveLength(3);
    expect(rx.hits.map((h) => h.headers['webhook-id'])).toEqual(['evt_1', 'evt_1', 'evt_1']);
    expect(rx.hits.map((h) => h.body)).toEqual([body, body, body]);
    const stamps = rx.hits.map((h) => Number(h.headers['webhook-timestamp']));
    expect(new Set(stamps).size).toBe(3);
    expect(new Set(rx.hits.map((h) => h.headers['webhook-signature'])).size).toBe(3);
    for (const h of rx.hits) {
      const expected = new Webhook(secret!).sign('evt_1', new Date(Number(h.headers['webhook-timestamp']) * 1000), body);
      expect(h.headers['webhook-signature']).toBe(expected);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['user-agent']).toBe('Ecologic-Webhooks/1.0');
    }
    expect(reports.map((r) => r.outcome)).toEqual(['server_error', 'server_error', 'success']);
    expect(sender.stats()).toMatchObject({ enqueued: 1, attempts: 3, delivered: 1, failedAttempts: 2, gaveUp: 0, pending: 0 });
    sender.close();
    await rx.close();
  });

  test('an unsigned subscription gets no webhook-signature header', async () => {
    const rx = await receiver((_h, _n, res) => res.writeHead(200).end());
    const { sender } = senderFor(rx.url, {}, 'unsigned');
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(rx.hits[0]?.headers['webhook-signature']).toBeUndefined();
    expect(rx.hits[0]?.headers['webhook-id']).toBe('evt_1');
    sender.close();
    await rx.close();
  });

  test('a 3xx is a failure and is not followed', async () => {
    const rx = await receiver((h, _n, res) => {
      if (h.path.startsWith('/elsewhere')) res.writeHead(200).end();
      else res.writeHead(302, { Location: '/elsewhere' }).end();
    });
    const { sender, reports } = senderFor(rx.url);
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(rx.hits.every((h) => h.path === '/hooks/x/')).toBe(true);
    expect(reports.map((r) => r.outcome)).toEqual(Array(TINY.maxAttempts).fill('redirect'));
    expect(sender.stats()).toMatchObject({ gaveUp: 1, delivered: 0, attempts: TINY.maxAttempts });
    sender.close();
    await rx.close();
  });

  test('410 removes the subscription: onGone once, and its other pending deliveries are dropped', async () => {
    const rx = await receiver((_h, _n, res) => res.writeHead(410).end());
    let deleted = false;
    const gone: string[] = [];
    const sender = track(new WebhookSender({
      schedule: TINY,
      concurrency: 1,
      lookup: (id) => (deleted ? undefined : { id, uri: rx.url }),
      onGone: (id) => {
        gone.push(id);
        deleted = true;
      },
    }));
    for (let i = 0; i < 5; i++) sender.enqueue('ntf_1', `evt_${i}`, body);
    await sender.settled(SETTLE_MS);
    expect(gone).toEqual(['ntf_1']);
    expect(rx.hits).toHaveLength(1);
    expect(sender.stats()).toMatchObject({ gone: 1, cancelled: 4, attempts: 1 });
    sender.close();
    await rx.close();
  });

  test('a 429 waits for Retry-After, capped at the next backoff step', async () => {
    const rx = await receiver((_h, n, res) => res.writeHead(n === 1 ? 429 : 200, { 'Retry-After': '1' }).end());
    const { sender, reports } = senderFor(rx.url, { schedule: { ...TINY, baseDelayMs: 20, capDelayMs: 1000 }, random: () => 0 });
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(reports[0]).toMatchObject({ outcome: 'rate_limited', status: 429, retryInMs: 40 });
    expect(reports[1]).toMatchObject({ outcome: 'success', result: 'delivered' });
    sender.close();
    await rx.close();
  });

  test('no answer within the timeout is a failure; the sender gives up after maxAttempts', async () => {
    // A short timeout, against a receiver that never answers: timeouts however slow the machine.
    const rx = await receiver(() => undefined);
    const { sender, reports } = senderFor(rx.url, { schedule: { ...TINY, maxAttempts: 3, timeoutMs: 100 } });
    const started = Date.now();
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(reports.map((r) => r.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(reports[2]?.result).toBe('gave_up');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    sender.close();
    await rx.close();
  });

  test('no retry starts later than 24 hours after the first attempt, even with attempts left', async () => {
    // The horizon is measured with Date.now (the `now` option only stamps signatures): a fake
    // clock that the receiver moves 6 hours on at every attempt, with no wait between attempts.
    const HOUR = 3600_000;
    let clock = Date.parse('2026-11-27T03:15:00Z');
    const clockSpy = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    cleanups.push(() => clockSpy.mockRestore());
    const rx = await receiver((_h, _n, res) => {
      clock += 6 * HOUR;
      res.writeHead(503).end();
    });
    const { sender, reports } = senderFor(rx.url, { schedule: { ...TINY, maxAttempts: 12 }, random: () => 0 });
    expect(sender.schedule.horizonMs).toBe(24 * HOUR); // the production horizon
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    clockSpy.mockRestore();
    // Attempts at +0, +6, +12, +18 and +24 h (at the horizon, not past it); the next would be at +30 h.
    expect(rx.hits).toHaveLength(5);
    expect(rx.hits.map((h) => Number(h.headers['webhook-timestamp']) - Number(rx.hits[0]!.headers['webhook-timestamp']))).toEqual(
      [0, 6, 12, 18, 24].map((h) => h * 3600),
    );
    expect(reports.map((r) => r.outcome)).toEqual(Array(5).fill('server_error'));
    expect(reports.slice(0, 4).map((r) => r.retryInMs)).toEqual([0, 0, 0, 0]);
    expect(reports[4]).toMatchObject({ attempt: 5, result: 'gave_up' });
    expect(reports[4]).not.toHaveProperty('retryInMs');
    expect(sender.stats()).toMatchObject({ attempts: 5, failedAttempts: 5, gaveUp: 1, delivered: 0, pending: 0 });
    sender.close();
    await rx.close();
  });

  test('a refused or dropped connection is a failure and is retried', async () => {
    const rx = await receiver((_h, n, res) => {
      if (n === 1) res.socket?.destroy();
      else res.writeHead(200).end();
    });
    const { sender, reports } = senderFor(rx.url);
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(reports.map((r) => r.outcome)).toEqual(['network', 'success']);
    sender.close();
    await rx.close();

    const refused = senderFor(rx.url); // the receiver is closed now
    refused.sender.enqueue('ntf_1', 'evt_1', body);
    await refused.sender.settled(SETTLE_MS);
    expect(refused.reports.map((r) => r.outcome)).toEqual(Array(TINY.maxAttempts).fill('network'));
    refused.sender.close();
  });

  test('a deleted subscription gets nothing more, pending retries included', async () => {
    const rx = await receiver((_h, _n, res) => res.writeHead(500).end());
    let deleted = false;
    const sender = track(new WebhookSender({
      schedule: { ...TINY, baseDelayMs: 60_000, capDelayMs: 60_000 },
      random: () => 0.5,
      lookup: (id) => (deleted ? undefined : { id, uri: rx.url }),
    }));
    sender.enqueue('ntf_1', 'evt_1', body);
    await waitUntil(() => rx.hits.length > 0 && sender.stats().failedAttempts > 0, {
      what: 'the first attempt to fail',
      timeoutMs: SETTLE_MS,
      state: () => ({ hits: rx.hits.length, sender: sender.stats() }),
    });
    deleted = true;
    expect(sender.cancelSubscription('ntf_1')).toBe(1);
    await sender.settled(SETTLE_MS);
    expect(rx.hits).toHaveLength(1);
    expect(sender.stats()).toMatchObject({ cancelled: 1, pending: 0 });
    sender.close();
    await rx.close();
  });

  test('it never sends off the machine', async () => {
    const { sender, reports } = senderFor('https://hooks.zapier.com/hooks/standard/1/abc/');
    sender.enqueue('ntf_1', 'evt_1', body);
    await sender.settled(SETTLE_MS);
    expect(reports).toEqual([expect.objectContaining({ outcome: 'blocked', result: 'blocked' })]);
    sender.close();
  });

  test('in-flight requests stay within the concurrency bound', async () => {
    // The receiver holds its answers, and gives one (the oldest) only once every request the sender
    // has sent so far has arrived: then every request the sender would have in flight at once is
    // open here at once, however slow the machine, and none is answered before the others arrived.
    let sent = 0;
    let open = 0;
    let most = 0;
    const held: http.ServerResponse[] = [];
    const answer = (res: http.ServerResponse | undefined): void => {
      if (!res) return;
      open--;
      res.writeHead(200).end();
    };
    const rx = await receiver((_h, n, res) => {
      open++;
      most = Math.max(most, open);
      held.push(res);
      if (n === 12) while (held.length > 0) answer(held.shift());
      else if (n === sent) answer(held.shift());
    });
    const { sender } = senderFor(rx.url, { concurrency: 3, onSend: () => void sent++ });
    for (let i = 0; i < 12; i++) sender.enqueue('ntf_1', `evt_${i}`, body);
    await sender.settled(SETTLE_MS);
    expect(rx.hits).toHaveLength(12);
    expect(sent).toBe(12);
    expect(most).toBe(3);
    sender.close();
    await rx.close();
  });
});
