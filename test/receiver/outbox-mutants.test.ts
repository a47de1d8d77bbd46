/**
 * The local outbox on a real SQLite file and real streams, at the edges its own suite leaves
 * unchecked and mutation testing found: what the lines stream's events (an error, a close, an end)
 * do and say, and only once; the exact limit of what may wait unwritten; a write that throws, or
 * leaves no timer behind; lines that carry nothing (a repeat writes no empty line); a retry's line;
 * the lock a repeat never takes; pruning's pace and the default retention; replay's wake-up; the
 * unsent rows a restart writes; what closing and a file it cannot open leave behind.
 * Time is the clock jest holds, or a condition awaited (test/support/bounded-wait.ts): no sleeps.
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { LINES_BEHIND, LINES_CLOSED, OUTBOX_RETENTION_MS, openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { waitUntil, within } from '../support/bounded-wait';
import { handOffItem } from '../support/receiver-kit';

const BOUND_MS = 5_000;
const lineOf = (item: { item: unknown }) => `${JSON.stringify(item.item)}\n`;

/** A lines stream that completes every write at once and keeps each write's chunk, empty ones too. */
const counting = () => {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes };
};

/** A lines stream whose writes complete only when released: a reader that is behind. */
const heldBack = () => {
  const held: Array<() => void> = [];
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      held.push(() => {
        written.push(chunk.toString());
        done();
      });
    },
  });
  return { stream, held, written, release: () => held.splice(0).forEach((done) => done()) };
};

/** Resolves once `stream` has emitted 'close' (after the outbox's own listener, which came first). */
const closeOf = (stream: Writable) => {
  let seen = false;
  stream.once('close', () => (seen = true));
  return () => waitUntil(() => seen, { what: 'the lines stream to emit close', timeoutMs: BOUND_MS });
};

const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

let dir: string;
let file: string;
const opened: Array<{ close(): unknown }> = [];
const openOutbox = (options: Parameters<typeof openSqliteOutbox>[1] = {}) => {
  const outbox = openSqliteOutbox(file, { lines: null, ...options });
  opened.push(outbox);
  return outbox;
};
/** Another connection on the file, as an operator's sqlite3 shell or another process has. */
const connect = (): DatabaseSync => {
  const db = new DatabaseSync(file);
  opened.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-mutants-'));
  file = join(dir, 'receiver.db');
});

