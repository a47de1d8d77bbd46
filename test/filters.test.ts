import nock from 'nock';
import { API, deliveryBundle, expectMe, fixtureBody, newTester, run, TARGET_URL, useNock } from './helpers';

useNock({ everyRequestMocked: true });

const subscribeWith = async (triggerKey: string, inputData: Record<string, unknown>) => {
  expectMe();
  let sent: { filters?: unknown } = {};
  nock(API)
    .post('/notifications', (body) => {
      sent = body;
      return true;
    })
    .reply(201, { id: 'ntf_1' });
  await run(newTester(), triggerKey, 'performSubscribe', { targetUrl: TARGET_URL, inputData });
  return sent.filters;
};

describe('filters are sent at subscribe time', () => {
  test('New Quote Request sends the action code, trimmed', async () => {
    expect(await subscribeWith('quote_request_created', { action: ' solar_pv ' })).toEqual({ action: 'solar_pv' });
  });
  test.each(['audit_label_applied', 'quote_request_label_applied'])('%s sends the label', async (key) => {
    expect(await subscribeWith(key, { label: 'lbl_7Kp4Ts' })).toEqual({ label: 'lbl_7Kp4Ts' });
  });
  test('an empty filter sends no filter', async () => {
    expect(await subscribeWith('quote_request_created', { action: '  ' })).toEqual({});
    expect(await subscribeWith('quote_request_created', { action: [] })).toEqual({});
    expect(await subscribeWith('quote_request_created', { action: ['', ' '] })).toEqual({});
  });
  test('several products or services are sent as a list, trimmed and without repeats', async () => {
    expect(await subscribeWith('quote_request_created', { action: [' solar_pv', 'battery ', 'solar_pv'] })).toEqual({ action: ['solar_pv', 'battery'] });
  });
  test('one product chosen in the list is sent as text, as before the field allowed several', async () => {
    expect(await subscribeWith('quote_request_created', { action: ['battery'] })).toEqual({ action: 'battery' });
  });
  test('a Zap made before the field allowed several, or typed with commas, still works', async () => {
    expect(await subscribeWith('quote_request_created', { action: 'solar_pv, battery' })).toEqual({ action: ['solar_pv', 'battery'] });
  });
  test('a label name with a comma stays one label (a Zap made before the field allowed several)', async () => {
    expect(await subscribeWith('quote_request_label_applied', { label: 'Awaiting documents, phase 2' })).toEqual({ label: 'Awaiting documents, phase 2' });
  });
  test.each(['audit_label_applied', 'quote_request_label_applied'])('%s sends several labels as a list, each whole, trimmed and without repeats', async (key) => {
    expect(await subscribeWith(key, { label: [' lbl_7Kp4Ts', 'Awaiting documents, phase 2', 'lbl_7Kp4Ts', ' '] })).toEqual({
      label: ['lbl_7Kp4Ts', 'Awaiting documents, phase 2'],
    });
  });
  test('one label chosen in the list is sent as text, as before the field allowed several', async () => {
    expect(await subscribeWith('quote_request_label_applied', { label: ['Awaiting documents, phase 2'] })).toEqual({ label: 'Awaiting documents, phase 2' });
    expect(await subscribeWith('quote_request_label_applied', { label: [] })).toEqual({});
  });
  test('triggers without a filter ignore stray input', async () => {
    expect(await subscribeWith('audit_created', { action: 'solar_pv' })).toEqual({});
  });
});

