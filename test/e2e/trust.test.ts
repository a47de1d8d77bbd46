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
  let consoleLines: string[];

  // Every test starts from a loop of its own: one Zap and one genuine delivery, already its item.
  beforeEach(async () => {
    // The app logs rejections through z.console; keep them out of the test output, and check them.
    consoleLines = [];
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

  afterEach(async () => {
    await loop.close();
    jest.restoreAllMocks();
  });

  /** Posts to the hook, waits for the run, and returns how that run ended. */
  async function runOf(body: string, headers: Record<string, string>): Promise<string> {
    const before = zap.runs.length;
    expect(await postToHook(zap, body, headers)).toBe(200); // Zapier accepts first, checks later
    await loop.settle();
    expect(zap.runs).toHaveLength(before + 1);
    return zap.runs[before]!.outcome;
  }

  /** The genuine delivery as the Zap received it. */
  function genuine(): { body: string; headers: Record<string, string> } {
    const [delivery] = loop.intake.deliveries(zap.id);
    return {
      body: delivery!.body,
      headers: {
        'webhook-id': delivery!.headers['webhook-id']!,
        'webhook-timestamp': delivery!.headers['webhook-timestamp']!,
        'webhook-signature': delivery!.headers['webhook-signature']!,
      },
    };
  }

  type Forge = () => { body: string; headers: Record<string, string> };
  const forgeries: Array<[string, Forge]> = [
    ['a delivery signed with another secret', () => {
      const { id, body } = freshBody();
      return { body, headers: signedHeaders(newWebhookSecret(), id, body) };
    }],
    ['a genuine delivery with a tampered body', () => {
      const { body, headers } = genuine();
      const tampered = body.replace(/"first_name":"[^"]*"/, '"first_name":"Mallory"');
      expect(tampered).not.toBe(body);
      return { body: tampered, headers };
    }],
    ['a correctly signed delivery whose id was swapped', () => {
      const { body, headers } = genuine();
      return { body, headers: { ...headers, 'webhook-id': freshBody().id } };
    }],
    ['a delivery without a signature', () => {
      const { id, body } = freshBody();
      const { 'webhook-signature': _dropped, ...headers } = signedHeaders(secretOf(zap), id, body);
      return { body, headers };
    }],
    ['a delivery signed with the right secret two hours ago', () => {
      const { id, body } = freshBody();
      return { body, headers: signedHeaders(secretOf(zap), id, body, new Date(Date.now() - 2 * 3600_000)) };
    }],
  ];

  /** A delivery signed by the platform's secret during a rotation (an old and the current signature). */
  function rotated(): { id: string; body: string; headers: Record<string, string> } {
    const { id, body } = freshBody();
    const good = signedHeaders(secretOf(zap), id, body);
    const old = signedHeaders(newWebhookSecret(), id, body);
    return { id, body, headers: { ...good, 'webhook-signature': `${old['webhook-signature']} ${good['webhook-signature']}` } };
  }

  /** Every forgery, a replay of the genuine delivery and a rotated one, one after the other. */
  async function everyKindOfDelivery(): Promise<string[]> {
    const outcomes: string[] = [];
    for (const [, forge] of forgeries) {
      const { body, headers } = forge();
      outcomes.push(await runOf(body, headers));
    }
    const replay = genuine();
    outcomes.push(await runOf(replay.body, replay.headers));
    const rotation = rotated();
    outcomes.push(await runOf(rotation.body, rotation.headers));
    return outcomes;
  }

  test('the genuine delivery produced its item', () => {
    expect(itemIds(zap)).toEqual([genuineId]);
    expect(zap.runs.map((r) => r.outcome)).toEqual(['items']);
  });

  test.each(forgeries)('%s is halted', async (_what, forge) => {
    const { body, headers } = forge();
    expect(await runOf(body, headers)).toBe('halted');
    expect(zap.runs.at(-1)?.reason).toMatch(/^HaltedError: /);
    expect(itemIds(zap)).toEqual([genuineId]);
  });

  test('a replay of the genuine delivery, byte for byte, produces no second item', async () => {
    const { body, headers } = genuine();
    expect(await runOf(body, headers)).toBe('empty');
    expect(itemIds(zap)).toEqual([genuineId]);
  });

  test('a delivery signed by the platform\'s secret during a rotation (two signatures) is accepted', async () => {
    const { id, body, headers } = rotated();
    expect(await runOf(body, headers)).toBe('items');
    expect(itemIds(zap)).toEqual([genuineId, id]);
  });

  test('in the end only the genuine and the rotated deliveries became items', async () => {
    expect(await everyKindOfDelivery()).toEqual(['halted', 'halted', 'halted', 'halted', 'halted', 'empty', 'items']);
    expect(itemIds(zap)).toHaveLength(2);
    expect(zap.items[0]?.['id']).toBe(genuineId);
    expect(zap.runs.filter((r) => r.outcome === 'halted')).toHaveLength(5);
  });

  test('nothing logged or raised carried payload values, the secret or a signature', async () => {
    await everyKindOfDelivery();
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
    // …without them (counted, so that a failure does not print the values either)
    expect([...values, ...secrets].filter(Boolean).filter((v) => logged.includes(v)).length).toBe(0);
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
