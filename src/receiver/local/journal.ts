/**
 * The local receiver's database (DATA_DIR/receiver.db) on ONE connection: the de-duplication store,
 * the outbox, and the journal that takes a delivery's events through both in one transaction.
 *
 * The handler's general protocol is three steps, each its own commit: claim the event, store the
 * item downstream, mark the event handed off. When the store and the outbox are one SQLite file
 * those steps can be one: inside a write transaction the event is claimed as handed off at once
 * and its outbox row inserted, and either both are committed or neither is. And deliveries that
 * arrive together share that transaction (group commit): each `take` is queued, and the queue is
 * flushed at the next turn of the event loop in one BEGIN IMMEDIATE … COMMIT, each delivery in a
 * savepoint of its own, so one that fails is rolled back alone; if SQLite gives up the whole
 * transaction, the deliveries are taken again one by one. Every delivery is answered only after the
 * COMMIT that holds its work (and, without a forwarder, after its lines were written out).
 *
 * Checkpoints (copying the WAL back into the file, with its fsyncs) run in a worker thread
 * (sqlite-checkpointer.ts), not inside the commits the deliveries wait for.
 *
 * BEGIN IMMEDIATE takes the file's write lock, and claims are decided under it, so several
 * processes on one file still hand off each event exactly once; a lock held by another process for
 * longer than the busy timeout fails the group (the handler answers 503, nothing was kept).
 *
 * Standard output, without a forwarder: rows are committed `unsent`, the group's lines are written
 * out after the COMMIT, and the rows become `kept` in a later transaction (the next group's, or
 * their own a few milliseconds later). A crash in between writes those lines again at the next
 * start (twice, never none). Lines that cannot be written undo their events' hand-off, so the
 * platform's retry writes them; if even that undo fails, the rows stay `unsent` for the next start.
 */
import type { DatabaseSync } from 'node:sqlite';
import { resolve } from 'node:path';
import type { HandOffItem, HandOffJournal, JournalOptions, JournalResult } from '../hand-off';
import { sqliteReason } from '../sqlite-errors';
import { type Checkpointer, CHECKPOINT_EVERY_MS, startCheckpointer } from '../sqlite-checkpointer';
import { openSqliteFile } from '../sqlite-file';
import { type DedupeStore, type EventRef, StoreUnavailableError } from '../store';
import { attachSqliteStore, DEFAULT_BUSY_TIMEOUT_MS, type SharedSqliteStore, type SqliteStoreOptions } from '../stores/sqlite';
import { attachSqliteOutbox, LINES_CLOSED, type OutboxOptions, type OutboxStaging, type SqliteOutbox } from './outbox';

/** Deliveries in one transaction at most: each waits for the group's COMMIT, so a group stays short. */
export const MAX_GROUP_DELIVERIES = 64;
/** Items in one transaction at most (a delivery may hold 1,000); a larger delivery is a group of its own. */
export const MAX_GROUP_ITEMS = 2_000;
/**
 * Fewer deliveries than this waiting at a flush wait one more turn of the event loop: the requests
 * read in that turn join the group, and a commit shared by more deliveries costs each of them less.
 */
const SMALL_GROUP = 8;
/** How long rows whose lines went out may wait to be marked `kept` for a group to share the commit. */
const KEEP_DELAY_MS = 10;

export interface LocalDatabaseOptions {
  /** How long a write waits for another connection's lock before failing (default 5000 ms): then 503. */
  readonly busyTimeoutMs?: number;
  /**
   * How often a worker thread checkpoints the WAL (default CHECKPOINT_EVERY_MS); 0: no worker, the
   * connection checkpoints itself inside its commits as SQLite does by default.
   */
  readonly checkpointEveryMs?: number;
  /** Told once if the checkpoint worker cannot run (the connection then checkpoints itself). */
  readonly onCheckpointerFailure?: (reason: string) => void;
  readonly store?: Omit<SqliteStoreOptions, 'busyTimeoutMs'>;
  readonly outbox?: Omit<OutboxOptions, 'busyTimeoutMs'>;
  readonly maxGroupDeliveries?: number;
  readonly maxGroupItems?: number;
}

