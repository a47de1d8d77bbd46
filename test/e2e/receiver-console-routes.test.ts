/**
 * The receiver console's routes over HTTP, on a real outbox: lists masked and never cached, one
 * item revealed only through the protected action, every action refused without the console
 * token or from another site, and an item the reader never got written out again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryActivity } from '../../src/receiver/local/console/activity';
import { startReceiverConsole, type ReceiverConsole } from '../../src/receiver/local/console/routes';
import { openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { memoryLog } from '../../src/receiver/log';
import { handOffItem, stallableLines } from '../support/receiver-kit';

describe('the receiver console routes', () => {
  let dir: string;
  let outbox: SqliteOutbox;
  let console_: ReceiverConsole | undefined;
  const reader = stallableLines();
  const { lines, written } = reader;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'receiver-console-'));
  });
  afterEach(async () => {
    await console_?.close();
    await outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves masked state, reveals one item with the token, refuses other sites, and re-emits', async () => {
    outbox = openSqliteOutbox(join(dir, 'receiver.db'), { lines, lineFlushTimeoutMs: 50 });
    await outbox.send([handOffItem('audit_created', 'evt_r1')]);
    reader.release();
    reader.stalled = false;
    const log = memoryLog();
    console_ = await startReceiverConsole({ port: 0, outbox, activity: deliveryActivity(), forwarding: false, log, token: 'the-token' });
    const base = console_.url;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console$/);

    const state = await fetch(`${base}/api/state`);
    expect(state.headers.get('cache-control')).toBe('no-store');
    const text = await state.text();
    expect(text).not.toMatch(/mei\.chen|Mei|Chen|9374|Bondi/);
    expect(JSON.parse(text).outbox.rows[0]).toMatchObject({ name: 'Audit:Create/evt_r1', state: 'unsent', who: 'M*** C***, m***@example.com' });

    const post = (action: string, headers: Record<string, string>) =>
      fetch(`${base}/api/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'Audit:Create/evt_r1' }) });
    expect((await post('reveal', {})).status).toBe(403);
    expect((await post('reveal', { 'x-console-token': 'the-token', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post('resend', { 'x-console-token': 'the-token', origin: 'http://elsewhere.example' })).status).toBe(403);
    expect(outbox.find('evt_r1')?.state).toBe('unsent');

    const revealed = await post('reveal', { 'x-console-token': 'the-token', 'sec-fetch-site': 'same-origin' });
    expect(revealed.status).toBe(200);
    expect(revealed.headers.get('cache-control')).toBe('no-store');
    expect(((await revealed.json()) as { item: unknown }).item).toMatchObject({ id: 'evt_r1', email: 'mei.chen@example.com', phone: '(02) 9374 4000' });

    written.length = 0;
    const resent = await post('resend', { 'x-console-token': 'the-token' });
    expect(resent.status).toBe(200);
    expect(written.join('')).toContain('"id":"evt_r1"');
    expect(outbox.find('evt_r1')?.state).toBe('kept');
    expect((await post('replay', { 'x-console-token': 'the-token' })).status).toBe(409);

    expect(JSON.stringify(log.lines)).not.toMatch(/mei\.chen|9374|Bondi/);
    expect(log.lines.map((line) => line.message)).toEqual(expect.arrayContaining(['console action refused', 'item revealed in the console', 'item written out again from the console']));
  });
});
