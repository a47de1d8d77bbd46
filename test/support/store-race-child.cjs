// One racer of the cross-process exactly-once test (test/e2e/receiver-store.test.ts): opens the
// SQLite store from an esbuild bundle of src/receiver/stores/sqlite.ts, says "ready", waits for
// "go" on stdin (so all racers start together), claims every id once and prints the outcomes.
// argv: <bundle.cjs> <db file> <id count> <now ms>
'use strict';
const [bundle, file, count, nowMs] = process.argv.slice(2);
const { openSqliteStore } = require(bundle);

// The four racers take turns at the write lock, each for a moment; on a busy machine a turn can
// come late, so each waits for the lock far longer than that (a failed claim fails the test).
const store = openSqliteStore(file, { busyTimeoutMs: 30_000 });
const now = new Date(Number(nowMs));
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const outcomes = { claimed: [], duplicate: 0, in_progress: 0, failed: 0 };
  for (let i = 0; i < Number(count); i++) {
    const id = `evt_race_${i}`;
    try {
      const outcome = await store.claim({ event: 'RequestQuote:Create', eventId: id }, now);
      if (outcome.kind === 'claimed') outcomes.claimed.push(id);
      else outcomes[outcome.kind] += 1;
    } catch {
      outcomes.failed += 1;
    }
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(outcomes)}\n`);
  process.stdin.destroy();
});
