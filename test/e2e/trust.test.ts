/**
 * Deliveries that must not become Zap items: forged, tampered, stale, unsigned where a signature is
 * due, and replays; and a platform that does not sign at all.
 */
import { generateEventBody, newWebhookSecret } from '../../src/sandbox/fixtures';
import type { ZapState } from '../../src/sandbox/intake';
import { itemIds, type Loop, postToHook, secretOf, signedHeaders, startLoop, zapFor } from './loop';

function freshBody(): { id: string; body: string } {
  const body = generateEventBody('RequestQuote:Create', { data: { action: 'solar_pv' } });
  return { id: body.event_id, body: JSON.stringify(body) };
}

describe('signed platform: only genuine deliveries become items', () => {
  let loop: Loop;
  let zap: ZapState;
  let genuineId: string;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    // The app logs rejections through z.console; keep them out of the test output, and check them.
    for (const method of ['log', 'info', 'warn', 'error'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '));
      });
    }
    loop = await startLoop();
    zap = await zapFor(loop, 'RequestQuote:Create');
    genuineId = loop.sandbox.fire('RequestQuote:Create').event_ids[0]!;
    await loop.settle();
  });

  afterAll(async () => {
    await loop.close();
    jest.restoreAllMocks();
  });

  /** Posts to the hook, waits for the run, and returns how that run ended. */
  async function runOf(body: string, headers: Record<string, string>): Promise<string> {
    const before = zap.runs.length;
    expect(await postToHook(zap, body, headers)).toBe(200); // Zapier accepts first, checks later
    await loop.intake.settled();
    expect(zap.runs).toHaveLength(before + 1);
    return zap.runs[before]!.outcome;
  }

  test('the genuine delivery produced its item', () => {
    expect(itemIds(zap)).toEqual([genuineId]);
  });

  test('a delivery signed with another secret is halted', async () => {
    const { id, body } = freshBody();
    expect(await runOf(body, signedHeaders(newWebhookSecret(), id, body))).toBe('halted');
    expect(zap.runs.at(-1)?.reason).toMatch(/^HaltedError: /);
  });

  test('a genuine delivery with a tampered body is halted', async () => {
    const [genuine] = loop.intake.deliveries(zap.id);
    const tampered = genuine!.body.replace(/"first_name":"[^"]*"/, '"first_name":"Mallory"');
    expect(tampered).not.toBe(genuine!.body);
    const headers = {
      'webhook-id': genuine!.headers['webhook-id']!,
      'webhook-timestamp': genuine!.headers['webhook-timestamp']!,
      'webhook-signature': genuine!.headers['webhook-signature']!,
    };
    expect(await runOf(tampered, headers)).toBe('halted');
  });

  test('a correctly signed delivery whose id was swapped is halted', async () => {
    const [genuine] = loop.intake.deliveries(zap.id);
    const { id } = freshBody();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': genuine!.headers['webhook-timestamp']!,
      'webhook-signature': genuine!.headers['webhook-signature']!,
    };
    expect(await runOf(genuine!.body, headers)).toBe('halted');
  });

  test('a delivery without a signature is halted', async () => {
    const { id, body } = freshBody();
    const { 'webhook-signature': _dropped, ...headers } = signedHeaders(secretOf(zap), id, body);
    expect(await runOf(body, headers)).toBe('halted');
  });

  test('a delivery signed with the right secret two hours ago is halted', async () => {
    const { id, body } = freshBody();
    expect(await runOf(body, signedHeaders(secretOf(zap), id, body, new Date(Date.now() - 2 * 3600_000)))).toBe('halted');
  });

  test('a replay of the genuine delivery, byte for byte, produces no second item', async () => {
    const [genuine] = loop.intake.deliveries(zap.id);
    const headers = {
      'webhook-id': genuine!.headers['webhook-id']!,
      'webhook-timestamp': genuine!.headers['webhook-timestamp']!,
      'webhook-signature': genuine!.headers['webhook-signature']!,
    };
    expect(await runOf(genuine!.body, headers)).toBe('empty');
  });

  test('a delivery signed by the platform\'s secret during a rotation (two signatures) is accepted', async () => {
    const { id, body } = freshBody();
    const good = signedHeaders(secretOf(zap), id, body);
    const old = signedHeaders(newWebhookSecret(), id, body);
    const headers = { ...good, 'webhook-signature': `${old['webhook-signature']} ${good['webhook-signature']}` };
    expect(await runOf(body, headers)).toBe('items');
  });

  test('in the end only the genuine and the rotated deliveries became items', () => {
    expect(itemIds(zap)).toHaveLength(2);
    expect(zap.items[0]?.['id']).toBe(genuineId);
    expect(zap.runs.filter((r) => r.outcome === 'halted')).toHaveLength(5);
  });

  test('nothing logged or raised carried payload values, the secret or a signature', () => {
    const logged = [...consoleLines, ...zap.runs.map((r) => r.reason ?? '')].join('\n');
    expect(consoleLines.length).toBeGreaterThan(0); // the rejections were logged…
    const secrets = [secretOf(zap), ...loop.intake.deliveries(zap.id).map((d) => d.headers['webhook-signature'] ?? '')];
    const values = loop.intake
      .deliveries(zap.id)
      .flatMap((d) => {
        const b = JSON.parse(d.body) as Record<string, unknown>;
        return ['first_name', 'last_name', 'reply_email', 'reply_phone', 'street'].map((k) => String(b[k] ?? '').trim());
      })
      .filter((v) => v.length > 3);
    expect(values.length).toBeGreaterThan(0);
    for (const v of [...values, ...secrets].filter(Boolean)) expect(logged).not.toContain(v); // …without them
  });
});

describe('a platform that does not sign', () => {
  let loop: Loop;

  beforeAll(async () => {
    loop = await startLoop({ sandbox: { sign: false } });
  });

  afterAll(async () => {
    await loop.close();
  });

  test('subscriptions carry no secret, deliveries no signature, and events still become items once', async () => {
    const zap = await zapFor(loop, 'Audit:Create');
    expect(zap.subscribeData?.['secret']).toBeUndefined();
    const { event_ids } = loop.sandbox.fire('Audit:Create', { count: 3 });
    await loop.settle();
    expect([...itemIds(zap)].sort()).toEqual([...event_ids].sort());
    for (const d of loop.intake.deliveries(zap.id)) {
      expect(d.headers['webhook-signature']).toBeUndefined();
      expect(d.headers['webhook-id']).toMatch(/^evt_/);
    }
    // Retries of an unsigned delivery are still de-duplicated on webhook-id.
    expect(loop.sandbox.redeliver(String(zap.subscribeData?.['id']), event_ids[0]!)).toBe(true);
    await loop.settle();
    expect(itemIds(zap)).toHaveLength(3);
    expect(zap.runs.map((r) => r.outcome).sort()).toEqual(['empty', 'items', 'items', 'items']);
  });
});
