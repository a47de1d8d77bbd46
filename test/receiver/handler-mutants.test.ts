/**
 * The receiver's handler, on a real SQLite store, at the edges handler.test.ts leaves open: the
 * exact limits (body bytes, records, the time left), the times it derives from the deadline, what
 * it answers and logs when the store or the hand-off half-fails, and the names the log may repeat.
 * Each case pins a behaviour that mutation testing (`npm run mutation`) found unchecked.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReceiver, loggableWebhookId, MAX_BODY_BYTES, MAX_RECORDS_PER_DELIVERY, type ReceiverDeps } from '../../src/receiver/handler';
import type { HandOff, HandOffResult } from '../../src/receiver/hand-off';
import { memoryLog } from '../../src/receiver/log';
import { StoreUnavailableError, type DedupeStore, type EventRef } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
import { waitUntil } from '../support/bounded-wait';
import { fixture, OTHER_SECRET, parsed, RecordingHandOff, refTo, SECRET, signed } from '../support/receiver-kit';


let dir: string;
let store: DedupeStore;
let handOff: RecordingHandOff;
let log: ReturnType<typeof memoryLog>;

const receiver = (overrides: Partial<ReceiverDeps> = {}) => createReceiver({ secrets: () => [SECRET], store, handOff, log, ...overrides });
const linesSaying = (message: string) => log.lines.filter((line) => line.message === message);
const batch = (count: number, prefix = 'evt_m') => Array.from({ length: count }, (_, n) => ({ ...fixture('audit_created'), event_id: `${prefix}_${n}` }));

/** The real store with some calls replaced; the others go to the store. */
const wrapped = (overrides: Partial<DedupeStore>): DedupeStore => ({
  description: 'wrapped sqlite',
  claim: (ref, at) => store.claim(ref, at),
  complete: (ref, token, at) => store.complete(ref, token, at),
  release: (ref, token) => store.release(ref, token),
  lookup: (ref, at) => store.lookup(ref, at),
  close: async () => undefined,
  ...overrides,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-mutants-'));
  store = openSqliteStore(join(dir, 'receiver.db'));
  handOff = new RecordingHandOff();
  log = memoryLog();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the limits of a delivery, exactly', () => {
  it('takes a body of exactly the byte limit, and refuses one byte more, counted in UTF-8 bytes', async () => {
    const record = { ...fixture('audit_created'), event_id: 'evt_exact_size' };
    const padTo = (bytes: number) => {
      const base = JSON.stringify({ ...record, padding: '' });
      return JSON.stringify({ ...record, padding: 'x'.repeat(bytes - Buffer.byteLength(base)) });
    };
    const exact = padTo(MAX_BODY_BYTES);
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    expect((await receiver()(signed(exact))).status).toBe(200);
    const over = padTo(MAX_BODY_BYTES + 1);
    const refused = await receiver()(signed(over));
    expect(refused.status).toBe(413);
    expect(parsed(refused)).toEqual({ error: 'too_large', message: `A delivery body may be at most ${MAX_BODY_BYTES} bytes.` });
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', outcome: 'too_large', bytes: MAX_BODY_BYTES + 1 });
    // Fewer characters than the limit, more bytes: "é" is two bytes in UTF-8.
    const wide = JSON.stringify({ ...record, padding: 'é'.repeat(MAX_BODY_BYTES / 2) });
    expect(wide.length).toBeLessThan(MAX_BODY_BYTES);
    expect((await receiver()(signed(wide))).status).toBe(413);
    expect(handOff.sent).toHaveLength(1);
  });

  it('takes exactly the most records a delivery may hold', async () => {
    const records = Array.from({ length: MAX_RECORDS_PER_DELIVERY }, (_, n) => ({ event: 'Audit:Create', event_id: `r${n}` }));
    const response = await receiver()(signed(records));
    expect(response.status).toBe(200);
    expect(parsed(response)).toMatchObject({ outcome: 'accepted', accepted: MAX_RECORDS_PER_DELIVERY, duplicates: 0 });
    const refused = await receiver()(signed([...records, { event: 'Audit:Create', event_id: 'r_more' }]));
    expect(refused.status).toBe(413);
    expect(parsed(refused).message).toBe(
      `A delivery may hold at most ${MAX_RECORDS_PER_DELIVERY} events; this one holds ${MAX_RECORDS_PER_DELIVERY + 1}. Send them in smaller deliveries.`,
    );
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'too_many_records', events: MAX_RECORDS_PER_DELIVERY + 1 });
  });

  it('says why a body is not events: no records at all, or none of the six', async () => {
    const empty = await receiver()(signed([]));
    expect(parsed(empty)).toEqual({ error: 'not_events', message: 'Not an Ecologic event delivery: the delivery holds no records.' });
    const other = await receiver()(signed({ event_id: 'evt_o', event: 'Audit:Delete' }, { webhookId: 'msg_other' }));
    expect(parsed(other).message).toBe('Not an Ecologic event delivery: no record names one of the six events in `event` (or an envelope `type`).');
    expect(log.lines.at(-1)).toMatchObject({
      level: 'warn',
      outcome: 'not_events',
      reason: 'no record names one of the six events in `event` (or an envelope `type`)',
      webhook_id: 'msg_other',
    });
    const broken = await receiver()(signed('{"event":'));
    expect(parsed(broken).message).toBe('Not an Ecologic event delivery: the delivery body is not valid JSON.');
  });

  it('counts repeats and records of other events as skipped, and logs each other name once', async () => {
    const audit = fixture('audit_created');
    const response = await receiver()(
      signed([audit, audit, audit, { event_id: 'evt_z1', event: 'Audit:Archive' }, { event_id: 'evt_z2', event: 'Audit:Archive' }, { event_id: 'evt_n' }], {
        webhookId: 'msg_skips',
      }),
    );
    expect(parsed(response)).toEqual({ outcome: 'accepted', accepted: 1, duplicates: 0, skipped: 5 });
    const skipped = linesSaying('record skipped: not one of the six events');
    expect(skipped).toEqual([
      expect.objectContaining({ level: 'warn', named: 'Audit:Archive', webhook_id: 'msg_skips' }),
      expect.objectContaining({ level: 'warn', named: '(none)', webhook_id: 'msg_skips' }),
    ]);
  });

  it('logs a name a record gave itself only when it is short and code-like', async () => {
    const longest = `A${'b'.repeat(63)}`;
    const names = ['x', longest, `${longest}c`, '9Audit', 'ok name', 'Audit:Archive.v2-x'];
    await receiver()(signed([fixture('audit_created'), ...names.map((event, n) => ({ event_id: `evt_name_${n}`, event }))]));
    expect(linesSaying('record skipped: not one of the six events').map((line) => line.named)).toEqual([
      'x',
      longest,
      '(unreadable name)',
      '(unreadable name)',
      '(unreadable name)',
      'Audit:Archive.v2-x',
    ]);
  });
});

