/**
 * The receiver console's parts without a browser: masking of every personal field (nested ones
 * included), CONSOLE_PORT, the delivery history's bounds and counts, and the outbox's browse and
 * re-emit. The routes over HTTP: test/e2e/receiver-console-routes.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readConfig } from '../../src/receiver/config';
import { deliveryActivity, OUTCOME_MINUTES } from '../../src/receiver/local/console/activity';
import { maskedSummary, maskPersonal, personalKind } from '../../src/receiver/local/console/mask';
import { openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { handOffItem, stallableLines } from '../support/receiver-kit';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

describe('maskPersonal', () => {
  const quote = handOffItem('quote_request_created', 'evt_q1').item;
  const assigned = handOffItem('audit_assigned', 'evt_a1').item;

  it('masks every personal field of a real item and keeps the rest', () => {
    const masked = maskPersonal(quote) as Record<string, unknown>;
    expect(masked).toMatchObject({
      first_name: 'J***',
      last_name: 'T***',
      full_name: 'J*** T***',
      reply_email: 'j***@example.com',
      reply_phone: '**** *** *89',
      reply_phone_e164: '+*********89',
      street: '2*** B*** S***, B***',
      suburb: 'B***',
      postcode: '3***',
      // Not personal: what, where broadly, and ids.
      state: 'Victoria',
      country_code: 'AU',
      action_name: 'Solar PV',
      supplier_name: 'Sunrise Solar & Batteries',
      offer_price: '$4,990.00',
      id: 'evt_q1',
      quote_request_id: 'qr_4Tn6Bv',
      referral: { source: 'council_rebate_page', campaign: 'summer-2026' },
    });
    const text = JSON.stringify(masked);
    for (const value of ['Jack', 'Thompson', 'jack.thompson', '456 789', '423456789', 'Banksia', 'Brunswick', '3056']) expect(text).not.toContain(value);
  });

  it('masks the people an item names besides the customer (assignees, staff emails)', () => {
    const masked = maskPersonal(assigned) as Record<string, unknown>;
    expect(masked).toMatchObject({ assignee_name: 'P*** S***', assignee_email: 'p***@sunrise-solar.example', assigned_by_email: 'o***@sunrise-solar.example', audit_type_name: 'Business Energy Audit' });
    expect(JSON.stringify(masked)).not.toMatch(/Priya|Sharma|O'Brien|Liam/);
  });

  it('masks nested values, lists, numbers under personal fields, free text, and any email-looking value', () => {
    const masked = maskPersonal({
      customer: { name: 'Ada Lovelace', address: { line1: '1 Analytical Way', city: 'London', postcode: 12345 } },
      contacts: [{ email: 'ada@example.com', mobile: '0400 000 001' }],
      extra: { notes: 'Call Ada after 5pm on 0400 000 001', forwarded_to: 'ada@example.com', tags: ['vip', 'ada@example.com'] },
      comments: '   ',
      phone: null,
      referral: { source: 'web', count: 3 },
    }) as Record<string, any>;
    expect(masked.customer).toEqual({ name: 'A*** L***', address: { line1: '1*** A*** W***', city: 'L***', postcode: '***' } });
    expect(masked.contacts).toEqual([{ email: 'a***@example.com', mobile: '**** *** *01' }]);
    expect(masked.extra).toEqual({ notes: '(34 characters hidden)', forwarded_to: 'a***@example.com', tags: ['vip', 'a***@example.com'] });
    expect(masked.comments).toBe('   ');
    expect(masked.phone).toBeNull();
    expect(masked.referral).toEqual({ source: 'web', count: 3 });
    expect(JSON.stringify(masked)).not.toMatch(/Ada|Lovelace|Analytical|London|12345|000 001/);
  });

  it('judges field names: a name of a person unless it names a thing', () => {
    expect(['first_name', 'lastName', 'full_name', 'assignee_name', 'name', 'contact_name'].map(personalKind)).toEqual(['name', 'name', 'name', 'name', 'name', 'name']);
    expect(['action_name', 'audit_type_name', 'supplier_name', 'state', 'country', 'offer_title', 'label', 'id'].map(personalKind)).toEqual(Array(8).fill(undefined));
    expect(['reply_email', 'Email', 'phone_e164', 'mobile', 'street', 'address', 'suburb', 'postcode', 'comments'].map(personalKind)).toEqual([
      'email',
      'email',
      'phone',
      'phone',
      'address',
      'address',
      'address',
      'address',
      'text',
    ]);
  });

  it('leaves the original item as it was and sums up who it is about, masked', () => {
    const before = JSON.stringify(quote);
    maskPersonal(quote);
    expect(JSON.stringify(quote)).toBe(before);
    expect(maskedSummary(quote)).toBe('J*** T***, j***@example.com');
    expect(maskedSummary({ event: 'x' })).toBeNull();
  });
});

describe('CONSOLE_PORT', () => {
  const base = { ECOLOGIC_WEBHOOK_SECRETS: SECRET };

  it('is off unless set, and takes a port like PORT (0: any free port)', () => {
    expect(readConfig(base).consolePort).toBeUndefined();
    expect(readConfig({ ...base, CONSOLE_PORT: ' ' }).consolePort).toBeUndefined();
    expect(readConfig({ ...base, CONSOLE_PORT: '8788' }).consolePort).toBe(8788);
    expect(readConfig({ ...base, CONSOLE_PORT: '0', PORT: '0' }).consolePort).toBe(0);
  });

  it('names the variable for a bad value and refuses the delivery port', () => {
    for (const bad of ['70000', 'console', '-1', '1.5']) {
      expect(() => readConfig({ ...base, CONSOLE_PORT: bad })).toThrow(ConfigError);
      expect(() => readConfig({ ...base, CONSOLE_PORT: bad })).toThrow(`CONSOLE_PORT must be a number from 0 to 65535, not "${bad}"`);
    }
    expect(() => readConfig({ ...base, CONSOLE_PORT: '8787' })).toThrow(/CONSOLE_PORT must differ from PORT/);
    expect(() => readConfig({ ...base, PORT: '9000', CONSOLE_PORT: '9000' })).toThrow(/CONSOLE_PORT must differ from PORT \(both are 9000\)/);
  });
});

const answer = (status: number, body: Record<string, unknown>, delivery?: unknown) => ({
  status,
  webhookId: 'msg_1',
  webhookTimestamp: String(Math.floor(Date.now() / 1000)),
  answer: JSON.stringify(body),
  ms: 12,
  body: delivery === undefined ? undefined : Buffer.from(JSON.stringify(delivery)),
});

describe('deliveryActivity', () => {
  it('classifies answers, keeps event names only of verified bodies, and counts per minute', () => {
    let now = new Date('2026-11-27T02:00:30Z');
    const activity = deliveryActivity({ now: () => now });
    const body = { event: 'Audit:Create', event_id: 'e1', email: 'mei.chen@example.com' };
    expect(activity.record(answer(200, { outcome: 'accepted' }, body))).toMatchObject({ outcome: 'accepted', events: ['Audit:Create'], webhookId: 'msg_1', ms: 12, detail: null });
    expect(activity.record(answer(200, { outcome: 'duplicate' }, body)).outcome).toBe('duplicate');
    expect(activity.record(answer(401, { error: 'invalid_signature', message: 'x' }, body))).toMatchObject({ outcome: 'rejected', events: [], detail: 'invalid_signature' });
    expect(activity.record(answer(400, { error: 'not_events' })).outcome).toBe('rejected');
    expect(activity.record(answer(503, { error: 'unavailable' })).outcome).toBe('unavailable');
    expect(activity.record(answer(429, { error: 'in_progress' })).outcome).toBe('unavailable');
    now = new Date('2026-11-27T02:03:10Z');
    activity.record(answer(200, { outcome: 'accepted' }, body));
    const minutes = activity.outcomes();
    expect(minutes).toHaveLength(OUTCOME_MINUTES);
    expect(minutes.at(-1)).toEqual({ minute: '2026-11-27T02:03:00.000Z', accepted: 1, duplicate: 0, rejected: 0, unavailable: 0 });
    expect(minutes.at(-4)).toEqual({ minute: '2026-11-27T02:00:00.000Z', accepted: 1, duplicate: 1, rejected: 2, unavailable: 2 });
    expect(JSON.stringify(activity.recent())).not.toContain('mei.chen');
    // An hour later the old minutes are gone.
    now = new Date('2026-11-27T03:10:00Z');
    expect(activity.outcomes().every((m) => m.accepted + m.duplicate + m.rejected + m.unavailable === 0)).toBe(true);
  });

  it('keeps a bounded history, newest first', () => {
    const activity = deliveryActivity({ limit: 5 });
    for (let i = 0; i < 12; i += 1) activity.record(answer(200, { outcome: 'accepted' }));
    expect(activity.recent().map((d) => d.seq)).toEqual([12, 11, 10, 9, 8]);
  });
});

describe('the outbox for the console', () => {
  let dir: string;
  let outbox: SqliteOutbox;
  const reader = stallableLines();
  const { lines, written } = reader;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'receiver-console-'));
    written.length = 0;
    reader.stalled = true;
  });
  afterEach(async () => {
    await outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('browses rows with items, and writes out again an item the reader never got', async () => {
    outbox = openSqliteOutbox(join(dir, 'receiver.db'), { lines, lineFlushTimeoutMs: 50 });
    const item = handOffItem('audit_created', 'evt_u1');
    // The reader does not take the line in time: the delivery fails, the row stays unsent.
    expect(await outbox.send([item])).toEqual([{ ok: false, reason: expect.stringContaining('not being read fast enough') }]);
    reader.release();
    expect(outbox.find('evt_u1')?.state).toBe('unsent');
    expect(outbox.browse().map((row) => [row.eventId, row.state, (row.item as { email?: string }).email])).toEqual([['evt_u1', 'unsent', 'mei.chen@example.com']]);
    reader.stalled = false;
    written.length = 0;
    expect(await outbox.resend(['Audit:Create/evt_u1', 'evt_nope'])).toEqual({ resent: ['Audit:Create/evt_u1'], notUnsent: [], unknown: ['evt_nope'] });
    expect(written.join('')).toContain('"id":"evt_u1"');
    expect(outbox.find('evt_u1')?.state).toBe('kept');
    expect(await outbox.resend(['evt_u1'])).toEqual({ resent: [], notUnsent: ['evt_u1'], unknown: [] });
  });
});
