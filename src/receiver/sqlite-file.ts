import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { prepareFile } from './sqlite-migrate';

/**
 * Opens a connection to the receiver's SQLite file (creating its folder and the file as needed) the
 * way both the de-duplication store and the outbox use it: the busy timeout first (what follows may
 * wait for another process's lock), then WAL with synchronous=NORMAL, then `prepare` (tables,
 * migrations), all tried again while SQLite answers busy. A commit then survives a crash of the
 * process; only a power cut or an OS crash can lose the last ones. Throws what failed, the
 * connection closed.
 */
export const openSqliteFile = (file: string, busyTimeoutMs: number, prepare: (db: DatabaseSync) => void): DatabaseSync => {
  mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  try {
    const timeoutMs = Math.max(0, Math.floor(busyTimeoutMs));
    db.exec(`PRAGMA busy_timeout = ${timeoutMs}`);
    prepareFile(timeoutMs, () => {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      prepare(db);
    });
    return db;
  } catch (error) {
    try {
      db.close();
    } catch {
      // already failing: the first error is the one to report
    }
    throw error;
  }
};
