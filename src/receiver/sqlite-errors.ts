/**
 * What a node:sqlite failure may say in logs, answers and errors: the result code's name and
 * SQLite's generic text for it (`SQLITE_BUSY: database is locked`), never the error's own message,
 * which can quote SQL or values. Shared by the de-duplication store and the outbox.
 */

/** SQLite's primary result codes a receiver can meet, by number (node:sqlite gives `errcode`). */
const SQLITE_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  19: 'SQLITE_CONSTRAINT',
  26: 'SQLITE_NOTADB',
};

/** The SQLite code and text, else a system error's code (e.g. `EEXIST` from creating the folder), else the error's name. */
export const sqliteReason = (error: unknown): string => {
  const { errcode, errstr, code, name } = (error ?? {}) as { errcode?: unknown; errstr?: unknown; code?: unknown; name?: unknown };
  if (typeof errcode === 'number') {
    const codeName = SQLITE_CODES[errcode & 0xff] ?? `SQLITE_ERROR ${errcode}`;
    return typeof errstr === 'string' ? `${codeName}: ${errstr}` : codeName;
  }
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : 'unknown error';
};
