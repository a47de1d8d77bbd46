/**
 * The local receiver's journal: the store and the outbox on one SQLite connection, each delivery's
 * claims, items and completions in one transaction, shared by the deliveries that arrive together.
 * Through the real handler where the answer matters, and through the journal itself for what only
 * it can show (shared commits, a failing delivery rolled back alone, the undo after a lost line).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import type { HandOffItem } from '../../src/receiver/hand-off';
import { createReceiver, type ReceiverDeps } from '../../src/receiver/handler';
import { openLocalDatabase, type LocalDatabase, type LocalDatabaseOptions } from '../../src/receiver/local/journal';
import { LINES_CLOSED } from '../../src/receiver/local/outbox';
import { memoryLog } from '../../src/receiver/log';
import { StoreUnavailableError } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
import { fixture, handOffItem, parsed, refTo, SECRET, signed } from '../support/receiver-kit';

/** Standard output as a reader: keeps every line; `fail` makes the next writes fail as a closed pipe. */
const reader = () => {
  const chunks: string[] = [];
  let failWith: string | undefined;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (failWith !== undefined) return done(Object.assign(new Error(`write ${failWith}`), { code: failWith }));
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () => chunks.join('').split('\n').filter(Boolean),
    ids: () => chunks.join('').split('\n').filter(Boolean).map((line) => String((JSON.parse(line) as { id: unknown }).id)),
    fail: (code: string) => void (failWith = code),
  };
};

let dir: string;
let file: string;
const opened: LocalDatabase[] = [];

const open = (options: LocalDatabaseOptions = {}): LocalDatabase => {
  const db = openLocalDatabase(file, options);
  opened.push(db);
  return db;
};

const close = async (db: LocalDatabase) => {
  await db.outbox.close();
  await db.store.close();
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-journal-'));
  file = join(dir, 'receiver.db');
});

afterEach(async () => {
  for (const db of opened.splice(0)) await close(db);
  rmSync(dir, { recursive: true, force: true });
});

const receiverOn = (db: LocalDatabase, overrides: Partial<ReceiverDeps> = {}) =>
  createReceiver({ secrets: () => [SECRET], store: db.store, handOff: db.outbox, journal: db.journal, log: memoryLog(), ...overrides });

const soon = { startBy: Number.POSITIVE_INFINITY };

