/**
 * The de-duplication store contract (src/receiver/store.ts), one suite run against every backend:
 * SQLite on a temporary file and DynamoDB on dynalite (127.0.0.1). Time comes from `now`, so
 * leases and retention are crossed by moving `now`, never by waiting.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { buildSync } from 'esbuild';

import { type ClaimOutcome, DEFAULT_STORE_OPTIONS, type DedupeStore, type EventRef, eventKey, type StoreOptions, StoreUnavailableError } from '../../src/receiver/store';
import { createDedupeTable, DynamoDbStore } from '../../src/receiver/stores/dynamodb';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/receiver/stores/sqlite';
import { openLocalDatabase } from '../../src/receiver/local/journal';
import { within } from '../support/bounded-wait';
import { localDynamoClient, startDynalite } from '../support/dynalite';

const T0 = new Date('2025-03-01T12:00:00.000Z'); // a whole second: DynamoDB's expires_at is in seconds
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const LEASE_MS = DEFAULT_STORE_OPTIONS.leaseMs;
const RETENTION_MS = DEFAULT_STORE_OPTIONS.retentionSeconds * 1000;
const EVENT = 'RequestQuote:Create';
const ref = (eventId: string, event: string = EVENT): EventRef => ({ event, eventId });

let sequence = 0;
/** A fresh id per use: the backends' storage is shared by all the tests of a suite. */
const newId = (): string => `evt_01JD${String(++sequence).padStart(6, '0')}${randomUUID().slice(0, 8)}`;

/** A row as stored, in the backend's own units (for "the row is still there" and operator checks). */
interface RawRecord {
  readonly event_id: string;
  readonly event: string;
  readonly state: string;
  readonly token?: string | null;
  readonly since: string;
  readonly lease_until?: number | null;
  readonly expires_at: number;
}

interface Backend {
  /** A new store instance with its own connection (SQLite) or client (DynamoDB) on the shared storage. */
  open(options?: StoreOptions): DedupeStore;
  raw(ref: EventRef): Promise<RawRecord | undefined>;
  /** A store whose backend cannot answer writes, and how to clean it up. */
  broken(): Promise<{ store: DedupeStore; cleanUp(): Promise<void> }>;
  /** Parallel claims per id when 20 ids are raced at once (dynalite serves a few hundred puts/s). */
  readonly claimsPerIdWhenMany: number;
  /** Matches every StoreUnavailableError message of this backend. */
  readonly namePattern: RegExp;
  teardown(): Promise<void>;
}

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'receiver-store-'));

/**
 * The SQLite store on a connection of its own, or (`shared`) as the local receiver opens it: on one
 * connection with the outbox, for the journal (its connection closes once both are closed).
 */