afterEach(async () => {
  jest.useRealTimers();
  for (const handle of opened.splice(0).reverse()) {
    try {
      await handle.close();
    } catch {
      // a connection a test closed already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the lines stream’s events', () => {
  it('an error event closes the lines, says its code (or else its name) once, and never throws without a listener', async () => {
    const reasons: string[] = [];
    const out = counting();
    const outbox = openOutbox({ lines: out.stream, onLinesClosed: (reason) => reasons.push(reason) });
    out.stream.emit('error', epipe());
    out.stream.emit('error', epipe());
    expect(reasons).toEqual(['EPIPE']);
    // The stream itself is not destroyed: the outbox's own record of the error refuses the items.
    expect(out.stream.destroyed).toBe(false);
    await expect(outbox.send([handOffItem('audit_created', 'evt_E1')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(outbox.find('evt_E1')).toBeUndefined();
    expect(out.writes).toEqual([]);

    const named: string[] = [];
    const other = counting();
    opened.push(openSqliteOutbox(join(dir, 'named.db'), { lines: other.stream, onLinesClosed: (reason) => named.push(reason) }));
    other.stream.emit('error', Object.assign(new Error('gone'), { name: 'AbortError' }));
    expect(named).toEqual(['AbortError']);

    // No listener: an unhandled error event would end the process; the outbox takes it quietly.
    const quiet = counting();
    const unheard = openSqliteOutbox(join(dir, 'quiet.db'), { lines: quiet.stream });
    opened.push(unheard);
    expect(() => quiet.stream.emit('error', epipe())).not.toThrow();
    await expect(unheard.send([handOffItem('audit_created', 'evt_E2')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
  });

  it('a stream destroyed with an error reports it once, though a close event follows', async () => {
    const reasons: string[] = [];
    const out = counting();
    openOutbox({ lines: out.stream, onLinesClosed: (reason) => reasons.push(reason) });
    const outClosed = closeOf(out.stream);
    out.stream.destroy(epipe());
    await outClosed();
    expect(reasons).toEqual(['EPIPE']);
  });

  it('a close event closes the lines as "closed"; after the outbox is closed, nothing is reported', async () => {
    const reasons: string[] = [];
    const out = counting();
    openOutbox({ lines: out.stream, onLinesClosed: (reason) => reasons.push(reason) });
    const outClosed = closeOf(out.stream);
    out.stream.destroy();
    await outClosed();
    expect(reasons).toEqual(['closed']);

    const late: string[] = [];
    const after = counting();
    const outbox = openSqliteOutbox(join(dir, 'late.db'), { lines: after.stream, onLinesClosed: (reason) => late.push(reason) });
    opened.push(outbox);
    await outbox.close();
    const afterClosed = closeOf(after.stream);
    after.stream.destroy(epipe());
    await afterClosed();
    expect(late).toEqual([]);
  });

  it('refuses items, unstored, on a stream already destroyed or ended before any event says so', async () => {
    const destroyed = counting();
    const one = openOutbox({ lines: destroyed.stream });
    destroyed.stream.destroy();
    await expect(one.send([handOffItem('audit_created', 'evt_D1')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(one.find('evt_D1')).toBeUndefined();

    const ended = counting();
    const two = openSqliteOutbox(join(dir, 'ended.db'), { lines: ended.stream });
    opened.push(two);
    ended.stream.end();
    await expect(two.send([handOffItem('audit_created', 'evt_D2')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(two.find('evt_D2')).toBeUndefined();
    expect(ended.writes).toEqual([]);
  });
});

describe('writing a line out', () => {
  it('takes items while exactly the limit waits unwritten, and refuses them above it', async () => {
    const first = handOffItem('audit_created', 'evt_W1');
    const out = heldBack();
    const outbox = openOutbox({ lines: out.stream, maxUnwrittenBytes: Buffer.byteLength(lineOf(first)), lineFlushTimeoutMs: 60_000 });
    const sentFirst = outbox.send([first]);
    await waitUntil(() => out.held.length === 1, { what: 'the first write to be held', timeoutMs: BOUND_MS });
    expect(out.stream.writableLength).toBe(Buffer.byteLength(lineOf(first)));

    const second = handOffItem('audit_assigned', 'evt_W2');
    const sentSecond = outbox.send([second]);
    expect(outbox.find('evt_W2')?.state).toBe('unsent');
    // Now above the limit.
    await expect(outbox.send([handOffItem('audit_simulated', 'evt_W3')])).resolves.toEqual([{ ok: false, reason: LINES_BEHIND }]);
    expect(outbox.find('evt_W3')).toBeUndefined();

    await waitUntil(
      () => {
        out.release();
        return out.written.length === 2;
      },
      { what: 'both lines to be written', timeoutMs: BOUND_MS },
    );
    await expect(within(Promise.all([sentFirst, sentSecond]), { what: 'both sends', timeoutMs: BOUND_MS })).resolves.toEqual([[{ ok: true }], [{ ok: true }]]);
    expect(out.written).toEqual([lineOf(first), lineOf(second)]);
  });

  it('answers a stream whose write throws at once as closed', async () => {
    const out = counting();
    out.stream.write = () => {
      throw new Error('write refused');
    };
    const outbox = openOutbox({ lines: out.stream, lineFlushTimeoutMs: 1_000 });
    await expect(within(outbox.send([handOffItem('audit_created', 'evt_T1')]), { what: 'the send', timeoutMs: BOUND_MS })).resolves.toEqual([
      { ok: false, reason: LINES_CLOSED },
    ]);
    expect(outbox.find('evt_T1')?.state).toBe('unsent');
  });

  it('leaves no flush timer behind, whether the write succeeded or threw', async () => {
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval'] });
    const out = counting();
    const outbox = openOutbox({ lines: out.stream });
    await expect(outbox.send([handOffItem('audit_created', 'evt_N1')])).resolves.toEqual([{ ok: true }]);
    expect(jest.getTimerCount()).toBe(0);

    out.stream.write = () => {
      throw new Error('write refused');
    };
    await expect(outbox.send([handOffItem('audit_created', 'evt_N2')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('writes nothing, not even an empty chunk, for a batch of repeats (hand-off or courtesy line)', async () => {
    const item = handOffItem('audit_created', 'evt_R1');
    const handOff = counting();
    const keeping = openOutbox({ lines: handOff.stream });
    await keeping.send([item]);
    await expect(keeping.send([item])).resolves.toEqual([{ ok: true }]);
    expect(handOff.writes).toEqual([lineOf(item)]);

    const courtesy = counting();
    const forwarding = openSqliteOutbox(join(dir, 'forwarding.db'), { lines: courtesy.stream, forwarding: true });
    opened.push(forwarding);
    await forwarding.send([item]);
    await expect(forwarding.send([item])).resolves.toEqual([{ ok: true }]);
    expect(courtesy.writes).toEqual([lineOf(item)]);
  });

  it('a repeat whose line went out takes no write lock after its insert', async () => {
    const item = handOffItem('audit_created', 'evt_L1');
    const outbox = openOutbox({ lines: counting().stream, busyTimeoutMs: 0 });
    await outbox.send([item]);
    const holder = connect();
    const repeat = outbox.send([item]);
    // The insert that found the row is done; the rest of the send runs while another writer holds the lock.
    holder.exec('BEGIN IMMEDIATE');
    try {
      await expect(repeat).resolves.toEqual([{ ok: true }]);
    } finally {
      holder.exec('ROLLBACK');
    }
  });

  it('a retry of an item whose line never went out writes that line', async () => {
    const item = handOffItem('quote_request_created', 'evt_U1');
    const stuck = heldBack();
    const first = openOutbox({ lines: stuck.stream, lineFlushTimeoutMs: 20 });
    await expect(within(first.send([item]), { what: 'the first send', timeoutMs: BOUND_MS })).resolves.toEqual([{ ok: false, reason: LINES_BEHIND }]);
    await first.close();

    const out = counting();
    const next = openOutbox({ lines: out.stream });
    await expect(next.send([item])).resolves.toEqual([{ ok: true }]);
    expect(out.writes).toEqual([lineOf(item)]);
    expect(next.find('evt_U1')?.state).toBe('kept');
  });
});

describe('rows and their states', () => {
  it('without a reader or a forwarder, rows are kept from the start, with no due time', async () => {
    const outbox = openOutbox({ lines: null });
    const sent = outbox.send([handOffItem('audit_created', 'evt_K1')]);
    // Before the send is awaited: the row never was unsent.
    expect(outbox.find('evt_K1')?.state).toBe('kept');
    await expect(sent).resolves.toEqual([{ ok: true }]);
    expect(connect().prepare('SELECT state, next_attempt_at FROM outbox').all()).toEqual([{ state: 'kept', next_attempt_at: null }]);
  });

  it('uses WAL, so the de-duplication store’s connection and this one do not block readers', async () => {
    openOutbox();
    expect(connect().prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
  });

  it('answers an empty batch with no answers and touches nothing, not even pruning', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T10:00:00.000Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const writer = openOutbox();
    await writer.send([handOffItem('audit_created', 'evt_old')]);
    jest.setSystemTime(new Date('2026-12-01T11:00:00.000Z'));
    const pruner = openOutbox({ retentionMs: 1_000 });
    await expect(pruner.send([])).resolves.toEqual([]);
    expect(pruner.find('evt_old')?.state).toBe('kept');
  });
});

describe('pruning', () => {
  it('runs from send at most once a minute, from the first send on, with the retention asked for', async () => {
    const t0 = new Date('2026-12-01T10:00:00.000Z').getTime();
    jest.useFakeTimers({ now: t0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const outbox = openOutbox({ retentionMs: 1_000 });
    await outbox.send([handOffItem('audit_created', 'evt_P1')]);
    jest.setSystemTime(t0 + 59_999);
    await outbox.send([handOffItem('audit_assigned', 'evt_P2')]);
    // Past its retention, but the last pruning was less than a minute ago.
    expect(outbox.find('evt_P1')?.state).toBe('kept');
    jest.setSystemTime(t0 + 60_000);
    await outbox.send([handOffItem('audit_simulated', 'evt_P3')]);
    expect(outbox.find('evt_P1')).toBeUndefined();
    expect(outbox.counts()).toMatchObject({ kept: 2 });
  });

  it('keeps delivered and kept rows a week by default, to the millisecond', async () => {
    const outbox = openOutbox();
    await outbox.send([handOffItem('audit_created', 'evt_week')]);
    const created = new Date(outbox.find('evt_week')!.createdAt).getTime();
    expect(outbox.prune(new Date(created + OUTBOX_RETENTION_MS))).toBe(0);
    expect(outbox.prune(new Date(created + OUTBOX_RETENTION_MS + 1))).toBe(1);
  });
});

describe('the forwarder’s and the operator’s side', () => {
  it('wakes its listeners once per send of new pending rows, and not for a replay that revived nothing', async () => {
    const outbox = openOutbox({ forwarding: true });
    let woken = 0;
    outbox.onPending(() => (woken += 1));
    await outbox.send([handOffItem('audit_created', 'evt_1')]);
    expect(woken).toBe(1);
    await outbox.send([handOffItem('audit_created', 'evt_1')]);
    expect(woken).toBe(1);
    expect(outbox.replay(['evt_1', 'evt_ghost'])).toEqual({ replayed: [], notDead: ['evt_1'], unknown: ['evt_ghost'] });
    expect(woken).toBe(1);
  });
});

describe('unsent rows at the next start', () => {
  /** Leaves `ids` unsent in the file: their first reader went away before their lines were written. */
  const leaveUnsent = async (ids: string[]) => {
    const stuck = heldBack();
    const first = openSqliteOutbox(file, { lines: stuck.stream, lineFlushTimeoutMs: 20 });
    const items = ids.map((id) => handOffItem('audit_created', id));
    await expect(within(first.send(items), { what: 'the first send', timeoutMs: BOUND_MS })).resolves.toEqual(items.map(() => ({ ok: false, reason: LINES_BEHIND })));
    await first.close();
    return items;
  };

  it('writes every unsent line, one after another, and keeps them', async () => {
    const items = await leaveUnsent(['evt_S1', 'evt_S2']);
    const out = counting();
    const next = openOutbox({ lines: out.stream });
    await expect(next.resendUnsent()).resolves.toBe(2);
    expect(out.writes.join('')).toBe(items.map(lineOf).join(''));
    expect(next.counts()).toMatchObject({ unsent: 0, kept: 2 });
  });

  it('writes none when standard output is not the hand-off: without a reader they wait, with a forwarder they become its', async () => {
    await leaveUnsent(['evt_S3']);
    const silent = openOutbox({ lines: null });
    await expect(silent.resendUnsent()).resolves.toBe(0);
    expect(silent.find('evt_S3')?.state).toBe('unsent');
    const out = counting();
    const forwarding = openOutbox({ lines: out.stream, forwarding: true });
    let woken = 0;
    forwarding.onPending(() => (woken += 1));
    await expect(forwarding.resendUnsent()).resolves.toBe(1);
    expect(out.writes).toEqual([]);
    // Not stranded: pending, due now, with no attempts, and the forwarder is woken for it.
    expect(forwarding.find('evt_S3')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(forwarding.due(new Date(Date.now() + 1), 10).map((row) => row.eventId)).toEqual(['evt_S3']);
    expect(woken).toBe(1);
    await expect(forwarding.resendUnsent()).resolves.toBe(0);
    expect(woken).toBe(1);
  });
});

describe('what it leaves behind', () => {
  it('closes its connection: the last one on the file folds the write-ahead log back in', async () => {
    const outbox = openOutbox();
    await outbox.send([handOffItem('audit_created', 'evt_C1')]);
    expect(existsSync(`${file}-wal`)).toBe(true);
    await outbox.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  const openFilesOf = (path: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === resolve(path);
      } catch {
        return false;
      }
    });

  (existsSync('/proc/self/fd') ? it : it.skip)('cannot open a file that is not a database, and leaves no handle on it', () => {
    writeFileSync(file, 'not a database, '.repeat(100));
    expect(() => openSqliteOutbox(file, { lines: null })).toThrow('file is not a database');
    expect(openFilesOf(file)).toEqual([]);
  });
});
