import type { DatabaseSync } from 'node:sqlite';

/**
 * Runs `migration` (SQL) once, in one write transaction, when `needed()` says the file still has
 * the old shape. Safe when several processes open the file at once: `needed` is asked again under
 * the write lock, so the first process migrates and the others then find the new shape.
 */
export const migrateWhen = (db: DatabaseSync, needed: () => boolean, migration: string): void => {
  if (!needed()) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (needed()) db.exec(migration);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
};

const SQLITE_BUSY = 5;

/**
 * Prepares a file for use (journal mode, migrations, tables), again and again while SQLite answers
 * SQLITE_BUSY, until `timeoutMs` has passed. When several processes open one new file together,
 * the switch to WAL (or another process's WAL recovery) can answer busy at once, without waiting
 * on busy_timeout. Every step of `prepare` must be safe to run twice.
 */
export const prepareFile = (timeoutMs: number, prepare: () => void): void => {
  const deadline = Date.now() + timeoutMs;
  const pauseFor = new Int32Array(new SharedArrayBuffer(4));
  for (let pauseMs = 5; ; pauseMs = Math.min(pauseMs * 2, 200)) {
    try {
      prepare();
      return;
    } catch (error) {
      const code = (error as { errcode?: unknown }).errcode;
      if (typeof code !== 'number' || (code & 0xff) !== SQLITE_BUSY || Date.now() + pauseMs > deadline) throw error;
      // Opening is synchronous, and so is this pause: nothing else of this connection can run yet.
      Atomics.wait(pauseFor, 0, 0, pauseMs);
    }
  }
};
