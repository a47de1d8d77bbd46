/**
 * The SQLite store's pruning, on a real file: rows are forgotten only a full lease after they
 * stopped counting, so a holder whose lease lapsed while it worked can still record its hand-off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DedupeStore, EventRef } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';

const ref = (eventId: string, event = 'Audit:Create'): EventRef => ({ event, eventId });

const LEASE_MS = 120_000;
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

let dir: string;
let store: DedupeStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  store = openSqliteStore(join(dir, 'receiver.db'), { leaseMs: LEASE_MS });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const claimed = (outcome: Awaited<ReturnType<DedupeStore['claim']>>): string => {
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.token;
};

describe('pruning', () => {
  it('keeps a lapsed claim for one more lease, so its slow holder still records the hand-off', async () => {
    const token = claimed(await store.claim(ref('evt_slow'), T0));
    // 10 s after the lease lapsed, another claim runs the prune (over a minute since the last one).
    claimed(await store.claim(ref('evt_other'), at(LEASE_MS + 10_000)));
    expect(await store.complete(ref('evt_slow'), token, at(LEASE_MS + 10_000))).toBe(true);
    expect(await store.lookup(ref('evt_slow'), at(LEASE_MS + 10_000))).toMatchObject({ state: 'handed_off' });
  });

  it('forgets a lapsed claim once a full lease has passed after it lapsed', async () => {
    const token = claimed(await store.claim(ref('evt_gone'), T0));
    claimed(await store.claim(ref('evt_later'), at(2 * LEASE_MS + 1_000)));
    expect(await store.complete(ref('evt_gone'), token, at(2 * LEASE_MS + 1_000))).toBe(false);
  });
});