/** Waits (bounded) until `check` holds. */
const eventually = async (check: () => boolean, timeoutMs = 5_000) => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('the handler with the journal', () => {
  it('accepts a delivery: the item is on standard output, in the outbox (kept once written) and its event remembered', async () => {
    const out = reader();
    const db = open({ outbox: { lines: out.stream } });
    const body = fixture('quote_request_created');
    const response = await receiverOn(db)(signed(body));
    expect(response.status).toBe(200);
    expect(parsed(response)).toMatchObject({ outcome: 'accepted', accepted: 1, duplicates: 0 });
    expect(out.ids()).toEqual([body.event_id]);
    await expect(db.store.lookup(refTo(body), new Date())).resolves.toMatchObject({ state: 'handed_off' });
    await eventually(() => db.outbox.find(String(body.event_id))?.state === 'kept');
    // The platform's retry, and the same event in a batch: duplicates, no second line.
    const again = await receiverOn(db)(signed(body));
    expect(parsed(again)).toMatchObject({ outcome: 'duplicate', accepted: 0, duplicates: 1 });
    const batch = await receiverOn(db)(signed([body, fixture('audit_created')]));
    expect(parsed(batch)).toMatchObject({ outcome: 'accepted', accepted: 1, duplicates: 1 });
    expect(out.ids()).toEqual([body.event_id, fixture('audit_created').event_id]);
  });

  it('takes 30 deliveries that arrive together in a shared commit, and each of 10 racing deliveries of one event once', async () => {
    const out = reader();
    const db = open({ outbox: { lines: out.stream } });
    const handle = receiverOn(db);
    const bodies = Array.from({ length: 30 }, (_, n) => ({ ...fixture('audit_created'), event_id: `evt_group_${n}` }));
    const answers = await Promise.all(bodies.map((body) => handle(signed(body))));
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 200));
    expect(out.ids().sort()).toEqual(bodies.map((body) => body.event_id).sort());
    // Far fewer commits than deliveries: they arrived in one turn of the event loop.
    expect(db.journal.stats.deliveries).toBe(30);
    expect(db.journal.stats.transactions).toBeLessThanOrEqual(3);

    const one = { ...fixture('audit_assigned'), event_id: 'evt_raced' };
    const raced = await Promise.all(Array.from({ length: 10 }, () => handle(signed(one))));
    expect(raced.map((answer) => parsed(answer).outcome).sort()).toEqual(['accepted', ...Array(9).fill('duplicate')]);
    expect(out.ids().filter((id) => id === 'evt_raced')).toHaveLength(1);
  });

  it('answers 429 while another delivery holds a claim on the event (the three-step path on the same file)', async () => {
    const db = open({ outbox: { lines: null } });
    const body = fixture('audit_simulated');
    const other = openSqliteStore(file);
    try {
      const claim = await other.claim(refTo(body), new Date());
      expect(claim.kind).toBe('claimed');
      const response = await receiverOn(db)(signed(body));
      expect(response.status).toBe(429);
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(db.outbox.find(String(body.event_id))).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('answers 503 and keeps nothing while another process holds the write lock past the busy timeout; takes it once the lock is gone', async () => {
    const out = reader();
    const db = open({ busyTimeoutMs: 50, outbox: { lines: out.stream } });
    const log = memoryLog();
    const body = fixture('audit_label_applied');
    const locker = new DatabaseSync(file);
    locker.exec('BEGIN IMMEDIATE');
    let response;
    try {
      response = await receiverOn(db, { log })(signed(body));
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('10');
    expect(log.lines.find((entry) => entry.outcome === 'unavailable')).toMatchObject({ stage: 'claim', reason: expect.stringContaining('SQLITE_BUSY') });
    expect(out.lines()).toEqual([]);
    await expect(db.store.lookup(refTo(body), new Date())).resolves.toBeUndefined();
    expect(db.outbox.find(String(body.event_id))).toBeUndefined();
    expect(parsed(await receiverOn(db)(signed(body)))).toMatchObject({ outcome: 'accepted' });
    expect(out.ids()).toEqual([body.event_id]);
  });

  it('answers 503 when the reader went away, undoing the hand-off so the retry writes the line; duplicates are still duplicates', async () => {
    const out = reader();
    const db = open({ outbox: { lines: out.stream } });
    const known = fixture('audit_created');
    expect((await receiverOn(db)(signed(known))).status).toBe(200);
    const body = fixture('quote_request_created');
    out.fail('EPIPE');
    const log = memoryLog();
    const response = await receiverOn(db, { log })(signed(body));
    expect(response.status).toBe(503);
    expect(log.lines.find((entry) => entry.outcome === 'unavailable')).toMatchObject({ stage: 'hand-off', reason: expect.stringContaining(LINES_CLOSED) });
    // Not remembered as handed off, its row unsent: the next start (or a retry) writes it.
    await expect(db.store.lookup(refTo(body), new Date())).resolves.toBeUndefined();
    expect(db.outbox.find(String(body.event_id))?.state).toBe('unsent');
    // With the reader gone nothing new is taken, but what was handed off before is a duplicate.
    expect(parsed(await receiverOn(db)(signed(known)))).toMatchObject({ outcome: 'duplicate' });
    expect((await receiverOn(db)(signed(body))).status).toBe(503);
    await close(opened.pop()!);

    const next = reader();
    const restarted = open({ outbox: { lines: next.stream } });
    expect(parsed(await receiverOn(restarted)(signed(body)))).toMatchObject({ outcome: 'accepted' });
    expect(next.ids()).toEqual([body.event_id]);
    await eventually(() => restarted.outbox.find(String(body.event_id))?.state === 'kept');
  });

  it('answers 503 with Retry-After 1 when the journal started too late for the events, as for claims not made in time', async () => {
    const db = open({ outbox: { lines: null } });
    const log = memoryLog();
    const late = { description: 'late', take: (entries: readonly HandOffItem[]) => Promise.resolve(entries.map(() => ({ kind: 'late' as const }))) };
    const response = await receiverOn(db, { log, journal: late })(signed(fixture('audit_assigned')));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(log.lines.find((entry) => entry.outcome === 'unavailable')).toMatchObject({ stage: 'deadline', reason: expect.stringContaining('1 event(s) left') });
  });

  it('with a forwarder: rows start pending and the forwarder is woken after the commit', async () => {
    const db = open({ outbox: { lines: null, forwarding: true } });
    let woken = 0;
    db.outbox.onPending(() => void (woken += 1));
    const body = fixture('audit_simulated');
    expect((await receiverOn(db)(signed(body))).status).toBe(200);
    expect(db.outbox.find(String(body.event_id))?.state).toBe('pending');
    expect(woken).toBe(1);
  });
});

describe('the journal itself', () => {
  const items = (prefix: string, count: number): HandOffItem[] => Array.from({ length: count }, (_, n) => handOffItem('audit_created', `${prefix}_${n}`));

  it('rolls back a delivery that fails inside the shared transaction alone; the others are committed', async () => {
    const out = reader();
    const db = open({ outbox: { lines: out.stream } });
    const good = items('evt_good', 3);
    // An item that cannot be stored: serialising it throws, inside the transaction.
    const bad = { ...handOffItem('audit_created', 'evt_bad'), item: { id: 'evt_bad', oops: 1n } as unknown as HandOffItem['item'] };
    const takes = [db.journal.take([good[0]!], new Date(), soon), db.journal.take([handOffItem('audit_created', 'evt_bad_first'), bad], new Date(), soon), db.journal.take(good.slice(1), new Date(), soon)];
    const [first, failed, last] = await Promise.allSettled(takes);
    expect(first).toEqual({ status: 'fulfilled', value: [{ kind: 'taken' }] });
    expect(last).toEqual({ status: 'fulfilled', value: [{ kind: 'taken' }, { kind: 'taken' }] });
    expect(failed?.status).toBe('rejected');
    expect((failed as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(db.journal.stats.transactions).toBe(1);
    // Nothing of the failed delivery stayed, not even its first item's claim.
    await expect(db.store.lookup({ event: 'Audit:Create', eventId: 'evt_bad_first' }, new Date())).resolves.toBeUndefined();
    expect(db.outbox.find('evt_bad_first')).toBeUndefined();
    expect(out.ids().sort()).toEqual(good.map((item) => item.eventId).sort());
  });

  it('takes the deliveries again one by one when SQLite gives up the whole transaction', async () => {
    const out = reader();
    const db = open({ outbox: { lines: out.stream } });
    // A trigger that rolls back the entire transaction when the poisoned event's row is inserted.
    const admin = new DatabaseSync(file);
    admin.exec(`CREATE TRIGGER poison BEFORE INSERT ON outbox WHEN NEW.event_id = 'evt_poison' BEGIN SELECT RAISE(ROLLBACK, 'poisoned'); END;`);
    admin.close();
    const good = items('evt_fine', 4);
    const results = await Promise.allSettled([
      db.journal.take(good.slice(0, 2), new Date(), soon),
      db.journal.take([handOffItem('audit_created', 'evt_poison')], new Date(), soon),
      db.journal.take(good.slice(2), new Date(), soon),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(out.ids().sort()).toEqual(good.map((item) => item.eventId).sort());
    for (const item of good) await expect(db.store.lookup(item, new Date())).resolves.toMatchObject({ state: 'handed_off' });
    await expect(db.store.lookup({ event: 'Audit:Create', eventId: 'evt_poison' }, new Date())).resolves.toBeUndefined();
  });

  it('hands each event off once when two connections on one file take the same events at once', async () => {
    const one = reader();
    const two = reader();
    const a = open({ outbox: { lines: one.stream } });
    const b = open({ outbox: { lines: two.stream } });
    const shared = items('evt_both', 40);
    const takes = shared.flatMap((item) => [a.journal.take([item], new Date(), soon), b.journal.take([item], new Date(), soon)]);
    const results = (await Promise.all(takes)).flat();
    expect(results.filter((result) => result.kind === 'taken')).toHaveLength(40);
    expect(results.filter((result) => result.kind === 'duplicate')).toHaveLength(40);
    expect([...one.ids(), ...two.ids()].sort()).toEqual(shared.map((item) => item.eventId).sort());
  });

  it('does not start a delivery whose turn comes after its start-by time', async () => {
    const db = open({ outbox: { lines: null } });
    const [item] = items('evt_too_late', 1);
    await expect(db.journal.take([item!], new Date(), { startBy: Date.now() - 1 })).resolves.toEqual([{ kind: 'late' }]);
    await expect(db.store.lookup(item!, new Date())).resolves.toBeUndefined();
    expect(db.outbox.find(item!.eventId)).toBeUndefined();
  });

  it('bounds a group by its deliveries and its items', async () => {
    const db = open({ outbox: { lines: null }, maxGroupDeliveries: 4, maxGroupItems: 10 });
    await Promise.all(Array.from({ length: 12 }, (_, n) => db.journal.take(items(`evt_bound_${n}`, 1), new Date(), soon)));
    expect(db.journal.stats).toEqual({ transactions: 3, deliveries: 12 });
    await Promise.all([db.journal.take(items('evt_big_a', 8), new Date(), soon), db.journal.take(items('evt_big_b', 8), new Date(), soon)]);
    expect(db.journal.stats).toEqual({ transactions: 5, deliveries: 14 });
  });

  it('copies committed pages into the database file from its worker, not inside the commits', async () => {
    // Without the worker a few pages stay in the WAL until 1,000 have gathered: the file itself lacks them.
    const inline = open({ outbox: { lines: null }, checkpointEveryMs: 0 });
    await inline.journal.take([handOffItem('audit_created', 'evt_marker_inline')], new Date(), soon);
    expect(readFileSync(file).includes('evt_marker_inline')).toBe(false);
    await close(opened.pop()!);
    rmSync(dir, { recursive: true, force: true });

    const db = open({ outbox: { lines: null } });
    await db.journal.take([handOffItem('audit_created', 'evt_marker_worker')], new Date(), soon);
    await eventually(() => readFileSync(file).includes('evt_marker_worker'));
  });

  it('marks rows whose lines went out kept before it closes, and refuses takes once closed', async () => {
    const out = reader();
    const db = openLocalDatabase(file, { outbox: { lines: out.stream } });
    await db.journal.take(items('evt_close', 2), new Date(), soon);
    await close(db);
    const after = open({ outbox: { lines: null } });
    expect(after.outbox.counts()).toMatchObject({ kept: 2, unsent: 0 });
    await expect(db.journal.take(items('evt_late', 1), new Date(), soon)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