/** The journal, with what it did so far: how often deliveries shared a commit. */
export interface SqliteJournal extends HandOffJournal {
  /** Write transactions that took deliveries, and the deliveries they took. */
  readonly stats: { readonly transactions: number; readonly deliveries: number };
}

export interface LocalDatabase {
  readonly store: DedupeStore;
  readonly outbox: SqliteOutbox;
  readonly journal: SqliteJournal;
}

interface Waiting {
  readonly items: readonly HandOffItem[];
  readonly now: Date;
  readonly startBy: number;
  readonly resolve: (results: JournalResult[]) => void;
  readonly reject: (error: Error) => void;
}

type Staged = JournalResult | { readonly kind: 'staged'; readonly token: string; readonly line: string; readonly item: HandOffItem };
type StagedDelivery = { readonly waiting: Waiting; readonly results: Staged[] } | { readonly waiting: Waiting; readonly error: unknown };

const LATE: JournalResult = { kind: 'late' };
const DUPLICATE: JournalResult = { kind: 'duplicate' };

/** Opens the file (folder, WAL, tables) with one connection for the store, the outbox and the journal. */
export function openLocalDatabase(file: string, options: LocalDatabaseOptions = {}): LocalDatabase {
  const path = resolve(file);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: DatabaseSync;
  try {
    db = openSqliteFile(path, busyTimeoutMs, () => undefined);
  } catch (error) {
    throw new StoreUnavailableError(`sqlite:${path} unavailable (${sqliteReason(error)})`);
  }
  // The connection closes when both the store and the outbox did, after the last rows were kept.
  let open = 2;
  let checkpointer: Checkpointer | undefined;
  const closeOne = (): Promise<void> => {
    open -= 1;
    if (open > 0) return Promise.resolve();
    finish();
    db.close();
    return checkpointer?.stop() ?? Promise.resolve();
  };
  let store: SharedSqliteStore;
  let attached: { outbox: SqliteOutbox; staging: OutboxStaging };
  try {
    store = attachSqliteStore(db, path, { ...options.store, busyTimeoutMs, onClose: closeOne });
    attached = attachSqliteOutbox(db, path, { ...options.outbox, busyTimeoutMs, onClose: closeOne });
  } catch (error) {
    db.close();
    throw error;
  }
  const { outbox, staging } = attached;
  const everyMs = options.checkpointEveryMs ?? CHECKPOINT_EVERY_MS;
  if (everyMs > 0) checkpointer = startCheckpointer(db, path, { everyMs, busyTimeoutMs, ...(options.onCheckpointerFailure ? { onFailure: options.onCheckpointerFailure } : {}) });
  const journal = new GroupCommitJournal(db, path, store, staging, options.maxGroupDeliveries ?? MAX_GROUP_DELIVERIES, options.maxGroupItems ?? MAX_GROUP_ITEMS);
  const finish = () => journal.finish();
  return { store, outbox, journal };
}

class GroupCommitJournal implements SqliteJournal {
  readonly description: string;
  readonly stats = { transactions: 0, deliveries: 0 };
  private readonly queue: Waiting[] = [];
  private readonly toKeep: EventRef[] = [];
  private scheduled = false;
  private waitedATurn = false;
  private keepTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly sql: {
    readonly begin: { run(): unknown };
    readonly commit: { run(): unknown };
    readonly rollback: { run(): unknown };
    readonly savepoint: { run(): unknown };
    readonly release: { run(): unknown };
    readonly rollbackTo: { run(): unknown };
  };

