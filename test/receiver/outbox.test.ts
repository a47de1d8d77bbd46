import { mkdtempSync, rmSync } from 'node:fs';
import type { EventRef } from '../../src/receiver/store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LINES_BEHIND, LINES_CLOSED, openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { handOffItem } from '../support/receiver-kit';

/** A row's identity (event and id) as the outbox holds it; an id it does not hold as an Audit:Create. */
const refOf = (outbox: Pick<SqliteOutbox, 'find'>, eventId: string): EventRef => ({ event: outbox.find(eventId)?.event ?? 'Audit:Create', eventId });

/** A lines stream that keeps what was written. */
const capture = () => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean) };
};

let dir: string;
let file: string;
const open: SqliteOutbox[] = [];
const openOutbox = (options: Parameters<typeof openSqliteOutbox>[1] = {}) => {
  const outbox = openSqliteOutbox(file, { lines: null, ...options });
  open.push(outbox);
  return outbox;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  file = join(dir, 'receiver.db');
});

afterEach(async () => {
  for (const outbox of open.splice(0)) await outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('send', () => {
  it('stores each item and writes exactly its JSON line once, after the commit', async () => {
    const out = capture();
    const outbox = openOutbox({ lines: out.stream });
    const a = handOffItem('quote_request_created', 'evt_A1');
    const b = handOffItem('audit_created', 'evt_B2');
    const c = handOffItem('audit_label_applied', 'evt_C3');

    await expect(outbox.send([a, b])).resolves.toEqual([{ ok: true }, { ok: true }]);
    await expect(outbox.send([c])).resolves.toEqual([{ ok: true }]);

    expect(out.text()).toBe(`${JSON.stringify(a.item)}\n${JSON.stringify(b.item)}\n${JSON.stringify(c.item)}\n`);
    expect(outbox.description).toBe(`outbox:${file}`);
    expect(outbox.counts()).toEqual({ pending: 0, delivered: 0, dead: 0, kept: 3, unsent: 0 });
    expect(outbox.find('evt_B2')).toMatchObject({ eventId: 'evt_B2', event: 'Audit:Create', state: 'kept', attempts: 0 });
    // Kept rows are a record, not work for a forwarder.
    expect(outbox.due(new Date(Date.now() + 60_000), 10)).toEqual([]);
  });

  it('stores rows pending, due at once, when forwarding is on', async () => {
    const outbox = openOutbox({ forwarding: true });
    const a = handOffItem('quote_request_created', 'evt_A1');
    await outbox.send([a]);
    expect(outbox.counts()).toMatchObject({ pending: 1, kept: 0 });
    expect(outbox.due(new Date(), 10)).toEqual([{ ...a, attempts: 0 }]);
  });

  it('keeps a repeated event id as it was: ok, no second row, no second line', async () => {
    const out = capture();
    const outbox = openOutbox({ lines: out.stream, forwarding: true });
    const first = handOffItem('quote_request_created', 'evt_SAME');
    const again = { ...first, item: { ...first.item, first_name: 'Changed' } };

    await outbox.send([first]);
    await expect(outbox.send([again])).resolves.toEqual([{ ok: true }]);
    // Also within one batch, beside a new item.
    const other = handOffItem('audit_created', 'evt_OTHER');
    await expect(outbox.send([again, other])).resolves.toEqual([{ ok: true }, { ok: true }]);

    expect(out.lines()).toEqual([JSON.stringify(first.item), JSON.stringify(other.item)]);
    expect(outbox.counts().pending).toBe(2);
    expect(outbox.due(new Date(), 10).find((row) => row.eventId === 'evt_SAME')?.item).toEqual(first.item);
  });

  it('writes its lines to standard output by default', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, done?: (error?: Error | null) => void) => {
      writes.push(String(chunk));
      done?.();
      return true;
    }) as typeof process.stdout.write);
    try {
      const outbox = openSqliteOutbox(file);
      open.push(outbox);
      const a = handOffItem('audit_assigned', 'evt_STDOUT');
      await expect(outbox.send([a])).resolves.toEqual([{ ok: true }]);
      expect(writes).toEqual([`${JSON.stringify(a.item)}\n`]);
      expect(outbox.find('evt_STDOUT')?.state).toBe('kept');
    } finally {
      spy.mockRestore();
    }
  });

  it('fails every item of a batch whose transaction fails, and stores none of them', async () => {
    const out = capture();
    const outbox = openOutbox({ lines: out.stream });
    const a = handOffItem('quote_request_created', 'evt_A1');
    // A NOT NULL violation on the second item: the first, already inserted, must roll back too.
    const broken = { ...handOffItem('audit_created', 'evt_B2'), eventId: null as unknown as string };
    const results = await outbox.send([a, broken, handOffItem('audit_simulated', 'evt_C3')]);

    expect(results).toHaveLength(3);
    for (const result of results) {
      expect(result.ok).toBe(false);
      expect((result as { reason: string }).reason).toMatch(/^outbox write failed: SQLITE_CONSTRAINT/);
    }
    expect(outbox.counts()).toEqual({ pending: 0, delivered: 0, dead: 0, kept: 0, unsent: 0 });
    expect(out.text()).toBe('');
    // The connection is usable afterwards (the transaction was rolled back, not left open).
    await expect(outbox.send([a])).resolves.toEqual([{ ok: true }]);
  });

  it('fails all items with SQLITE_BUSY while another connection holds the file locked', async () => {
    const out = capture();
    const outbox = openOutbox({ lines: out.stream, busyTimeoutMs: 50 });
    const locker = new DatabaseSync(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const batch = await outbox.send([handOffItem('quote_request_created', 'evt_A1'), handOffItem('audit_created', 'evt_B2')]);
      const single = await outbox.send([handOffItem('audit_simulated', 'evt_C3')]);
      for (const result of [...batch, ...single]) {
        expect(result).toEqual({ ok: false, reason: 'outbox write failed: SQLITE_BUSY: database is locked' });
      }
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(out.text()).toBe('');
    expect(outbox.counts().kept).toBe(0);
    await expect(outbox.send([handOffItem('audit_simulated', 'evt_C3')])).resolves.toEqual([{ ok: true }]);
  });

  it('waits for a lock that another thread releases within the busy timeout', async () => {
    const outbox = openOutbox({ busyTimeoutMs: 5_000 });
    // A worker holds a write lock for 300 ms; send() blocks on it and then succeeds.
    const worker = new Worker(
      `const { DatabaseSync } = require('node:sqlite');
       const { parentPort, workerData } = require('node:worker_threads');
       const db = new DatabaseSync(workerData);
       db.exec('BEGIN IMMEDIATE');
       parentPort.postMessage('locked');
       setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('released'); }, 300);`,
      { eval: true, workerData: file },
    );
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      const started = Date.now();
      await expect(outbox.send([handOffItem('quote_request_created', 'evt_A1'), handOffItem('audit_created', 'evt_B2')])).resolves.toEqual([
        { ok: true },
        { ok: true },
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      await worker.terminate();
    }
  });

  it('answers not ok once closed', async () => {
    const outbox = openOutbox();
    await outbox.close();
    await expect(outbox.send([handOffItem('audit_created', 'evt_B2')])).resolves.toEqual([{ ok: false, reason: 'outbox is closed' }]);
  });

  it('is fast enough for the receiver: 1000 single-item sends well under 5 s', async () => {
    const outbox = openOutbox({ forwarding: true });
    const base = handOffItem('quote_request_created', 'evt_X');
    const items = Array.from({ length: 1_000 }, (_, i) => ({ ...base, eventId: `evt_fast_${i}`, item: { ...base.item, id: `evt_fast_${i}` } }));
    const started = performance.now();
    for (const item of items) await outbox.send([item]);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(outbox.counts().pending).toBe(1_000);
  });
});

