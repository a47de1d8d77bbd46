/**
 * The SQLite de-duplication store on a real file, at the edges its contract suite (in the e2e
 * project, which mutation testing does not run) also checks, here in the unit project so that
 * `npm run mutation` can use them: the exact ends of a lease and of the retention, the wait it
 * names for an event in progress, pruning's pace, the settings a connection is opened with, and
 * what it says when it cannot answer. Time comes from `now`: nothing here waits.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CLAIM_LEASE_MS, DEFAULT_STORE_OPTIONS, type ClaimOutcome, type DedupeStore, type EventRef, StoreUnavailableError } from '../../src/receiver/store';
import { DEFAULT_BUSY_TIMEOUT_MS, openSqliteStore } from '../../src/receiver/stores/sqlite';

const EVENT = 'Audit:Create';
const ref = (eventId: string, event = EVENT): EventRef => ({ event, eventId });
const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const RETENTION_MS = DEFAULT_STORE_OPTIONS.retentionSeconds * 1000;

let dir: string;
let file: string;
const opened: Array<{ close(): unknown }> = [];
const open = (options: Parameters<typeof openSqliteStore>[1] = {}, where = file): DedupeStore => {
  const store = openSqliteStore(where, options);
  opened.push(store);
  return store;
};
/** A second connection on the file, as another process or an operator's sqlite3 shell has. */
const connect = (): DatabaseSync => {
  const db = new DatabaseSync(file);
  opened.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stores-mutants-'));
  file = join(dir, 'receiver.db');
});

afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) {
    try {
      await handle.close();
    } catch {
      // a connection a test closed already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const tokenOf = (outcome: ClaimOutcome): string => {
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.token;
};

describe('a claim and its lease', () => {
  it('holds for exactly the lease (30 s by default), then anyone may claim again', async () => {
    const store = open();
    tokenOf(await store.claim(ref('evt_lease'), T0));
    expect(await store.lookup(ref('evt_lease'), at(CLAIM_LEASE_MS - 1))).toEqual({
      eventId: 'evt_lease',
      event: EVENT,
      state: 'in_progress',
      since: T0.toISOString(),
      until: at(CLAIM_LEASE_MS).toISOString(),
    });
    expect(await store.claim(ref('evt_lease'), at(CLAIM_LEASE_MS - 1))).toEqual({ kind: 'in_progress', retryAfterMs: 1 });
    expect(await store.lookup(ref('evt_lease'), at(CLAIM_LEASE_MS))).toBeUndefined();
    tokenOf(await store.claim(ref('evt_lease'), at(CLAIM_LEASE_MS)));

    const short = open({ leaseMs: 2_000 }, join(dir, 'short.db'));
    tokenOf(await short.claim(ref('evt_short'), T0));
    expect(await short.lookup(ref('evt_short'), at(1_000))).toMatchObject({ until: at(2_000).toISOString() });
    tokenOf(await short.claim(ref('evt_short'), at(2_000)));
  });

  it('names the time left of the holder’s lease, never more than one lease', async () => {
    const store = open();
    tokenOf(await store.claim(ref('evt_busy'), T0));
    expect(await store.claim(ref('evt_busy'), at(10_500))).toEqual({ kind: 'in_progress', retryAfterMs: CLAIM_LEASE_MS - 10_500 });
    // A holder whose clock runs 5 s ahead: its lease ends 35 s from now by ours; one lease is named.
    tokenOf(await store.claim(ref('evt_ahead'), at(5_000)));
    expect(await store.claim(ref('evt_ahead'), T0)).toEqual({ kind: 'in_progress', retryAfterMs: CLAIM_LEASE_MS });
  });

  it('keeps one claim per event name and id: the same id under another event is another event', async () => {
    const store = open();
    const token = tokenOf(await store.claim(ref('42'), T0));
    tokenOf(await store.claim(ref('42', 'RequestQuote:Create'), T0));
    expect(await store.complete(ref('42', 'RequestQuote:Create'), token, at(1))).toBe(false);
    expect(await store.complete(ref('42'), token, at(1))).toBe(true);
  });
});

describe('completion and release', () => {
  it('remembers a handed-off event for exactly the retention (48 h by default), only with the claim’s token', async () => {
    const store = open();
    const token = tokenOf(await store.claim(ref('evt_done'), T0));
    expect(await store.complete(ref('evt_done'), 'not-the-token', at(1_000))).toBe(false);
    expect(await store.lookup(ref('evt_done'), at(1_000))).toMatchObject({ state: 'in_progress' });
    expect(await store.complete(ref('evt_done'), token, at(1_000))).toBe(true);
    const end = 1_000 + RETENTION_MS;
    expect(await store.lookup(ref('evt_done'), at(end - 1))).toEqual({
      eventId: 'evt_done',
      event: EVENT,
      state: 'handed_off',
      since: at(1_000).toISOString(),
      until: at(end).toISOString(),
    });
    expect(await store.claim(ref('evt_done'), at(end - 1))).toEqual({ kind: 'duplicate' });
    expect(await store.lookup(ref('evt_done'), at(end))).toBeUndefined();
    tokenOf(await store.claim(ref('evt_done'), at(end)));

    const brief = open({ retentionSeconds: 60 }, join(dir, 'brief.db'));
    await brief.complete(ref('evt_brief'), tokenOf(await brief.claim(ref('evt_brief'), T0)), T0);
    expect(await brief.lookup(ref('evt_brief'), at(59_999))).toMatchObject({ until: at(60_000).toISOString() });
    expect(await brief.lookup(ref('evt_brief'), at(60_000))).toBeUndefined();
  });

  it('forgets a released claim at once, but never a handed-off event, and only for the claim’s token', async () => {
    const store = open();
    const token = tokenOf(await store.claim(ref('evt_rel'), T0));
    await store.release(ref('evt_rel'), 'not-the-token');
    expect(await store.lookup(ref('evt_rel'), at(1))).toMatchObject({ state: 'in_progress' });
    await store.release(ref('evt_rel'), token);
    expect(await store.lookup(ref('evt_rel'), at(1))).toBeUndefined();
    const again = tokenOf(await store.claim(ref('evt_rel'), at(2)));
    expect(await store.complete(ref('evt_rel'), again, at(3))).toBe(true);
    await store.release(ref('evt_rel'), again);
    expect(await store.lookup(ref('evt_rel'), at(4))).toMatchObject({ state: 'handed_off' });
  });
});

describe('which events of a batch are handed off', () => {
  it('names, by event key, only those handed off and still remembered', async () => {
    const store = open({ retentionSeconds: 60 });
    for (const id of ['evt_a', 'evt_old']) await store.complete(ref(id), tokenOf(await store.claim(ref(id), id === 'evt_old' ? at(-60_000) : T0)), id === 'evt_old' ? at(-60_000) : T0);
    tokenOf(await store.claim(ref('evt_held'), T0));
    const refs = [ref('evt_a'), ref('evt_a', 'RequestQuote:Create'), ref('evt_held'), ref('evt_old'), ref('evt_none')];
    expect([...(await store.handedOff!(refs, at(1)))]).toEqual(['Audit:Create/evt_a']);
    expect([...(await store.handedOff!([], at(1)))]).toEqual([]);
  });
});

describe('pruning', () => {
  // A lease of 1 s: a lapsed claim may be pruned 1 s after it lapsed, once a prune runs.
  const lapsedAndPrunable = async (store: DedupeStore, id: string) => tokenOf(await store.claim(ref(id), T0));

  it('runs at most once a minute by the callers’ clock: a row due for pruning stays until then', async () => {
    const store = open({ leaseMs: 1_000 });
    const token = await lapsedAndPrunable(store, 'evt_p'); // the first claim prunes (nothing yet)
    tokenOf(await store.claim(ref('evt_q'), at(59_999))); // under a minute since: no prune
    expect(await store.complete(ref('evt_p'), token, at(59_999))).toBe(true);
  });

  it('runs again once a full minute has passed, and forgets rows a lease after they stopped counting', async () => {
    const store = open({ leaseMs: 1_000 });
    const token = await lapsedAndPrunable(store, 'evt_p');
    tokenOf(await store.claim(ref('evt_q'), at(60_000))); // exactly a minute since: it prunes
    expect(await store.complete(ref('evt_p'), token, at(60_000))).toBe(false);
    // The next prune is a minute after that one: a claim that lapsed since stays until then.
    const later = tokenOf(await store.claim(ref('evt_r'), at(61_000)));
    tokenOf(await store.claim(ref('evt_s'), at(100_000)));
    expect(await store.complete(ref('evt_r'), later, at(100_000))).toBe(true);
  });

  it('forgets only rows that stopped counting a lease before, keeping a lapsed claim for one more lease', async () => {
    const store = open({ leaseMs: 1_000, retentionSeconds: 60 });
    const first = tokenOf(await store.claim(ref('evt_first'), T0)); // lapses at 1 s
    const slow = tokenOf(await store.claim(ref('evt_slow'), at(59_500))); // lapses at 60.5 s
    await store.complete(ref('evt_kept'), tokenOf(await store.claim(ref('evt_kept'), at(59_000))), at(59_000));
    tokenOf(await store.claim(ref('evt_pruner'), at(60_000))); // prunes what stopped counting by 59 s
    expect(await store.complete(ref('evt_first'), first, at(61_000))).toBe(false);
    expect(await store.complete(ref('evt_slow'), slow, at(61_000))).toBe(true);
    expect(await store.lookup(ref('evt_kept'), at(118_999))).toMatchObject({ state: 'handed_off' });
  });
});

describe('the connection', () => {
  /** The store's own connection: settings only a lock or a power cut would otherwise show. */
  const settingsOf = (store: DedupeStore) => {
    const { db } = store as unknown as { db: DatabaseSync };
    return { ...db.prepare('PRAGMA busy_timeout').get(), ...db.prepare('PRAGMA synchronous').get() };
  };

  it('waits 5 s for another writer by default, or as long as asked (whole ms, never less than 0), with WAL and synchronous NORMAL', async () => {
    expect(settingsOf(open())).toEqual({ timeout: DEFAULT_BUSY_TIMEOUT_MS, synchronous: 1 });
    expect(settingsOf(open({ busyTimeoutMs: 1_234.9 }, join(dir, 'b.db')))).toMatchObject({ timeout: 1_234 });
    expect(settingsOf(open({ busyTimeoutMs: -5 }, join(dir, 'c.db')))).toMatchObject({ timeout: 0 });
    expect(connect().prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
  });

  it('is described by its absolute path, and creates the folders it needs', async () => {
    const nested = join(dir, 'a', 'b', 'events.db');
    expect(open({}, nested).description).toBe(`sqlite:${resolve(nested)}`);
  });

  it('answers StoreUnavailableError, naming SQLite’s reason, when another writer holds the lock too long', async () => {
    const store = open({ busyTimeoutMs: 20 });
    const holder = connect();
    holder.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const failed = store.claim(ref('evt_locked'), T0);
    await expect(failed).rejects.toThrow(StoreUnavailableError);
    await expect(failed).rejects.toThrow(`sqlite:${resolve(file)} unavailable (SQLITE_BUSY: database is locked)`);
    // Well under the default wait (5 s): the wait asked for is the one used.
    expect(Date.now() - started).toBeLessThan(DEFAULT_BUSY_TIMEOUT_MS - 1_000);
    holder.exec('ROLLBACK');
    tokenOf(await store.claim(ref('evt_locked'), T0));
  });

  it('refuses every call once closed, saying so, and closes twice without complaint', async () => {
    const store = open();
    tokenOf(await store.claim(ref('x'), T0));
    expect(existsSync(`${file}-wal`)).toBe(true);
    await store.close();
    await store.close();
    for (const call of [() => store.claim(ref('x'), T0), () => store.lookup(ref('x'), T0), () => store.handedOff!([ref('x')], T0)]) {
      await expect(call()).rejects.toThrow(new StoreUnavailableError(`sqlite:${resolve(file)} unavailable: the store is closed`));
    }
    // Its connection is closed: the last one on the file folds the write-ahead log back in and removes it.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('cannot open a file that is not a database: StoreUnavailableError with SQLite’s reason', () => {
    writeFileSync(file, 'not a database, '.repeat(100));
    expect(() => open()).toThrow(new StoreUnavailableError(`sqlite:${resolve(file)} unavailable (SQLITE_NOTADB: file is not a database)`));
  });

  it('upgrades a file keyed by the id alone, keeping its rows, and leaves a current file as it is', async () => {
    const old = connect();
    old.exec(`CREATE TABLE events (
      event_id TEXT PRIMARY KEY, event TEXT NOT NULL, state TEXT NOT NULL, token TEXT,
      since TEXT NOT NULL, lease_until INTEGER, expires_at INTEGER NOT NULL);`);
    old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)').run('42', EVENT, 'handed_off', 't1', T0.toISOString(), null, T0.getTime() + 60_000);
    old.close();
    const store = open();
    expect(await store.claim(ref('42'), at(1))).toEqual({ kind: 'duplicate' });
    tokenOf(await store.claim(ref('42', 'RequestQuote:Create'), at(1)));
    await store.close();
    open();
    const key = (connect().prepare(`SELECT name FROM pragma_table_info('events') WHERE pk > 0 ORDER BY pk`).all() as Array<{ name: string }>).map((c) => c.name);
    expect(key).toEqual(['event', 'event_id']);
    expect(await open().lookup(ref('42', 'RequestQuote:Create'), at(2))).toMatchObject({ state: 'in_progress' });
  });

  it('gives up a claim it keeps losing to a row it cannot read as live, after a few tries, asking for a retry at once', async () => {
    const store = open();
    // A row edited by hand: SQLite counts it live (a number sorts before text), the store's reading does not.
    connect()
      .prepare(`INSERT INTO events (event, event_id, state, token, since, lease_until, expires_at) VALUES (?, ?, 'in_progress', 't', ?, 'soon', ?)`)
      .run(EVENT, 'evt_odd', T0.toISOString(), T0.getTime() + CLAIM_LEASE_MS);
    expect(await store.claim(ref('evt_odd'), T0)).toEqual({ kind: 'in_progress', retryAfterMs: 1 });
  });
});