describe('what the log may say of a webhook-id', () => {
  it('keeps an id-like value of up to 100 characters, and hashes anything else', () => {
    const hash = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);
    const longest = `m${'a'.repeat(99)}`;
    expect(loggableWebhookId(null)).toBeNull();
    expect(loggableWebhookId(undefined)).toBeNull();
    expect(loggableWebhookId('m')).toBe('m');
    expect(loggableWebhookId('msg_1.2:3-4')).toBe('msg_1.2:3-4');
    expect(loggableWebhookId(longest)).toBe(longest);
    for (const id of [`${longest}b`, 'ok id', '', 'msg/1']) {
      expect(loggableWebhookId(id)).toBe(`(${id.length} characters, sha256 ${hash(id)})`);
    }
  });

  it('is what a refused delivery logs, and the 200 answer logs the counts', async () => {
    await receiver()(signed(fixture('audit_created'), { webhookId: 'msg_counts' }));
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', message: 'delivery taken', outcome: 'accepted', webhook_id: 'msg_counts', events: 1, accepted: 1, duplicates: 0 });
    expect(typeof log.lines.at(-1)!.ms).toBe('number');
  });
});

describe('the method and the signature', () => {
  it('takes a POST in any case, and answers anything else 405 with Allow: POST', async () => {
    expect((await receiver()({ ...signed(fixture('audit_created')), method: 'post' })).status).toBe(200);
    const handle = receiver();
    const put = await handle({ ...signed(fixture('audit_simulated')), method: 'PUT' });
    expect(put).toEqual({
      status: 405,
      headers: { 'content-type': 'application/json', allow: 'POST' },
      body: JSON.stringify({ error: 'method_not_allowed', message: 'Deliveries are POSTed.' }),
    });
    expect(handle.refuseEarly?.({ method: 'GET', headers: {} })?.status).toBe(405);
    expect(handle.refuseEarly?.({ method: 'POST', headers: signed('{}').headers })).toBeUndefined();
    expect(handOff.sent).toHaveLength(1);
  });

  it('accepts a delivery signed by the first of two secrets', async () => {
    const response = await receiver({ secrets: () => [SECRET, OTHER_SECRET] })(signed(fixture('audit_created'), { secret: SECRET }));
    expect(response.status).toBe(200);
  });

  it('refuses every delivery when no secret is configured, saying so', async () => {
    const response = await receiver({ secrets: () => [] })(signed(fixture('audit_created'), { webhookId: 'msg_nosecret' }));
    expect(response.status).toBe(401);
    expect(parsed(response)).toEqual({ error: 'invalid_signature', message: 'Delivery rejected: no signing secret is configured.' });
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', outcome: 'rejected_signature', reason: 'no signing secret is configured', webhook_id: 'msg_nosecret' });
  });

  it('names a secrets failure by its kind and code only, never its message', async () => {
    const failure = (thrown: unknown) => async () => {
      throw thrown;
    };
    const named = (name: unknown, code?: unknown) => Object.assign(new Error('whsec_leaked'), { name, code });
    const cases: Array<[unknown, string]> = [
      [named('ResourceNotFoundException'), 'ResourceNotFoundException'],
      [named('Error', 'ENOENT'), 'Error ENOENT'],
      [named('a.b-c_d'), 'a.b-c_d'],
      [named(`N${'x'.repeat(63)}`), `N${'x'.repeat(63)}`],
      [named(`N${'x'.repeat(64)}`), 'unknown error'],
      [named('ok name', 'bad code'), 'unknown error'],
      [named(''), 'unknown error'],
      [named(42), 'unknown error'],
      [undefined, 'unknown error'],
      ['whsec_leaked', 'unknown error'],
    ];
    for (const [thrown, kind] of cases) {
      const response = await receiver({ secrets: failure(thrown) })(signed(fixture('audit_created')));
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('10');
      expect(parsed(response)).toEqual({ error: 'unavailable', message: 'The receiver could not store this delivery right now; nothing was kept. Retry later.' });
      expect(log.lines.at(-1)).toEqual(
        expect.objectContaining({ level: 'error', outcome: 'unavailable', reason: `the signing secrets could not be read (${kind})` }),
      );
    }
    expect(JSON.stringify(log.lines)).not.toContain('whsec_leaked');
  });

  it('stops waiting for the secrets by the deadline', async () => {
    const started = Date.now();
    const response = await receiver({ secrets: () => new Promise<never>(() => undefined) })({ ...signed(fixture('audit_created')), deadline: started + 2_200 });
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_200);
    expect(log.lines.at(-1)).toMatchObject({ reason: 'the signing secrets could not be read (out of time)' });
  });
});