async function sqliteBackend(shared = false): Promise<Backend> {
  const dir = tempDir();
  const file = path.join(dir, 'nested', 'events.db'); // the store creates the folder
  const opened: Array<{ close(): Promise<void> }> = [];
  const openStore = (where: string, options: SqliteStoreOptions = {}): DedupeStore => {
    if (!shared) return openSqliteStore(where, options);
    const { busyTimeoutMs, ...storeOptions } = options;
    const local = openLocalDatabase(where, { ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }), store: storeOptions, outbox: { lines: null } });
    opened.push(local.outbox);
    return local.store;
  };
  return {
    open(options) {
      const store = openStore(file, options);
      opened.push(store);
      return store;
    },
    async raw({ event, eventId }) {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        return db.prepare('SELECT * FROM events WHERE event = ? AND event_id = ?').get(event, eventId) as RawRecord | undefined;
      } finally {
        db.close();
      }
    },
    async broken() {
      // Another connection holds the write lock longer than this store waits for it.
      const lockedFile = path.join(dir, `locked-${randomUUID()}.db`);
      const store = openStore(lockedFile, { busyTimeoutMs: 50 });
      const holder = new DatabaseSync(lockedFile);
      holder.exec('BEGIN IMMEDIATE');
      return {
        store,
        async cleanUp() {
          holder.exec('ROLLBACK');
          holder.close();
          await store.close();
        },
      };
    },
    claimsPerIdWhenMany: 40,
    namePattern: /^sqlite:/,
    async teardown() {
      await Promise.all(opened.map((s) => s.close()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function dynamoBackend(): Promise<Backend> {
  const server = await startDynalite();
  const tableName = 'receiver-events';
  const clients: DynamoDBClient[] = [];
  const client = (endpoint: string): DynamoDBClient => {
    const c = localDynamoClient(endpoint);
    clients.push(c);
    return c;
  };
  const admin = client(server.endpoint);
  await createDedupeTable(admin, tableName);
  return {
    // dynalite runs in this process: on a busy machine a race of 160 claims takes seconds, more than
    // the store's production bound on a call (5 s). Far above that, so that only a backend that
    // cannot answer fails a call.
    open: (options) => new DynamoDbStore({ client: client(server.endpoint), tableName, callTimeoutMs: 20_000, ...options }),
    async raw(ref) {
      const { Item } = await admin.send(new GetItemCommand({ TableName: tableName, Key: { event_id: { S: eventKey(ref) } }, ConsistentRead: true }));
      if (Item === undefined) return undefined;
      return {
        event_id: Item.id?.S ?? '',
        event: Item.event?.S ?? '',
        state: Item.state?.S ?? '',
        token: Item.token?.S,
        since: Item.since?.S ?? '',
        lease_until: Item.lease_until?.N === undefined ? undefined : Number(Item.lease_until.N),
        expires_at: Number(Item.expires_at?.N),
      };
    },
    async broken() {
      // A table on a server that has gone away: the client's connections are refused.
      const gone = await startDynalite();
      await createDedupeTable(client(gone.endpoint), tableName);
      await gone.close();
      return { store: new DynamoDbStore({ client: client(gone.endpoint), tableName }), cleanUp: async () => {} };
    },
    claimsPerIdWhenMany: 8,
    namePattern: /^dynamodb:receiver-events /,
    async teardown() {
      for (const c of clients) c.destroy();
      await server.close();
    },
  };
}

const claimed = (outcome: ClaimOutcome): string => {
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(outcome)}`);
  return outcome.token;
};

describe.each([
  { backendName: 'SQLite', setUp: () => sqliteBackend() },
  { backendName: 'SQLite (one connection with the outbox, as the journal uses it)', setUp: () => sqliteBackend(true) },
  { backendName: 'DynamoDB (dynalite)', setUp: dynamoBackend },
])('the $backendName de-duplication store', ({ setUp }) => {
  let backend: Backend;
  let store: DedupeStore;

  beforeAll(async () => {
    backend = await setUp();
  });
  afterAll(async () => {
    await backend?.teardown();
  });
  beforeEach(() => {
    store = backend.open();
  });

  it('lets the first claim win, with a token of its own', async () => {
    const first = await store.claim(ref(newId(), EVENT), T0);
    const other = await store.claim(ref(newId(), EVENT), T0);
    expect(first).toEqual({ kind: 'claimed', token: expect.stringMatching(/^\S{16,}$/) });
    expect(claimed(other)).not.toBe(claimed(first));
  });

  it('answers duplicate once the event is handed off, from any instance, until the retention ends', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, EVENT), T0));
    expect(await store.complete(ref(id), token, at(1000))).toBe(true);
    expect(await store.claim(ref(id, EVENT), at(2000))).toEqual({ kind: 'duplicate' });
    expect(await backend.open().claim(ref(id, EVENT), at(1000 + RETENTION_MS - 1))).toEqual({ kind: 'duplicate' });
  });

  it('answers in_progress while a claim is held, with the lease time left as retryAfterMs', async () => {
    const id = newId();
    claimed(await store.claim(ref(id, EVENT), T0));
    expect(await store.claim(ref(id, EVENT), T0)).toEqual({ kind: 'in_progress', retryAfterMs: LEASE_MS });
    expect(await backend.open().claim(ref(id, EVENT), at(10_000))).toEqual({ kind: 'in_progress', retryAfterMs: LEASE_MS - 10_000 });
    // Never 0: a Retry-After of nothing would invite an immediate retry storm.
    expect(await store.claim(ref(id, EVENT), at(LEASE_MS - 1))).toEqual({ kind: 'in_progress', retryAfterMs: 1 });
  });

  it('lets the next claim win after a release, and ignores a release with another token', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, EVENT), T0));
    await store.release(ref(id), 'not-the-token');
    expect((await store.claim(ref(id, EVENT), T0)).kind).toBe('in_progress');
    await store.release(ref(id), token);
    expect(await backend.raw(ref(id))).toBeUndefined();
    claimed(await backend.open().claim(ref(id, EVENT), at(1)));
  });

  it('does not forget a handed-off event on release', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, EVENT), T0));
    await store.complete(ref(id), token, T0);
    await store.release(ref(id), token);
    expect(await store.claim(ref(id, EVENT), at(1))).toEqual({ kind: 'duplicate' });
  });

  it('lets another delivery take over a lapsed claim; the first holder can then neither complete nor release it', async () => {
    const id = newId();
    const start = 250; // mid-second on purpose: the lease ends to the millisecond, not the second
    const lapse = start + LEASE_MS;
    const first = claimed(await store.claim(ref(id, EVENT), at(start)));
    expect((await store.claim(ref(id, EVENT), at(lapse - 1))).kind).toBe('in_progress');
    const other = backend.open();
    const second = claimed(await other.claim(ref(id, EVENT), at(lapse)));

    expect(await store.complete(ref(id), first, at(lapse + 1))).toBe(false);
    await store.release(ref(id), first);
    expect(await store.claim(ref(id, EVENT), at(lapse + 2))).toEqual({ kind: 'in_progress', retryAfterMs: LEASE_MS - 2 });

    expect(await other.complete(ref(id), second, at(lapse + 3))).toBe(true);
    expect(await store.claim(ref(id, EVENT), at(lapse + 4))).toEqual({ kind: 'duplicate' });
  });

  it('lets a lapsed claim be completed by its holder when nobody took it over', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, EVENT), T0));
    expect(await store.complete(ref(id), token, at(LEASE_MS + 5000))).toBe(true);
    expect(await store.claim(ref(id, EVENT), at(LEASE_MS + 6000))).toEqual({ kind: 'duplicate' });
  });

  it('makes an event claimable again once the retention ends, although its row is still there (TTL deletes late)', async () => {
    const id = newId();
    await store.complete(ref(id), claimed(await store.claim(ref(id, EVENT), T0)), T0);
    const afterRetention = at(RETENTION_MS);

    expect(await backend.raw(ref(id))).toMatchObject({ event_id: id, state: 'handed_off' });
    expect(await store.lookup(ref(id), afterRetention)).toBeUndefined();
    const token = claimed(await store.claim(ref(id, EVENT), afterRetention));
    expect(await backend.raw(ref(id))).toMatchObject({ state: 'in_progress', token });
  });

  it('reads a live record as an operator would, and an absent or expired one as undefined', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, 'Audit:Update'), T0));
    expect(await store.lookup(ref(id, 'Audit:Update'), at(5))).toEqual({
      eventId: id,
      event: 'Audit:Update',
      state: 'in_progress',
      since: T0.toISOString(),
      until: at(LEASE_MS).toISOString(),
    });
    expect(await store.lookup(ref(id, 'Audit:Update'), at(LEASE_MS))).toBeUndefined(); // lapsed

    await store.complete(ref(id, 'Audit:Update'), token, at(2000));
    expect(await backend.open().lookup(ref(id, 'Audit:Update'), at(3000))).toEqual({
      eventId: id,
      event: 'Audit:Update',
      state: 'handed_off',
      since: at(2000).toISOString(),
      until: at(2000 + RETENTION_MS).toISOString(),
    });
    expect(await store.lookup(ref(id, 'Audit:Update'), at(2000 + RETENTION_MS))).toBeUndefined();
    expect(await store.lookup(ref(newId()), T0)).toBeUndefined();
  });

  it('stores operator-readable fields: the id as sent, the event name, the state and ISO times', async () => {
    const id = newId();
    const token = claimed(await store.claim(ref(id, EVENT), at(250)));
    expect(await backend.raw(ref(id))).toMatchObject({ event_id: id, event: EVENT, state: 'in_progress', token, since: at(250).toISOString() });
  });

  it('keeps one id under two events apart: ids are often numbered per event type', async () => {
    const id = newId();
    const audit = claimed(await store.claim(ref(id, 'Audit:Create'), T0));
    // The same id as a quote request: another event, claimed on its own while the audit is held.
    const quote = claimed(await store.claim(ref(id, 'RequestQuote:Create'), T0));
    expect(await store.complete(ref(id, 'Audit:Create'), audit, at(1))).toBe(true);
    expect(await store.claim(ref(id, 'Audit:Create'), at(2))).toEqual({ kind: 'duplicate' });
    expect((await store.claim(ref(id, 'RequestQuote:Create'), at(2))).kind).toBe('in_progress');
    // Each token counts for its own event only.
    expect(await store.complete(ref(id, 'Audit:Update'), quote, at(3))).toBe(false);
    await store.release(ref(id, 'RequestQuote:Create'), audit);
    expect((await store.lookup(ref(id, 'RequestQuote:Create'), at(3)))?.state).toBe('in_progress');
    await store.release(ref(id, 'RequestQuote:Create'), quote);
    expect(await store.lookup(ref(id, 'RequestQuote:Create'), at(4))).toBeUndefined();
    expect(await store.lookup(ref(id, 'Audit:Create'), at(4))).toMatchObject({ eventId: id, event: 'Audit:Create', state: 'handed_off' });
  });

  it('says which events of a batch are handed off, in a few reads, leaving claims in progress and expired ones out', async () => {
    const done = [newId(), newId()];
    for (const id of done) await store.complete(ref(id), claimed(await store.claim(ref(id), T0)), T0);
    const held = newId();
    claimed(await store.claim(ref(held), T0));
    const absent = newId();
    const otherEvent = ref(done[0]!, 'Audit:Create'); // the same id under another event
    const many = Array.from({ length: 230 }, () => ref(newId())); // more than one DynamoDB read
    const answer = await store.handedOff!([ref(done[0]!), ref(held), ref(absent), otherEvent, ref(done[1]!), ...many, ref(done[0]!)], at(1));
    expect([...answer].sort()).toEqual(done.map((id) => eventKey(ref(id))).sort());
    expect((await store.handedOff!([ref(done[0]!)], at(RETENTION_MS))).size).toBe(0); // the retention ended
    expect((await store.handedOff!([], at(1))).size).toBe(0);
  });

  it('keeps ids with odd characters apart and returns them as sent', async () => {
    const base = newId();
    const ids = [
      `${base}#1`,
      `${base}/a/b`,
      `${base} with spaces`,
      `${base} with spaces `, // differs only by a trailing space
      `${base}-ÉVÉNEMENT-é-日本-🚀`,
      `${base}-évènement-é-日本-🚀`, // differs only by case
      `${base}'; DROP TABLE events; --`,
      `${base}%20\\n"quoted"`,
      (base + 'x'.repeat(500)).slice(0, 500),
    ];
    for (const id of ids) {
      const token = claimed(await store.claim(ref(id, EVENT), T0));
      expect(await store.complete(ref(id), token, T0)).toBe(true);
    }
    for (const id of ids) {
      expect(await store.claim(ref(id, EVENT), at(1))).toEqual({ kind: 'duplicate' });
      expect((await store.lookup(ref(id), at(1)))?.eventId).toBe(id);
    }
  });

  it('hands one of 40 parallel claims of an id, from 4 instances, the win; the others wait', async () => {
    const instances = [backend.open(), backend.open(), backend.open(), backend.open()];
    const id = newId();
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => instances[i % 4]!.claim(ref(id, EVENT), T0)));

    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'in_progress')).toHaveLength(39);
    await Promise.all(instances.map((s) => s.close()));
  });

  it('hands exactly one claim per id when 20 ids are raced at once from 4 instances', async () => {
    const instances = [backend.open(), backend.open(), backend.open(), backend.open()];
    const ids = Array.from({ length: 20 }, newId);
    const perId = backend.claimsPerIdWhenMany;
    const races = Array.from({ length: 20 * perId }, (_, i) => {
      const id = ids[i % 20]!;
      return instances[i % 4]!.claim(ref(id, EVENT), T0).then((outcome) => ({ id, outcome }));
    });
    const results = await Promise.all(races);

    for (const id of ids) {
      const kinds = results.filter((r) => r.id === id).map((r) => r.outcome.kind);
      expect({ id, claimed: kinds.filter((k) => k === 'claimed').length, in_progress: kinds.filter((k) => k === 'in_progress').length }).toEqual({
        id,
        claimed: 1,
        in_progress: perId - 1,
      });
    }
    await Promise.all(instances.map((s) => s.close()));
  });

  it('rejects with StoreUnavailableError, naming the backend but no event, when the backend cannot answer', async () => {
    const { store: broken, cleanUp } = await backend.broken();
    const secretId = 'evt_SECRET_0042';
    try {
      for (const call of [
        () => broken.claim(ref(secretId, EVENT), T0),
        () => broken.complete(ref(secretId), 'some-token', T0),
        () => broken.release(ref(secretId), 'some-token'),
      ]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreUnavailableError);
        const message = (error as Error).message;
        expect(message).toMatch(backend.namePattern);
        expect(message).not.toContain('SECRET');
        expect(message).not.toContain(EVENT);
      }
    } finally {
      await cleanUp();
    }
  });

  it('rejects every call once closed', async () => {
    const closing = backend.open();
    await closing.close();
    for (const call of [
      () => closing.claim(ref(newId(), EVENT), T0),
      () => closing.complete(ref(newId()), 'token', T0),
      () => closing.release(ref(newId()), 'token'),
      () => closing.lookup(ref(newId()), T0),
      () => closing.handedOff!([ref(newId())], T0),
    ]) {
      await expect(call()).rejects.toThrow(StoreUnavailableError);
    }
  });
});

