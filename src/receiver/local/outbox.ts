/**
 * The local receiver's hand-off (`npm run receiver`): a durable SQLite outbox, plus one JSON line
 * per new item on standard output for whoever pipes the receiver into something else.
 *
 * With forwarding on, an item counts as handed off once its row is committed: rows start `pending`
 * and the local forwarder (forwarder.ts) moves them to `delivered` or, after its retries, `dead`
 * (a dead letter an operator replays with replay.ts). Without forwarding, standard output is the
 * hand-off: a row starts `unsent` and becomes `kept` only once its line was written out, so a
 * reader that stops or goes away loses nothing: the delivery is answered 503 and retried, and
 * `unsent` rows are written again when the receiver next starts (a reader may see a line twice,
 * never none; each line's `event` and `id` together tell repeats apart). A reader that falls behind pauses intake
 * (503 with Retry-After) instead of the receiver buffering without bound.
 *
 * The file may be shared with the de-duplication store (src/receiver/stores/sqlite.ts keeps its
 * `events` table in it, through its own connection): both use WAL and a busy timeout, and this
 * module only ever touches its own table.
 */
import { resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { PlatformEvent } from '../../core/events';
import type { ZapItem } from '../../core/normalise';
import type { HandOff, HandOffItem, HandOffResult } from '../hand-off';
import type { EventRef } from '../store';
import { sqliteReason } from '../sqlite-errors';
import { openSqliteFile } from '../sqlite-file';
import { migrateWhen, prepareFile } from '../sqlite-migrate';

export const OUTBOX_STATES = ['pending', 'delivered', 'dead', 'kept', 'unsent'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export interface OutboxOptions {
  /** Where each new item's JSON line goes (default process.stdout; null: nowhere). */
  readonly lines?: NodeJS.WritableStream | null;
  /** Rows start `pending` for the forwarder (true) or `kept` (false, the default). */
  readonly forwarding?: boolean;
  /** How long a write waits for another connection's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** How long delivered and kept rows stay (default OUTBOX_RETENTION_MS); dead and pending rows stay until handled. */
  readonly retentionMs?: number;
  /** How long a line may take to be written out before the items count as not handed off (default 5 s). */
  readonly lineFlushTimeoutMs?: number;
  /** Bytes waiting to be written out above which new items are refused (default 1 MiB): the reader is behind. */
  readonly maxUnwrittenBytes?: number;
  /** Called once when the lines stream fails or closes (EPIPE: the reader went away). */
  readonly onLinesClosed?: (reason: string) => void;
}

export const LINE_FLUSH_TIMEOUT_MS = 5_000;
export const MAX_UNWRITTEN_BYTES = 1024 * 1024;

/** Standard output cannot take items now; the platform's retry will, once a reader does. */
export const LINES_CLOSED = 'standard output is closed (the reader went away)';
export const LINES_BEHIND = 'standard output is not being read fast enough';

/**
 * A week: longer than the store remembers events (48 h), so the outbox's own unique event ids
 * still stop a second line for an event while a platform could retry it, and long enough to look
 * back at what was handed off. Without pruning a busy receiver's file would only grow.
 */
export const OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Pruning runs at most this often from send(), a bounded number of rows at a time. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 1000;

/** A row the forwarder is to post now. */
export interface DueItem extends HandOffItem {
  /** Attempts made so far (0 for a new or replayed item). */
  readonly attempts: number;
}

/** What an operator sees of a row: ids, counts and the reason, never the item's values. */
export interface OutboxRow {
  readonly eventId: string;
  readonly event: string;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly lastError: string | null;
  /** ISO-8601: when the item was handed off. */
  readonly createdAt: string;
}

export type DeadLetter = Omit<OutboxRow, 'state'>;

/** A row with its item, for the console (which masks the item before showing it). */
export interface BrowsedRow extends OutboxRow {
  readonly item: unknown;
}

export interface ResendResult {
  /** Were unsent: their lines are written out now and the rows kept. */
  readonly resent: string[];
  /** Known, but not unsent (see `find` for their state). */
  readonly notUnsent: string[];
  readonly unknown: string[];
}

export interface ReplayResult {
  /** Were dead, now pending again with no attempts. */
  readonly replayed: string[];
  /** Known, but not dead letters (see `find` for their state). */
  readonly notDead: string[];
  readonly unknown: string[];
}

export interface SqliteOutbox extends HandOff {
  readonly file: string;
  send(items: readonly HandOffItem[]): Promise<HandOffResult[]>;
  /**
   * Up to `limit` pending rows whose time has come, oldest first. With `leaseMs`, the rows are
   * also pushed `leaseMs` into the future in the same statement: a claim, so another poll (or
   * another process's forwarder on this file) does not post them too, and a forwarder that dies
   * mid-post leaves them to be retried once the lease is over.
   */
  due(now: Date, limit: number, leaseMs?: number): DueItem[];
  /** These return false when the row is not (or no longer) pending. Each counts one attempt. */
  markDelivered(ref: EventRef): boolean;
  markRetry(ref: EventRef, nextAt: Date, error: string): boolean;
  markDead(ref: EventRef, error: string): boolean;
  /** Deletes up to a batch of delivered and kept rows created before `now` minus the retention; returns how many. */
  prune(now: Date): number;
  /**
   * Dead letters back to pending, due now, with no attempts. One transaction. Each name is an id
   * (every dead letter with that id, whatever its event) or `<event>/<id>` (that event's only).
   */
  replay(names: readonly string[]): ReplayResult;
  dead(): DeadLetter[];
  /** The newest row named so (an id, or `<event>/<id>`). */
  find(name: string): OutboxRow | undefined;
  counts(): Record<OutboxState, number>;
  /**
   * What an operator looks at: the newest rows still to handle (pending, dead, unsent; up to
   * `open`) and the newest handled ones (delivered, kept; up to `done`), newest first, with items.
   */
  browse(limits?: { open?: number; done?: number }): BrowsedRow[];
  /** The newest row named so, with its item (an id, or `<event>/<id>`). */
  findItem(name: string): BrowsedRow | undefined;
  /**
   * Writes out again the lines of the named `unsent` rows (items the reader never got, no forwarder)
   * and marks them `kept`; rejects when standard output cannot take them now.
   */
  resend(names: readonly string[]): Promise<ResendResult>;
  /** Called (synchronously) after rows became pending in this process: the forwarder's wake-up. */
  onPending(listener: () => void): () => void;
  /**
   * Hands off again every `unsent` row (one an earlier reader never got), at start: its line is
   * written out and the row marked `kept`; with a forwarder (a receiver restarted with
   * `FORWARD_URL`), the row becomes `pending` for it instead, so no item stays stranded. Returns how
   * many. Without a reader or a forwarder the rows wait for a start that has one.
   */
  resendUnsent(): Promise<number>;
  close(): Promise<void>;
}

const OUTBOX_TABLE = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  event TEXT NOT NULL,
  item TEXT NOT NULL,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT,
  -- One row per event: ids are often numbered per event type, so the id alone is not the event.
  UNIQUE (event, event_id)
);`;

const SCHEMA = `${OUTBOX_TABLE('outbox')}
-- Only pending rows are polled: a partial index keeps the poll cheap however many rows are done.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, seq) WHERE state = 'pending';
-- An operator names a row by its id (replay, find).
CREATE INDEX IF NOT EXISTS outbox_event_id ON outbox (event_id);
`;

/**
 * Files written before rows were keyed by (event, id) hold `event_id` as unique on its own: their
 * rows (states, attempts and sequence included) are copied into the new shape.
 */
const migrateToEventKeys = (db: DatabaseSync): void => {
  const columns = 'seq, event_id, event, item, created_at, state, attempts, next_attempt_at, last_error';
  migrateWhen(
    db,
    () => /event_id TEXT NOT NULL UNIQUE/.test((db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'`).get() as { sql?: string } | undefined)?.sql ?? ''),
    `${OUTBOX_TABLE('outbox_by_event')}
     INSERT INTO outbox_by_event (${columns}) SELECT ${columns} FROM outbox;
     DROP TABLE outbox;
     ALTER TABLE outbox_by_event RENAME TO outbox;`,
  );
};