describe('the times derived from the deadline (the clock held still)', () => {
  const T = 1_900_000_000_000;
  /** A hand-off that records the deadline it was given and takes everything. */
  const deadlineOf = () => {
    const given: number[] = [];
    const recording: HandOff = {
      description: 'deadline',
      send: async (items, options) => (given.push(options?.deadline ?? Number.NaN), items.map((): HandOffResult => ({ ok: true }))),
    };
    return { given, recording };
  };

  it('gives the hand-off until the completion reserve before the answer is due: 2 s, or a quarter of the time there is', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(T);
    const { given, recording } = deadlineOf();
    // 10 s: the answer is due at 9 s (1 s margin); 2 s is kept for the completions.
    expect((await receiver({ handOff: recording })({ ...signed(fixture('audit_created')), deadline: T + 10_000 })).status).toBe(200);
    // 4 s: due at 3 s; a quarter of that (750 ms) is kept.
    expect((await receiver({ handOff: recording })({ ...signed(fixture('audit_simulated')), deadline: T + 4_000 })).status).toBe(200);
    // No deadline: the platform's 15 s, due at 14 s.
    expect((await receiver({ handOff: recording })(signed(fixture('audit_assigned')))).status).toBe(200);
    expect(given).toEqual([T + 7_000, T + 2_250, T + 12_000]);
  });

  it('starts work with exactly the least working time left, and answers 503 at once with less', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(T);
    // Due at 1 s: exactly the minimum. Claims may start until 500 ms, the hand-off has until 750 ms.
    const enough = await receiver()({ ...signed(fixture('audit_created')), deadline: T + 2_000 });
    expect(enough.status).toBe(200);
    const short = await receiver()({ ...signed(fixture('audit_simulated')), deadline: T + 1_999 });
    expect(short.status).toBe(503);
    expect(short.headers['retry-after']).toBe('10');
    expect(log.lines.at(-1)).toMatchObject({ level: 'error', outcome: 'unavailable', stage: 'arrival', ms_left: 1_999, reason: 'too little time left to take the delivery' });
    expect(await store.lookup(refTo(fixture('audit_simulated')), new Date())).toBeUndefined();
  });

  it('stops claiming 5 s (or half the time there is) before the answer is due', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(T);
    // Due at 3 s: claims may start until 1.5 s. Were 5 s kept, none could start.
    const response = await receiver()({ ...signed(fixture('audit_created')), deadline: T + 4_000 });
    expect(response.status).toBe(200);
    expect(handOff.sent).toHaveLength(1);
  });
});

