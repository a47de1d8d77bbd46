/**
 * Trigger filters end to end: the platform sends only matching events, and a matching-but-filtered
 * delivery that reaches the Zap anyway (a platform ignoring filters) still yields no item.
 */
import { ACTIONS, LABELS } from '../../src/sandbox/fixtures';
import { itemIds, type Loop, postToHook, secretOf, signedHeaders, startLoop, zapFor } from './loop';
import { generateEventBody } from '../../src/sandbox/fixtures';

describe('filters', () => {
  let loop: Loop;

  beforeAll(async () => {
    loop = await startLoop();
  });

  afterAll(async () => {
    await loop.close();
  });

  test('New Quote Request with an action gets only quote requests for that action', async () => {
    const solar = await zapFor(loop, 'RequestQuote:Create', { action: 'solar_pv' });
    const battery = await zapFor(loop, 'RequestQuote:Create', { action: 'BATTERY' }); // case does not matter
    const all = await zapFor(loop, 'RequestQuote:Create');
    expect(loop.sandbox.subscriptions().map((s) => s.filters)).toEqual(
      expect.arrayContaining([{ action: 'solar_pv' }, { action: 'BATTERY' }, {}]),
    );
    const byAction = new Map<string, string>();
    for (const a of ACTIONS) byAction.set(a.code, loop.sandbox.fire('RequestQuote:Create', { data: { action: a.code } }).event_ids[0]!);
    await loop.settle();
    expect(itemIds(solar)).toEqual([byAction.get('solar_pv')]);
    expect(itemIds(battery)).toEqual([byAction.get('battery')]);
    expect([...itemIds(all)].sort()).toEqual([...byAction.values()].sort());
    // Non-matching events were never sent to the filtered Zaps.
    expect(solar.requests.received).toBe(1);
    expect(battery.requests.received).toBe(1);
  });

  test('New Quote Request with several products gets quote requests for any of them, and only those', async () => {
    const either = await zapFor(loop, 'RequestQuote:Create', { action: ['solar_pv', 'ev_charger'] });
    expect(loop.sandbox.subscriptions().map((s) => s.filters)).toContainEqual({ action: ['solar_pv', 'ev_charger'] });
    const byAction = new Map<string, string>();
    for (const a of ACTIONS) byAction.set(a.code, loop.sandbox.fire('RequestQuote:Create', { data: { action: a.code } }).event_ids[0]!);
    await loop.settle();
    expect([...itemIds(either)].sort()).toEqual([byAction.get('solar_pv'), byAction.get('ev_charger')].sort());
    expect(either.items.map((item) => item['action_name']).sort()).toEqual(['EV Charger', 'Solar PV']);
    // The platform filtered: the other products never reached this Zap.
    expect(either.requests.received).toBe(2);
  });

  test('label triggers match a label by id, or by name in any case', async () => {
    const byId = await zapFor(loop, 'Audit:Label:Apply', { label: 'lbl_c5f7' });
    const byName = await zapFor(loop, 'RequestQuote:Label:Apply', { label: '  quote SENT ' });
    const fired = new Map<string, string>();
    for (const l of LABELS) {
      const event = l.type === 'audit' ? 'Audit:Label:Apply' : 'RequestQuote:Label:Apply';
      fired.set(l.id, loop.sandbox.fire(event, { data: { label_id: l.id } }).event_ids[0]!);
    }
    await loop.settle();
    expect(itemIds(byId)).toEqual([fired.get('lbl_c5f7')]);
    expect(itemIds(byName)).toEqual([fired.get('lbl_7pq2')]);
    expect(byName.items[0]?.['label']).toBe('Quote sent');
  });

  test('label triggers with several labels get events with any of them, and only those', async () => {
    const either = await zapFor(loop, 'RequestQuote:Label:Apply', { label: ['lbl_9xw3', ' quote SENT '] });
    expect(loop.sandbox.subscriptions().map((s) => s.filters)).toContainEqual({ label: ['lbl_9xw3', 'quote SENT'] });
    const fired = new Map<string, string>();
    for (const l of LABELS.filter((label) => label.type === 'quote_request')) {
      fired.set(l.id, loop.sandbox.fire('RequestQuote:Label:Apply', { data: { label_id: l.id } }).event_ids[0]!);
    }
    await loop.settle();
    expect([...itemIds(either)].sort()).toEqual([fired.get('lbl_9xw3'), fired.get('lbl_7pq2')].sort());
    // The platform filtered: the other labels never reached this Zap.
    expect(either.requests.received).toBe(2);
    // A quote request label carries no state: its local time is in the organisation's zone, which
    // turning the Zap on read from the sandbox's /me and kept with the subscription.
    for (const item of either.items) expect(item['time_zone']).toBe('Australia/Melbourne');
    const samples = await loop.intake.loadSamples(either.id);
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(['Won', 'Quote sent']).toContain(sample['label']);
  });

  test('"Test trigger" shows the newest first', async () => {
    const zap = await zapFor(loop, 'Audit:Create');
    const samples = await loop.intake.loadSamples(zap.id);
    expect(samples.length).toBeGreaterThan(1);
    const times = samples.map((sample) => Date.parse(String(sample['occurred_at'])));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test('the sandbox refuses filters that are unknown or do not apply, and nothing is subscribed', async () => {
    const count = loop.sandbox.subscriptions().length;
    // The partner is asked to choose the options again; the sandbox's own reason goes to the log.
    const chooseAgain = /did not accept one of this trigger's options while turning on this Zap.*Choose the options again/;
    await expect(zapFor(loop, 'RequestQuote:Create', { action: 'nuclear_fusion' })).rejects.toThrow(chooseAgain);
    await expect(zapFor(loop, 'RequestQuote:Create', { action: ['solar_pv', 'nuclear_fusion'] })).rejects.toThrow(chooseAgain);
    await expect(zapFor(loop, 'Audit:Label:Apply', { label: 'Quote sent' })).rejects.toThrow(chooseAgain);
    await expect(zapFor(loop, 'Audit:Label:Apply', { label: ['Report sent', 'Quote sent'] })).rejects.toThrow(chooseAgain);
    expect(loop.sandbox.subscriptions()).toHaveLength(count);
  });

  test('a non-matching event that reaches a filtered Zap anyway yields no item', async () => {
    const solar = await zapFor(loop, 'RequestQuote:Create', { action: 'solar_pv' });
    const body = generateEventBody('RequestQuote:Create', { data: { action: 'ev_charger' } });
    const raw = JSON.stringify(body);
    expect(await postToHook(solar, raw, signedHeaders(secretOf(solar), body.event_id, raw))).toBe(200);
    await loop.settle();
    expect(solar.runs.map((r) => r.outcome)).toEqual(['empty']);
    expect(itemIds(solar)).toHaveLength(0);
  });

  test('"Test trigger" with a filter returns only matching samples', async () => {
    const zap = await zapFor(loop, 'RequestQuote:Create', { action: 'battery' });
    const samples = await loop.intake.loadSamples(zap.id);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s['action']).toBe('battery');
  });
});