interface RawRow {
  event_id: string;
  event: string;
  item: string;
  state: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
}

const toRow = (raw: RawRow): OutboxRow => ({
  eventId: raw.event_id,
  event: raw.event,
  state: raw.state as OutboxState,
  attempts: raw.attempts,
  lastError: raw.last_error,
  createdAt: raw.created_at,
});

const prepareTables = (db: DatabaseSync): void => {
  migrateToEventKeys(db);
  db.exec(SCHEMA);
};

export function openSqliteOutbox(file: string, options: OutboxOptions = {}): SqliteOutbox {
  const path = resolve(file);
  const db = openSqliteFile(path, options.busyTimeoutMs ?? 5_000, prepareTables);
  return buildOutbox(db, path, options, () => db.close()).outbox;
}

/**
 * What the journal (journal.ts) does with the outbox inside its own write transactions, on the
 * connection it shares with the de-duplication store: the steps of send(), taken apart.
 */
export interface OutboxStaging {
  /** Without a forwarder and with a reader, an item counts only once its line was written out. */
  readonly linesAreHandOff: boolean;
  /** Why no item can be handed off now (closed, the reader gone or behind), else undefined. */
  refusal(): string | undefined;
  /** Inside the caller's write transaction: the item's row; returns its line to write out ('' for none). */
  stage(item: HandOffItem, createdAt: string): string;
  /** After the commit: writes the lines out; when they are the hand-off, rejects if they did not go. */
  publish(text: string): Promise<void>;
  /** Inside the caller's write transaction: rows whose lines went out become `kept`. */
  keepSync(refs: readonly EventRef[]): void;
  /** After the commit: wakes the forwarder for new rows, prunes now and then. */
  afterHandOff(fresh: boolean): void;
}