describe('claims', () => {
  it('makes at most 16 store calls at once, in the delivery order for the hand-off', async () => {
    let inFlight = 0;
    let most = 0;
    const counting = wrapped({
      claim: async (ref, at) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        try {
          return await store.claim(ref, at);
        } finally {
          inFlight -= 1;
        }
      },
    });
    const records = batch(40);
    const response = await receiver({ store: counting })(signed(records));
    expect(parsed(response)).toMatchObject({ accepted: 40 });
    expect(most).toBe(16);
    expect(handOff.sent.map((item) => item.eventId)).toEqual(records.map((record) => record.event_id));
  });

  it('starts no further claim once the store failed, and says what failed (or that the store did)', async () => {
    for (const thrown of [new StoreUnavailableError('sqlite: database is locked'), 'not an error']) {
      let calls = 0;
      const failing = wrapped({
        claim: async () => {
          calls += 1;
          await new Promise((resolve) => setImmediate(resolve));
          throw thrown;
        },
      });
      const response = await receiver({ store: failing })(signed(batch(40), { webhookId: 'msg_claimfail' }));
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('10');
      expect(parsed(response)).toEqual({ error: 'unavailable', message: 'The receiver could not store this delivery right now; nothing was kept. Retry later.' });
      expect(calls).toBeLessThanOrEqual(16);
      expect(log.lines.at(-1)).toMatchObject({
        outcome: 'unavailable',
        stage: 'claim',
        webhook_id: 'msg_claimfail',
        reason: thrown instanceof Error ? 'sqlite: database is locked' : 'the store failed',
      });
    }
  });

  it('answers 429 with the wait the store gives, in whole seconds', async () => {
    const body = fixture('audit_created');
    // Claimed 10.5 s ago by another delivery: its 30 s lease has 19.5 s to run.
    await store.claim(refTo(body), new Date(Date.now() - 10_500));
    const response = await receiver()(signed(body, { webhookId: 'msg_busy' }));
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('20');
    expect(parsed(response)).toMatchObject({ error: 'in_progress', webhook_id: 'msg_busy', events: 1, accepted: 0, duplicates: 0 });
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', outcome: 'in_progress' });
  });

  it('makes no hand-off call when every event is a duplicate', async () => {
    const body = fixture('audit_created');
    let sends = 0;
    const counting: HandOff = {
      description: 'counting',
      send: (items) => ((sends += 1), handOff.send(items)),
    };
    expect((await receiver({ handOff: counting })(signed(body))).status).toBe(200);
    const again = await receiver({ handOff: counting })(signed(body));
    expect(parsed(again)).toMatchObject({ outcome: 'duplicate', accepted: 0, duplicates: 1 });
    expect(sends).toBe(1);
  });
});

