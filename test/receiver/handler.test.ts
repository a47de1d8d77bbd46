/**
 * The receiver's handler on a real SQLite store: what it answers for each kind of delivery, that
 * it hands off the very items a Zap would get, and that nothing is lost or handed off twice when the
 * store or the hand-off fails, or when deliveries of one event race.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventDefinition } from '../../src/core/event-registry';
import { normaliseDelivery } from '../../src/core/normalise';
import { createReceiver, MAX_BODY_BYTES, MAX_EVENT_ID_BYTES, MAX_NESTING_DEPTH, MAX_RECORDS_PER_DELIVERY, type ReceiverDeps } from '../../src/receiver/handler';
import { memoryLog } from '../../src/receiver/log';
import { StoreUnavailableError, type DedupeStore, type EventRef } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
import { fixture, OTHER_SECRET, parsed, RecordingHandOff, refTo, SECRET, signed } from '../support/receiver-kit';


let dir: string;
let store: DedupeStore;
let handOff: RecordingHandOff;
let log: ReturnType<typeof memoryLog>;

const receiver = (overrides: Partial<ReceiverDeps> = {}) => createReceiver({ secrets: () => [SECRET], store, handOff, log, ...overrides });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-handler-'));
  store = openSqliteStore(join(dir, 'receiver.db'));
  handOff = new RecordingHandOff();
  log = memoryLog();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a signed delivery', () => {
  it('is accepted and hands off exactly the item the Zap trigger makes of it', async () => {
    const body = fixture('quote_request_created');
    const request = signed(body, { webhookId: 'msg_1' });
    const response = await receiver()(request);
    expect(response.status).toBe(200);
    expect(parsed(response)).toMatchObject({ outcome: 'accepted', accepted: 1, duplicates: 0 });
    expect(handOff.sent).toHaveLength(1);
    const sent = handOff.sent[0]!;
    // The Zap trigger's own normaliser, on the same bytes and headers: the same item, key order included.
    const zap = normaliseDelivery(eventDefinition('RequestQuote:Create'), body, {
      webhookId: 'msg_1',
      webhookTimestamp: request.headers['webhook-timestamp'],
      receivedAt: new Date(),
    }).items[0]!;
    expect(sent.event).toBe('RequestQuote:Create');
    expect(sent.eventId).toBe(body.event_id);
    expect(Object.keys(sent.item)).toEqual(Object.keys(zap));
    expect(sent.item).toEqual(zap);
  });

  it('is a duplicate when the platform retries it, and when another subscription delivers the same event', async () => {
    const handle = receiver();
    const body = fixture('audit_created');
    expect((await handle(signed(body, { webhookId: 'msg_a' }))).status).toBe(200);
    const retry = await handle(signed(body, { webhookId: 'msg_a' }));
    const otherSubscription = await handle(signed(body, { webhookId: 'msg_b', secret: OTHER_SECRET }));
    expect(retry.status).toBe(200);
    expect(parsed(retry)).toMatchObject({ outcome: 'duplicate', accepted: 0, duplicates: 1 });
    // Signed with a secret this receiver does not hold: refused before any de-duplication.
    expect(otherSubscription.status).toBe(401);
    const withBoth = createReceiver({ secrets: () => [SECRET, OTHER_SECRET], store, handOff, log });
    expect(parsed(await withBoth(signed(body, { webhookId: 'msg_b', secret: OTHER_SECRET })))).toMatchObject({ outcome: 'duplicate' });
    expect(handOff.sent).toHaveLength(1);
  });

  it('hands off each event of a batch under its own event, and two label events about one record as two', async () => {
    const label = fixture('quote_request_label_applied');
    const second = { ...label, event_id: 'evt_label_2', label_name: 'Won' };
    const response = await receiver()(signed([fixture('audit_simulated'), label, second]));
    expect(parsed(response)).toMatchObject({ accepted: 3 });
    expect(handOff.sent.map((entry) => entry.event)).toEqual(['Audit:Simulate', 'RequestQuote:Label:Apply', 'RequestQuote:Label:Apply']);
    expect(new Set(handOff.sent.map((entry) => entry.eventId)).size).toBe(3);
  });

  it('takes an envelope, naming the event by its type, with the envelope id as the identity', async () => {
    const fields = fixture('audit_assigned');
    const response = await receiver()(signed({ id: 'evt_env_1', type: 'Audit:Assign', data: { ...fields, event_id: undefined, event: undefined } }));
    expect(response.status).toBe(200);
    expect(handOff.sent[0]).toMatchObject({ eventId: 'evt_env_1', event: 'Audit:Assign' });
  });

  it('accepts a delivery signed by either secret during a rotation', async () => {
    const handle = receiver({ secrets: () => [SECRET, OTHER_SECRET] });
    expect((await handle(signed(fixture('audit_created'), { secret: OTHER_SECRET }))).status).toBe(200);
    expect((await handle(signed(fixture('audit_simulated'), { secret: [OTHER_SECRET, SECRET] }))).status).toBe(200);
    expect(handOff.sent).toHaveLength(2);
  });
});

describe('refused deliveries', () => {
  const body = () => fixture('quote_request_created');

  it.each([
    ['no signature headers', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body()) }), /webhook-id header is missing/],
    ['another secret', () => signed(body(), { secret: OTHER_SECRET }), /did not match/],
    ['a changed body', () => ({ ...signed(body()), body: JSON.stringify({ ...body(), offer_price: '$1.00' }) }), /did not match/],
    ['a stale timestamp (10 minutes)', () => signed(body(), { at: new Date(Date.now() - 10 * 60 * 1000) }), /outside the 300 s window/],
  ])('%s: 401, nothing claimed or handed off, and a log line the alarm counts', async (_name, make, reason) => {
    const response = await receiver()(make());
    expect(response.status).toBe(401);
    expect(parsed(response).message).toMatch(reason);
    expect(handOff.sent).toHaveLength(0);
    expect(await store.lookup(refTo(body()), new Date())).toBeUndefined();
    expect(log.lines).toContainEqual(expect.objectContaining({ outcome: 'rejected_signature' }));
  });

  it.each([
    ['not JSON', '{"event":'],
    ['a JSON string', '"RequestQuote:Create"'],
    ['an array of numbers', '[1,2]'],
    ['an empty array', '[]'],
    ['records naming no event', JSON.stringify({ event_id: 'evt_x', first_name: 'Ava' })],
    ['an event that is not one of the six', JSON.stringify({ event_id: 'evt_y', event: 'Audit:Delete' })],
    ['a record naming two of the six (never guessed)', JSON.stringify({ id: 'evt_w', type: 'Audit:Create', data: { event: 'RequestQuote:Create' } })],
  ])('%s (signed): 400 not_events', async (_name, raw) => {
    const response = await receiver()(signed(raw));
    expect(response.status).toBe(400);
    expect(parsed(response).error).toBe('not_events');
    expect(handOff.sent).toHaveLength(0);
  });

  it('refuses with 400, never 503, a delivery no retry can fix: an event id over the limit, or nesting past the limit', async () => {
    const longId = { ...fixture('audit_created'), event_id: `evt_${'x'.repeat(MAX_EVENT_ID_BYTES)}` };
    const withFresh = [fixture('audit_simulated'), longId];
    // As text: 5,000 levels overflow JSON.stringify's stack here too.
    const deep = `${JSON.stringify({ ...fixture('audit_created'), event_id: 'evt_deep' }).slice(0, -1)},"extra":${'['.repeat(5_000)}"deep"${']'.repeat(5_000)}}`;
    for (const [body, reason] of [
      [withFresh, /event id is longer than 1024 bytes/],
      [deep, /nests objects or arrays more than 64 deep/],
    ] as const) {
      const response = await receiver()(signed(body));
      expect({ status: response.status, error: parsed(response).error }).toEqual({ status: 400, error: 'not_events' });
      expect(parsed(response).message).toMatch(reason);
    }
    expect(handOff.sent).toHaveLength(0);
    expect(await store.lookup(refTo(fixture('audit_simulated')), new Date())).toBeUndefined();
    // At the limits, both are taken.
    let atLimit: unknown = 'ok';
    for (let i = 0; i < MAX_NESTING_DEPTH - 2; i++) atLimit = [atLimit];
    const fits = { ...fixture('audit_created'), event_id: `e${'x'.repeat(MAX_EVENT_ID_BYTES - 1)}`, extra: atLimit };
    expect((await receiver()(signed(fits))).status).toBe(200);
  });

  it('skips a record that is not one of the six events but takes the others', async () => {
    const response = await receiver()(signed([fixture('audit_created'), { event_id: 'evt_z', event: 'Audit:Archive' }]));
    expect(response.status).toBe(200);
    expect(parsed(response)).toMatchObject({ accepted: 1, skipped: 1 });
    expect(log.lines).toContainEqual(expect.objectContaining({ named: 'Audit:Archive' }));
  });

  it('logs a forged delivery without its body, and a long or odd webhook-id only as its length and a hash', async () => {
    const forged = { ...signed(body(), { secret: OTHER_SECRET }) };
    const longId = `msg_${'A'.repeat(15_000)}`;
    forged.headers = { ...forged.headers, 'webhook-id': longId };
    expect((await receiver()(forged)).status).toBe(401);
    const rejected = log.lines.find((line) => line.outcome === 'rejected_signature')!;
    const written = JSON.stringify(rejected);
    expect(written.length).toBeLessThan(400);
    expect(written).not.toContain('AAAAAAAAAA');
    expect(rejected.webhook_id).toMatch(/^\(15004 characters, sha256 [0-9a-f]{16}\)$/);
    for (const value of [String(body().first_name), String(body().email), String(body().event_id)]) expect(written).not.toContain(value);
    // An id-like header is logged as it is, so operators can find the delivery.
    await receiver()(signed(body(), { secret: OTHER_SECRET, webhookId: 'msg_2kq9' }));
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'rejected_signature', webhook_id: 'msg_2kq9' });
  });

  it('never logs the raw event name a record gave itself, only a code-like one', async () => {
    const personal = 'Ava Nguyen ava@example.com';
    await receiver()(signed([fixture('audit_created'), { event_id: 'evt_p', event: personal }]));
    const written = JSON.stringify(log.lines);
    expect(written).not.toContain('Ava Nguyen');
    expect(log.lines).toContainEqual(expect.objectContaining({ named: '(unreadable name)' }));
  });

  it('verifies the signature over the bytes received, also when they are not UTF-8', async () => {
    // Latin-1 "é" (0xE9) in a comment: decoding it as UTF-8 before the HMAC would change the bytes.
    const event = fixture('quote_request_created');
    const bytes = Buffer.concat([Buffer.from(`${JSON.stringify(event).slice(0, -1)},"site_note":"caf`), Buffer.from([0xe9]), Buffer.from('"}')]);
    const at = new Date();
    const id = 'msg_latin1';
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${Math.floor(at.getTime() / 1000)}.`).update(bytes).digest('base64');
    const response = await receiver()({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': `v1,${signature}` },
      body: bytes,
    });
    expect(response.status).toBe(200);
    expect(handOff.sent).toHaveLength(1);
    // The same bytes with one changed still fail.
    const changed = Buffer.from(bytes);
    changed[changed.length - 3] = 0xe8;
    const again = await receiver()({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': `v1,${signature}` },
      body: changed,
    });
    expect(again.status).toBe(401);
  });

  it('answers 405 to anything but POST and 413 to a body over the limit, before reading it as an event', async () => {
    expect((await receiver()({ method: 'GET', headers: {}, body: '' })).status).toBe(405);
    const big = signed({ event: 'Audit:Create', padding: 'x'.repeat(MAX_BODY_BYTES) });
    expect((await receiver()(big)).status).toBe(413);
  });
});

describe('nothing is lost when a part is down', () => {
  it('answers 503 with Retry-After when the store cannot answer, and hands nothing off', async () => {
    const broken: DedupeStore = {
      description: 'broken',
      claim: async () => {
        throw new StoreUnavailableError('sqlite: database is locked');
      },
      complete: async () => true,
      release: async () => undefined,
      lookup: async () => undefined,
      close: async () => undefined,
    };
    const response = await receiver({ store: broken })(signed(fixture('audit_created')));
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(handOff.sent).toHaveLength(0);
    expect(log.lines).toContainEqual(expect.objectContaining({ outcome: 'unavailable', stage: 'claim' }));
  });

  it('releases the claim when the hand-off fails, so the retry hands the item off', async () => {
    const handle = receiver();
    const request = () => signed(fixture('audit_created'), { webhookId: 'msg_retry' });
    handOff.throwNext = true;
    const first = await handle(request());
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBeDefined();
    expect(await store.lookup(refTo(fixture('audit_created')), new Date())).toBeUndefined();
    const retry = await handle(request());
    expect(retry.status).toBe(200);
    expect(handOff.sent).toHaveLength(1);
  });

  it('after a partly failed batch, the retry hands off only the items that did not go', async () => {
    const handle = receiver();
    const batch = [fixture('audit_created'), fixture('audit_simulated'), fixture('audit_assigned')];
    handOff.failNext(1);
    expect((await handle(signed(batch, { webhookId: 'msg_batch' }))).status).toBe(503);
    expect(handOff.sent).toHaveLength(2);
    const retry = await handle(signed(batch, { webhookId: 'msg_batch' }));
    expect(retry.status).toBe(200);
    expect(parsed(retry)).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(handOff.sent.map((entry) => entry.event).sort()).toEqual(['Audit:Assign', 'Audit:Create', 'Audit:Simulate']);
  });

  it('refuses with 413, never 503, an item too large for the hand-off, and takes the others of the delivery', async () => {
    const big = fixture('audit_created');
    const fine = fixture('audit_assigned');
    handOff.tooLarge.add(String(big.event_id));
    const response = await receiver()(signed([big, fine]));
    expect(response.status).toBe(413);
    expect(parsed(response)).toMatchObject({ error: 'item_too_large', accepted: 1 });
    expect(handOff.sent.map((entry) => entry.eventId)).toEqual([String(fine.event_id)]);
    expect(await store.lookup(refTo(fine), new Date())).toMatchObject({ state: 'handed_off' });
    expect(await store.lookup(refTo(big), new Date())).toBeUndefined();
    expect(log.lines.map((line) => line.outcome)).toContain('too_large');
    // Not counted as the store or queue being down: the unavailability alarm stays quiet.
    expect(log.lines.map((line) => line.outcome)).not.toContain('unavailable');
  });

  it('answers 429 while another delivery of the event holds the claim', async () => {
    const body = fixture('audit_created');
    await store.claim(refTo(body), new Date());
    const response = await receiver()(signed(body));
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(handOff.sent).toHaveLength(0);
  });

  /** The real store, with chosen calls failing: `claim` of some ids, or the first `complete`s. */
  const failing = (options: { claimOf?: readonly string[]; completeFailures?: number }): DedupeStore & { completeCalls: number } => {
    let completeFailures = options.completeFailures ?? 0;
    const wrapped = {
      description: 'flaky sqlite',
      completeCalls: 0,
      claim: (ref: EventRef, at: Date) =>
        options.claimOf?.includes(ref.eventId) ? Promise.reject(new StoreUnavailableError('sqlite: database is locked')) : store.claim(ref, at),
      complete: (ref: EventRef, token: string, at: Date) => {
        wrapped.completeCalls += 1;
        if (completeFailures > 0) {
          completeFailures -= 1;
          return Promise.reject(new StoreUnavailableError('sqlite: database is locked'));
        }
        return store.complete(ref, token, at);
      },
      release: (ref: EventRef, token: string) => store.release(ref, token),
      lookup: (ref: EventRef, at: Date) => store.lookup(ref, at),
      close: async () => undefined,
    };
    return wrapped;
  };

  it('releases the claims it made when a later claim of the same delivery fails, so the retry is not held off', async () => {
    const first = fixture('audit_created');
    const second = fixture('audit_simulated');
    const response = await receiver({ store: failing({ claimOf: [String(second.event_id)] }) })(signed([first, second], { webhookId: 'msg_pair' }));
    expect(response.status).toBe(503);
    // Nothing of the delivery is left claimed: the platform's retry goes through at once, not after a lease.
    expect(await store.lookup(refTo(first), new Date())).toBeUndefined();
    const retry = await receiver()(signed([first, second], { webhookId: 'msg_pair' }));
    expect(retry.status).toBe(200);
    expect(parsed(retry)).toMatchObject({ accepted: 2 });
  });

  it('answers 429 to a batch holding an event another delivery has, after handing off the fresh one', async () => {
    const held = fixture('audit_created');
    const fresh = fixture('audit_assigned');
    await store.claim(refTo(held), new Date());
    const response = await receiver()(signed([held, fresh]));
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(handOff.sent.map((entry) => entry.eventId)).toEqual([String(fresh.event_id)]);
  });

  it('retries a completion the store missed once, so the event is recorded as handed off', async () => {
    const body = fixture('quote_request_created');
    const flaky = failing({ completeFailures: 1 });
    const response = await receiver({ store: flaky })(signed(body));
    expect(response.status).toBe(200);
    expect(flaky.completeCalls).toBe(2);
    expect(await store.lookup(refTo(body), new Date())).toMatchObject({ state: 'handed_off' });
    expect(log.lines.map((line) => line.message)).not.toContain('hand-off not recorded');
  });

  it('hands off one item when 20 deliveries of one event arrive at once', async () => {
    const handle = receiver();
    const body = fixture('quote_request_created');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => handle(signed(body, { webhookId: `msg_${n % 3}` }))));
    expect(handOff.sent).toHaveLength(1);
    for (const answer of answers) expect([200, 429]).toContain(answer.status);
  });
});