describe('filters are enforced again on every delivery', () => {
  const quote = fixtureBody('quote_request_created');
  test.each([
    ['solar_pv', 1],
    ['SOLAR_PV', 1],
    ['battery', 0],
    ['', 1],
    [['battery', 'SOLAR_PV'], 1],
    [['battery', 'ev_charger'], 0],
    ['battery,solar_pv', 1],
    [[], 1],
  ])('action filter %p yields %i items', async (action, expected) => {
    const items = await run(newTester(), 'quote_request_created', 'perform', deliveryBundle(quote, { inputData: { action } }));
    expect(items).toHaveLength(expected);
  });

  const label = fixtureBody('quote_request_label_applied');
  test.each([
    ['lbl_7Kp4Ts', 1],
    ['site visit BOOKED', 1],
    ['lbl_other', 0],
    ['Quote sent', 0],
    [['Quote sent', 'SITE VISIT BOOKED'], 1],
    [['lbl_other', 'lbl_7kp4ts'], 1],
    [['lbl_other', 'Quote sent'], 0],
    // Old single-value Zaps: text is one label, never split on its comma.
    ['Quote sent, site visit booked', 0],
    [[], 1],
  ])('label filter %p yields %i items', async (wanted, expected) => {
    const items = await run(newTester(), 'quote_request_label_applied', 'perform', deliveryBundle(label, { inputData: { label: wanted } }));
    expect(items).toHaveLength(expected);
  });

  test('a label whose name holds a comma matches as a whole, from a list or as text', async () => {
    const named = { ...label, label: 'Awaiting documents, phase 2', label_id: 'lbl_aw2' };
    for (const wanted of ['awaiting documents, phase 2', ['Quote sent', 'Awaiting documents, phase 2']]) {
      const items = await run(newTester(), 'quote_request_label_applied', 'perform', deliveryBundle(named, { inputData: { label: wanted } }));
      expect(items).toHaveLength(1);
    }
    const parts = await run(newTester(), 'quote_request_label_applied', 'perform', deliveryBundle(named, { inputData: { label: ['Awaiting documents', 'phase 2'] } }));
    expect(parts).toHaveLength(0);
  });

  /** The exact query string "Test trigger" sends for a label trigger. */
  const sampleQueryFor = async (wanted: unknown, samples: unknown[] = []) => {
    expectMe();
    let path = '';
    nock(API)
      .get((uri) => {
        path = uri;
        return uri.startsWith('/v1/notifications/samples?');
      })
      .reply(200, { data: samples });
    const items = await run(newTester(), 'quote_request_label_applied', 'performList', { inputData: { label: wanted }, meta: { isLoadingSample: true } });
    return { query: path.slice(path.indexOf('?') + 1), items };
  };

  test('performList sends several labels as the parameter repeated, never joined with commas', async () => {
    const { query } = await sampleQueryFor(['Site visit booked', 'Awaiting documents, phase 2']);
    expect(query).toBe('event=RequestQuote%3ALabel%3AApply&limit=3&label=Site%20visit%20booked&label=Awaiting%20documents%2C%20phase%202');
  });

  test('performList sends one label, even one with a comma, as one parameter', async () => {
    expect((await sampleQueryFor('Awaiting documents, phase 2')).query).toBe('event=RequestQuote%3ALabel%3AApply&limit=3&label=Awaiting%20documents%2C%20phase%202');
    expect((await sampleQueryFor(['lbl_7Kp4Ts'])).query).toBe('event=RequestQuote%3ALabel%3AApply&limit=3&label=lbl_7Kp4Ts');
    expect((await sampleQueryFor([])).query).toBe('event=RequestQuote%3ALabel%3AApply&limit=3');
  });

  test('performList keeps the samples that match any chosen label', async () => {
    const samples = [label, { ...label, event_id: 'evt_q', label_id: 'lbl_q', label: 'Quote sent' }, { ...label, event_id: 'evt_x', label_id: 'lbl_x', label: 'Lost' }];
    const { items } = await sampleQueryFor(['Quote sent', 'lbl_7Kp4Ts'], samples);
    expect(items.map((item) => item.label)).toEqual(['Site visit booked', 'Quote sent']);
  });

  test('performList applies the filter too, and passes it to the samples endpoint', async () => {
    expectMe();
    nock(API)
      .get('/notifications/samples')
      .query({ event: 'RequestQuote:Create', limit: '3', action: 'battery' })
      .reply(200, { data: [quote, { ...quote, event_id: 'evt_b', action: 'battery' }] });
    const items = await run(newTester(), 'quote_request_created', 'performList', {
      inputData: { action: 'battery' },
      meta: { isLoadingSample: true },
    });
    expect(items.map((item) => item.id)).toEqual(['evt_b']);
  });

  test('performList passes several products or services separated by commas, and keeps what matches any', async () => {
    expectMe();
    nock(API)
      .get('/notifications/samples')
      .query({ event: 'RequestQuote:Create', limit: '3', action: 'battery,ev_charger' })
      .reply(200, { data: [quote, { ...quote, event_id: 'evt_b', action: 'battery' }, { ...quote, event_id: 'evt_e', action: 'ev_charger' }] });
    const items = await run(newTester(), 'quote_request_created', 'performList', {
      inputData: { action: ['battery', 'ev_charger'] },
      meta: { isLoadingSample: true },
    });
    expect(items.map((item) => item.id)).toEqual(['evt_b', 'evt_e']);
  });
});