describe('the hand-off half-fails', () => {
  it('answers 503 with the counts, names each distinct failure once, and the retry takes the rest', async () => {
    const records = batch(4, 'evt_half');
    handOff.failNext(2);
    const response = await receiver()(signed(records, { webhookId: 'msg_half' }));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('10');
    expect(parsed(response)).toEqual({
      error: 'unavailable',
      accepted: 2,
      duplicates: 0,
      message: 'The receiver took 2 event(s) of this delivery, not all of them. Retry: the events taken are recognised as duplicates.',
    });
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'unavailable', stage: 'hand-off', reason: '2 item(s) not handed off: queue throttled', accepted: 2, events: 4 });
    expect(linesSaying('claims not released')).toEqual([]);
  });

  it('answers 503 saying nothing was kept when no item went, and when the hand-off gives no result for an item', async () => {
    const rejecting: HandOff = {
      description: 'rejecting',
      send: () => Promise.reject('down'),
    };
    const none = await receiver({ handOff: rejecting })(signed(fixture('audit_created')));
    expect(parsed(none)).toEqual({
      error: 'unavailable',
      accepted: 0,
      duplicates: 0,
      message: 'The receiver could not store this delivery right now; nothing was kept. Retry later.',
    });
    expect(log.lines.at(-1)).toMatchObject({ reason: '1 item(s) not handed off: the hand-off failed' });
    // Fewer results than items: the missing one failed, and its claim is released.
    const short: HandOff = { description: 'short', send: async (items) => items.slice(1).map((): HandOffResult => ({ ok: true })) };
    const records = batch(2, 'evt_short');
    const partial = await receiver({ handOff: short })(signed(records));
    expect(partial.status).toBe(503);
    expect(log.lines.at(-1)).toMatchObject({ reason: '1 item(s) not handed off: the hand-off gave no result' });
    expect(await store.lookup(refTo(records[1]!), new Date())).toBeUndefined();
    expect(await store.lookup(refTo(records[0]!), new Date())).toMatchObject({ state: 'handed_off' });
  });

  it('refuses items too large with 413 and their count, and logs each reason once', async () => {
    const records = batch(3, 'evt_large');
    handOff.tooLarge.add('evt_large_0');
    handOff.tooLarge.add('evt_large_2');
    const response = await receiver()(signed(records));
    expect(response.status).toBe(413);
    expect(parsed(response)).toEqual({
      error: 'item_too_large',
      message: '2 event(s) of this delivery are too large to hand off; the others were taken.',
      accepted: 1,
      duplicates: 0,
    });
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', outcome: 'too_large', stage: 'hand-off', reason: 'sqs_message_too_large: 300000 bytes > 262144' });
  });

  it('retries a release the store missed, and logs the claims it could not release with the reason', async () => {
    let releaseFailures = 1;
    const flaky = wrapped({
      release: (ref, token) => (releaseFailures-- > 0 ? Promise.reject(new StoreUnavailableError('sqlite: busy')) : store.release(ref, token)),
    });
    const body = fixture('audit_created');
    handOff.throwNext = true;
    expect((await receiver({ store: flaky })(signed(body))).status).toBe(503);
    expect(await store.lookup(refTo(body), new Date())).toBeUndefined();
    expect(linesSaying('claims not released')).toEqual([]);

    const never = wrapped({ release: () => Promise.reject(new StoreUnavailableError('sqlite: busy')) });
    handOff.failNext(2);
    const started = Date.now();
    const response = await receiver({ store: never })({ ...signed(batch(2, 'evt_norelease')), deadline: started + 4_000 });
    expect(response.status).toBe(503);
    expect(linesSaying('claims not released')).toEqual([expect.objectContaining({ level: 'warn', count: 2, reason: 'sqlite: busy' })]);
  });

  it('logs a release that never answers as out of time', async () => {
    const hanging = wrapped({ release: () => new Promise<void>(() => undefined) });
    handOff.throwNext = true;
    const started = Date.now();
    const response = await receiver({ store: hanging })({ ...signed(fixture('audit_created')), deadline: started + 2_200 });
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_200);
    expect(linesSaying('claims not released')).toEqual([expect.objectContaining({ count: 1, reason: 'out of time' })]);
  });
});