describe('identity is the event and its id together', () => {
  it('hands off an audit and a quote request that share id 42 as two events, and a repeat of either as a duplicate', async () => {
    const handle = receiver();
    const audit = { ...fixture('audit_created'), event_id: '42' };
    const quote = { ...fixture('quote_request_created'), event_id: 42 };
    expect(parsed(await handle(signed(audit)))).toMatchObject({ outcome: 'accepted', accepted: 1 });
    expect(parsed(await handle(signed(quote)))).toMatchObject({ outcome: 'accepted', accepted: 1 });
    // In one delivery too: two events, not a repeat.
    const both = await handle(signed([{ ...audit, event_id: '43' }, { ...quote, event_id: '43' }]));
    expect(parsed(both)).toMatchObject({ accepted: 2, skipped: 0 });
    expect(parsed(await handle(signed(quote)))).toMatchObject({ outcome: 'duplicate', duplicates: 1 });
    expect(handOff.sent.map((entry) => `${entry.event}/${entry.eventId}`)).toEqual([
      'Audit:Create/42',
      'RequestQuote:Create/42',
      'Audit:Create/43',
      'RequestQuote:Create/43',
    ]);
  });
});

describe('the deadline for an answer', () => {
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const batch = (count: number) => Array.from({ length: count }, (_, n) => ({ ...fixture('audit_created'), event_id: `evt_batch_${n}` }));
  /** The real store, each call of the given kinds slowed down, or never answering. */
  const slowed = (slow: { claimMs?: number; complete?: 'never' | 'fails' }): DedupeStore => ({
    description: 'slow sqlite',
    claim: async (ref, at) => {
      await delay(slow.claimMs ?? 0);
      return store.claim(ref, at);
    },
    complete: (ref, token, at) =>
      slow.complete === 'never'
        ? new Promise<boolean>(() => undefined)
        : slow.complete === 'fails'
          ? Promise.reject(new StoreUnavailableError('sqlite: database is locked'))
          : store.complete(ref, token, at),
    release: (ref, token) => store.release(ref, token),
    lookup: (ref, at) => store.lookup(ref, at),
    handedOff: (refs, at) => store.handedOff!(refs, at),
    close: async () => undefined,
  });

  it('refuses with 413 a delivery of more records than it may hold, claiming none', async () => {
    const records = batch(MAX_RECORDS_PER_DELIVERY + 1);
    const response = await receiver()(signed(records));
    expect(response.status).toBe(413);
    expect(parsed(response)).toMatchObject({ error: 'too_many_records' });
    expect(String(parsed(response).message)).toContain(String(MAX_RECORDS_PER_DELIVERY));
    expect(await store.lookup(refTo(records[0]!), new Date())).toBeUndefined();
    expect(handOff.sent).toHaveLength(0);
    expect(log.lines.map((line) => line.outcome)).toEqual(['too_many_records']);
  });

  it('takes a batch the store is too slow for over several answers, each in time, every event handed off once', async () => {
    const records = batch(120);
    const handle = receiver({ store: slowed({ claimMs: 250 }) });
    const answers: Array<{ status: number; ms: number; accepted: number; duplicates: number }> = [];
    for (let attempt = 0; attempt < 4 && answers.at(-1)?.status !== 200; attempt++) {
      const started = Date.now();
      // 3 s to answer: claims may run for about one second (~64 of them, 16 at a time), the rest is kept for the hand-off.
      const response = await handle({ ...signed(records, { webhookId: 'msg_big' }), deadline: started + 3_000 });
      const body = parsed(response);
      answers.push({ status: response.status, ms: Date.now() - started, accepted: Number(body.accepted), duplicates: Number(body.duplicates) });
    }
    // The first answer took part of the batch and asked for a retry; the retry skipped what it took
    // (one read for the whole batch, not 64 slow claims) and finished.
    expect(answers.map((a) => a.status)).toEqual([503, 200]);
    expect(answers[0]!.accepted).toBeGreaterThan(0);
    expect(answers[1]!.duplicates).toBe(answers[0]!.accepted);
    expect(answers[0]!.accepted + answers[1]!.accepted).toBe(120);
    for (const answer of answers) expect(answer.ms).toBeLessThan(3_000);
    expect(handOff.sent).toHaveLength(120);
    expect(new Set(handOff.sent.map((entry) => entry.eventId)).size).toBe(120);
  });

  it('claims every event of a batch when the store cannot say which are handed off', async () => {
    const records = batch(5);
    const blind: DedupeStore = { ...slowed({}), handedOff: () => Promise.reject(new StoreUnavailableError('sqlite: database is locked')) };
    expect(parsed(await receiver({ store: blind })(signed(records.slice(0, 2))))).toMatchObject({ accepted: 2 });
    expect(parsed(await receiver({ store: blind })(signed(records)))).toMatchObject({ outcome: 'accepted', accepted: 3, duplicates: 2 });
    expect(handOff.sent).toHaveLength(5);
    // Said, so a read the store's role may not make (or that keeps failing) is seen.
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'batch read failed: every event is claimed', reason: 'sqlite: database is locked' }));

    // A store that never answers the read leaves the claims most of their time.
    const more = batch(8).map((record, n) => ({ ...record, event_id: `evt_unread_${n}` }));
    const mute: DedupeStore = { ...slowed({}), handedOff: () => new Promise<never>(() => undefined) };
    const started = Date.now();
    const response = await receiver({ store: mute })({ ...signed(more), deadline: started + 4_000 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(parsed(response)).toMatchObject({ outcome: 'accepted', accepted: 8 });
  });

  it('counts a claim the store did not answer in time as not made, not as the store failing: the others are handed off', async () => {
    const records = batch(3);
    const stuck = refTo(records[1]!);
    const hangsOnOne: DedupeStore = {
      ...slowed({}),
      claim: (ref, at) => (ref.eventId === stuck.eventId ? new Promise<never>(() => undefined) : store.claim(ref, at)),
    };
    const started = Date.now();
    const response = await receiver({ store: hangsOnOne })({ ...signed(records), deadline: started + 4_000 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(response.status).toBe(503);
    expect(parsed(response)).toMatchObject({ accepted: 2 });
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'unavailable', stage: 'deadline' });
    expect(handOff.sent.map((entry) => entry.eventId).sort()).toEqual([records[0]!.event_id, records[2]!.event_id].sort());
  });

  it('asks the platform to wait for the longest lease left among the events other deliveries hold', async () => {
    const [short, long] = batch(2);
    const now = Date.now();
    await store.claim(refTo(short!), new Date(now - 25_000)); // 5 s of its lease left
    await store.claim(refTo(long!), new Date(now - 2_000)); // 28 s left
    const response = await receiver()(signed([short, long]));
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(27);
  });

  it('answers 503 at once, claiming nothing, when too little time is left to take a delivery', async () => {
    const body = fixture('audit_created');
    const response = await receiver()({ ...signed(body), deadline: Date.now() + 1_500 });
    expect(response.status).toBe(503);
    expect(await store.lookup(refTo(body), new Date())).toBeUndefined();
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'unavailable', stage: 'arrival' });
  });

  it('answers 200 in time when the completion cannot be recorded, and logs it for the alarm', async () => {
    for (const complete of ['fails', 'never'] as const) {
      const body = { ...fixture('quote_request_created'), event_id: `evt_unrecorded_${complete}` };
      const started = Date.now();
      const response = await receiver({ store: slowed({ complete }) })({ ...signed(body), deadline: started + 4_000 });
      expect(Date.now() - started).toBeLessThan(4_000);
      // The item is safe downstream: a 503 would only make the platform send it again.
      expect(response.status).toBe(200);
      const line = log.lines.find((entry) => entry.outcome === 'handoff_unrecorded' && String(entry.events).includes(body.event_id));
      expect(line).toMatchObject({ level: 'error', count: 1, events: `RequestQuote:Create/${body.event_id}` });
    }
    expect(handOff.sent).toHaveLength(2);
  });

  it('answers 503 in time and releases the claims when the hand-off does not answer', async () => {
    const body = fixture('audit_assigned');
    const hanging = { description: 'hanging', send: () => new Promise<never>(() => undefined) };
    const started = Date.now();
    const response = await receiver({ handOff: hanging })({ ...signed(body), deadline: started + 4_000 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(response.status).toBe(503);
    expect(await store.lookup(refTo(body), new Date())).toBeUndefined(); // the retry claims it at once
  });

  it('passes the hand-off the time by which it must be done', async () => {
    let given: number | undefined;
    const recording = { description: 'deadline', send: async (items: readonly unknown[], options?: { deadline?: number }) => ((given = options?.deadline), items.map(() => ({ ok: true as const }))) };
    const deadline = Date.now() + 10_000;
    expect((await receiver({ handOff: recording })({ ...signed(fixture('audit_created')), deadline })).status).toBe(200);
    expect(given).toBeGreaterThan(Date.now());
    expect(given).toBeLessThan(deadline);
  });
});

it('logs ids, counts and outcomes but no payload value, secret or signature', async () => {
  const body = fixture('quote_request_created');
  const request = signed(body);
  await receiver()(request);
  await receiver()(signed(body, { secret: OTHER_SECRET }));
  await receiver()(signed('not json'));
  const text = JSON.stringify(log.lines);
  for (const value of [body.email, body.phone, body.street, String(body.first_name).trim(), String(body.last_name).trim(), SECRET, OTHER_SECRET, request.headers['webhook-signature']]) {
    expect(text).not.toContain(String(value));
  }
  // The lines are there, with what an operator needs.
  expect(log.lines.map((line) => line.outcome)).toEqual(['accepted', 'rejected_signature', 'not_events']);
});
