/**
 * The local receiver's journal end to end, under faults: two `npm run receiver` processes (the CLI
 * bundled) on ONE data folder, so one SQLite file holds both processes' de-duplication store and
 * outbox and each delivery is taken in a transaction shared with the deliveries beside it. The
 * sandbox delivers every event twice (two subscriptions) through a balancer that fails ~20% of the
 * attempts (5xx, dropped connections, answers after the sender's timeout, lost acknowledgements),
 * while another process holds the file's write lock past the receivers' busy timeout now and then
 * (the local store's outage: those deliveries are answered 503 and retried). Every event must end
 * as exactly one line on the two processes' standard output together.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PLATFORM_EVENTS } from '../../src/core/events';
import { subscribe } from '../../src/receiver/subscribe';
import { DEMO_API_KEY, startSandbox, type SandboxServer } from '../../src/sandbox/server';
import { waitUntil } from '../support/bounded-wait';
import { expectEveryFaultKind, startFaultBalancer, type FaultBalancer } from '../support/fault-balancer';
import { bundleReceiverCli, countBy, expectOneItemPerEvent, startReceiverProcess, type ReceiverProcess } from '../support/receiver-process';


/** The receivers wait 5 s for a lock (their busy timeout); an outage holds it longer, so it is met with 503s. */
const LOCK_HELD_MS = 5_800;
/** A receiver blocked on the lock answers after ~5 s: the sender waits longer than that, as the platform's 15 s do. */
const SENDER_TIMEOUT_MS = 9_000;

describe('two receiver processes on one SQLite file (the journal, group commit), ~20% of deliveries failing', () => {
  const EVENTS_PER_TYPE = 25;
  let balancer: FaultBalancer;
  let sandbox: SandboxServer;
  const receivers: ReceiverProcess[] = [];
  let dataDir: string;
  let fired: string[] = [];
  let lockOutages = 0;
  const timers: NodeJS.Timeout[] = [];

  /** Another process (a backup, an operator's shell) takes the write lock; returns its release. */
  const takeLock = (file: string): (() => void) | undefined => {
    const locker = new DatabaseSync(file);
    locker.exec('PRAGMA busy_timeout = 5000');
    try {
      locker.exec('BEGIN IMMEDIATE');
    } catch {
      locker.close();
      return undefined;
    }
    lockOutages += 1;
    return () => {
      locker.exec('ROLLBACK');
      locker.close();
    };
  };
  const busyAnswers = () => receivers.flatMap((r) => r.logs).filter((line) => line.outcome === 'unavailable' && line.stage === 'claim' && String(line.reason).includes('SQLITE_BUSY')).length;

  beforeAll(async () => {
    balancer = await startFaultBalancer({ rate: 0.2, modes: { server_error: 1, drop: 1, timeout: 1, ack_lost: 1 }, holdMs: SENDER_TIMEOUT_MS + 1_000, seed: 20261205 });
    sandbox = await startSandbox({
      delivery: { baseDelayMs: 20, capDelayMs: 500, maxAttempts: 40, timeoutMs: SENDER_TIMEOUT_MS },
      deliveryConcurrency: 32,
      seedSamplesPerEvent: 0,
    });
    const subscribed = [
      ...(await subscribe({ apiBaseUrl: sandbox.apiBaseUrl, apiKey: DEMO_API_KEY, receiverUrl: `${balancer.url}a`, events: PLATFORM_EVENTS })),
      ...(await subscribe({ apiBaseUrl: sandbox.apiBaseUrl, apiKey: DEMO_API_KEY, receiverUrl: `${balancer.url}b`, events: PLATFORM_EVENTS })),
    ];
    dataDir = mkdtempSync(join(tmpdir(), 'receiver-journal-'));
    const cli = bundleReceiverCli('receiver-journal');
    // Both at once, on one new file: they prepare it together.
    receivers.push(
      ...(await Promise.all(
        ['one', 'two'].map(() => startReceiverProcess({ file: cli }, { ECOLOGIC_WEBHOOK_SECRETS: subscribed.map((s) => s.secret).join(' '), PORT: '0', DATA_DIR: dataDir })),
      )),
    );
    balancer.setUpstreams(receivers.map((r) => r.url));

    const file = join(dataDir, 'receiver.db');
    // The first outage from the start, until a delivery was answered 503 for it (on a fast machine the
    // deliveries could otherwise all be taken before it); the second, timed, while retries run.
    const release = takeLock(file);
    fired = PLATFORM_EVENTS.flatMap((event) => sandbox.fire(event, { count: EVENTS_PER_TYPE }).event_ids);
    try {
      await waitUntil(() => busyAnswers() > 0, { what: 'a delivery answered 503 while the file was locked', timeoutMs: 60_000, state: () => balancer.counts });
    } finally {
      release?.();
    }
    timers.push(
      setTimeout(() => {
        const again = takeLock(file);
        if (again) timers.push(setTimeout(again, LOCK_HELD_MS));
      }, 3_000),
    );
    try {
      await sandbox.settled(180_000);
    } catch (error) {
      const state = {
        sender: sandbox.stats(),
        balancer: balancer.counts,
        lock_outages: lockOutages,
        receivers: receivers.map((r) => ({ items: r.items.length, outcomes: Object.fromEntries(countBy(r.logs.map((l) => String(l.outcome ?? l.message)))) })),
      };
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(state, null, 2)}`);
    }
    // Each line is in the pipe before its delivery is answered, but this process may read the answer
    // first: awaited, bounded; the tests below say what is missing if they never come.
    await waitUntil(() => receivers.reduce((sum, r) => sum + r.items.length, 0) >= fired.length, { what: 'the lines', timeoutMs: 15_000 }).catch(() => undefined);
  }, 240_000);

  afterAll(async () => {
    timers.forEach((timer) => clearTimeout(timer));
    await Promise.all(receivers.map((r) => r.stop()));
    await sandbox?.close();
    await balancer?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands off exactly one item per event: none lost, none duplicated', () => {
    expect(fired).toHaveLength(EVENTS_PER_TYPE * PLATFORM_EVENTS.length);
    expectOneItemPerEvent(receivers, fired);
    expect(sandbox.stats().gaveUp).toBe(0);
  });

  it('was a real fault run: every fault kind happened, both processes took items, and the lock outages were answered 503', () => {
    expectEveryFaultKind(balancer);
    expect(lockOutages).toBeGreaterThan(0);
    for (const r of receivers) expect(r.items.length).toBeGreaterThan(0);
    const logs = receivers.flatMap((r) => r.logs);
    expect(busyAnswers()).toBeGreaterThan(0);
    expect(logs.map((line) => line.outcome)).toContain('duplicate');
  });

  it('stops cleanly, every row whose line went out marked kept', async () => {
    const codes = await Promise.all(receivers.map((r) => r.stop()));
    expect(codes).toEqual([0, 0]);
    const db = new DatabaseSync(join(dataDir, 'receiver.db'));
    try {
      const states = db.prepare('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state').all() as Array<{ state: string; n: number }>;
      expect(states).toEqual([{ state: 'kept', n: fired.length }]);
    } finally {
      db.close();
    }
  });
});
