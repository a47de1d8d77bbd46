/**
 * Copies a WAL file's committed pages back into the database from a worker thread, so the receiver's
 * own thread never does it.
 *
 * In WAL mode a commit only appends pages to the WAL; every 1,000 pages SQLite copies them into the
 * database file (a checkpoint), with two fsyncs under synchronous=NORMAL, inside whichever COMMIT
 * crossed the mark. On the receiver's single thread that stalled every delivery in flight for the
 * fsyncs: about a quarter of the SQLite time and most of the p99 latency under load. Here a worker
 * with a connection of its own runs a PASSIVE checkpoint every few milliseconds (it never waits for
 * a writer or a reader), and the receiver's connection checkpoints itself only past a backstop, if
 * the worker is gone or cannot keep up. Durability is unchanged: the same pages are synced, by
 * another thread. The worker is a few lines of plain JavaScript given as text, so it runs the same
 * from the TypeScript sources, the compiled files or a bundle.
 */
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints: the WAL then holds a few hundred pages at most under load. */
export const CHECKPOINT_EVERY_MS = 25;

/** Pages the receiver's own connection lets the WAL grow to before it checkpoints itself (~40 MB at 4 KiB pages). */
export const BACKSTOP_PAGES = 10_000;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
let db;
try {
  db = new DatabaseSync(workerData.file);
  db.exec('PRAGMA busy_timeout = ' + workerData.busyTimeoutMs);
} catch (error) {
  parentPort.postMessage({ failed: (error && (error.code || error.name)) || 'error' });
  process.exit(0);
}
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy (another process checkpoints) or failing: the next tick tries again, the backstop holds.
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try {
    db.close();
  } finally {
    parentPort.close();
  }
});
`;

export interface Checkpointer {
  /**
   * Stops the worker; resolves once it closed its connection (the last connection to close
   * checkpoints the file and removes the WAL) and exited, or after STOP_WAIT_MS at most.
   */
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 5_000;

/**
 * Starts checkpointing `file` from a worker and raises `db`'s own automatic checkpoint to the
 * backstop. `onFailure` hears, once, that the worker could not run (the backstop then keeps the WAL bounded).
 */
export const startCheckpointer = (
  db: DatabaseSync,
  file: string,
  options: { everyMs?: number; busyTimeoutMs: number; onFailure?: (reason: string) => void },
): Checkpointer => {
  db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let failed = false;
  let stopped = false;
  const fail = (reason: string) => {
    if (failed || stopped) return;
    failed = true;
    try {
      db.exec('PRAGMA wal_autocheckpoint = 1000');
    } catch {
      // the connection is closing: nothing left to checkpoint for
    }
    options.onFailure?.(reason);
  };
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: { file, everyMs: options.everyMs ?? CHECKPOINT_EVERY_MS, busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs)) },
      // Not piped to the receiver's: its standard output is the item stream.
      stdout: true,
      stderr: true,
    });
  } catch (error) {
    fail(error instanceof Error ? error.name : 'error');
    return { stop: () => Promise.resolve() };
  }
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // Never what keeps the process alive.
  worker.unref();
  worker.on('message', (message: { failed?: string }) => {
    if (message.failed !== undefined) fail(message.failed);
  });
  worker.on('error', (error) => fail(error.name));
  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      if (stopping) return stopping;
      stopped = true;
      // Held until it is gone: a process that stops awaits its last connection's close.
      worker.ref();
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(() => void worker.terminate().then(() => resolve(), () => resolve()), STOP_WAIT_MS);
      });
      stopping = Promise.race([exited, bound]).finally(() => clearTimeout(timer));
      return stopping;
    },
  };
};
