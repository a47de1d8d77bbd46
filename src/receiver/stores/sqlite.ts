/**
 * The de-duplication store on one machine: a SQLite file (node:sqlite, built into Node 22), shared
 * safely by any number of processes on that machine.
 *
 * Table `events` (one row per event, readable with the sqlite3 shell; the key is (event, event_id),
 * because ids are often numbered per event type):
 *   event       TEXT              the event name (e.g. `RequestQuote:Create`)
 *   event_id    TEXT              the item's `id`, as sent (e.g. `evt_01JD…` or `42`)
 *   state       TEXT              'in_progress' | 'handed_off'
 *   token       TEXT              the claim's random token (only its holder may complete/release)
 *   since       TEXT              ISO-8601: when claimed, or when handed off
 *   lease_until INTEGER           epoch MILLISECONDS: end of the claim's lease (NULL once handed off)
 *   expires_at  INTEGER           epoch MILLISECONDS: when the row stops counting (the lease end
 *                                 while in progress, the end of the retention once handed off)
 * A row counts ("is live") while (handed_off and now < expires_at) or (in_progress and
 * now < lease_until); a row that no longer counts is as good as absent, and is pruned later.
 *
 * A claim is ONE upsert that only overwrites a row that is not live, so two connections (or two
 * processes) on one file can never both win: SQLite serialises writers and the WHERE is evaluated
 * under the write lock. WAL with synchronous=NORMAL keeps claims fast (~25k/s) and durable across a
 * process crash (a power loss may forget the last claims, which only means a retried delivery is
 * handed off again, at least once).
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

import {
  type ClaimOutcome,
  DEFAULT_STORE_OPTIONS,
  type DedupeStore,
  type EventRef,
  eventKey,
  type StoredEvent,
  type StoreOptions,
  StoreUnavailableError,
} from '../store';
import { sqliteReason } from '../sqlite-errors';
import { openSqliteFile } from '../sqlite-file';
import { migrateWhen, prepareFile } from '../sqlite-migrate';

export interface SqliteStoreOptions extends StoreOptions {
  /**
   * How long a statement waits for another connection's write lock before failing (SQLITE_BUSY →
   * StoreUnavailableError → 503). Default 5 s: well below the platform's 15 s answer timeout.
   */
  readonly busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Pruning runs at most this often (by the callers' clock) and deletes at most PRUNE_BATCH rows. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 500;
/** A claim whose race we lost but whose row vanished before we read it is retried this often. */
const CLAIM_ATTEMPTS = 3;

interface EventRow {
  event_id: string;
  event: string;
  state: 'in_progress' | 'handed_off';
  token: string | null;
  since: string;
  lease_until: number | null;
  expires_at: number;
}

const EVENTS_TABLE = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  event       TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  state       TEXT NOT NULL,
  token       TEXT,
  since       TEXT NOT NULL,
  lease_until INTEGER,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (event, event_id)
);`;

const SCHEMA = `${EVENTS_TABLE('events')}
CREATE INDEX IF NOT EXISTS events_expires_at ON events (expires_at);
`;

/**
 * Files written before events were keyed by (event, id) have `event_id` alone as the key: their
 * rows are copied into the new shape (every row has its event name), so no remembered event is
 * forgotten by an upgrade.
 */
const migrateToEventKeys = (db: DatabaseSync): void =>
  migrateWhen(
    db,
    () =>
      (db.prepare(`SELECT name FROM pragma_table_info('events') WHERE pk > 0`).all() as Array<{ name: string }>).map((c) => c.name).join(',') ===
      'event_id',
    `${EVENTS_TABLE('events_by_event')}
     INSERT INTO events_by_event (event, event_id, state, token, since, lease_until, expires_at)
       SELECT event, event_id, state, token, since, lease_until, expires_at FROM events;
     DROP TABLE events;
     ALTER TABLE events_by_event RENAME TO events;`,
  );

/** The live-record rule, for a row named `r` at time :now (ms). */
const LIVE = `((r.state = 'handed_off' AND :now < r.expires_at) OR (r.state = 'in_progress' AND :now < r.lease_until))`;

const SQL = {
  // Inserts, or takes over a row that is no longer live; `changes` says whether we won.
  claim: `
    INSERT INTO events AS r (event_id, event, state, token, since, lease_until, expires_at)
    VALUES (:id, :event, 'in_progress', :token, :since, :leaseUntil, :leaseUntil)
    ON CONFLICT (event, event_id) DO UPDATE SET
      state = excluded.state, token = excluded.token, since = excluded.since,
      lease_until = excluded.lease_until, expires_at = excluded.expires_at
    WHERE NOT ${LIVE}`,
  read: `SELECT * FROM events AS r WHERE r.event = :event AND r.event_id = :id`,
  complete: `
    UPDATE events SET state = 'handed_off', since = :since, lease_until = NULL, expires_at = :expiresAt
    WHERE event = :event AND event_id = :id AND token = :token`,
  // Only a claim still in progress is forgotten: a handed-off event must stay remembered.
  release: `DELETE FROM events WHERE event = :event AND event_id = :id AND token = :token AND state = 'in_progress'`,
  // The journal's claim: inserts the event as handed off at once, or takes over a row that is no
  // longer live. Only ever run inside the write transaction that also stores the item.
  claimHandedOff: `
    INSERT INTO events AS r (event_id, event, state, token, since, lease_until, expires_at)
    VALUES (:id, :event, 'handed_off', :token, :since, NULL, :expiresAt)
    ON CONFLICT (event, event_id) DO UPDATE SET
      state = excluded.state, token = excluded.token, since = excluded.since,
      lease_until = NULL, expires_at = excluded.expires_at
    WHERE NOT ${LIVE}`,
  // The journal's undo, when the item's line could not be written out after the commit.
  forgetHandedOff: `DELETE FROM events WHERE event = :event AND event_id = :id AND token = :token AND state = 'handed_off'`,
  // Bounded: one index range scan of at most PRUNE_BATCH rows.
  prune: `DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE expires_at <= :before LIMIT ${PRUNE_BATCH})`,
} as const;


/** Opens (creating the folder, the file and the table as needed) a store on a SQLite file. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): DedupeStore {
  return SqliteStore.open(file, options);
}

/**
 * The store on a connection the caller opened (WAL, busy timeout) and shares with the outbox, for
 * the journal (src/receiver/local/journal.ts): besides the store's contract, it claims an event as
 * handed off inside the caller's write transaction. `onClose` runs once, when the store closes.
 */
export interface SharedSqliteStore extends DedupeStore {
  /**
   * Inside the caller's write transaction: takes the event as handed off at once when no live row
   * holds it, else says whether it is a duplicate or in progress. Throws what SQLite throws.
   */
  claimHandedOffSync(ref: EventRef, now: Date): ClaimOutcome;
  /** Undoes claimHandedOffSync (its own statement, outside any transaction); false if it was not there. */
  forgetHandedOffSync(ref: EventRef, token: string): boolean;
  /** What a claim would say of an event held by a live row (duplicate, in progress), else undefined. */
  peekSync(ref: EventRef, now: Date): Exclude<ClaimOutcome, { kind: 'claimed' }> | undefined;
  /** Housekeeping, at most once a minute: see pruneNowAndThen. */
  pruneSync(nowMs: number): void;
  readonly isClosed: boolean;
}

export function attachSqliteStore(db: DatabaseSync, file: string, options: SqliteStoreOptions & { onClose: () => void | Promise<void> }): SharedSqliteStore {
  const description = `sqlite:${path.resolve(file)}`;
  try {
    prepareFile(Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)), () => {
      migrateToEventKeys(db);
      db.exec(SCHEMA);
    });
  } catch (error) {
    throw unavailable(description, error);
  }
  return new SqliteStore(
    db,
    description,
    (options.retentionSeconds ?? DEFAULT_STORE_OPTIONS.retentionSeconds) * 1000,
    options.leaseMs ?? DEFAULT_STORE_OPTIONS.leaseMs,
    options.onClose,
  );
}

class SqliteStore implements SharedSqliteStore {
  readonly description: string;
  private readonly statements: { [K in keyof typeof SQL]: StatementSync };
  private closed = false;
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: DatabaseSync,
    description: string,
    private readonly retentionMs: number,
    private readonly leaseMs: number,
    private readonly onClose: () => void | Promise<void> = () => db.close(),
  ) {
    this.description = description;
    this.statements = {
      claim: db.prepare(SQL.claim),
      read: db.prepare(SQL.read),
      complete: db.prepare(SQL.complete),
      release: db.prepare(SQL.release),
      prune: db.prepare(SQL.prune),
      claimHandedOff: db.prepare(SQL.claimHandedOff),
      forgetHandedOff: db.prepare(SQL.forgetHandedOff),
    };
  }

  static open(file: string, options: SqliteStoreOptions): SqliteStore {
    const resolved = path.resolve(file);
    const description = `sqlite:${resolved}`;
    let db: DatabaseSync | undefined;
    try {
      db = openSqliteFile(resolved, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, (opened) => {
        migrateToEventKeys(opened);
        opened.exec(SCHEMA);
      });
      return new SqliteStore(
        db,
        description,
        (options.retentionSeconds ?? DEFAULT_STORE_OPTIONS.retentionSeconds) * 1000,
        options.leaseMs ?? DEFAULT_STORE_OPTIONS.leaseMs,
      );
    } catch (error) {
      try {
        db?.close();
      } catch {
        // already failing: the first error is the one to report
      }
      throw unavailable(description, error);
    }
  }

  claim({ event, eventId }: EventRef, now: Date): Promise<ClaimOutcome> {
    return this.run(() => {
      const nowMs = now.getTime();
      this.pruneNowAndThen(nowMs);
      for (let attempt = 1; ; attempt++) {
        const token = randomUUID();
        const won = this.statements.claim.run({
          id: eventId,
          event,
          token,
          since: now.toISOString(),
          leaseUntil: nowMs + this.leaseMs,
          now: nowMs,
        });
        if (won.changes > 0) return { kind: 'claimed', token };
        // Lost to a live row. Read it to say which kind; it may have been released (or pruned)
        // between the two statements, in which case the claim is tried again.
        const row = this.readLive({ event, eventId }, nowMs);
        if (row?.state === 'handed_off') return { kind: 'duplicate' };
        if (row?.state === 'in_progress') return { kind: 'in_progress', retryAfterMs: retryAfter(row.lease_until, nowMs, this.leaseMs) };
        if (attempt >= CLAIM_ATTEMPTS) return { kind: 'in_progress', retryAfterMs: 1 };
      }
    });
  }

  claimHandedOffSync({ event, eventId }: EventRef, now: Date): ClaimOutcome {
    if (this.closed) throw new StoreUnavailableError(`${this.description} unavailable: the store is closed`);
    const nowMs = now.getTime();
    for (let attempt = 1; ; attempt++) {
      const token = randomUUID();
      const won = this.statements.claimHandedOff.run({ id: eventId, event, token, since: now.toISOString(), expiresAt: nowMs + this.retentionMs, now: nowMs });
      if (won.changes > 0) return { kind: 'claimed', token };
      // Under the write transaction nobody else can change the row; the read is for which kind.
      const row = this.readLive({ event, eventId }, nowMs);
      if (row?.state === 'handed_off') return { kind: 'duplicate' };
      if (row?.state === 'in_progress') return { kind: 'in_progress', retryAfterMs: retryAfter(row.lease_until, nowMs, this.leaseMs) };
      if (attempt >= CLAIM_ATTEMPTS) return { kind: 'in_progress', retryAfterMs: 1 };
    }
  }

  forgetHandedOffSync({ event, eventId }: EventRef, token: string): boolean {
    return this.statements.forgetHandedOff.run({ event, id: eventId, token }).changes > 0;
  }

  peekSync(ref: EventRef, now: Date): Exclude<ClaimOutcome, { kind: 'claimed' }> | undefined {
    const nowMs = now.getTime();
    const row = this.readLive(ref, nowMs);
    if (row?.state === 'handed_off') return { kind: 'duplicate' };
    if (row?.state === 'in_progress') return { kind: 'in_progress', retryAfterMs: retryAfter(row.lease_until, nowMs, this.leaseMs) };
    return undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  pruneSync(nowMs: number): void {
    this.pruneNowAndThen(nowMs);
  }

  complete({ event, eventId }: EventRef, token: string, now: Date): Promise<boolean> {
    return this.run(() => {
      const nowMs = now.getTime();
      const done = this.statements.complete.run({ event, id: eventId, token, since: now.toISOString(), expiresAt: nowMs + this.retentionMs });
      return done.changes > 0;
    });
  }

  release({ event, eventId }: EventRef, token: string): Promise<void> {
    return this.run(() => {
      this.statements.release.run({ event, id: eventId, token });
    });
  }

  lookup(ref: EventRef, now: Date): Promise<StoredEvent | undefined> {
    return this.run(() => {
      const row = this.readLive(ref, now.getTime());
      if (row === undefined) return undefined;
      const until = row.state === 'in_progress' ? (row.lease_until ?? row.expires_at) : row.expires_at;
      return { eventId: row.event_id, event: row.event, state: row.state, since: row.since, until: new Date(until).toISOString() };
    });
  }

  handedOff(refs: readonly EventRef[], now: Date): Promise<ReadonlySet<string>> {
    return this.run(() => {
      const nowMs = now.getTime();
      return new Set(refs.filter((ref) => this.readLive(ref, nowMs)?.state === 'handed_off').map(eventKey));
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try {
        // Shared: resolves once whatever else the connection's owner runs has stopped too.
        return Promise.resolve(this.onClose()).catch(() => undefined);
      } catch {
        // closing twice, or a file already gone: nothing left to release
      }
    }
    return Promise.resolve();
  }

  private readLive({ event, eventId }: EventRef, nowMs: number): EventRow | undefined {
    const row = this.statements.read.get({ event, id: eventId }) as EventRow | undefined;
    if (row === undefined) return undefined;
    const live = row.state === 'handed_off' ? nowMs < row.expires_at : row.lease_until !== null && nowMs < row.lease_until;
    return live ? row : undefined;
  }

  /**
   * Deletes rows that stopped counting at least one lease ago (so a slow holder's complete() still
   * finds its lapsed claim), at most once a minute and PRUNE_BATCH rows at a time: bounded work on
   * the claim path, and the table stays about one retention's worth of events.
   */
  private pruneNowAndThen(nowMs: number): void {
    if (nowMs - this.lastPruneMs < PRUNE_EVERY_MS) return;
    this.lastPruneMs = nowMs;
    this.statements.prune.run({ before: nowMs - this.leaseMs });
  }

  private run<T>(operation: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`${this.description} unavailable: the store is closed`));
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(unavailable(this.description, error));
    }
  }
}

function retryAfter(leaseUntil: number | null, nowMs: number, leaseMs: number): number {
  // Whole milliseconds left of the holder's lease, at least 1 and never more than one lease.
  return Math.min(leaseMs, Math.max(1, Math.ceil((leaseUntil ?? nowMs) - nowMs)));
}

/**
 * Names the backend and the kind of failure only: SQLite's generic text for the result code (the
 * error's own message could quote SQL or values), a system error's code, or the JS error's name.
 */
function unavailable(description: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${description} unavailable (${sqliteReason(error)})`);
}
