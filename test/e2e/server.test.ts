/**
 * The sandbox API against docs/ecologic-api.md section 2, over real HTTP on 127.0.0.1: auth, the
 * error shape, validation, idempotent subscribe, delete, samples, actions, labels, firing events,
 * action filters of several codes.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ACTIONS, LABELS } from '../../src/sandbox/fixtures';
import { PRODUCTION_SCHEDULE } from '../../src/sandbox/sender';
import { DEMO_API_KEY, DEMO_READONLY_API_KEY, type SandboxServer } from '../../src/sandbox/server';
import { ANY_REQUEST, NOT_DRIVEN, SANDBOX_STATUSES } from '../sandbox/statuses';
import { startWatchedSandbox } from './contract-watch';

let sandbox: SandboxServer;
const HOOK = 'http://127.0.0.1:9/hooks/standard/123/abc/';

// A sandbox of its own for every test, so that none depends on what another subscribed, deleted or
// fired, whatever the order.
beforeEach(async () => {
  // Deliveries to HOOK are refused (nothing listens on port 9); make them give up at once. The
  // timeout is production's: a delivery to a receiver that answers must not time out on a busy
  // machine, since it has no second attempt.
  sandbox = await startWatchedSandbox({ delivery: { maxAttempts: 1, timeoutMs: PRODUCTION_SCHEDULE.timeoutMs }, seed: 42 });
});

afterEach(async () => {
  await sandbox.close();
});

async function call(
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; raw?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = options.key === undefined ? DEMO_API_KEY : options.key;
  if (key !== null) headers['Authorization'] = `Bearer ${key}`;
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${sandbox.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const subscribe = (body: Record<string, unknown>, key?: string) =>
  call('POST', '/v1/notifications', { body: { type: 'webhook', filters: {}, ...body }, ...(key ? { key } : {}) });

function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('authentication', () => {
  test('GET /me names the organisation of the key', async () => {
    const res = await call('GET', '/v1/me');
    expect(res).toEqual({
      status: 200,
      body: { organisation_id: 'org_7Qm2Lx', organisation_name: 'Sunrise Solar Pty Ltd', email: 'integrations@sunrise-solar.example', time_zone: 'Australia/Melbourne' },
    });
  });

  test.each([
    ['no key', null],
    ['an unknown key', 'eco_live_nope'],
  ])('%s is 401 on every endpoint', async (_name, key) => {
    for (const [method, path] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/notifications'],
      ['POST', '/v1/notifications'],
      ['DELETE', '/v1/notifications/ntf_x'],
      ['GET', '/v1/notifications/samples?event=Audit:Create'],
      ['GET', '/v1/actions'],
      ['GET', '/v1/labels?type=audit'],
    ] as const) {
      expectError(await call(method, path, { key }), 401, 'unauthorized');
    }
  });

  test('a read-only key reads but may not subscribe or unsubscribe (403)', async () => {
    expect((await call('GET', '/v1/me', { key: DEMO_READONLY_API_KEY })).status).toBe(200);
    expectError(await subscribe({ event: 'Audit:Create', uri: HOOK }, DEMO_READONLY_API_KEY), 403, 'forbidden');
    expectError(await call('DELETE', '/v1/notifications/ntf_x', { key: DEMO_READONLY_API_KEY }), 403, 'forbidden');
  });
});

describe('POST /notifications validation', () => {
  const invalid: Array<[string, { raw?: string; body?: unknown }, string]> = [
    ['not JSON', { raw: '{nope' }, 'invalid_json'],
    ['an array', { body: [] }, 'invalid_request'],
    ['no type', { body: { event: 'Audit:Create', uri: HOOK, filters: {} } }, 'invalid_request'],
    ['type email', { body: { type: 'email', event: 'Audit:Create', uri: HOOK, filters: {} } }, 'invalid_request'],
    ['no event', { body: { type: 'webhook', uri: HOOK, filters: {} } }, 'invalid_event'],
    ['a misspelt event', { body: { type: 'webhook', event: 'audit:create', uri: HOOK, filters: {} } }, 'invalid_event'],
    ['no uri', { body: { type: 'webhook', event: 'Audit:Create', filters: {} } }, 'invalid_uri'],
    ['a relative uri', { body: { type: 'webhook', event: 'Audit:Create', uri: '/hooks/1', filters: {} } }, 'invalid_uri'],
    ['plain http off loopback', { body: { type: 'webhook', event: 'Audit:Create', uri: 'http://hooks.example.com/1', filters: {} } }, 'invalid_uri'],
    ['ftp', { body: { type: 'webhook', event: 'Audit:Create', uri: 'ftp://127.0.0.1/1', filters: {} } }, 'invalid_uri'],
    ['credentials in the uri', { body: { type: 'webhook', event: 'Audit:Create', uri: 'https://u:p@hooks.example.com/1', filters: {} } }, 'invalid_uri'],
    ['no filters', { body: { type: 'webhook', event: 'Audit:Create', uri: HOOK } }, 'invalid_filter'],
    ['filters as a string', { body: { type: 'webhook', event: 'Audit:Create', uri: HOOK, filters: 'solar_pv' } }, 'invalid_filter'],
    ['an unknown filter key', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { state: 'NSW' } } }, 'invalid_filter'],
    ['action on an audit event', { body: { type: 'webhook', event: 'Audit:Create', uri: HOOK, filters: { action: 'solar_pv' } } }, 'invalid_filter'],
    ['label on New Quote Request', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { label: 'Won' } } }, 'invalid_filter'],
    ['an unknown action', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: 'wind' } } }, 'invalid_filter'],
    ['an empty action', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: '' } } }, 'invalid_filter'],
    ['a quote label on an audit event', { body: { type: 'webhook', event: 'Audit:Label:Apply', uri: HOOK, filters: { label: 'Quote sent' } } }, 'invalid_filter'],
    ['an empty action list', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: [] } } }, 'invalid_filter'],
    [
      '21 action codes',
      { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: Array.from({ length: 21 }, () => 'solar_pv') } } },
      'invalid_filter',
    ],
    ['an unknown code in an action list', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: ['solar_pv', 'wind'] } } }, 'invalid_filter'],
    ['a number in an action list', { body: { type: 'webhook', event: 'RequestQuote:Create', uri: HOOK, filters: { action: ['solar_pv', 3] } } }, 'invalid_filter'],
    ['an action list on an audit event', { body: { type: 'webhook', event: 'Audit:Create', uri: HOOK, filters: { action: ['solar_pv'] } } }, 'invalid_filter'],
    ['an empty label list', { body: { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: HOOK, filters: { label: [] } } }, 'invalid_filter'],
    ['an unknown label in a label list', { body: { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: HOOK, filters: { label: ['Won', 'Paid in full'] } } }, 'invalid_filter'],
    ['an audit label in a quote label list', { body: { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: HOOK, filters: { label: ['Won', 'Report sent'] } } }, 'invalid_filter'],
    ['a number in a label list', { body: { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: HOOK, filters: { label: ['Won', 4] } } }, 'invalid_filter'],
    [
      '21 labels',
      { body: { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: HOOK, filters: { label: Array.from({ length: 21 }, () => 'Won') } } },
      'invalid_filter',
    ],
  ];
  test.each(invalid)('%s is a 400', async (_name, request, code) => {
    expectError(await call('POST', '/v1/notifications', request), 400, code);
  });

  test('nothing was subscribed by the rejected requests', async () => {
    for (const [, request] of invalid) expect((await call('POST', '/v1/notifications', request)).status).toBe(400);
    expect((await call('GET', '/v1/notifications')).body).toEqual({ data: [] });
  });
});

describe('subscriptions', () => {
  const subscribeTwo = async (): Promise<string[]> => {
    const first = await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters: { action: 'solar_pv' } });
    const second = await subscribe({ event: 'Audit:Create', uri: HOOK });
    expect([first.status, second.status]).toEqual([201, 201]);
    return [first.body.id, second.body.id];
  };

  test('subscribe returns 201 with a secret; the same event and uri again returns 200 and the same subscription', async () => {
    const first = await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters: { action: 'solar_pv' } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: expect.stringMatching(/^ntf_/),
      type: 'webhook',
      event: 'RequestQuote:Create',
      uri: HOOK,
      filters: { action: 'solar_pv' },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(Buffer.from(first.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
    const again = await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters: { action: 'solar_pv' } });
    expect(again).toEqual({ status: 200, body: first.body });
    const other = await subscribe({ event: 'Audit:Create', uri: HOOK });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.body.secret).not.toBe(first.body.secret);
  });

  test('GET /notifications lists them without secrets', async () => {
    const ids = await subscribeTwo();
    const { status, body } = await call('GET', '/v1/notifications');
    expect(status).toBe(200);
    expect(body.data.map((s: { id: string }) => s.id).sort()).toEqual([...ids].sort());
    for (const s of body.data) expect(s).not.toHaveProperty('secret');
  });

  test('DELETE is 204, then 410 for the same id; an id never issued is 404', async () => {
    const [id, other] = await subscribeTwo();
    const res = await call('DELETE', `/v1/notifications/${id}`);
    expect(res).toEqual({ status: 204, body: undefined });
    expectError(await call('DELETE', `/v1/notifications/${id}`), 410, 'gone');
    expectError(await call('DELETE', '/v1/notifications/ntf_never'), 404, 'not_found');
    expect((await call('GET', '/v1/notifications')).body.data.map((s: { id: string }) => s.id)).toEqual([other]);
  });

  test('an action filter may be a list of codes: 201, echoed as sent, listed the same; again is 200', async () => {
    const filters = { action: ['solar_pv', ' BATTERY '] };
    const first = await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ event: 'RequestQuote:Create', filters: { action: ['solar_pv', ' BATTERY '] } });
    const twenty = Array.from({ length: 20 }, (_, i) => ACTIONS[i % ACTIONS.length]!.code);
    const other = await subscribe({ event: 'RequestQuote:Create', uri: `${HOOK}20`, filters: { action: twenty } });
    expect(other).toMatchObject({ status: 201, body: { filters: { action: twenty } } });
    const one = await subscribe({ event: 'RequestQuote:Create', uri: `${HOOK}one`, filters: { action: ['ev_charger'] } });
    expect(one.body.filters).toEqual({ action: ['ev_charger'] }); // a list of one stays a list
    const listed = (await call('GET', '/v1/notifications')).body.data.find((s: { id: string }) => s.id === first.body.id);
    expect(listed.filters).toEqual(filters);
    expect(await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters })).toEqual({ status: 200, body: first.body });
  });

  test('a subscription without signing has no secret', async () => {
    const unsigned = await startWatchedSandbox({ sign: false });
    try {
      const res = await fetch(`${unsigned.apiBaseUrl}/notifications`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${DEMO_API_KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'webhook', event: 'Audit:Create', uri: HOOK, filters: {} }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).not.toHaveProperty('secret');
    } finally {
      await unsigned.close();
    }
  });
});

describe('samples, actions and labels', () => {
  test('samples are delivery bodies of that event, newest first, limited', async () => {
    const res = await call('GET', '/v1/notifications/samples?event=Audit:Simulate&limit=2');
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(2);
    for (const s of res.body.data) {
      expect(s).toMatchObject({ event_id: expect.stringMatching(/^evt_/), event: 'Audit:Simulate', audit_id: expect.stringMatching(/^aud_/) });
    }
    expect(res.body.data[0].occurred_at >= res.body.data[1].occurred_at).toBe(true);
  });

  test('a fired event becomes the newest sample; filters apply to samples', async () => {
    const fired = await fetch(`${sandbox.url}/sandbox/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${DEMO_API_KEY}` },
      body: JSON.stringify({ event: 'RequestQuote:Label:Apply', data: { label: 'won' }, count: 2 }),
    });
    expect(fired.status).toBe(202);
    const { event_ids } = (await fired.json()) as { event_ids: string[] };
    expect(event_ids).toHaveLength(2);
    const newest = await call('GET', '/v1/notifications/samples?event=RequestQuote:Label:Apply&limit=1');
    expect(event_ids).toContain(newest.body.data[0].event_id);
    const byName = await call('GET', '/v1/notifications/samples?event=RequestQuote:Label:Apply&label=WON&limit=100');
    const byId = await call('GET', '/v1/notifications/samples?event=RequestQuote:Label:Apply&label=lbl_9xw3&limit=100');
    expect(byName.body.data.length).toBeGreaterThanOrEqual(2);
    expect(byId.body).toEqual(byName.body);
    for (const s of byName.body.data) expect(s).toMatchObject({ label_id: 'lbl_9xw3', label: 'Won' });
    const solar = await call('GET', '/v1/notifications/samples?event=RequestQuote:Create&action=solar_pv');
    expect(solar.body.data.length).toBeGreaterThan(0);
    for (const s of solar.body.data) expect(s.action).toBe('solar_pv');
  });

  test.each([
    ['no event', '', 'invalid_event'],
    ['an unknown event', 'event=Audit:Delete', 'invalid_event'],
    ['limit 0', 'event=Audit:Create&limit=0', 'invalid_request'],
    ['limit 101', 'event=Audit:Create&limit=101', 'invalid_request'],
    ['limit 1.5', 'event=Audit:Create&limit=1.5', 'invalid_request'],
    ['limit abc', 'event=Audit:Create&limit=abc', 'invalid_request'],
    ['a filter that does not apply', 'event=Audit:Create&action=solar_pv', 'invalid_filter'],
    ['an unknown code among several', 'event=RequestQuote:Create&action=solar_pv,wind', 'invalid_filter'],
    ['an empty code among several', 'event=RequestQuote:Create&action=solar_pv,', 'invalid_filter'],
    ['an empty action', 'event=RequestQuote:Create&action=', 'invalid_filter'],
    ['21 codes', `event=RequestQuote:Create&action=${Array.from({ length: 21 }, () => 'battery').join(',')}`, 'invalid_filter'],
    ['21 codes, repeated', `event=RequestQuote:Create&${Array.from({ length: 21 }, () => 'action=battery').join('&')}`, 'invalid_filter'],
  ])('samples with %s is a 400', async (_name, query, code) => {
    expectError(await call('GET', `/v1/notifications/samples?${query}`), 400, code);
  });

  test('samples with several action codes (action=a,b, or action= repeated) are the events of any of them', async () => {
    for (const action of ['solar_pv', 'battery', 'ev_charger', 'Battery']) sandbox.fire('RequestQuote:Create', { data: { action } });
    // `Battery` was fired as typed: it matches without regard to case.
    const actionsOf = (res: { body: any }) => (res.body.data as Array<{ action: string }>).map((s) => s.action.toLowerCase());
    const listed = await call('GET', '/v1/notifications/samples?event=RequestQuote:Create&action=solar_pv,BATTERY&limit=100');
    expect(listed.status).toBe(200);
    expect(new Set(actionsOf(listed))).toEqual(new Set(['solar_pv', 'battery']));
    expect(actionsOf(listed).length).toBeGreaterThanOrEqual(5); // a seed of each, and three fired
    const spaced = await call('GET', `/v1/notifications/samples?event=RequestQuote:Create&action=${encodeURIComponent(' solar_pv , battery ')}&limit=100`);
    expect(spaced.body).toEqual(listed.body);
    const repeated = await call('GET', '/v1/notifications/samples?event=RequestQuote:Create&action=solar_pv&action=battery&limit=100');
    expect(repeated.body).toEqual(listed.body);
    const all = await call('GET', '/v1/notifications/samples?event=RequestQuote:Create&limit=100');
    expect(listed.body.data).toEqual(all.body.data.filter((s: { action: string }) => ['solar_pv', 'battery'].includes(s.action.toLowerCase())));
    expect(actionsOf(listed)).toContain('battery');
    expect(listed.body.data.some((s: { action: string }) => s.action === 'Battery')).toBe(true);
  });

  test('GET /actions and GET /labels?type=', async () => {
    expect((await call('GET', '/v1/actions')).body).toEqual({ data: ACTIONS.map((a) => ({ ...a })) });
    const audit = await call('GET', '/v1/labels?type=audit');
    expect(audit.body.data).toEqual(LABELS.filter((l) => l.type === 'audit').map((l) => ({ ...l })));
    expectError(await call('GET', '/v1/labels'), 400, 'invalid_request');
    expectError(await call('GET', '/v1/labels?type=user'), 400, 'invalid_request');
  });
});

describe('delivery with an action list', () => {
  let receiver: http.Server;
  let receiverUrl: string;
  const received: Array<{ path: string; event_id: string; action: string }> = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event_id: string; action: string };
        received.push({ path: req.url ?? '', event_id: body.event_id, action: body.action });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('an event is delivered to the subscriptions whose list holds its action, and to no other', async () => {
    received.length = 0;
    const subs = {
      list: { action: ['solar_pv', 'Battery'] },
      one: { action: 'ev_charger' },
      none: {},
    };
    for (const [name, filters] of Object.entries(subs)) {
      expect((await subscribe({ event: 'RequestQuote:Create', uri: `${receiverUrl}/${name}`, filters })).status).toBe(201);
    }
    const fire = (action: string) => sandbox.fire('RequestQuote:Create', { data: { action } });
    const battery = fire('battery');
    const heatPump = fire('heat_pump_hot_water');
    expect(battery.deliveries).toBe(2); // list and none
    expect(heatPump.deliveries).toBe(1); // none only
    await sandbox.settled(10_000);
    const to = (path: string) => received.filter((r) => r.path === path).map((r) => r.event_id);
    expect(to('/list')).toEqual([battery.event_ids[0]]);
    expect(to('/one')).toEqual([]);
    expect(to('/none').sort()).toEqual([battery.event_ids[0], heatPump.event_ids[0]].sort());
    expect(sandbox.stats()).toMatchObject({ delivered: 3 });
  });
});

describe('the rest', () => {
  test('unknown paths are 404 and wrong methods 405, in the error shape', async () => {
    expectError(await call('GET', '/v1/nothing'), 404, 'not_found');
    expectError(await call('GET', '/v2/me'), 404, 'not_found');
    const res = await call('PUT', '/v1/me');
    expectError(res, 405, 'method_not_allowed');
  });

  test('POST /sandbox/events validates its input', async () => {
    for (const body of [{}, { event: 'Nope' }, { event: 'Audit:Create', count: 0 }, { event: 'Audit:Create', count: 1001 }, { event: 'Audit:Create', data: [] }]) {
      expect((await call('POST', '/sandbox/events', { body })).status).toBe(400);
    }
    expect(sandbox.stats().storedEvents).toBe(18); // the seeds only
  });

  test('error messages never echo what was sent', async () => {
    const res = await subscribe({ event: 'RequestQuote:Create', uri: HOOK, filters: { action: 'olivia.nguyen@example.com' } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('olivia');
  });
});

describe('every status the sandbox can answer (test/sandbox/statuses.ts), driven, each response checked against the document', () => {
  /** A raw request, for what fetch will not send (a huge header, a body that is not JSON). */
  const raw = (target: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL(sandbox.url);
      const req = http.request({ host: url.hostname, port: url.port, method: init.method ?? 'GET', path: target, headers: init.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(init.body);
    });
  const AUTH = { Authorization: `Bearer ${DEMO_API_KEY}` };
  const JSON_AUTH = { ...AUTH, 'Content-Type': 'application/json' };
  const sub = (uri = HOOK) => ({ type: 'webhook', event: 'Audit:Create', uri, filters: {} });

  test('each (operation, status) of the table, and each status of any request', async () => {
    const seen = new Map<string, Set<number>>();
    const saw = (key: string, status: number): void => void (seen.get(key) ?? seen.set(key, new Set()).get(key)!).add(status);
    const at = async (key: string, res: Promise<{ status: number }> | Promise<number>): Promise<void> => {
      const got = await res;
      saw(key, typeof got === 'number' ? got : got.status);
    };

    await at('GET /me', call('GET', '/v1/me'));
    await at('GET /me', call('GET', '/v1/me', { key: null }));
    await at('GET /notifications', call('GET', '/v1/notifications'));
    await at('GET /notifications', call('GET', '/v1/notifications', { key: null }));
    await at('POST /notifications', subscribe({ event: 'Audit:Create', uri: HOOK }));
    await at('POST /notifications', subscribe({ event: 'Audit:Create', uri: HOOK }));
    await at('POST /notifications', subscribe({ event: 'Audit:Delete', uri: HOOK }));
    await at('POST /notifications', subscribe({ event: 'Audit:Create', uri: HOOK }, 'eco_live_nope'));
    await at('POST /notifications', subscribe({ event: 'Audit:Create', uri: HOOK }, DEMO_READONLY_API_KEY));
    await at('POST /notifications', raw('/v1/notifications', { method: 'POST', headers: JSON_AUTH, body: ' '.repeat(1024 * 1024 + 1) }));
    await at('POST /notifications', raw('/v1/notifications', { method: 'POST', headers: { ...AUTH, 'Content-Type': 'text/plain' }, body: JSON.stringify(sub()) }));
    const full = await startWatchedSandbox({ maxSubscriptions: 1 });
    try {
      const post = (uri: string) =>
        fetch(`${full.apiBaseUrl}/notifications`, { method: 'POST', headers: JSON_AUTH, body: JSON.stringify(sub(uri)) }).then((r) => r.status);
      expect(await post(HOOK)).toBe(201);
      await at('POST /notifications', post(`${HOOK}2`));
    } finally {
      await full.close();
    }
    const created = await subscribe({ event: 'Audit:Assign', uri: HOOK });
    await at('DELETE /notifications/{id}', call('DELETE', `/v1/notifications/${created.body.id}`));
    await at('DELETE /notifications/{id}', call('DELETE', `/v1/notifications/${created.body.id}`));
    await at('DELETE /notifications/{id}', call('DELETE', '/v1/notifications/ntf_never'));
    await at('DELETE /notifications/{id}', call('DELETE', '/v1/notifications/%E0%A4%A'));
    await at('DELETE /notifications/{id}', call('DELETE', '/v1/notifications/ntf_x', { key: null }));
    await at('DELETE /notifications/{id}', call('DELETE', '/v1/notifications/ntf_x', { key: DEMO_READONLY_API_KEY }));
    await at('GET /notifications/samples', call('GET', '/v1/notifications/samples?event=Audit:Create'));
    await at('GET /notifications/samples', call('GET', '/v1/notifications/samples?event=Audit:Delete'));
    await at('GET /notifications/samples', call('GET', '/v1/notifications/samples?event=Audit:Create', { key: null }));
    await at('GET /actions', call('GET', '/v1/actions'));
    await at('GET /actions', call('GET', '/v1/actions', { key: null }));
    await at('GET /labels', call('GET', '/v1/labels?type=audit'));
    await at('GET /labels', call('GET', '/v1/labels'));
    await at('GET /labels', call('GET', '/v1/labels?type=audit', { key: null }));
    const fire = (body: unknown, headers: Record<string, string> = JSON_AUTH) => raw('/v1/sandbox/events', { method: 'POST', headers, body: JSON.stringify(body) });
    await at('POST /sandbox/events', fire({ event: 'Audit:Create' }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Delete' }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Create' }, { 'Content-Type': 'application/json' }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Create' }, { 'Content-Type': 'application/json', Authorization: `Bearer ${DEMO_READONLY_API_KEY}` }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Create', data: { event_id: 'evt_once' }, count: 2 }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Create', data: { comments: 'x'.repeat(70 * 1024) } }));
    await at('POST /sandbox/events', fire({ event: 'Audit:Create' }, { ...AUTH, 'Content-Type': 'text/plain' }));
    const busy = await startWatchedSandbox({ maxPendingDeliveries: 0, delivery: { maxAttempts: 1, timeoutMs: PRODUCTION_SCHEDULE.timeoutMs } });
    try {
      await fetch(`${busy.apiBaseUrl}/notifications`, { method: 'POST', headers: JSON_AUTH, body: JSON.stringify(sub()) });
      await at('POST /sandbox/events', fetch(`${busy.url}/sandbox/events`, { method: 'POST', headers: JSON_AUTH, body: JSON.stringify({ event: 'Audit:Create' }) }));
    } finally {
      await busy.close();
    }
    await at('GET /sandbox/stats', call('GET', '/sandbox/stats', { key: null }));

    await at('any', call('GET', '/v1/nothing'));
    await at('any', call('PUT', '/v1/me'));
    await at('any', raw('/v1/me%zz'));
    await at('any', raw(`/v1/${'a'.repeat(9000)}`));
    await at('any', raw('/v1/me', { headers: { 'X-Big': 'x'.repeat(20_000) } }));

    const expected = new Map<string, Set<number>>(Object.entries(SANDBOX_STATUSES).map(([k, v]) => [k, new Set(v)]));
    expected.set('any', new Set(ANY_REQUEST.filter((s) => !(s in NOT_DRIVEN))));
    expect(Object.fromEntries([...seen].map(([k, v]) => [k, [...v].sort()]))).toEqual(
      Object.fromEntries([...expected].map(([k, v]) => [k, [...v].sort()])),
    );
  });

  test('an id of `.` or `..`, however encoded, names no subscription: 404, never the collection or its parent', async () => {
    await subscribe({ event: 'Audit:Create', uri: HOOK });
    // Sent as written: fetch (a WHATWG URL) would resolve them before sending.
    for (const id of ['%2E', '%2e', '%2E%2E', '.%2E', '%2e.', '.', '..', '%2E/']) {
      expect([id, await raw(`/v1/notifications/${id}`, { method: 'DELETE', headers: AUTH })]).toEqual([id, 404]);
    }
    expect((await call('GET', '/v1/notifications')).body.data).toHaveLength(1);
    // The other methods of an id path are still 405.
    expect(await raw('/v1/notifications/%2E', { method: 'GET', headers: AUTH })).toBe(405);
  });

  test('the API base itself is not a resource (404); the index stays at the root', async () => {
    expectError(await call('GET', '/v1'), 404, 'not_found');
    expect((await call('GET', '/')).status).toBe(200);
  });
});
