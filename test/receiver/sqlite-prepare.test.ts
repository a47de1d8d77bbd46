// Opening a SQLite file that other processes are opening at the same moment: the preparation is
// tried again while SQLite answers SQLITE_BUSY (which the switch to WAL can answer at once, without
// waiting on busy_timeout), and any other failure is reported straight away.
import { prepareFile } from '../../src/receiver/sqlite-migrate';

const sqliteError = (errcode: number) => Object.assign(new Error('database is locked'), { errcode, errstr: 'database is locked' });

test('busy answers are tried again until the preparation succeeds', () => {
  let calls = 0;
  prepareFile(5_000, () => {
    calls += 1;
    // SQLITE_BUSY_RECOVERY (261) and SQLITE_BUSY_SNAPSHOT (517) are busy too.
    if (calls === 1) throw sqliteError(5);
    if (calls === 2) throw sqliteError(261);
    if (calls === 3) throw sqliteError(517);
  });
  expect(calls).toBe(4);
});

test('any other failure is reported at once', () => {
  let calls = 0;
  expect(() =>
    prepareFile(5_000, () => {
      calls += 1;
      throw sqliteError(11);
    }),
  ).toThrow('database is locked');
  expect(calls).toBe(1);
  expect(() => prepareFile(5_000, () => { throw new Error('not sqlite'); })).toThrow('not sqlite');
});

test('busy for longer than the timeout is reported, after about that long', () => {
  let calls = 0;
  const started = Date.now();
  expect(() =>
    prepareFile(300, () => {
      calls += 1;
      throw sqliteError(5);
    }),
  ).toThrow('database is locked');
  const took = Date.now() - started;
  expect(calls).toBeGreaterThan(2);
  expect(took).toBeLessThan(5_000);
});
