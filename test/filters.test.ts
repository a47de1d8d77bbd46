import nock from 'nock';
import { API, deliveryBundle, fixtureBody, newTester, run, TARGET_URL, useNock } from './helpers';

useNock();

const subscribeWith = async (triggerKey: string, inputData: Record<string, unknown>) => {
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
  ])('label filter %p yields %i items', async (wanted, expected) => {
    const items = await run(newTester(), 'quote_request_label_applied', 'perform', deliveryBundle(label, { inputData: { label: wanted } }));
    expect(items).toHaveLength(expected);
  });

  test('performList applies the filter too, and passes it to the samples endpoint', async () => {
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
});

describe('dropdown feeds', () => {
  test('actions come from GET /actions with the code as the value', async () => {
    nock(API)
      .get('/actions')
      .reply(200, { data: [{ code: 'solar_pv', name: 'Solar PV' }, { code: 'battery', name: 'Home Battery' }] });
    const choices = await run(newTester(), 'list_actions', 'perform');
    expect(choices).toEqual([
      { id: 'solar_pv', name: 'Solar PV (solar_pv)' },
      { id: 'battery', name: 'Home Battery (battery)' },
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
    await expect(run(newTester(), 'list_actions', 'perform')).rejects.toThrow(/Ecologic is unavailable \(503\) for GET \/actions/);
  });
  test('the filter fields are optional dynamic dropdowns fed by the hidden triggers', () => {
    const { app } = jest.requireActual('./helpers') as typeof import('./helpers');
    const fieldsOf = (key: string) => (app.triggers?.[key]?.operation as { inputFields?: unknown[] }).inputFields;
    expect(fieldsOf('quote_request_created')).toEqual([expect.objectContaining({ key: 'action', required: false, dynamic: 'list_actions.id.name' })]);
    expect(fieldsOf('audit_label_applied')).toEqual([expect.objectContaining({ key: 'label', dynamic: 'list_audit_labels.id.name' })]);
    expect(fieldsOf('quote_request_label_applied')).toEqual([
      expect.objectContaining({ key: 'label', dynamic: 'list_quote_request_labels.id.name' }),
    ]);
    for (const key of ['audit_created', 'audit_simulated', 'audit_assigned']) expect(fieldsOf(key)).toEqual([]);
    for (const key of ['list_actions', 'list_audit_labels', 'list_quote_request_labels']) {
      expect(app.triggers?.[key]?.display.hidden).toBe(true);
    }
  });
});
