import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { eventDefinition } from '../../src/core/event-registry';
import { normaliseDelivery } from '../../src/core/normalise';
import { FORWARD_SCHEDULE, forwardDelayMs, forwardItem, forwardTarget, type ForwardOutcome } from '../../src/receiver/forward';
import type { HandOffItem } from '../../src/receiver/hand-off';

// The real item shape: the quote request fixture through the same normalisation a Zap sees.
const body = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'quote_request_created.json'), 'utf8'));
const definition = eventDefinition('RequestQuote:Create');
const [zapItem] = normaliseDelivery(definition, body, { receivedAt: new Date('2026-11-27T02:08:40Z') }).items;
const item: HandOffItem = { eventId: zapItem!.id, event: definition.event, item: zapItem! };

// A CRM webhook URL with its token in the query, as many are.
const TOKEN = 's3cr3t-t0ken-9f8e7d';
const ORIGIN = 'https://crm.example.com';
const PATH = '/hooks/catch/4711/ab12';
const target = forwardTarget(`${ORIGIN}${PATH}?token=${TOKEN}`);
const crm = () => nock(ORIGIN).post(PATH).query({ token: TOKEN });

// Values from the sample that must never reach a reason (and so a log).
const SECRETS = [TOKEN, 'jack.thompson@example.com.au', '0423 456 789', '+61423456789', 'Thompson', 'Banksia', PATH];
const expectClean = (outcome: ForwardOutcome) => {
  const text = JSON.stringify(outcome);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

afterEach(() => {
  nock.cleanAll();
});

describe('forwardItem', () => {
  it('POSTs exactly the item as JSON with the documented headers and reports delivered on 2xx', async () => {
    let seenBody: unknown;
    const scope = nock(ORIGIN, {
      reqheaders: {
        'content-type': 'application/json',
        'user-agent': 'Ecologic-Receiver/1.0',
        'idempotency-key': 'RequestQuote:Create/evt_01JDX2E7V9X1Z3B5D7F9H1K3QC',
        'x-ecologic-event': 'RequestQuote:Create',
      },
    })
      .post(PATH, (sent) => {
        seenBody = sent;
        return true;
      })
      .query({ token: TOKEN })
      .reply(200, { ok: true });

    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'delivered', status: 200 });
    expect(scope.isDone()).toBe(true);
    expect(seenBody).toEqual(JSON.parse(JSON.stringify(item.item)));
  });

  it('reports the 2xx status it got (201, 204)', async () => {
    crm().reply(201);
    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'delivered', status: 201 });
    crm().reply(204);
    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'delivered', status: 204 });
  });

  it('percent-encodes an event id that is not printable ASCII instead of failing every attempt', async () => {
    const scope = nock(ORIGIN, { reqheaders: { 'idempotency-key': 'RequestQuote:Create/evt_%C3%BC%0A1' } }).post(PATH).query(true).reply(200);
    await expect(forwardItem(target, { ...item, eventId: 'evt_ü\n1' })).resolves.toMatchObject({ kind: 'delivered' });
    expect(scope.isDone()).toBe(true);
  });

  it('retries 429 and honours Retry-After in seconds', async () => {
    crm().reply(429, 'slow down', { 'Retry-After': '120' });
    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 120_000 });
  });

  it('retries 429 and honours Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    crm().reply(429, '', { 'Retry-After': at });
    const outcome = await forwardItem(target, item);
    expect(outcome).toMatchObject({ kind: 'retry', reason: 'HTTP 429' });
    // HTTP dates have whole seconds: 89-90 s remain.
    const after = (outcome as { retryAfterMs?: number }).retryAfterMs!;
    expect(after).toBeGreaterThan(85_000);
    expect(after).toBeLessThanOrEqual(90_000);
  });

  it.each([500, 502, 503, 504, 408, 425])('retries HTTP %i', async (status) => {
    crm().reply(status, 'down');
    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'retry', reason: `HTTP ${status}` });
  });

  it('keeps a 503 Retry-After', async () => {
    crm().reply(503, '', { 'Retry-After': '7' });
    await expect(forwardItem(target, item)).resolves.toEqual({ kind: 'retry', reason: 'HTTP 503', retryAfterMs: 7_000 });
  });

  // nock 15.0.0's delay() holds back the end of the body, after the status line: the timeout must
  // cover the whole answer, or a stalled 200 would count as delivered.
  it('retries when the answer does not arrive in full within the timeout (nock delay)', async () => {
    // (short delays: nock's timer cannot be cancelled and would hold jest open)
    crm().delay(600).reply(200, 'ok');
    const started = Date.now();
    const outcome = await forwardItem(target, item, { timeoutMs: 60 });
    expect(outcome).toEqual({ kind: 'retry', reason: 'timeout after 60 ms' });
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('retries when no status arrives within the timeout', async () => {
    let timer: NodeJS.Timeout | undefined;
    crm().reply(() => new Promise((resolve) => (timer = setTimeout(() => resolve([200, 'late']), 2_000))));
    const started = Date.now();
    const outcome = await forwardItem(target, item, { timeoutMs: 100 });
    clearTimeout(timer);
    expect(outcome).toEqual({ kind: 'retry', reason: 'timeout after 100 ms' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('counts a prompt answer inside the timeout as delivered', async () => {
    crm().delay(20).reply(200, 'ok');
    await expect(forwardItem(target, item, { timeoutMs: 1_000 })).resolves.toEqual({ kind: 'delivered', status: 200 });
  });

  it('retries on a network error, naming its code only', async () => {
    // (nock 15.0.0 cannot replay a plain-object error through fetch: an Error with a code instead)
    crm().replyWithError(Object.assign(new Error(`socket hang up at ${ORIGIN}${PATH}?token=${TOKEN}`), { code: 'ECONNRESET' }));
    const reset = await forwardItem(target, item);
    expect(reset).toEqual({ kind: 'retry', reason: 'network error (ECONNRESET)' });

    crm().replyWithError(`connect failed for jack.thompson@example.com.au ${TOKEN}`);
    const other = await forwardItem(target, item);
    expect(other).toMatchObject({ kind: 'retry' });
    expect((other as { reason: string }).reason).toMatch(/^network error/);
    expectClean(reset);
    expectClean(other);
  });

  it.each([400, 401, 404, 410, 422])('rejects HTTP %i: retrying cannot help', async (status) => {
    crm().reply(status, { error: 'bad', echo: item.item });
    const outcome = await forwardItem(target, item);
    expect(outcome).toEqual({ kind: 'rejected', reason: `HTTP ${status}` });
    expectClean(outcome);
  });

  it.each([301, 302, 307, 308])('rejects a %i redirect without following it', async (status) => {
    crm().reply(status, '', { Location: 'https://elsewhere.example.net/catch' });
    const elsewhere = nock('https://elsewhere.example.net').post('/catch').reply(200);
    const outcome = await forwardItem(target, item);
    expect(outcome.kind).toBe('rejected');
    expect((outcome as { reason: string }).reason).toContain(`HTTP ${status}`);
    expect((outcome as { reason: string }).reason).toContain('redirect');
    expect(elsewhere.isDone()).toBe(false);
  });

  it('puts no payload value, path or token into any reason', async () => {
    const outcomes: ForwardOutcome[] = [];
    for (const status of [400, 429, 500]) {
      crm().reply(status, JSON.stringify(item.item), { 'Content-Type': 'application/json' });
      outcomes.push(await forwardItem(target, item));
    }
    crm().delay(300).reply(200);
    outcomes.push(await forwardItem(target, item, { timeoutMs: 20 }));
    crm().replyWithError(new Error(`refused ${TOKEN} jack.thompson@example.com.au`));
    outcomes.push(await forwardItem(target, item));
    expect(outcomes.map((o) => o.kind)).toEqual(['rejected', 'retry', 'retry', 'retry', 'retry']);
    outcomes.forEach(expectClean);
  });
});

describe('forwardTarget', () => {
  it('accepts https anywhere and http to loopback hosts', () => {
    expect(forwardTarget('https://crm.example.com/hook?token=x').href).toBe('https://crm.example.com/hook?token=x');
    expect(forwardTarget('http://127.0.0.1:8080/hook').hostname).toBe('127.0.0.1');
    expect(forwardTarget('http://localhost:3000/').hostname).toBe('localhost');
    expect(forwardTarget('http://[::1]:9000/x').port).toBe('9000');
  });

  it.each([
    ['http://example.com/hook?token=abc123secret', /https/],
    ['http://10.0.0.5/hook?token=abc123secret', /loopback/],
    ['ftp://example.com/hook?token=abc123secret', /https/],
    ['file:///etc/passwd', /https/],
    ['not a url abc123secret', /valid/],
    ['', /valid/],
    ['https://user:abc123secret@crm.example.com/hook', /user name or password/],
  ])('refuses %s, naming the rule but not the URL', (url, rule) => {
    let message = '';
    try {
      forwardTarget(url);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(rule);
    expect(message).not.toContain('abc123secret');
    expect(message).not.toContain('example.com');
  });
});

describe('forwardDelayMs', () => {
  const { baseDelayMs, capDelayMs } = FORWARD_SCHEDULE;

  it('has the documented schedule, frozen', () => {
    expect(FORWARD_SCHEDULE).toEqual({ baseDelayMs: 2_000, capDelayMs: 900_000, maxAttempts: 8, timeoutMs: 10_000 });
    expect(Object.isFrozen(FORWARD_SCHEDULE)).toBe(true);
  });

  it('picks uniformly below base * 2^(attempt-1) (full jitter)', () => {
    expect(forwardDelayMs(1, () => 0)).toBe(0);
    expect(forwardDelayMs(1, () => 0.5)).toBe(baseDelayMs / 2);
    expect(forwardDelayMs(1, () => 0.999999)).toBeLessThan(baseDelayMs);
    expect(forwardDelayMs(1, () => 0.999999)).toBeGreaterThan(baseDelayMs - 2);
    expect(forwardDelayMs(3, () => 0.5)).toBe(4_000);
    expect(forwardDelayMs(8, () => 0.5)).toBe(128_000);
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(forwardDelayMs(10, () => 0.999999)).toBeLessThanOrEqual(capDelayMs);
    expect(forwardDelayMs(10, () => 0.999999)).toBeGreaterThan(capDelayMs - 1_000);
    expect(forwardDelayMs(5_000, () => 0.999999)).toBeLessThanOrEqual(capDelayMs);
    expect(forwardDelayMs(5_000, () => 1)).toBe(capDelayMs);
  });

  it('honours a longer Retry-After, capped, and ignores a shorter one', () => {
    expect(forwardDelayMs(1, () => 0, 60_000)).toBe(60_000);
    expect(forwardDelayMs(1, () => 0, 24 * 3_600_000)).toBe(capDelayMs);
    expect(forwardDelayMs(8, () => 0.5, 1_000)).toBe(128_000);
    expect(forwardDelayMs(1, () => 0.5, 0)).toBe(1_000);
  });

  it('uses a given schedule (the forwarder passes its own)', () => {
    expect(forwardDelayMs(3, () => 0.5, undefined, { baseDelayMs: 10, capDelayMs: 30 })).toBe(15);
    expect(forwardDelayMs(1, () => 0, 1_000, { baseDelayMs: 10, capDelayMs: 30 })).toBe(30);
  });

  it('refuses an attempt below 1', () => {
    expect(() => forwardDelayMs(0)).toThrow(RangeError);
    expect(() => forwardDelayMs(1.5)).toThrow(RangeError);
  });

  it('stays within [0, ceiling) for any random draw', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const ceiling = Math.min(capDelayMs, baseDelayMs * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.37, 0.5, 0.9, 0.999]) {
        const delay = forwardDelayMs(attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });
});