  constructor(
    private readonly db: DatabaseSync,
    path: string,
    private readonly store: SharedSqliteStore,
    private readonly staging: OutboxStaging,
    private readonly maxDeliveries: number,
    private readonly maxItems: number,
  ) {
    this.description = `journal:${path}`;
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT delivery'),
      release: db.prepare('RELEASE delivery'),
      rollbackTo: db.prepare('ROLLBACK TO delivery'),
    };
  }

  take(items: readonly HandOffItem[], now: Date, options: JournalOptions): Promise<JournalResult[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.finished || this.store.isClosed) return Promise.reject(new StoreUnavailableError(`${this.store.description} unavailable: the store is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, now, startBy: options.startBy, resolve, reject });
      this.schedule();
    });
  }

  /** At the last close: rows whose lines went out are kept, and nothing waits any longer. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.keepTimer);
    const keeps = this.toKeep.splice(0);
    if (keeps.length > 0) this.commitGroup([], keeps);
    for (const waiting of this.queue.splice(0)) waiting.reject(new StoreUnavailableError(`${this.store.description} unavailable: the store is closed`));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The deliveries whose requests were read in this turn of the event loop share one commit.
    setImmediate(() => this.flush());
  }

  private scheduleKeeps(): void {
    if (this.keepTimer !== undefined || this.finished) return;
    this.keepTimer = setTimeout(() => {
      this.keepTimer = undefined;
      if (this.scheduled) return;
      this.scheduled = true;
      this.flush();
    }, KEEP_DELAY_MS);
  }

  /**
   * Rows whose lines went out but could not be marked kept now (the file locked, or failing) are
   * tried again with a later transaction; at the last close once more. Rows never marked stay
   * `unsent`, and their lines are written again at the next start.
   */
  private keepLater(keeps: readonly EventRef[]): void {
    if (keeps.length === 0 || this.finished) return;
    this.toKeep.push(...keeps);
    this.scheduleKeeps();
  }

  private flush(): void {
    if (!this.waitedATurn && this.queue.length < SMALL_GROUP && !this.finished) {
      this.waitedATurn = true;
      setImmediate(() => this.flush());
      return;
    }
    this.waitedATurn = false;
    this.scheduled = false;
    if (this.finished) return;
    const group: Waiting[] = [];
    let items = 0;
    while (this.queue.length > 0 && group.length < this.maxDeliveries) {
      const next = this.queue[0]!;
      if (group.length > 0 && items + next.items.length > this.maxItems) break;
      group.push(this.queue.shift()!);
      items += next.items.length;
    }
    if (this.queue.length > 0) this.schedule();

    const nowMs = Date.now();
    let live: Waiting[] = [];
    for (const waiting of group) {
      // Its answer is due too soon for the work to be worth starting: the platform's retry does it.
      if (nowMs > waiting.startBy) waiting.resolve(waiting.items.map(() => LATE));
      else live.push(waiting);
    }
    if (live.length > 0 && this.store.isClosed) {
      for (const waiting of live) waiting.reject(new StoreUnavailableError(`${this.store.description} unavailable: the store is closed`));
      live = [];
    }
    const refused = live.length > 0 ? this.staging.refusal() : undefined;
    if (refused !== undefined) {
      // Nothing can be handed off now; what is known already is answered as such.
      for (const waiting of live) this.answerRefused(waiting, refused);
      live = [];
    }
    clearTimeout(this.keepTimer);
    this.keepTimer = undefined;
    const keeps = this.toKeep.splice(0);
    if (live.length > 0 || keeps.length > 0) this.commitGroup(live, keeps);
  }

  /** Duplicates and events in progress say so; the others are not taken (as a claim released after a failed hand-off). */
  private answerRefused(waiting: Waiting, reason: string): void {
    try {
      const at = waiting.now;
      waiting.resolve(
        waiting.items.map((item): JournalResult => {
          const known = this.store.peekSync(item, at);
          return known ?? { kind: 'failed', reason };
        }),
      );
    } catch (error) {
      waiting.reject(this.unavailable(error));
    }
  }

  private commitGroup(live: readonly Waiting[], keeps: readonly EventRef[]): void {
    const createdAt = new Date().toISOString();
    let staged: StagedDelivery[];
    try {
      this.sql.begin.run();
    } catch (error) {
      // Locked past the busy timeout, or the file failing: nothing was done, each delivery is told.
      for (const waiting of live) waiting.reject(this.unavailable(error));
      this.keepLater(keeps);
      return;
    }
    try {
      if (keeps.length > 0) this.keepInGroup(keeps);
      this.store.pruneSync(Date.now());
      staged = live.map((waiting) => this.stageOne(waiting, createdAt));
      this.sql.commit.run();
      if (live.length > 0) {
        this.stats.transactions += 1;
        this.stats.deliveries += live.length;
      }
    } catch (error) {
      if (this.db.isTransaction) {
        try {
          this.sql.rollback.run();
        } catch {
          // SQLite rolled back on its own already
        }
      }
      if (live.length > 1) {
        // One delivery must not take the others down with it: each is taken again on its own.
        for (const waiting of live) this.commitGroup([waiting], []);
        this.keepLater(keeps);
      } else {
        for (const waiting of live) waiting.reject(this.unavailable(error));
        this.keepLater(keeps);
      }
      return;
    }
    this.afterCommit(staged);
  }

  /** Inside the group's transaction, in a savepoint: rows that cannot be marked now never fail the deliveries. */
  private keepInGroup(keeps: readonly EventRef[]): void {
    this.sql.savepoint.run();
    try {
      this.staging.keepSync(keeps);
      this.sql.release.run();
    } catch (error) {
      if (!this.db.isTransaction) throw error;
      this.sql.rollbackTo.run();
      this.sql.release.run();
      this.keepLater(keeps);
    }
  }

  /** Inside the group's transaction, in a savepoint: a failure rolls back this delivery only. */
  private stageOne(waiting: Waiting, createdAt: string): StagedDelivery {
    this.sql.savepoint.run();
    try {
      const results = waiting.items.map((item): Staged => {
        const outcome = this.store.claimHandedOffSync(item, waiting.now);
        if (outcome.kind === 'duplicate') return DUPLICATE;
        if (outcome.kind === 'in_progress') return outcome;
        return { kind: 'staged', token: outcome.token, line: this.staging.stage(item, createdAt), item };
      });
      this.sql.release.run();
      return { waiting, results };
    } catch (error) {
      // The whole transaction is gone (SQLite rolled it back): the group is taken again one by one.
      if (!this.db.isTransaction) throw error;
      this.sql.rollbackTo.run();
      this.sql.release.run();
      return { waiting, error };
    }
  }

  private afterCommit(staged: readonly StagedDelivery[]): void {
    let text = '';
    const written: EventRef[] = [];
    const taken: Array<{ item: HandOffItem; token: string }> = [];
    const answered: Array<{ waiting: Waiting; results: Staged[] }> = [];
    for (const delivery of staged) {
      if ('error' in delivery) {
        delivery.waiting.reject(this.unavailable(delivery.error));
        continue;
      }
      answered.push(delivery);
      for (const result of delivery.results) {
        if (result.kind !== 'staged') continue;
        taken.push(result);
        if (result.line === '') continue;
        text += result.line;
        written.push(result.item);
      }
    }
    const settle = (results: Staged[], reason?: string) =>
      results.map((result): JournalResult => (result.kind !== 'staged' ? result : reason === undefined ? { kind: 'taken' } : { kind: 'failed', reason }));
    if (taken.length === 0) {
      for (const { waiting, results } of answered) waiting.resolve(settle(results));
      return;
    }
    this.staging.publish(text).then(
      () => {
        if (this.staging.linesAreHandOff && written.length > 0) {
          this.toKeep.push(...written);
          this.scheduleKeeps();
        }
        this.staging.afterHandOff(text !== '');
        for (const { waiting, results } of answered) waiting.resolve(settle(results));
      },
      (error: unknown) => {
        // The lines did not go out: their events are not handed off after all, so the platform's
        // retry takes them again and finds their rows `unsent`.
        this.forget(taken);
        const reason = error instanceof Error ? error.message : LINES_CLOSED;
        for (const { waiting, results } of answered) waiting.resolve(settle(results, reason));
      },
    );
  }

  private forget(taken: ReadonlyArray<{ item: HandOffItem; token: string }>): void {
    if (this.finished) return;
    try {
      this.sql.begin.run();
      try {
        for (const { item, token } of taken) this.store.forgetHandedOffSync(item, token);
        this.sql.commit.run();
      } catch (error) {
        if (this.db.isTransaction) this.sql.rollback.run();
        throw error;
      }
    } catch {
      // Still handed off, its row `unsent`: written out at the next start.
    }
  }

  private unavailable(error: unknown): StoreUnavailableError {
    return error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`${this.store.description} unavailable (${sqliteReason(error)})`);
  }
}