/** The outbox on a connection the caller opened (WAL, busy timeout) and shares; `onClose` runs once, when it closes. */
export function attachSqliteOutbox(db: DatabaseSync, file: string, options: OutboxOptions & { onClose: () => void | Promise<void> }): { outbox: SqliteOutbox; staging: OutboxStaging } {
  prepareFile(Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000)), () => prepareTables(db));
  return buildOutbox(db, resolve(file), options, options.onClose);
}

function buildOutbox(db: DatabaseSync, path: string, options: OutboxOptions, onClose: () => void | Promise<void>): { outbox: SqliteOutbox; staging: OutboxStaging } {
  const lines = options.lines === undefined ? process.stdout : options.lines;
  // Without a forwarder and with a reader, the line is the hand-off: the row waits for it.
  const linesAreHandOff = !options.forwarding && lines !== null;
  const initialState: OutboxState = options.forwarding ? 'pending' : linesAreHandOff ? 'unsent' : 'kept';
  const flushTimeoutMs = options.lineFlushTimeoutMs ?? LINE_FLUSH_TIMEOUT_MS;
  const maxUnwritten = options.maxUnwrittenBytes ?? MAX_UNWRITTEN_BYTES;

  // Prepared once: send() is on the receiver's hot path.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const insert = db.prepare(
    `INSERT INTO outbox (event_id, event, item, created_at, state, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (event, event_id) DO NOTHING`,
  );
  const peekDue = db.prepare(
    `SELECT event_id, event, item, attempts FROM outbox
     WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`,
  );
  const claimDue = db.prepare(
    `UPDATE outbox SET next_attempt_at = ?
     WHERE seq IN (SELECT seq FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?)
     RETURNING event_id, event, item, attempts, seq`,
  );
  const delivered = db.prepare(
    `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL
     WHERE event = ? AND event_id = ? AND state = 'pending'`,
  );
  const retry = db.prepare(
    `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE event = ? AND event_id = ? AND state = 'pending'`,
  );
  const dead = db.prepare(
    `UPDATE outbox SET state = 'dead', attempts = attempts + 1, next_attempt_at = NULL, last_error = ?
     WHERE event = ? AND event_id = ? AND state = 'pending'`,
  );
  /** A row named by an operator: its id alone, or `<event>/<id>`. */
  const NAMED = `(event_id = :name OR event || '/' || event_id = :name)`;
  const revive = db.prepare(
    `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = :now, last_error = NULL WHERE ${NAMED} AND state = 'dead'`,
  );
  const findOne = db.prepare(`SELECT event_id, event, item, state, attempts, last_error, created_at FROM outbox WHERE ${NAMED} ORDER BY seq DESC LIMIT 1`);
  const deadAll = db.prepare(
    `SELECT event_id, event, item, state, attempts, last_error, created_at FROM outbox WHERE state = 'dead' ORDER BY seq`,
  );
  const countAll = db.prepare('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state');
  const COLUMNS = 'event_id, event, item, state, attempts, last_error, created_at';
  const browseOpen = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE state IN ('pending', 'dead', 'unsent') ORDER BY seq DESC LIMIT ?`);
  const browseDone = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE state IN ('delivered', 'kept') ORDER BY seq DESC LIMIT ?`);
  const unsentNamed = db.prepare(`SELECT event, event_id, item FROM outbox WHERE ${NAMED} AND state = 'unsent' ORDER BY seq`);
  const unsentOne = db.prepare(`SELECT item FROM outbox WHERE event = ? AND event_id = ? AND state = 'unsent'`);
  const unsentAll = db.prepare(`SELECT event, event_id, item FROM outbox WHERE state = 'unsent' ORDER BY seq`);
  const unsentToPending = db.prepare(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE state = 'unsent'`);
  const markKept = db.prepare(`UPDATE outbox SET state = 'kept' WHERE event = ? AND event_id = ? AND state = 'unsent'`);
  // Oldest first by seq (rows are inserted in time order), so the scan stops at the first young row.
  const pruneOld = db.prepare(
    `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE state IN ('delivered', 'kept') AND created_at < ? ORDER BY seq LIMIT ${PRUNE_BATCH})`,
  );
  const retentionMs = options.retentionMs ?? OUTBOX_RETENTION_MS;
  let prunedAt = 0;

  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  let closed = false;

  /** Runs `work` in one write transaction; the error propagates after the rollback. */
  const transaction = <T>(work: () => T): T => {
    begin.run();
    try {
      const result = work();
      commit.run();
      return result;
    } catch (error) {
      try {
        rollback.run();
      } catch {
        // No transaction left to roll back (SQLite already did, e.g. on SQLITE_FULL).
      }
      throw error;
    }
  };

  // A reader that goes away shows up as an error on the stream (EPIPE), once; unhandled, it
  // would end the process. From then on items are refused, never written into nothing.
  let linesClosed = false;
  const closeLines = (reason: string) => {
    if (linesClosed) return;
    linesClosed = true;
    if (!closed) options.onLinesClosed?.(reason);
  };
  const onLinesError = (error: Error) => closeLines((error as NodeJS.ErrnoException).code ?? error.name);
  const onLinesClose = () => closeLines('closed');
  if (lines !== null) {
    lines.on('error', onLinesError);
    lines.on('close', onLinesClose);
  }
  const writable = lines as (NodeJS.WritableStream & { writableLength?: number; destroyed?: boolean; writableEnded?: boolean }) | null;
  const linesUnusable = (): string | undefined => {
    if (writable === null) return undefined;
    if (linesClosed || writable.destroyed === true || writable.writableEnded === true) return LINES_CLOSED;
    if ((writable.writableLength ?? 0) > maxUnwritten) return LINES_BEHIND;
    return undefined;
  };

  /** Writes `text` and resolves once it was written out; rejects on an error, a closed stream or the timeout. */
  const writeOut = (text: string): Promise<void> =>
    new Promise((resolveWrite, rejectWrite) => {
      if (lines === null || text === '') return resolveWrite();
      // Decided after the turn's I/O: after the event loop was blocked (a lock waited for), the
      // timer can come due before the completion of a write that did go out.
      const timer = setTimeout(() => setImmediate(() => rejectWrite(new Error(LINES_BEHIND))), flushTimeoutMs);
      try {
        lines.write(text, (error?: Error | null) => {
          clearTimeout(timer);
          if (!error) return resolveWrite();
          // The stream reports it as an 'error' event too, later: the first report closes the lines.
          closeLines((error as NodeJS.ErrnoException).code ?? error.name);
          rejectWrite(new Error(LINES_CLOSED));
        });
      } catch {
        clearTimeout(timer);
        rejectWrite(new Error(LINES_CLOSED));
      }
    });

  const withItem = (raw: RawRow): BrowsedRow => {
    let item: unknown;
    try {
      item = JSON.parse(raw.item);
    } catch {
      item = null;
    }
    return { ...toRow(raw), item };
  };

  const markAllKept = (refs: readonly EventRef[]) => {
    if (refs.length === 1) markKept.run(refs[0]!.event, refs[0]!.eventId);
    else if (refs.length > 1) transaction(() => refs.forEach((ref) => markKept.run(ref.event, ref.eventId)));
  };

  /** Writes out the lines of stored rows again (items a reader never got), then keeps the rows. */
  const writeAndKeep = async (rows: ReadonlyArray<{ event: string; event_id: string; item: string }>) => {
    await writeOut(rows.map((row) => `${row.item}\n`).join(''));
    markAllKept(rows.map((row) => ({ event: row.event, eventId: row.event_id })));
  };

  const refusal = (): string | undefined => {
    if (closed) return 'outbox is closed';
    return linesAreHandOff ? linesUnusable() : undefined;
  };

  const stage = (item: HandOffItem, createdAt: string): string => {
    const json = JSON.stringify(item.item);
    if (insert.run(item.eventId, item.event, json, createdAt, initialState, initialState === 'pending' ? Date.now() : null).changes === 1) return `${json}\n`;
    // Already in the outbox (a retry after a failed write, or a lapsed claim handing it off
    // twice): written again only if its line never went out.
    const unsent = linesAreHandOff ? (unsentOne.get(item.event, item.eventId) as { item: string } | undefined) : undefined;
    return unsent === undefined ? '' : `${unsent.item}\n`;
  };

  const publish = async (text: string): Promise<void> => {
    if (linesAreHandOff) return writeOut(text);
    // Forwarding: the row is the hand-off and the line a courtesy, skipped while the reader is
    // closed or behind (never buffered without bound).
    if (lines !== null && text !== '' && linesUnusable() === undefined) lines.write(text, () => undefined);
  };

  const afterHandOff = (fresh: boolean) => {
    if (fresh && initialState === 'pending') notify();
    if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      try {
        outbox.prune(new Date(prunedAt));
      } catch {
        // Pruning is housekeeping: a locked database now is pruned next time.
      }
    }
  };

  const send = async (items: readonly HandOffItem[]): Promise<HandOffResult[]> => {
    if (items.length === 0) return [];
    const refused = refusal();
    if (refused !== undefined) return items.map(() => ({ ok: false, reason: refused }));
    const createdAt = new Date().toISOString();
    let fresh = '';
    /** Rows whose line this call writes: new ones, and `unsent` ones an earlier reader never got. */
    const toWrite: EventRef[] = [];
    try {
      const store = (item: HandOffItem) => {
        const line = stage(item, createdAt);
        if (line === '') return;
        fresh += line;
        toWrite.push(item);
      };
      // One statement is its own transaction: no BEGIN/COMMIT round for the common single item.
      if (items.length === 1) store(items[0]!);
      else transaction(() => items.forEach(store));
    } catch (error) {
      const reason = `outbox write failed: ${sqliteReason(error)}`;
      return items.map(() => ({ ok: false, reason }));
    }
    try {
      await publish(fresh);
      if (linesAreHandOff) markAllKept(toWrite);
    } catch (error) {
      // The rows stay `unsent`: the retry (or the next start) writes them again.
      const reason = error instanceof Error ? error.message : LINES_CLOSED;
      return items.map(() => ({ ok: false, reason }));
    }
    afterHandOff(fresh !== '');
    return items.map(() => ({ ok: true }));
  };

  /** The rows as items; a row whose item no longer parses (edited by hand) becomes a dead letter. */
  const toDue = (raws: Array<{ event_id: string; event: string; item: string; attempts: number }>): DueItem[] =>
    raws.flatMap((raw) => {
      try {
        return [{ eventId: raw.event_id, event: raw.event as PlatformEvent, item: JSON.parse(raw.item) as ZapItem, attempts: raw.attempts }];
      } catch {
        dead.run('the stored item is not valid JSON', raw.event, raw.event_id);
        return [];
      }
    });

  const outbox: SqliteOutbox = {
    description: `outbox:${path}`,
    file: path,
    send,
    due(now, limit, leaseMs) {
      const at = now.getTime();
      if (leaseMs === undefined) return toDue(peekDue.all(at, limit) as unknown as RawRow[]);
      const rows = claimDue.all(at + leaseMs, at, limit) as unknown as Array<RawRow & { seq: number }>;
      // RETURNING gives no order guarantee: oldest first again.
      return toDue(rows.sort((a, b) => a.seq - b.seq));
    },
    markDelivered: (ref) => delivered.run(ref.event, ref.eventId).changes === 1,
    markRetry: (ref, nextAt, error) => retry.run(nextAt.getTime(), error, ref.event, ref.eventId).changes === 1,
    markDead: (ref, error) => dead.run(error, ref.event, ref.eventId).changes === 1,
    prune: (now) => Number(pruneOld.run(new Date(now.getTime() - retentionMs).toISOString()).changes),
    replay(names) {
      const result: ReplayResult = { replayed: [], notDead: [], unknown: [] };
      const now = Date.now();
      transaction(() => {
        for (const name of new Set(names)) {
          if (Number(revive.run({ now, name }).changes) > 0) result.replayed.push(name);
          else if (findOne.get({ name }) !== undefined) result.notDead.push(name);
          else result.unknown.push(name);
        }
      });
      if (result.replayed.length > 0) notify();
      return result;
    },
    dead: () =>
      (deadAll.all() as unknown as RawRow[]).map((raw) => {
        const { state: _state, ...letter } = toRow(raw);
        return letter;
      }),
    find(name) {
      const raw = findOne.get({ name }) as RawRow | undefined;
      return raw === undefined ? undefined : toRow(raw);
    },
    counts() {
      const counts = Object.fromEntries(OUTBOX_STATES.map((state) => [state, 0])) as Record<OutboxState, number>;
      for (const { state, n } of countAll.all() as unknown as Array<{ state: OutboxState; n: number }>) counts[state] = n;
      return counts;
    },
    browse(limits = {}) {
      const open = browseOpen.all(limits.open ?? 200) as unknown as RawRow[];
      const done = browseDone.all(limits.done ?? 50) as unknown as RawRow[];
      return [...open, ...done].sort((a, b) => b.created_at.localeCompare(a.created_at)).map(withItem);
    },
    findItem(name) {
      const raw = findOne.get({ name }) as RawRow | undefined;
      return raw === undefined ? undefined : withItem(raw);
    },
    async resend(names) {
      const result: ResendResult = { resent: [], notUnsent: [], unknown: [] };
      const rows: Array<{ event: string; event_id: string; item: string }> = [];
      const seen = new Set<string>();
      for (const name of new Set(names)) {
        const found = (unsentNamed.all({ name }) as unknown as Array<{ event: string; event_id: string; item: string }>).filter((row) => !seen.has(`${row.event}/${row.event_id}`));
        if (found.length > 0) {
          found.forEach((row) => seen.add(`${row.event}/${row.event_id}`));
          rows.push(...found);
          result.resent.push(name);
        } else if (findOne.get({ name }) !== undefined) result.notUnsent.push(name);
        else result.unknown.push(name);
      }
      if (rows.length === 0) return result;
      if (!linesAreHandOff) throw new Error(options.forwarding ? 'the forwarder takes unsent items at start, not standard output' : 'there is no reader to write them to');
      const unusable = linesUnusable();
      if (unusable !== undefined) throw new Error(unusable);
      await writeAndKeep(rows);
      return result;
    },
    onPending(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async resendUnsent() {
      if (initialState === 'pending') {
        const moved = Number(unsentToPending.run(Date.now()).changes);
        if (moved > 0) notify();
        return moved;
      }
      if (!linesAreHandOff) return 0;
      const rows = unsentAll.all() as unknown as Array<{ event: string; event_id: string; item: string }>;
      if (rows.length === 0) return 0;
      await writeAndKeep(rows);
      return rows.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      // The stream's listeners stay: an EPIPE reported after this must still not end the process.
      await onClose();
    },
  };
  const staging: OutboxStaging = {
    linesAreHandOff,
    refusal,
    stage,
    publish,
    keepSync: (refs) => refs.forEach((ref) => markKept.run(ref.event, ref.eventId)),
    afterHandOff,
  };
  return { outbox, staging };
}