describe('completions', () => {
  it('logs claims that lapsed before completion, and only those', async () => {
    const records = batch(3, 'evt_lapse');
    const lapsing = wrapped({ complete: async (ref, token, at) => (ref.eventId === 'evt_lapse_1' ? false : store.complete(ref, token, at)) });
    const response = await receiver({ store: lapsing })(signed(records, { webhookId: 'msg_lapse' }));
    expect(response.status).toBe(200);
    expect(linesSaying('claims lapsed before completion')).toEqual([expect.objectContaining({ level: 'warn', count: 1, webhook_id: 'msg_lapse' })]);
    expect(linesSaying('hand-off not recorded')).toEqual([]);
    await receiver()(signed(batch(2, 'evt_fine')));
    expect(linesSaying('claims lapsed before completion')).toHaveLength(1);
  });

  it('retries a completion up to three times, and names at most 20 unrecorded events', async () => {
    let failures = 3;
    const flaky = wrapped({
      complete: (ref, token, at) => (failures-- > 0 ? Promise.reject(new StoreUnavailableError('sqlite: busy')) : store.complete(ref, token, at)),
    });
    const body = fixture('quote_request_created');
    expect((await receiver({ store: flaky })(signed(body))).status).toBe(200);
    expect(await store.lookup(refTo(body), new Date())).toMatchObject({ state: 'handed_off' });
    expect(linesSaying('hand-off not recorded')).toEqual([]);

    // Completions that never answer: 16 wait until the answer is due, the other 5 never start.
    const hanging = wrapped({ complete: () => new Promise<boolean>(() => undefined) });
    const records = batch(21, 'evt_unrec');
    const response = await receiver({ store: hanging })({ ...signed(records, { webhookId: 'msg_unrec' }), deadline: Date.now() + 2_200 });
    expect(response.status).toBe(200);
    const [line] = linesSaying('hand-off not recorded');
    expect(line).toMatchObject({ level: 'error', outcome: 'handoff_unrecorded', count: 21, reason: 'out of time', webhook_id: 'msg_unrec' });
    expect(line!.events).toBe(records.slice(0, 20).map((record) => `Audit:Create/${record.event_id}`).join(' '));
  });
});

describe('the deadline, once claims are made', () => {
  it('answers 503 with a retry after 1 s when claims did not all fit, and hands off those made', async () => {
    const slow = wrapped({
      claim: async (ref, at) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return store.claim(ref, at);
      },
    });
    const started = Date.now();
    // Due at 2 s, claims may start until 1 s: three rounds of 16 at 400 ms each, not four.
    const records = batch(60, 'evt_late');
    const response = await receiver({ store: slow })({ ...signed(records, { webhookId: 'msg_late' }), deadline: started + 3_000 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    const { accepted } = parsed(response);
    expect(accepted).toBeGreaterThanOrEqual(16);
    expect(accepted).toBeLessThan(60);
    expect(handOff.sent).toHaveLength(Number(accepted));
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'unavailable', stage: 'deadline', reason: `out of time: ${60 - Number(accepted)} event(s) left for the platform's retry` });
  });
});

describe('waits that end by the answer', () => {
  it('says a hand-off that did not answer in time ran out of time', async () => {
    const hanging: HandOff = { description: 'hanging', send: () => new Promise<never>(() => undefined) };
    const started = Date.now();
    const response = await receiver({ handOff: hanging })({ ...signed(fixture('audit_created')), deadline: started + 2_200 });
    expect(response.status).toBe(503);
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'unavailable', stage: 'hand-off', reason: '1 item(s) not handed off: out of time' });
  });

  it('does not wait to retry a completion when the wait would end after the answer is due', async () => {
    const failing = wrapped({ complete: () => Promise.reject(new StoreUnavailableError('sqlite: busy')) });
    const started = Date.now();
    // Due at 1.2 s: the retries after 100 ms and 300 ms fit, the one after 900 ms does not.
    const response = await receiver({ store: failing })({ ...signed(fixture('audit_created')), deadline: started + 2_200 });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(linesSaying('hand-off not recorded')).toEqual([expect.objectContaining({ count: 1, reason: 'sqlite: busy' })]);
  });

  it('starts no claim after the time for claims is over', async () => {
    let started = 0;
    const slow = wrapped({
      claim: async (ref, at) => {
        started += 1;
        await new Promise((resolve) => setTimeout(resolve, 400));
        return store.claim(ref, at);
      },
    });
    // Due at 2 s, claims may start until 1 s (about three rounds of 16), never all 60.
    const response = await receiver({ store: slow })({ ...signed(batch(60, 'evt_stop')), deadline: Date.now() + 3_000 });
    expect(response.status).toBe(503);
    expect(started).toBeLessThan(60);
    // Those that answered in time were handed off; one still running at its bound counts as not made.
    expect(Number(parsed(response).accepted)).toBeGreaterThan(0);
    expect(Number(parsed(response).accepted)).toBeLessThanOrEqual(started);
  });
});