describe('the SQLite store on its own', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps its file in WAL mode', async () => {
    const file = path.join(dir, 'wal.db');
    await openSqliteStore(file).close();
    const db = new DatabaseSync(file);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('cannot open under a file: StoreUnavailableError naming the file, thrown at once', () => {
    const notAFolder = path.join(dir, 'plain-file');
    fs.writeFileSync(notAFolder, 'x');
    const open = () => openSqliteStore(path.join(notAFolder, 'events.db'));
    expect(open).toThrow(StoreUnavailableError);
    expect(open).toThrow(`sqlite:${path.join(notAFolder, 'events.db')} unavailable (EEXIST)`); // mkdir of the folder
  });

  it('prunes rows that stopped counting long ago, and keeps live ones', async () => {
    const file = path.join(dir, 'prune.db');
    const store = openSqliteStore(file, { retentionSeconds: 60 });
    const old = ['evt_old_1', 'evt_old_2'];
    for (const id of old) await store.complete(ref(id), claimed(await store.claim(ref(id, EVENT), T0)), T0);
    const lapsed = 'evt_lapsed';
    claimed(await store.claim(ref(lapsed, EVENT), T0));

    claimed(await store.claim(ref('evt_much_later', EVENT), at(10 * 60_000)));

    const db = new DatabaseSync(file, { readOnly: true });
    const ids = (db.prepare('SELECT event_id FROM events ORDER BY event_id').all() as Array<{ event_id: string }>).map((r) => r.event_id);
    db.close();
    await store.close();
    expect(ids).toEqual(['evt_much_later']);
  });

  it('upgrades a file keyed by the id alone to (event, id) keys, remembering every event it held', async () => {
    const file = path.join(dir, 'keyed-by-id.db');
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE events (
      event_id TEXT PRIMARY KEY, event TEXT NOT NULL, state TEXT NOT NULL, token TEXT,
      since TEXT NOT NULL, lease_until INTEGER, expires_at INTEGER NOT NULL);
      CREATE INDEX events_expires_at ON events (expires_at);`);
    const insert = old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run('42', 'Audit:Create', 'handed_off', 't1', T0.toISOString(), null, T0.getTime() + RETENTION_MS);
    insert.run('evt_held', EVENT, 'in_progress', 't2', T0.toISOString(), T0.getTime() + LEASE_MS, T0.getTime() + LEASE_MS);
    old.close();

    const store = openSqliteStore(file);
    const again = openSqliteStore(file); // a second process opening the upgraded file changes nothing
    try {
      expect(await store.claim(ref('42', 'Audit:Create'), at(1000))).toEqual({ kind: 'duplicate' });
      expect(await again.claim(ref('evt_held'), at(1000))).toEqual({ kind: 'in_progress', retryAfterMs: LEASE_MS - 1000 });
      expect(await store.complete(ref('evt_held'), 't2', at(2000))).toBe(true);
      // The same id under another event is another event.
      claimed(await store.claim(ref('42', 'RequestQuote:Create'), at(3000)));
    } finally {
      await store.close();
      await again.close();
    }
    const db = new DatabaseSync(file, { readOnly: true });
    const key = (db.prepare(`SELECT name FROM pragma_table_info('events') WHERE pk > 0 ORDER BY pk`).all() as Array<{ name: string }>).map((c) => c.name);
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`).all() as Array<{ name: string }>).map((i) => i.name);
    db.close();
    expect(key).toEqual(['event', 'event_id']);
    expect(indexes).toEqual(['events_expires_at']);
  });

  it('lets exactly one of 4 processes claim each of 200 ids on one file', async () => {
    const work = tempDir();
    let racers: ChildProcessWithoutNullStreams[] = [];
    try {
      const bundle = path.join(work, 'sqlite-store.cjs');
      buildSync({
        entryPoints: [path.join(__dirname, '../../src/receiver/stores/sqlite.ts')],
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        outfile: bundle,
        logLevel: 'warning',
      });
      const file = path.join(work, 'race.db');
      const ids = 200;
      racers = Array.from({ length: 4 }, () =>
        spawn(process.execPath, [path.join(__dirname, '../support/store-race-child.cjs'), bundle, file, String(ids), String(T0.getTime())], {
          stdio: 'pipe',
        }),
      );
      const lines = racers.map(outputLines);
      const said: string[][] = racers.map(() => []);
      const state = () => racers.map((r, i) => ({ said: said[i]!.length, exitCode: r.exitCode }));
      const nextOfEach = (what: string) =>
        within(Promise.all(lines.map((l, i) => l.next().then((line) => (said[i]!.push(line), line)))), { what, timeoutMs: 30_000, state });
      // All open the file first (creating the table concurrently), then start together.
      await nextOfEach('the racers to open the file');
      for (const r of racers) r.stdin.write('go\n');
      const results = (await nextOfEach('the racers to claim every id')).map(
        (line) => JSON.parse(line) as { claimed: string[]; duplicate: number; in_progress: number; failed: number },
      );

      const winners = results.flatMap((r) => r.claimed);
      expect(winners).toHaveLength(ids);
      expect(new Set(winners).size).toBe(ids);
      expect(results.reduce((n, r) => n + r.in_progress, 0)).toBe(3 * ids);
      expect(results.map((r) => r.failed + r.duplicate)).toEqual([0, 0, 0, 0]);
    } finally {
      for (const r of racers) if (r.exitCode === null) r.kill();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 90_000);
});

