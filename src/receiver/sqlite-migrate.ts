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