describe('a claim the store takes after its bound', () => {
  it('is given back when it lands, so the retry takes the event at once instead of waiting out the lease', async () => {
    const released: string[] = [];
    let landed: () => void = () => undefined;
    const landing = new Promise<void>((resolve) => (landed = resolve));
    let slowOnce = true;
    const late = wrapped({
      claim: async (ref, at) => {
        if (!slowOnce) return store.claim(ref, at);
        slowOnce = false;
        // Answers well after the handler stopped waiting for it, and takes the claim then.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const outcome = await store.claim(ref, at);
        landed();
        return outcome;
      },
      release: async (ref, token) => {
        released.push(ref.eventId);
        return store.release(ref, token);
      },
    });
    const first = await receiver({ store: late })({ ...signed(fixture('audit_created'), { webhookId: 'msg_late' }), deadline: Date.now() + 2_200 });
    expect(first.status).toBe(503);
    await landing;
    await waitUntil(() => released.length === 1, { what: 'the late claim given back', timeoutMs: 10_000 });
    expect(released).toEqual([String(fixture('audit_created').event_id)]);
    // The platform's retry: the event is free again, not "in progress" for the lease.
    const retry = await receiver({ store: late })({ ...signed(fixture('audit_created'), { webhookId: 'msg_late' }) });
    expect(retry.status).toBe(200);
  });
});

describe('the batch read before the claims', () => {
  /** The real store, counting its claims and batch reads; each read answers after `readMs`, or never. */
  const counting = (read: { readMs?: number; never?: boolean; fails?: unknown } = {}) => {
    const calls = { claims: 0, reads: 0 };
    const counted = wrapped({
      claim: (ref, at) => ((calls.claims += 1), store.claim(ref, at)),
      handedOff: async (refs, at) => {
        calls.reads += 1;
        if (read.never) return new Promise<never>(() => undefined);
        if (read.fails !== undefined) throw read.fails;
        await new Promise((resolve) => setTimeout(resolve, read.readMs ?? 0));
        return store.handedOff!(refs, at);
      },
    });
    return { calls, counted };
  };

  it('asks once which events of a batch are handed off, claims only the others, and counts those as duplicates', async () => {
    const records = batch(3, 'evt_pre');
    expect((await receiver()(signed(records[1]))).status).toBe(200);
    const { calls, counted } = counting({ readMs: 10 });
    const response = await receiver({ store: counted })(signed(records));
    expect(parsed(response)).toEqual({ outcome: 'accepted', accepted: 2, duplicates: 1, skipped: 0 });
    expect(calls).toEqual({ claims: 2, reads: 1 });
    const again = await receiver({ store: counted })(signed(records));
    expect(parsed(again)).toEqual({ outcome: 'duplicate', accepted: 0, duplicates: 3, skipped: 0 });
    expect(calls).toEqual({ claims: 2, reads: 2 });
  });

  it('makes no batch read for a delivery of one event', async () => {
    const { calls, counted } = counting();
    expect((await receiver({ store: counted })(signed(fixture('audit_created')))).status).toBe(200);
    expect(calls).toEqual({ claims: 1, reads: 0 });
  });

  it('claims every event, and says why, when the read fails or does not answer in its time', async () => {
    const failing = counting({ fails: 'not an error' });
    expect(parsed(await receiver({ store: failing.counted })(signed(batch(2, 'evt_fail'))))).toMatchObject({ accepted: 2 });
    expect(failing.calls).toEqual({ claims: 2, reads: 1 });
    expect(linesSaying('batch read failed: every event is claimed')).toEqual([expect.objectContaining({ level: 'warn', reason: 'unknown', events: 2 })]);

    const mute = counting({ never: true });
    const started = Date.now();
    const response = await receiver({ store: mute.counted })({ ...signed(batch(3, 'evt_mute')), deadline: started + 4_000 });
    expect(parsed(response)).toMatchObject({ outcome: 'accepted', accepted: 3 });
    expect(mute.calls).toEqual({ claims: 3, reads: 1 });
    expect(linesSaying('batch read failed: every event is claimed').at(-1)).toMatchObject({ reason: 'out of time', events: 3 });
  });
});

