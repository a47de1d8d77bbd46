// The sandbox console's history: fed by the sender's callbacks, bounded, and matching what the
// catch endpoint received to the attempt that sent it.
import { ConsoleHistory, MAX_CONSOLE_DELIVERIES, shortenHeaders, shortenSignature } from '../../src/sandbox/console/history';

const history = (max: { maxDeliveries?: number; maxEvents?: number; maxCaught?: number } = {}) => {
  let now = 1_700_000_000_000;
  const h = new ConsoleHistory({ ...max, eventName: () => 'Audit:Create', uriOf: () => 'http://127.0.0.1:1/hook', now: () => now });
  return { h, tick: (ms: number) => (now += ms) };
};

const sent = (deliveryId: string, attempt: number, signature = 'v1,c2lnbmF0dXJlLW9uZQ==') => ({
  deliveryId,
  subscriptionId: 'ntf_1',
  eventId: 'evt_1',
  attempt,
  url: 'http://127.0.0.1:1/hook',
  headers: { 'webhook-id': 'evt_1', 'webhook-timestamp': '1700000000', 'webhook-signature': signature },
  body: '{}',
});

test('keeps the latest deliveries, events and caught requests only', () => {
  const { h } = history({ maxDeliveries: 3, maxEvents: 2, maxCaught: 2 });
  for (let i = 1; i <= 5; i++) {
    h.recordFire(`evt_${i}`, 'Audit:Create');
    h.recordQueued(`dlv_${i}`, 'ntf_1', `evt_${i}`);
    h.recordCaught({ id: `evt_${i}`, timestamp: '1', signature: 'v1,x' }, { ok: false, reason: 'the signature did not match' });
  }
  expect(h.allDeliveries().map((d) => d.id)).toEqual(['dlv_3', 'dlv_4', 'dlv_5']);
  expect(h.allEvents().map((e) => e.eventId)).toEqual(['evt_4', 'evt_5']);
  expect(h.caught().map((c) => c.webhookId)).toEqual(['evt_4', 'evt_5']);
  expect(MAX_CONSOLE_DELIVERIES).toBe(500);
});

test('an evicted delivery leaves its event and forgets its attempt in flight', () => {
  const { h } = history({ maxDeliveries: 1 });
  h.recordFire('evt_1', 'Audit:Create');
  h.recordSend(sent('dlv_1', 1));
  h.recordSend({ ...sent('dlv_2', 1), eventId: 'evt_2' });
  expect(h.allEvents()[0]!.deliveries).toEqual([]);
  expect(h.size.inFlight).toBe(1);
});

test('an attempt gets its latency, next retry and end from the sender, and its check from the catch endpoint', () => {
  const { h, tick } = history();
  const changes: string[] = [];
  h.subscribe((c) => changes.push(c.kind));
  h.recordFire('evt_1', 'Audit:Create');
  h.recordQueued('dlv_1', 'ntf_1', 'evt_1');
  h.recordSend(sent('dlv_1', 1));
  tick(40);
  h.recordAttempt({ deliveryId: 'dlv_1', eventId: 'evt_1', subscriptionId: 'ntf_1', attempt: 1, outcome: 'server_error', status: 500, retryInMs: 2000 });
  let d = h.delivery('dlv_1')!;
  expect(d.state).toBe('retrying');
  expect(d.attempts[0]).toMatchObject({ attempt: 1, status: 500, latencyMs: 40, retryAt: new Date(1_700_000_000_040 + 2000).toISOString() });
  h.recordSend(sent('dlv_1', 2, 'v1,b3RoZXItc2lnbmF0dXJl'));
  const caught = h.recordCaught({ id: 'evt_1', timestamp: '1700000000', signature: 'v1,b3RoZXItc2lnbmF0dXJl' }, { ok: true });
  h.recordAttempt({ deliveryId: 'dlv_1', eventId: 'evt_1', subscriptionId: 'ntf_1', attempt: 2, outcome: 'success', status: 204, result: 'delivered' });
  d = h.delivery('dlv_1')!;
  expect(caught).toMatchObject({ deliveryId: 'dlv_1', attempt: 2 });
  expect(d.attempts.map((a) => a.verification)).toEqual([undefined, { ok: true }]);
  expect(d.state).toBe('delivered');
  expect(h.allEvents()[0]!.deliveries).toEqual(['dlv_1']);
  expect(changes).toEqual(['event', 'delivery', 'delivery', 'delivery', 'delivery', 'delivery', 'caught', 'delivery']);
});

test('two sends with the same headers (the same second) are each matched once', () => {
  const { h } = history();
  h.recordSend(sent('dlv_1', 1));
  h.recordSend(sent('dlv_2', 1));
  const headers = { id: 'evt_1', timestamp: '1700000000', signature: 'v1,c2lnbmF0dXJlLW9uZQ==' };
  expect(h.recordCaught(headers, { ok: true }).deliveryId).toBe('dlv_1');
  expect(h.recordCaught(headers, { ok: true }).deliveryId).toBe('dlv_2');
});

test('the page sees a signature shortened to its first 8 characters', () => {
  expect(shortenSignature('v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=')).toBe('v1,K5oZfzN9…');
  expect(shortenSignature('v1,aaaaaaaaaaaa v1,bbbbbbbbbbbb')).toBe('v1,aaaaaaaa… v1,bbbbbbbb…');
  expect(shortenHeaders({ 'webhook-id': 'evt_1', 'webhook-signature': 'v1,abcdefghijkl' })).toEqual({ 'webhook-id': 'evt_1', 'webhook-signature': 'v1,abcdefgh…' });
});
