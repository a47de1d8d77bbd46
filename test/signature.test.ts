import { Webhook } from 'standardwebhooks';
import { SIGNATURE_WINDOW, verifyDelivery } from '../src/core/signature';
import { SECRET } from './helpers';

const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const body = JSON.stringify({ event_id: 'evt_1', event: 'RequestQuote:Create', first_name: 'Jack' });
const now = new Date('2026-11-27T05:00:00Z');
const seconds = (date: Date) => String(Math.floor(date.getTime() / 1000));

const signed = (secret: string, at: Date = now, id = 'evt_1', content = body) => ({
  webhookId: id,
  webhookTimestamp: seconds(at),
  webhookSignature: new Webhook(secret).sign(id, at, content),
  bodies: [content],
});

describe('accepts', () => {
  test('a delivery signed by the standardwebhooks package', () => {
    expect(verifyDelivery(SECRET, signed(SECRET), now)).toMatchObject({ ok: true });
  });
  test('key rotation: any one valid v1 entry among several', () => {
    const old = signed(OTHER_SECRET);
    const current = signed(SECRET);
    const delivery = { ...current, webhookSignature: `${old.webhookSignature} ${current.webhookSignature}` };
    expect(verifyDelivery(SECRET, delivery, now)).toMatchObject({ ok: true });
    expect(verifyDelivery(OTHER_SECRET, delivery, now)).toMatchObject({ ok: true });
  });
  test('unknown versions beside a valid v1 entry are ignored', () => {
    const delivery = signed(SECRET);
    expect(verifyDelivery(SECRET, { ...delivery, webhookSignature: `v1a,abcd ${delivery.webhookSignature}` }, now)).toMatchObject({ ok: true });
  });
  test('a delivery Zapier runs 50 minutes after it was signed (beyond the libraries\' five minutes)', () => {
    const at = new Date(now.getTime() - 50 * 60_000);
    expect(verifyDelivery(SECRET, signed(SECRET, at), now)).toMatchObject({ ok: true });
  });
  test('a re-serialised body when the raw one was altered in transit by whitespace', () => {
    const delivery = signed(SECRET);
    const reserialised = JSON.stringify(JSON.parse(body));
    // The candidate that verified is the one the caller must read the delivery from.
    expect(verifyDelivery(SECRET, { ...delivery, bodies: [`${body}\n`, reserialised] }, now)).toEqual({ ok: true, body: reserialised });
  });
});

describe('rejects, with a reason that carries no secret, signature or body', () => {
  const cases: Array<[string, ReturnType<typeof signed>, RegExp]> = [
    ['a tampered body', { ...signed(SECRET), bodies: [body.replace('Jack', 'Jill')] }, /signature did not match/],
    ['a signature made with another secret', signed(OTHER_SECRET), /signature did not match/],
    ['a signature for another webhook-id', { ...signed(SECRET), webhookId: 'evt_2' }, /signature did not match/],
    ['a missing webhook-id', { ...signed(SECRET), webhookId: '' }, /webhook-id header is missing/],
    ['a missing webhook-timestamp', { ...signed(SECRET), webhookTimestamp: undefined as unknown as string }, /webhook-timestamp header is missing/],
    ['a missing webhook-signature', { ...signed(SECRET), webhookSignature: '' }, /webhook-signature header is missing/],
    ['a timestamp that is not Unix time', { ...signed(SECRET), webhookTimestamp: '2026-11-27T05:00:00Z' }, /not a Unix time/],
    ['only unknown versions', { ...signed(SECRET), webhookSignature: 'v2,abc v1a,def' }, /no v1 signature/],
    ['a stale timestamp', signed(SECRET, new Date(now.getTime() - (SIGNATURE_WINDOW.pastSeconds + 60) * 1000)), /outside the 3600 s window/],
    ['a future timestamp', signed(SECRET, new Date(now.getTime() + 10 * 60_000)), /in the future/],
    ['a garbage signature', { ...signed(SECRET), webhookSignature: 'v1,!!!notbase64' }, /signature did not match/],
  ];
  test.each(cases)('%s', (_what, delivery, reason) => {
    const verdict = verifyDelivery(SECRET, delivery, now);
    expect(verdict.ok).toBe(false);
    const text = verdict.ok ? '' : verdict.reason;
    expect(text).toMatch(reason);
    expect(text).not.toContain(SECRET.slice(6));
    expect(text).not.toContain('Jack');
    if (delivery.webhookSignature) expect(text).not.toContain(delivery.webhookSignature.slice(3, 20));
  });

  test('the window\'s edges: exactly its age is accepted, one second more is not', () => {
    const edge = (seconds: number) => signed(SECRET, new Date(now.getTime() + seconds * 1000));
    expect(verifyDelivery(SECRET, edge(-SIGNATURE_WINDOW.pastSeconds), now).ok).toBe(true);
    expect(verifyDelivery(SECRET, edge(-SIGNATURE_WINDOW.pastSeconds - 1), now)).toMatchObject({ ok: false, reason: expect.stringMatching(/signed 3601 s ago/) });
    expect(verifyDelivery(SECRET, edge(SIGNATURE_WINDOW.futureSeconds), now).ok).toBe(true);
    expect(verifyDelivery(SECRET, edge(SIGNATURE_WINDOW.futureSeconds + 1), now)).toMatchObject({ ok: false, reason: expect.stringMatching(/is 301 s in the future/) });
  });

  test('an invalid subscription secret', () => {
    expect(verifyDelivery('whsec_%%%', signed(SECRET), now)).toEqual({ ok: false, reason: expect.stringMatching(/not a valid whsec_ secret|did not match/) });
  });
});