describe('what each answer logs and says', () => {
  it('logs each outcome under its own message, and says in the 429 what to do', async () => {
    const handle = receiver();
    const message = () => log.lines.at(-1)?.message;
    await handle(signed('x'.repeat(MAX_BODY_BYTES + 1)));
    expect(message()).toBe('delivery refused');
    await handle(signed([]));
    expect(message()).toBe('delivery refused');
    await handle(signed(Array.from({ length: MAX_RECORDS_PER_DELIVERY + 1 }, (_, n) => ({ event: 'Audit:Create', event_id: `r${n}` }))));
    expect(message()).toBe('delivery refused');
    await handle(signed(fixture('audit_created'), { secret: OTHER_SECRET }));
    expect(message()).toBe('delivery rejected');
    await receiver({ secrets: () => Promise.reject(new Error('down')) })(signed(fixture('audit_created')));
    expect(message()).toBe('delivery not taken: try again later');
    handOff.tooLarge.add('evt_big');
    await handle(signed({ ...fixture('audit_created'), event_id: 'evt_big' }));
    expect(message()).toBe('delivery refused');

    const body = fixture('audit_simulated');
    await store.claim(refTo(body), new Date());
    const before = Date.now();
    const busy = await handle(signed(body));
    const elapsed = Date.now() - before;
    expect(message()).toBe('delivery deferred: the event is being handed off by another delivery');
    expect(parsed(busy).message).toBe('Another delivery of this event is being handled; retry after the given time.');
    const { ms } = parsed(busy);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThanOrEqual(elapsed);
  });

  it('names each distinct failure of a hand-off once, separated by semicolons', async () => {
    const mixed: HandOff = {
      description: 'mixed',
      send: async (items) =>
        items.map((item, n): HandOffResult => ({ ok: false, reason: `reason ${n % 2}`, ...(item.eventId.startsWith('evt_big') ? { permanent: true } : {}) })),
    };
    await receiver({ handOff: mixed })(signed(batch(3, 'evt_mixed')));
    expect(log.lines.at(-1)).toMatchObject({ stage: 'hand-off', reason: '3 item(s) not handed off: reason 0; reason 1' });
    await receiver({ handOff: mixed })(signed(batch(3, 'evt_big')));
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'too_large', reason: 'reason 0; reason 1' });
  });

  it('names a release or a completion the store rejected with no error as unknown', async () => {
    const odd = wrapped({ release: () => Promise.reject('odd'), complete: () => Promise.reject('odd') });
    handOff.failNext(1);
    // The platform's 15 s: both waits, each 1.3 s of retries at most, end well inside it.
    await receiver({ store: odd })(signed(batch(2, 'evt_odd')));
    expect(linesSaying('claims not released')).toEqual([expect.objectContaining({ count: 1, reason: 'unknown' })]);
    expect(linesSaying('hand-off not recorded')).toEqual([expect.objectContaining({ count: 1, reason: 'unknown' })]);
  });
});

describe('retries and order', () => {
  it('waits 100 ms, then 300 ms, before retrying a completion the store did not take', async () => {
    const attempts: number[] = [];
    const flaky = wrapped({
      complete: (ref, token, at) => (attempts.push(Date.now()), attempts.length < 3 ? Promise.reject(new StoreUnavailableError('sqlite: busy')) : store.complete(ref, token, at)),
    });
    expect((await receiver({ store: flaky })(signed(fixture('audit_created')))).status).toBe(200);
    expect(attempts).toHaveLength(3);
    // Timers never fire early (a millisecond of rounding aside); late is fine on a busy machine.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(99);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(299);
  });

  it('claims a batch in a random order, another each time', async () => {
    const orders: string[][] = [[], []];
    let round = 0;
    const recording = wrapped({ claim: (ref, at) => (orders[round]!.push(ref.eventId), store.claim(ref, at)) });
    const records = batch(40, 'evt_order');
    await receiver({ store: recording })(signed(records));
    round = 1;
    await receiver({ store: recording })(signed(records));
    // 40 events: the chance that two random orders agree, or one is the delivery's, is 1 in 40!.
    const delivered = records.map((record) => record.event_id);
    expect(orders[0]).toHaveLength(40);
    expect(orders[1]).toHaveLength(40);
    expect(orders[0]).not.toEqual(delivered);
    expect(orders[1]).not.toEqual(orders[0]);
    expect(new Set(orders[1])).toEqual(new Set(delivered));
  });
});