/**
 * Line-by-line reader of a child's stdout; rejects if its output ends first (with its stderr). On
 * 'close', not 'exit': a child's 'exit' can come before the last of its output has been read.
 */
function outputLines(child: ChildProcessWithoutNullStreams): { next(): Promise<string> } {
  let buffer = '';
  let stderr = '';
  let ended: string | undefined;
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  const ready: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(line);
      else ready.push(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.on('close', (code, signal) => {
    ended = `racer ended (${signal ?? code}) early: ${stderr}`;
    for (const w of waiting.splice(0)) w.reject(new Error(ended));
  });
  return {
    next: () => {
      const line = ready.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (ended !== undefined) return Promise.reject(new Error(ended));
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

describe('the DynamoDB store on its own', () => {
  /** A fake DynamoDB endpoint that answers each request with `answer` (given the operation) and lists the operations. */
  async function fakeDynamo(
    answer: (res: http.ServerResponse, operation: string) => void,
  ): Promise<{ endpoint: string; requests: string[]; close(): Promise<void> }> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      const operation = String(req.headers['x-amz-target']).replace('DynamoDB_20120810.', '');
      requests.push(operation);
      req.resume();
      req.on('end', () => answer(res, operation));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
  const dynamoError = (res: http.ServerResponse, status: number, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
  };

  it('stores expires_at in epoch seconds (the TTL attribute) and lease_until in milliseconds', async () => {
    const server = await startDynalite();
    const client = localDynamoClient(server.endpoint);
    try {
      await createDedupeTable(client, 'ttl-units');
      const store = new DynamoDbStore({ client, tableName: 'ttl-units' });
      const token = claimed(await store.claim(ref('evt_units', EVENT), at(1500)));
      const read = async () => (await client.send(new GetItemCommand({ TableName: 'ttl-units', Key: { event_id: { S: `${EVENT}/evt_units` } } }))).Item;

      const held = await read();
      // Readable in the console: the event and the id as sent, and the id alone beside it.
      expect(held?.event_id).toEqual({ S: 'RequestQuote:Create/evt_units' });
      expect(held?.id).toEqual({ S: 'evt_units' });
      expect(held?.lease_until).toEqual({ N: String(T0.getTime() + 1500 + LEASE_MS) });
      expect(held?.expires_at).toEqual({ N: String(Math.ceil((T0.getTime() + 1500 + LEASE_MS) / 1000)) });

      await store.complete(ref('evt_units'), token, at(1500));
      const done = await read();
      expect(done?.lease_until).toBeUndefined();
      expect(done?.expires_at).toEqual({ N: String(Math.ceil((T0.getTime() + 1500 + RETENTION_MS) / 1000)) });
      expect(done?.state).toEqual({ S: 'handed_off' });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('decides from the item DynamoDB returns with a failed condition, without a second read', async () => {
    // Real DynamoDB honours ReturnValuesOnConditionCheckFailure (dynalite does not): the item comes with the failure.
    const fake = await fakeDynamo((res) =>
      dynamoError(res, 400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
        Item: {
          event_id: { S: 'evt_held' },
          event: { S: EVENT },
          state: { S: 'in_progress' },
          token: { S: 't' },
          since: { S: T0.toISOString() },
          lease_until: { N: String(T0.getTime() + 20_000) },
          expires_at: { N: String(T0.getTime() / 1000 + 20) },
        },
      }),
    );
    const client = localDynamoClient(fake.endpoint);
    try {
      const store = new DynamoDbStore({ client, tableName: 'events' });
      expect(await store.claim(ref('evt_held', EVENT), at(5000))).toEqual({ kind: 'in_progress', retryAfterMs: 15_000 });
      expect(fake.requests).toEqual(['PutItem']);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('takes its own claim back when the SDK retried a put whose answer was lost', async () => {
    // The first put is written but its answer is lost (a 500 here); the SDK's retry then fails the
    // condition on that very item. The token in it is ours: the claim is ours, not "in progress".
    let written: Record<string, unknown> | undefined;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const item = (JSON.parse(body) as { Item: Record<string, unknown> }).Item;
        if (written === undefined) {
          written = item;
          return dynamoError(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'answer lost' });
        }
        dynamoError(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed', Item: written });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = localDynamoClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { maxAttempts: 2 });
    try {
      const outcome = await new DynamoDbStore({ client, tableName: 'events' }).claim(ref('evt_lost_answer', EVENT), T0);
      expect(outcome).toEqual({ kind: 'claimed', token: (written?.token as { S: string }).S });
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('claims again when the claim it lost to is released before it could read it', async () => {
    let puts = 0;
    const fake = await fakeDynamo((res, operation) => {
      if (operation === 'PutItem' && ++puts === 1) {
        dynamoError(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' });
      } else {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'); // GetItem: gone; PutItem: won
      }
    });
    const client = localDynamoClient(fake.endpoint);
    try {
      const outcome = await new DynamoDbStore({ client, tableName: 'events' }).claim(ref('evt_released', EVENT), T0);
      expect(outcome.kind).toBe('claimed');
      expect(fake.requests).toEqual(['PutItem', 'GetItem', 'PutItem']);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('reports a failed read after a lost claim as unavailable', async () => {
    const fake = await fakeDynamo((res, operation) =>
      operation === 'PutItem'
        ? dynamoError(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' })
        : dynamoError(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'evt_SECRET internal' }),
    );
    const client = localDynamoClient(fake.endpoint);
    try {
      const store = new DynamoDbStore({ client, tableName: 'events' });
      await expect(store.claim(ref('evt_SECRET', EVENT), T0)).rejects.toThrow(
        new StoreUnavailableError('dynamodb:events unavailable (server error: InternalServerError)'),
      );
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('reports throttling that outlasts the SDK retries as unavailable', async () => {
    const fake = await fakeDynamo((res) =>
      dynamoError(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'evt_SECRET throttled' }),
    );
    const client = localDynamoClient(fake.endpoint, { maxAttempts: 2 });
    try {
      const store = new DynamoDbStore({ client, tableName: 'events' });
      const error = await store.claim(ref('evt_SECRET', EVENT), T0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toBe('dynamodb:events unavailable (throttled: ProvisionedThroughputExceededException)');
      expect(fake.requests).toHaveLength(2);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('gives up on a server that never answers within callTimeoutMs', async () => {
    const fake = await fakeDynamo(() => {
      // never answers
    });
    // The client alone would give up after 2 × 3 s: only callTimeoutMs can make it sooner.
    const client = localDynamoClient(fake.endpoint, { requestHandler: { requestTimeout: 3_000, throwOnRequestTimeout: true } });
    try {
      const store = new DynamoDbStore({ client, tableName: 'events', callTimeoutMs: 300 });
      const started = Date.now();
      await expect(store.lookup(ref('evt_slow'), T0)).rejects.toThrow(/^dynamodb:events unavailable \(timed out/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('reads fail as unavailable too when the server is gone', async () => {
    const server = await startDynalite();
    const client = localDynamoClient(server.endpoint);
    await server.close();
    try {
      const store = new DynamoDbStore({ client, tableName: 'events' });
      await expect(store.lookup(ref('evt_any'), T0)).rejects.toThrow('dynamodb:events unavailable (unreachable');
    } finally {
      client.destroy();
    }
  });
});
