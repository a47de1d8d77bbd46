/**
 * Replaying dead letters on one machine: the named events go from `dead` back to `pending` in the
 * outbox under the data directory, with their attempts reset; the running receiver's forwarder
 * (a separate process) picks them up at its next poll. The output is for an operator, one line per
 * id in plain words, and names nothing of the items but their ids.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sqliteReason } from '../sqlite-errors';
import { openSqliteOutbox, type SqliteOutbox } from './outbox';

const USAGE =
  'Name at least one event id to replay, e.g. `npm run replay -- evt_01JDX2E7V9X1Z3B5D7F9H1K3QC`, or an event and its id, e.g. `npm run replay -- RequestQuote:Create/42` (an id alone replays it under every event).';

/** 0: every named id was replayed; 1: some were not (or the outbox failed); 2: usage error. */
export async function replayLocal(
  dataDir: string,
  eventIds: string[],
  out: (line: string) => void = (line) => void process.stdout.write(`${line}\n`),
  options: { busyTimeoutMs?: number } = {},
): Promise<number> {
  const ids = [...new Set(eventIds.map((id) => id.trim()).filter((id) => id !== ''))];
  if (ids.length === 0) {
    out(USAGE);
    return 2;
  }
  const file = join(dataDir, 'receiver.db');
  // Opening would create an empty database: a wrong DATA_DIR must say so instead.
  if (!existsSync(file)) {
    out(`There is no receiver database at ${file}. Set DATA_DIR to the running receiver's data directory.`);
    return 2;
  }

  let outbox: SqliteOutbox | undefined;
  try {
    outbox = openSqliteOutbox(file, { lines: null, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) });
    return replayIn(outbox, ids, out);
  } catch (error) {
    out(`Replay failed, nothing was changed: ${sqliteReason(error)}`);
    return 1;
  } finally {
    await outbox?.close();
  }
}

/**
 * Replays the named dead letters in an open outbox and says what happened, one line per id: what
 * `npm run replay` does, and what the console's replay button does in the running receiver.
 * 0: every named id was replayed; 1: some were not.
 */
export function replayIn(outbox: SqliteOutbox, ids: readonly string[], out: (line: string) => void): number {
  const { replayed, notDead, unknown } = outbox.replay(ids);
  const wasReplayed = new Set(replayed);
  const wasNotDead = new Set(notDead);
  for (const id of ids) {
    if (wasReplayed.has(id)) out(`${id}: replayed, pending delivery again`);
    else if (wasNotDead.has(id)) out(`${id}: not replayed, it was not in the dead letters (state: ${describeState(outbox, id)})`);
    else if (unknown.includes(id)) out(`${id}: not replayed, unknown to this receiver`);
  }
  if (replayed.length > 0) {
    out(
      `${replayed.length} of ${ids.length} replayed. The running receiver's forwarder delivers them at its next poll ` +
        '(a receiver running without FORWARD_URL keeps them pending until it is started with one).',
    );
  } else {
    out(`Nothing replayed (0 of ${ids.length}).`);
  }
  return replayed.length === ids.length ? 0 : 1;
}

const STATE_WORDS: Record<string, string> = {
  pending: 'pending: still being delivered',
  delivered: 'delivered',
  kept: 'kept: written to standard output, not forwarded',
  unsent: 'unsent: its line has not reached standard output yet; the receiver writes it again when it next starts',
  dead: 'dead',
};

const describeState = (outbox: SqliteOutbox, eventId: string): string => {
  const state = outbox.find(eventId)?.state;
  return state === undefined ? 'gone' : (STATE_WORDS[state] ?? state);
};