describe('interoperability with the standardwebhooks package', () => {
  test('it verifies what we accept: same scheme, same headers', () => {
    const at = new Date();
    const delivery = signed(SECRET, at);
    expect(verifyDelivery(SECRET, delivery, at)).toMatchObject({ ok: true });
    const headers = {
      'webhook-id': delivery.webhookId,
      'webhook-timestamp': delivery.webhookTimestamp,
      'webhook-signature': delivery.webhookSignature,
    };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
  });
  test('it rejects what we reject (tampering), though its tolerance is fixed at five minutes', () => {
    const at = new Date();
    const delivery = signed(SECRET, at);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': delivery.webhookTimestamp, 'webhook-signature': delivery.webhookSignature };
    expect(() => new Webhook(SECRET).verify(body.replace('Jack', 'Jill'), headers)).toThrow();
    expect(verifyDelivery(SECRET, { ...delivery, bodies: [body.replace('Jack', 'Jill')] }, at).ok).toBe(false);
  });
});

describe('known-answer vector from the Standard Webhooks specification', () => {
  // Published with the specification and used by its reference libraries' test suites; checked
  // independently: HMAC-SHA256 keyed by base64-decode("MfKQ…LaSw") over "msg_p5jX….1614265330.{payload}".
  // Fixed text, so it holds even if the standardwebhooks package (used by the app and by the
  // other tests here to sign) changed what it signs.
  const vector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: '1614265330',
    payload: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const at = new Date(Number(vector.timestamp) * 1000 + 10_000);
  const delivery = (changes: Partial<typeof vector> = {}) => {
    const v = { ...vector, ...changes };
    return { webhookId: v.id, webhookTimestamp: v.timestamp, webhookSignature: v.signature, bodies: [v.payload] };
  };
  /** The signature with one byte of its HMAC changed. */
  const flipped = (index: number): string => {
    const mac = Buffer.from(vector.signature.slice(3), 'base64');
    mac[index] = mac[index]! ^ 0x01;
    return `v1,${mac.toString('base64')}`;
  };

  test('verifyDelivery accepts it', () => {
    expect(verifyDelivery(vector.secret, delivery(), at).ok).toBe(true);
    // Beside another v1 entry (key rotation) it still verifies.
    expect(verifyDelivery(vector.secret, delivery({ signature: `v1,${Buffer.alloc(32).toString('base64')} ${vector.signature}` }), at).ok).toBe(true);
  });

  test.each([
    ['one byte of the payload is changed', delivery({ payload: '{"test": 2432232315}' })],
    ['one byte of the webhook-id is changed', delivery({ id: 'msg_p5jXN8AQM9LWM0D4loKWxJeK' })],
    ['the timestamp is one second later', delivery({ timestamp: '1614265331' })],
    ['the first byte of the signature is changed', delivery({ signature: flipped(0) })],
    ['the last byte of the signature is changed', delivery({ signature: flipped(31) })],
  ])('verifyDelivery rejects it when %s', (_what, changed) => {
    expect(verifyDelivery(vector.secret, changed, at).ok).toBe(false);
  });

  test('verifyDelivery rejects it under another secret', () => {
    expect(verifyDelivery(OTHER_SECRET, delivery(), at).ok).toBe(false);
  });
});