describe('dropdown feeds', () => {
  test('products and services come from GET /actions: the code is the value, the name is what the partner reads', async () => {
    nock(API)
      .get('/actions')
      .reply(200, { data: [{ code: 'solar_pv', name: 'Solar PV' }, { code: 'battery', name: 'Home Battery' }] });
    const choices = await run(newTester(), 'list_actions', 'perform');
    expect(choices).toEqual([
      { id: 'solar_pv', name: 'Solar PV' },
      { id: 'battery', name: 'Home Battery' },
    ]);
  });
  test('a product without a name reads as its known name or its code spelt out; names that clash show the code', async () => {
    nock(API)
      .get('/actions')
      .reply(200, { data: [{ code: 'ev_charger' }, { code: 'heat_pump_pool' }, { code: 'a1', name: 'Solar' }, { code: 'a2', name: ' solar ' }] });
    expect(await run(newTester(), 'list_actions', 'perform')).toEqual([
      { id: 'ev_charger', name: 'EV Charger' },
      { id: 'heat_pump_pool', name: 'Heat Pump Pool' },
      { id: 'a1', name: 'Solar (a1)' },
      { id: 'a2', name: 'solar (a2)' },
    ]);
  });
  test.each([
    ['list_audit_labels', 'audit'],
    ['list_quote_request_labels', 'quote_request'],
  ])('%s comes from GET /labels?type=%s', async (key, type) => {
    nock(API).get('/labels').query({ type }).reply(200, { data: [{ id: 'lbl_1', name: 'Report sent', type }] });
    expect(await run(newTester(), key, 'perform')).toEqual([{ id: 'lbl_1', name: 'Report sent' }]);
  });
  test('a dropdown failure is an error, not an empty list', async () => {
    nock(API).get('/actions').reply(503);
    await expect(run(newTester(), 'list_actions', 'perform')).rejects.toThrow(
      /Ecologic had a problem on its side while loading the list of products and services\. This step can be retried/,
    );
  });
  test('the filter fields are optional dynamic dropdowns fed by the hidden triggers', () => {
    const { app } = jest.requireActual('./helpers') as typeof import('./helpers');
    const fieldsOf = (key: string) => (app.triggers?.[key]?.operation as { inputFields?: unknown[] }).inputFields;
    expect(fieldsOf('quote_request_created')).toEqual([
      expect.objectContaining({ key: 'action', label: 'Product or Service', required: false, list: true, dynamic: 'list_actions.id.name' }),
    ]);
    expect(fieldsOf('audit_label_applied')).toEqual([
      expect.objectContaining({ key: 'label', label: 'Status Label', required: false, list: true, dynamic: 'list_audit_labels.id.name' }),
    ]);
    expect(fieldsOf('quote_request_label_applied')).toEqual([
      expect.objectContaining({ key: 'label', label: 'Status Label', required: false, list: true, dynamic: 'list_quote_request_labels.id.name' }),
    ]);
    for (const key of ['audit_label_applied', 'quote_request_label_applied']) {
      expect((fieldsOf(key) as Array<{ helpText: string }>)[0]!.helpText).toMatch(
        /^Only these status labels start the Zap, for example .*\. Choose one or more, or leave empty for every label\./,
      );
    }
    for (const key of ['audit_created', 'audit_simulated', 'audit_assigned']) expect(fieldsOf(key)).toEqual([]);
    for (const key of ['list_actions', 'list_audit_labels', 'list_quote_request_labels']) {
      expect(app.triggers?.[key]?.display.hidden).toBe(true);
    }
  });
});
