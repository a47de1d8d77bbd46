import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { EventRef } from '../../src/receiver/store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import nock from 'nock';
import { forwardTarget, type ForwardSchedule } from '../../src/receiver/forward';
import { memoryLog } from '../../src/receiver/log';
import { startLocalForwarder, type LocalForwarder } from '../../src/receiver/local/forwarder';
import { openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { replayLocal } from '../../src/receiver/local/replay';
import { fixture, handOffItem } from '../support/receiver-kit';

/** A row's identity (event and id) as the outbox holds it; an id it does not hold as an Audit:Create. */
const refOf = (outbox: Pick<SqliteOutbox, 'find'>, eventId: string): EventRef => ({ event: outbox.find(eventId)?.event ?? 'Audit:Create', eventId });


// The CRM's catch URL, token in the query.
const TOKEN = 'crm-t0ken-5e6f7a8b';
const ORIGIN = 'https://crm.example.com';
const PATH = '/hooks/catch/4711/ab12';
const target = forwardTarget(`${ORIGIN}${PATH}?token=${TOKEN}`);
const crm = () => nock(ORIGIN).post(PATH).query({ token: TOKEN });

// Milliseconds instead of seconds; random 0.5 makes each wait half its ceiling.
const FAST: Partial<ForwardSchedule> = { baseDelayMs: 4, capDelayMs: 40, maxAttempts: 3, timeoutMs: 500 };

let dir: string;
let outbox: SqliteOutbox;
let log: ReturnType<typeof memoryLog>;
let forwarder: LocalForwarder | undefined;

const start = (options: { concurrency?: number; schedule?: Partial<ForwardSchedule> } = {}) => {
  forwarder = startLocalForwarder(outbox, { target, log, schedule: FAST, pollMs: 10, random: () => 0.5, ...options });
  return forwarder;
};

/** Until no row is pending (retries scheduled a few ms ahead included), or fails after 5 s. */
const settled = async () => {
  const deadline = Date.now() + 5_000;
  for (;;) {
    await forwarder!.idle();
    if (outbox.counts().pending === 0) return;
    if (Date.now() > deadline) throw new Error(`still pending: ${JSON.stringify(outbox.counts())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const logged = (message: string) => log.lines.filter((line) => line.message === message);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'forwarder-'));
  outbox = openSqliteOutbox(join(dir, 'receiver.db'), { lines: null, forwarding: true });
  log = memoryLog();
});

afterEach(async () => {
  await forwarder?.stop();
  forwarder = undefined;
  await outbox.close();
  nock.cleanAll();
  rmSync(dir, { recursive: true, force: true });
});

it('delivers pending items, those already there at start and those sent after', async () => {
  const bodies: unknown[] = [];
  const scope = crm()
    .times(3)
    .matchHeader('idempotency-key', /^[A-Za-z:]+\/evt_/)
    .reply(200, async (request) => {
      // nock 15 hands a reply function the Fetch Request.
      bodies.push(await request.json());
      return { ok: true };
    });
  const a = handOffItem('quote_request_created', 'evt_A1');
  await outbox.send([a]);
  start();
  const b = handOffItem('audit_created', 'evt_B2');
  const c = handOffItem('audit_assigned', 'evt_C3');
  await outbox.send([b, c]);
  await settled();

  expect(scope.isDone()).toBe(true);
  expect(outbox.counts()).toEqual({ pending: 0, delivered: 3, dead: 0, kept: 0, unsent: 0 });
  expect(bodies).toEqual(expect.arrayContaining([a.item, b.item, c.item].map((item) => JSON.parse(JSON.stringify(item)))));
  expect(logged('forwarded').map((line) => [line.event_id, line.attempt, line.outcome, line.status]).sort()).toEqual([
    ['evt_A1', 1, 'delivered', 200],
    ['evt_B2', 1, 'delivered', 200],
    ['evt_C3', 1, 'delivered', 200],
  ]);
  expect(logged('forwarded')[0]).toMatchObject({ target: ORIGIN, level: 'info' });
});

it('retries a 503 after a backoff and then delivers', async () => {
  crm().reply(503, 'maintenance');
  crm().reply(200);
  await outbox.send([handOffItem('quote_request_created', 'evt_A1')]);
  start();
  await settled();

  expect(outbox.find('evt_A1')).toMatchObject({ state: 'delivered', attempts: 2, lastError: null });
  expect(logged('forward failed, will retry')).toEqual([
    expect.objectContaining({ event_id: 'evt_A1', attempt: 1, outcome: 'retry', reason: 'HTTP 503', retry_in_ms: 2, level: 'warn' }),
  ]);
  expect(logged('forwarded')).toEqual([expect.objectContaining({ event_id: 'evt_A1', attempt: 2, outcome: 'delivered' })]);
});

it('waits as long as a 429 Retry-After asks, up to the cap', async () => {
  crm().reply(429, '', { 'Retry-After': '3600' });
  crm().reply(200);
  await outbox.send([handOffItem('audit_created', 'evt_B2')]);
  const started = Date.now();
  start();
  await settled();
  expect(logged('forward failed, will retry')[0]).toMatchObject({ reason: 'HTTP 429', retry_in_ms: 40 });
  expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  expect(outbox.find('evt_B2')?.state).toBe('delivered');
});

it('makes a dead letter after maxAttempts retryable failures, and posts no more', async () => {
  const scope = crm().times(3).reply(503);
  const extra = crm().reply(200);
  await outbox.send([handOffItem('quote_request_created', 'evt_A1')]);
  start();
  await settled();

  expect(scope.isDone()).toBe(true);
  expect(extra.isDone()).toBe(false);
  expect(outbox.find('evt_A1')).toMatchObject({ state: 'dead', attempts: 3, lastError: 'gave up after 3 attempts: HTTP 503' });
  expect(logged('forward failed, will retry').map((line) => line.attempt)).toEqual([1, 2]);
  expect(logged('forward failed, dead letter')).toEqual([
    expect.objectContaining({ event_id: 'evt_A1', attempt: 3, outcome: 'dead', cause: 'retry', reason: 'HTTP 503', level: 'error' }),
  ]);
});

it('makes a rejected item (400) a dead letter at once', async () => {
  const scope = crm().reply(400, { error: 'unknown field' });
  const extra = crm().reply(200);
  await outbox.send([handOffItem('audit_created', 'evt_B2')]);
  start();
  await settled();

  expect(scope.isDone()).toBe(true);
  expect(extra.isDone()).toBe(false);
  expect(outbox.find('evt_B2')).toMatchObject({ state: 'dead', attempts: 1, lastError: 'rejected: HTTP 400' });
  expect(logged('forward failed, dead letter')).toEqual([expect.objectContaining({ event_id: 'evt_B2', attempt: 1, cause: 'rejected' })]);
});

it('delivers a dead letter once replayed from another process (replayLocal)', async () => {
  crm().reply(404);
  const a = handOffItem('quote_request_created', 'evt_A1');
  await outbox.send([a, handOffItem('audit_created', 'evt_B2')]);
  crm().reply(200); // evt_B2
  start({ concurrency: 1 });
  await settled();
  expect(outbox.counts()).toMatchObject({ dead: 1, delivered: 1 });
  const deadId = outbox.dead()[0]!.eventId;
  const deliveredId = deadId === 'evt_A1' ? 'evt_B2' : 'evt_A1';

  // The CRM is fixed; the operator replays.
  let replayedBody: unknown;
  crm().reply(200, async (request) => {
    replayedBody = await request.json();
    return '';
  });
  const out: string[] = [];
  const code = await replayLocal(dir, [deadId, deliveredId, 'evt_ghost'], (line) => out.push(line));
  expect(code).toBe(1);
  expect(out).toEqual([
    `${deadId}: replayed, pending delivery again`,
    `${deliveredId}: not replayed, it was not in the dead letters (state: delivered)`,
    'evt_ghost: not replayed, unknown to this receiver',
    expect.stringMatching(/^1 of 3 replayed\. The running receiver's forwarder delivers them/),
  ]);
  await settled();
  expect(outbox.find(deadId)).toMatchObject({ state: 'delivered', attempts: 1 });
  expect(replayedBody).toEqual(JSON.parse(JSON.stringify(deadId === 'evt_A1' ? a.item : handOffItem('audit_created', 'evt_B2').item)));
});

describe('replayLocal', () => {
  it('exits 0 when every named id was replayed', async () => {
    await outbox.send([handOffItem('audit_created', 'evt_B2')]);
    outbox.markDead(refOf(outbox, 'evt_B2'), 'HTTP 410');
    const out: string[] = [];
    await expect(replayLocal(dir, [' evt_B2 ', 'evt_B2'], (line) => out.push(line))).resolves.toBe(0);
    expect(out[0]).toBe('evt_B2: replayed, pending delivery again');
    expect(outbox.find('evt_B2')).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('exits 2 without ids, and for a data directory without a receiver database (creating none)', async () => {
    const out: string[] = [];
    await expect(replayLocal(dir, [], (line) => out.push(line))).resolves.toBe(2);
    await expect(replayLocal(dir, ['  '], (line) => out.push(line))).resolves.toBe(2);
    const elsewhere = join(dir, 'nowhere');
    await expect(replayLocal(elsewhere, ['evt_1'], (line) => out.push(line))).resolves.toBe(2);
    expect(out[2]).toContain(join(elsewhere, 'receiver.db'));
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('exits 1 when the database cannot be written', async () => {
    await outbox.send([handOffItem('audit_created', 'evt_B2')]);
    outbox.markDead(refOf(outbox, 'evt_B2'), 'HTTP 410');
    const locker = new DatabaseSync(join(dir, 'receiver.db'));
    locker.exec('PRAGMA busy_timeout = 0');
    locker.exec('BEGIN EXCLUSIVE');
    const out: string[] = [];
    try {
      await expect(replayLocal(dir, ['evt_B2'], (line) => out.push(line), { busyTimeoutMs: 50 })).resolves.toBe(1);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(out.join('\n')).toContain('SQLITE_BUSY');
    expect(outbox.find('evt_B2')?.state).toBe('dead');
  });
});

it('keeps at most `concurrency` POSTs in flight', async () => {
  let current = 0;
  let peak = 0;
  crm()
    .times(6)
    .reply(async () => {
      current += 1;
      peak = Math.max(peak, current);
      await new Promise((resolve) => setTimeout(resolve, 40));
      current -= 1;
      return [200, ''];
    });
  await outbox.send(Array.from({ length: 6 }, (_, i) => handOffItem('audit_created', `evt_${i}`)));
  start({ concurrency: 2 });
  await settled();
  expect(outbox.counts().delivered).toBe(6);
  expect(peak).toBe(2);
});

it('stop() waits for the POST in flight and records its outcome', async () => {
  let timer: NodeJS.Timeout | undefined;
  crm().reply(() => new Promise((resolve) => (timer = setTimeout(() => resolve([200, '']), 150))));
  await outbox.send([handOffItem('audit_created', 'evt_B2')]);
  start();
  // Until the POST has started.
  for (let i = 0; i < 200 && timer === undefined; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(timer).toBeDefined();
  await forwarder!.stop();
  expect(outbox.find('evt_B2')?.state).toBe('delivered');
  expect(logged('forwarder stopped')).toHaveLength(1);
});

it('logs ids, attempts and outcomes, never an item value or the URL token', async () => {
  crm().reply(503, 'down');
  crm().reply(400, 'no');
  crm().replyWithError(Object.assign(new Error(`reset for jack.thompson@example.com.au ${TOKEN}`), { code: 'ECONNRESET' }));
  crm().reply(200);
  crm().reply(200);
  await outbox.send([handOffItem('quote_request_created', 'evt_Q1'), handOffItem('quote_request_created', 'evt_Q2'), handOffItem('audit_created', 'evt_A3')]);
  start({ concurrency: 1 });
  await settled();

  expect(log.lines.length).toBeGreaterThanOrEqual(6);
  const text = JSON.stringify(log.lines);
  for (const value of ['jack.thompson@example.com.au', '0423 456 789', '+61423456789', 'Thompson', 'Banksia', 'Sunrise Solar', TOKEN, PATH]) {
    expect(text).not.toContain(value);
  }
  const audit = fixture('audit_created');
  for (const value of Object.values(audit).filter((v): v is string => typeof v === 'string' && v.length > 6 && !/^evt_|:/.test(v))) {
    expect(text).not.toContain(value);
  }
});