/** A lines stream whose writes complete only when released, or fail as a pipe whose reader left. */
const controlled = () => {
  const held: Array<(error?: Error | null) => void> = [];
  const written: string[] = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer | string, _encoding, done) {
      held.push((error) => {
        if (!error) written.push(chunk.toString());
        done(error);
      });
    },
  });
  return {
    stream,
    written,
    held,
    release: () => held.splice(0).forEach((done) => done()),
    fail: (code: string) => held.splice(0).forEach((done) => done(Object.assign(new Error(`write ${code}`), { code }))),
  };
};

const settles = async (promise: Promise<unknown>, ms = 50): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
};

describe('standard output as the hand-off (no forwarder)', () => {
  it('counts an item handed off only once its line was written out', async () => {
    const out = controlled();
    const outbox = openOutbox({ lines: out.stream });
    const item = handOffItem('quote_request_created', 'evt_L1');
    const sent = outbox.send([item]);
    expect(await settles(sent)).toBe(false);
    expect(outbox.find('evt_L1')?.state).toBe('unsent');
    out.release();
    await expect(sent).resolves.toEqual([{ ok: true }]);
    expect(out.written).toEqual([`${JSON.stringify(item.item)}\n`]);
    expect(outbox.find('evt_L1')?.state).toBe('kept');
  });

  it('when the reader goes away (EPIPE): refuses the items, keeps them unsent, refuses more, and writes them at the next start', async () => {
    const out = controlled();
    const closed: string[] = [];
    const outbox = openOutbox({ lines: out.stream, onLinesClosed: (reason) => closed.push(reason) });
    const lost = handOffItem('audit_created', 'evt_P1');
    const sent = outbox.send([lost]);
    await new Promise((resolve) => setImmediate(resolve));
    out.fail('EPIPE');
    await expect(sent).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(closed).toEqual(['EPIPE']);
    expect(outbox.find('evt_P1')?.state).toBe('unsent');
    // Refused at once, nothing stored: the platform retries it later.
    await expect(outbox.send([handOffItem('audit_assigned', 'evt_P2')])).resolves.toEqual([{ ok: false, reason: LINES_CLOSED }]);
    expect(outbox.find('evt_P2')).toBeUndefined();
    await outbox.close();

    // The next start, with a reader: the line the first reader never got comes out, once.
    const next = capture();
    const restarted = openOutbox({ lines: next.stream });
    await expect(restarted.resendUnsent()).resolves.toBe(1);
    expect(next.lines()).toEqual([JSON.stringify(lost.item)]);
    expect(restarted.find('evt_P1')?.state).toBe('kept');
    await expect(restarted.resendUnsent()).resolves.toBe(0);
    // The platform's retry of it is now a repeat: no second line.
    await expect(restarted.send([lost])).resolves.toEqual([{ ok: true }]);
    expect(next.lines()).toHaveLength(1);
  });

  it('a retry writes an unsent line again when the first write timed out', async () => {
    const out = controlled();
    const outbox = openOutbox({ lines: out.stream, lineFlushTimeoutMs: 30 });
    const item = handOffItem('audit_simulated', 'evt_T1');
    await expect(outbox.send([item])).resolves.toEqual([{ ok: false, reason: LINES_BEHIND }]);
    expect(outbox.find('evt_T1')?.state).toBe('unsent');
    const retry = outbox.send([item]);
    out.release();
    await new Promise((resolve) => setImmediate(resolve));
    out.release();
    await expect(retry).resolves.toEqual([{ ok: true }]);
    expect(outbox.find('evt_T1')?.state).toBe('kept');
    // At least once, never none: the reader got the line (twice here), and tells repeats apart by id.
    expect(out.written.length).toBeGreaterThanOrEqual(1);
    expect(new Set(out.written)).toEqual(new Set([`${JSON.stringify(item.item)}\n`]));
  });

  it('pauses intake while the reader is behind: refused unstored, not buffered without bound', async () => {
    const out = controlled();
    const outbox = openOutbox({ lines: out.stream, maxUnwrittenBytes: 64, lineFlushTimeoutMs: 60_000 });
    const first = outbox.send([handOffItem('quote_request_created', 'evt_B1')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.stream.writableLength).toBeGreaterThan(64);
    await expect(outbox.send([handOffItem('audit_created', 'evt_B2')])).resolves.toEqual([{ ok: false, reason: LINES_BEHIND }]);
    expect(outbox.find('evt_B2')).toBeUndefined();
    out.release();
    await expect(first).resolves.toEqual([{ ok: true }]);
    // Caught up: taken again.
    const again = outbox.send([handOffItem('audit_created', 'evt_B2')]);
    await new Promise((resolve) => setImmediate(resolve));
    out.release();
    await expect(again).resolves.toEqual([{ ok: true }]);
  });

  it('with a forwarder, a reader that is behind gets no more courtesy lines, and the rows still go', async () => {
    const out = controlled();
    const outbox = openOutbox({ lines: out.stream, forwarding: true, maxUnwrittenBytes: 64 });
    await expect(outbox.send([handOffItem('audit_created', 'evt_C1')])).resolves.toEqual([{ ok: true }]);
    const buffered = out.stream.writableLength;
    expect(buffered).toBeGreaterThan(64);
    await expect(outbox.send([handOffItem('audit_assigned', 'evt_C2')])).resolves.toEqual([{ ok: true }]);
    expect(out.stream.writableLength).toBe(buffered);
    expect(outbox.find('evt_C2')?.state).toBe('pending');
    out.release();
  });

  it('with a forwarder, the row is the hand-off: a reader that went away changes nothing', async () => {
    const out = controlled();
    const outbox = openOutbox({ lines: out.stream, forwarding: true });
    out.stream.destroy();
    await expect(outbox.send([handOffItem('audit_created', 'evt_F1')])).resolves.toEqual([{ ok: true }]);
    expect(outbox.find('evt_F1')?.state).toBe('pending');
  });
});

describe('event identity', () => {
  it('keeps one id under two events as two rows, each moved and replayed on its own', async () => {
    const outbox = openOutbox({ forwarding: true });
    const audit = handOffItem('audit_created', '42');
    const quote = handOffItem('quote_request_created', '42');
    await expect(outbox.send([audit, quote])).resolves.toEqual([{ ok: true }, { ok: true }]);
    await expect(outbox.send([quote])).resolves.toEqual([{ ok: true }]); // a repeat of the quote adds nothing
    expect(outbox.counts().pending).toBe(2);

    expect(outbox.markDead(audit, 'HTTP 400')).toBe(true);
    expect(outbox.markDelivered(quote)).toBe(true);
    expect(outbox.find('Audit:Create/42')).toMatchObject({ event: 'Audit:Create', state: 'dead' });
    expect(outbox.find('RequestQuote:Create/42')).toMatchObject({ event: 'RequestQuote:Create', state: 'delivered' });
    expect(outbox.replay(['RequestQuote:Create/42'])).toEqual({ replayed: [], notDead: ['RequestQuote:Create/42'], unknown: [] });
    expect(outbox.replay(['Audit:Create/42'])).toEqual({ replayed: ['Audit:Create/42'], notDead: [], unknown: [] });
    expect(outbox.due(new Date(Date.now() + 1), 10).map((row) => `${row.event}/${row.eventId}`)).toEqual(['Audit:Create/42']);
  });

  it('upgrades a file whose rows were unique by id alone, keeping every row as it was', async () => {
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, item TEXT NOT NULL,
      created_at TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, last_error TEXT);
      CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE state = 'pending';`);
    const item = handOffItem('audit_created', '42');
    old.prepare('INSERT INTO outbox (seq, event_id, event, item, created_at, state, attempts, last_error) VALUES (7, ?, ?, ?, ?, ?, 3, ?)').run(
      '42',
      'Audit:Create',
      JSON.stringify(item.item),
      '2026-11-30T10:00:00.000Z',
      'dead',
      'HTTP 410',
    );
    old.close();

    const outbox = openOutbox({ forwarding: true });
    expect(outbox.dead()).toEqual([{ eventId: '42', event: 'Audit:Create', attempts: 3, lastError: 'HTTP 410', createdAt: '2026-11-30T10:00:00.000Z' }]);
    // Another event with the same id is a row of its own now, after the old one.
    await expect(outbox.send([handOffItem('quote_request_created', '42'), item])).resolves.toEqual([{ ok: true }, { ok: true }]);
    expect(outbox.counts()).toMatchObject({ dead: 1, pending: 1 });
    const db = new DatabaseSync(file, { readOnly: true });
    const seqs = db.prepare('SELECT seq, event FROM outbox ORDER BY seq').all();
    db.close();
    expect(seqs).toEqual([
      { seq: 7, event: 'Audit:Create' },
      { seq: 8, event: 'RequestQuote:Create' },
    ]);
  });
});

describe('durability and sharing', () => {
  it('keeps its rows across close and reopen (and still de-duplicates them)', async () => {
    const first = openOutbox({ forwarding: true });
    const a = handOffItem('quote_request_created', 'evt_A1');
    await first.send([a, handOffItem('audit_created', 'evt_B2')]);
    first.markDead(refOf(first, 'evt_B2'), 'HTTP 400');
    await first.close();

    const out = capture();
    const reopened = openOutbox({ forwarding: true, lines: out.stream });
    expect(reopened.counts()).toEqual({ pending: 1, delivered: 0, dead: 1, kept: 0, unsent: 0 });
    expect(reopened.due(new Date(), 10)).toEqual([{ ...a, attempts: 0 }]);
    await expect(reopened.send([a])).resolves.toEqual([{ ok: true }]);
    expect(out.text()).toBe('');
  });

  it('shares one database file with another table on another connection (the de-dup store)', async () => {
    // Set up the way src/receiver/stores/sqlite.ts does: its own connection, WAL, table `events`.
    const other = new DatabaseSync(file);
    other.exec('PRAGMA busy_timeout = 5000');
    other.exec('PRAGMA journal_mode = WAL');
    other.exec('CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, state TEXT NOT NULL)');
    const claim = other.prepare('INSERT INTO events (event_id, state) VALUES (?, ?) ON CONFLICT (event_id) DO UPDATE SET state = excluded.state');
    try {
      const outbox = openOutbox({ forwarding: true });
      for (let i = 0; i < 20; i += 1) {
        claim.run(`evt_${i}`, 'in_progress');
        await expect(outbox.send([handOffItem('audit_created', `evt_${i}`)])).resolves.toEqual([{ ok: true }]);
        claim.run(`evt_${i}`, 'handed_off');
      }
      expect(outbox.counts().pending).toBe(20);
      expect((other.prepare("SELECT COUNT(*) AS n FROM events WHERE state = 'handed_off'").get() as { n: number }).n).toBe(20);
      const tables = other.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((row) => row.name);
      expect(tables).toEqual(expect.arrayContaining(['events', 'outbox']));
      expect((other.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    } finally {
      other.close();
    }
  });

  it('opens on a file whose other table is mid-write, waiting for the lock', async () => {
    const worker = new Worker(
      `const { DatabaseSync } = require('node:sqlite');
       const { parentPort, workerData } = require('node:worker_threads');
       const db = new DatabaseSync(workerData);
       db.exec('PRAGMA journal_mode = WAL');
       db.exec('BEGIN IMMEDIATE');
       db.exec('CREATE TABLE events (event_id TEXT PRIMARY KEY)');
       parentPort.postMessage('locked');
       setTimeout(() => { db.exec('COMMIT'); db.close(); }, 200);`,
      { eval: true, workerData: file },
    );
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      const outbox = openOutbox({ forwarding: true });
      await expect(outbox.send([handOffItem('audit_created', 'evt_B2')])).resolves.toEqual([{ ok: true }]);
    } finally {
      await worker.terminate();
    }
  });
});

describe('the forwarder side', () => {
  const at = (iso: string) => new Date(iso);

  it('claims due rows with a lease, oldest first, so a second poll does not take them too', async () => {
    const outbox = openOutbox({ forwarding: true });
    await outbox.send([handOffItem('quote_request_created', 'evt_1'), handOffItem('audit_created', 'evt_2'), handOffItem('audit_assigned', 'evt_3')]);
    const now = new Date(Date.now() + 1_000);

    expect(outbox.due(now, 2).map((row) => row.eventId)).toEqual(['evt_1', 'evt_2']);
    const claimed = outbox.due(now, 2, 30_000);
    expect(claimed.map((row) => row.eventId)).toEqual(['evt_1', 'evt_2']);
    expect(outbox.due(now, 10, 30_000).map((row) => row.eventId)).toEqual(['evt_3']);
    expect(outbox.due(now, 10, 30_000)).toEqual([]);
    // A forwarder that died mid-post: its rows come back once the lease is over.
    expect(outbox.due(new Date(now.getTime() + 30_001), 10).map((row) => row.eventId)).toEqual(['evt_1', 'evt_2', 'evt_3']);
  });

  it('turns a row whose stored item is not JSON (edited by hand) into a dead letter instead of failing every poll', async () => {
    const outbox = openOutbox({ forwarding: true });
    await outbox.send([handOffItem('quote_request_created', 'evt_1'), handOffItem('audit_created', 'evt_2')]);
    const editor = new DatabaseSync(file);
    editor.exec("UPDATE outbox SET item = '{broken' WHERE event_id = 'evt_1'");
    editor.close();
    expect(outbox.due(new Date(Date.now() + 1), 10, 1_000).map((row) => row.eventId)).toEqual(['evt_2']);
    expect(outbox.find('evt_1')).toMatchObject({ state: 'dead', lastError: 'the stored item is not valid JSON' });
  });

  it('counts attempts and moves rows through retry, delivered and dead', async () => {
    const outbox = openOutbox({ forwarding: true });
    await outbox.send([handOffItem('quote_request_created', 'evt_1'), handOffItem('audit_created', 'evt_2')]);

    expect(outbox.markRetry(refOf(outbox, 'evt_1'), at('2099-01-01T00:00:00Z'), 'HTTP 503')).toBe(true);
    expect(outbox.due(at('2098-12-31T23:59:59Z'), 10).map((row) => row.eventId)).toEqual(['evt_2']);
    expect(outbox.due(at('2099-01-01T00:00:00Z'), 10)).toEqual(expect.arrayContaining([expect.objectContaining({ eventId: 'evt_1', attempts: 1 })]));
    expect(outbox.find('evt_1')).toMatchObject({ state: 'pending', attempts: 1, lastError: 'HTTP 503' });

    expect(outbox.markDelivered(refOf(outbox, 'evt_1'))).toBe(true);
    expect(outbox.find('evt_1')).toMatchObject({ state: 'delivered', attempts: 2, lastError: null });
    expect(outbox.markDead(refOf(outbox, 'evt_2'), 'HTTP 400')).toBe(true);
    expect(outbox.find('evt_2')).toMatchObject({ state: 'dead', attempts: 1, lastError: 'HTTP 400' });

    // Only pending rows move.
    expect(outbox.markRetry(refOf(outbox, 'evt_1'), new Date(), 'late')).toBe(false);
    expect(outbox.markDead(refOf(outbox, 'evt_1'), 'late')).toBe(false);
    expect(outbox.markDelivered(refOf(outbox, 'evt_2'))).toBe(false);
    expect(outbox.markDelivered(refOf(outbox, 'evt_nope'))).toBe(false);
    expect(outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 1, kept: 0, unsent: 0 });
  });

  it('prunes delivered and kept rows past the retention, never dead or pending ones', async () => {
    const outbox = openOutbox({ forwarding: true, retentionMs: 7 * 24 * 60 * 60 * 1000 });
    await outbox.send([handOffItem('quote_request_created', 'evt_done'), handOffItem('audit_created', 'evt_dead'), handOffItem('audit_assigned', 'evt_wait')]);
    outbox.markDelivered(refOf(outbox, 'evt_done'));
    outbox.markDead(refOf(outbox, 'evt_dead'), 'HTTP 400');
    const kept = openOutbox({ forwarding: false });
    await kept.send([handOffItem('audit_simulated', 'evt_kept')]);

    expect(outbox.prune(new Date(Date.now() + 6 * 24 * 60 * 60 * 1000))).toBe(0);
    expect(outbox.prune(new Date(Date.now() + 8 * 24 * 60 * 60 * 1000))).toBe(2);
    expect(outbox.find('evt_done')).toBeUndefined();
    expect(outbox.find('evt_kept')).toBeUndefined();
    expect(outbox.counts()).toEqual({ pending: 1, delivered: 0, dead: 1, kept: 0, unsent: 0 });
  });

  it('lists dead letters for an operator without the items', async () => {
    const outbox = openOutbox({ forwarding: true });
    await outbox.send([handOffItem('quote_request_created', 'evt_1'), handOffItem('audit_created', 'evt_2')]);
    outbox.markDead(refOf(outbox, 'evt_2'), 'HTTP 404');
    const dead = outbox.dead();
    expect(dead).toEqual([{ eventId: 'evt_2', event: 'Audit:Create', attempts: 1, lastError: 'HTTP 404', createdAt: expect.any(String) }]);
    expect(new Date(dead[0]!.createdAt).toISOString()).toBe(dead[0]!.createdAt);
  });

  it('replays only dead letters, and says what the other ids are', async () => {
    const outbox = openOutbox({ forwarding: true });
    await outbox.send([handOffItem('quote_request_created', 'evt_dead'), handOffItem('audit_created', 'evt_done'), handOffItem('audit_assigned', 'evt_wait')]);
    outbox.markRetry(refOf(outbox, 'evt_dead'), new Date(), 'HTTP 503');
    outbox.markDead(refOf(outbox, 'evt_dead'), 'HTTP 503');
    outbox.markDelivered(refOf(outbox, 'evt_done'));
    let woken = 0;
    outbox.onPending(() => (woken += 1));

    const result = outbox.replay(['evt_dead', 'evt_done', 'evt_wait', 'evt_ghost', 'evt_dead']);
    expect(result).toEqual({ replayed: ['evt_dead'], notDead: ['evt_done', 'evt_wait'], unknown: ['evt_ghost'] });
    expect(outbox.find('evt_dead')).toMatchObject({ state: 'pending', attempts: 0, lastError: null });
    expect(outbox.find('evt_done')).toMatchObject({ state: 'delivered' });
    expect(outbox.due(new Date(Date.now() + 1), 10).map((row) => row.eventId).sort()).toEqual(['evt_dead', 'evt_wait']);
    expect(woken).toBe(1);
    // Replaying it again: it is pending now, not dead.
    expect(outbox.replay(['evt_dead'])).toEqual({ replayed: [], notDead: ['evt_dead'], unknown: [] });
  });

  it('wakes its listeners when new rows become pending, not for kept rows or repeats', async () => {
    const forwarding = openOutbox({ forwarding: true });
    let woken = 0;
    const stop = forwarding.onPending(() => (woken += 1));
    await forwarding.send([handOffItem('audit_created', 'evt_1')]);
    await forwarding.send([handOffItem('audit_created', 'evt_1')]);
    expect(woken).toBe(1);
    stop();
    await forwarding.send([handOffItem('audit_created', 'evt_2')]);
    expect(woken).toBe(1);

    const keeping = openOutbox();
    let keptWakes = 0;
    keeping.onPending(() => (keptWakes += 1));
    await keeping.send([handOffItem('audit_created', 'evt_3')]);
    expect(keptWakes).toBe(0);
  });
});
