/**
 * The conformance kit leaves a server as it found it, whatever the server answered, and says exactly
 * what the server answered: against servers that answer 200 to a subscribe, accept subscribes the
 * contract refuses, fail every DELETE, or leave the id out of a subscribe answer.
 */
import { main } from '../../src/conformance/cli';
import { PRODUCTION_SCHEDULE } from '../../src/sandbox/sender';
import type { SandboxServer } from '../../src/sandbox/server';
import {
  acceptingBadSubscribes,
  deleteFails,
  filteredSubscribeWithoutId,
  type Proxy,
  type ProxyHandler,
  startProxy,
  subscribeAnswers200,
} from '../support/bad-servers';
import { startWatchedSandbox } from './contract-watch';

// As in conformance.test.ts: the kit holds the first attempt 1.1 s, the sender must see its 503.
const SCHEDULE = { baseDelayMs: 100, capDelayMs: 400, maxAttempts: 8, timeoutMs: PRODUCTION_SCHEDULE.timeoutMs };

let sandbox: SandboxServer;

/** The organisation's subscriptions as a server lists them, in id order. */
async function listed(base: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${base}/notifications`, {
    headers: { authorization: `Bearer ${sandbox.apiKey}` },
    signal: AbortSignal.timeout(5000),
  });
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: Record<string, unknown>[] };
  return data.sort((a, b) => String(a['id']).localeCompare(String(b['id'])));
}

async function subscribeDirectly(event: string, uri: string): Promise<void> {
  const res = await fetch(`${sandbox.apiBaseUrl}/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'webhook', event, uri, filters: {} }),
    signal: AbortSignal.timeout(5000),
  });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  sandbox = await startWatchedSandbox({ delivery: SCHEDULE });
  // What the organisation had before any run: a partner's Zap, and a subscription that looks like the
  // kit's (a hook URL under conformance.invalid) but is not one of this run's. Neither may go.
  await subscribeDirectly('RequestQuote:Create', 'https://hooks.partner.example/zap/1');
  await subscribeDirectly('Audit:Create', 'https://conformance.invalid/hooks/0123456789ab');
});

afterAll(async () => {
  await sandbox.close();
});

/** Runs the kit through a proxy with `handler`, listing the subscriptions (through it) before and after. */
async function runAgainst(
  handler: ProxyHandler,
  extra: string[] = [],
): Promise<{ code: number; lines: string[]; failures: string[]; before: unknown[]; after: unknown[]; proxy: Proxy }> {
  const proxy = await startProxy(sandbox, handler);
  try {
    const before = await listed(proxy.url);
    const lines: string[] = [];
    const code = await main(['--base-url', proxy.url, '--api-key', sandbox.apiKey, '--read-only-api-key', sandbox.readOnlyApiKey!, ...extra], (line) =>
      lines.push(...line.split('\n')),
    );
    const after = await listed(proxy.url);
    return { code, lines, failures: lines.filter((l) => l.startsWith('FAIL')), before, after, proxy };
  } finally {
    await proxy.close();
  }
}

test('the sandbox itself: nothing fails, nothing is left, and the last check says so', async () => {
  const { code, lines, failures, before, after } = await runAgainst((_req, forward) => forward());
  expect(failures).toEqual([]);
  expect(code).toBe(0);
  expect(lines).toContain('PASS  the kit leaves no subscription behind');
  expect(lines.filter((l) => l.includes('cleaned up'))).toEqual([]);
  expect(after).toEqual(before);
  expect(before).toHaveLength(2);
}, 20_000);

test('a server that answers 200 to a subscribe: each such answer is reported with both statuses, and every subscription is deleted', async () => {
  const { code, failures, before, after } = await runAgainst(subscribeAnswers200, ['--webhooks', '--wait', '10']);
  expect(code).toBe(1);
  expect(failures).toEqual([
    'FAIL  POST /notifications answers 201 with the subscription: POST /notifications answered 200, expected 201',
    expect.stringMatching(
      /^FAIL {2}POST \/notifications with an action filter answers 201 and keeps the filter: POST \/notifications answered 200, expected 201; subscription ntf_\w+ removed again$/,
    ),
    expect.stringMatching(
      /^FAIL {2}POST \/notifications with an array of two action codes answers 201 and keeps the array: POST \/notifications answered 200, expected 201; subscription ntf_\w+ removed again$/,
    ),
    'FAIL  POST /notifications subscribes the listener to RequestQuote:Create: POST /notifications answered 200, expected 201',
  ]);
  expect(after).toEqual(before);
}, 30_000);

test('a server that accepts the subscribes the contract refuses: each is reported as 201 against the expected 400, and removed at once', async () => {
  const lenient = acceptingBadSubscribes();
  const { code, failures, before, after } = await runAgainst(lenient.handler);
  expect(code).toBe(1);
  const lines = (name: string) => failures.filter((l) => l.startsWith(`FAIL  ${name}: `));
  expect(lines('POST /notifications with an unknown event answers 400 invalid_event')).toEqual([
    expect.stringMatching(/: POST \/notifications answered 201, expected 400 with error\.code invalid_event; .*subscription ntf_lenient\d+ removed again$/),
  ]);
  expect(lines('POST /notifications with a uri that is not an absolute https URL answers 400 invalid_uri')).toEqual([
    expect.stringMatching(/: POST \/notifications answered 201, expected 400 with error\.code invalid_uri; .*subscription ntf_lenient\d+ removed again$/),
  ]);
  expect(lines('POST /notifications with a filter that does not apply to the event answers 400 invalid_filter')).toEqual([
    expect.stringMatching(/: POST \/notifications answered 201, expected 400 with error\.code invalid_filter; .*subscription ntf_lenient\d+ removed again$/),
  ]);
  const badValues = lines(
    'POST /notifications with bad filter values (an unknown code, an empty list, an empty code, 21 codes, another key) answers 400 invalid_filter',
  );
  expect(badValues).toHaveLength(1);
  for (const what of ['an unknown code', 'an empty list', 'an empty code', '21 codes', 'another key']) {
    expect(badValues[0]).toContain(`${what}: POST /notifications answered 201, expected 400 with error.code invalid_filter`);
  }
  expect(badValues[0]?.match(/removed again/g)).toHaveLength(5);
  expect(failures).toHaveLength(4);
  // The nine it accepted were deleted again, one by one, as they came.
  expect(lenient.kept()).toEqual([]);
  expect(after).toEqual(before);
}, 20_000);

test('a server whose DELETE fails: every subscription left is named, with the status, in a failed last check', async () => {
  const { code, failures, before, after } = await runAgainst(deleteFails);
  try {
    expect(code).toBe(1);
    const left = after.filter((s) => !before.some((b) => JSON.stringify(b) === JSON.stringify(s))).map((s) => String((s as { id: unknown }).id));
    expect(left).toHaveLength(3); // the subscription of the lifecycle checks and the two filtered ones
    const last = failures.find((l) => l.startsWith('FAIL  the kit leaves no subscription behind: '));
    expect(last).toBeDefined();
    for (const id of left) {
      expect(last).toContain(
        `DELETE /notifications/${id} answered 500 with error.code internal_error, expected 204 or 404 or 410; subscription ${id} `,
      );
    }
    expect(last?.match(/is left on the server: delete it by hand/g)).toHaveLength(3);
    expect(failures).toContainEqual(
      expect.stringMatching(/^FAIL {2}DELETE \/notifications\/\{id\} answers 204: DELETE \/notifications\/ntf_\w+ answered 500 with error\.code internal_error, expected 204$/),
    );
    expect(failures).toContainEqual(
      expect.stringMatching(/^FAIL {2}POST \/notifications with an action filter answers 201 and keeps the filter: subscription ntf_\w+ could not be removed: DELETE/),
    );
  } finally {
    // Put the server back for the next test, straight through the sandbox.
    for (const s of after) {
      if (!before.some((b) => JSON.stringify(b) === JSON.stringify(s))) {
        await fetch(`${sandbox.apiBaseUrl}/notifications/${String((s as { id: unknown }).id)}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${sandbox.apiKey}` },
          signal: AbortSignal.timeout(5000),
        });
      }
    }
  }
  expect(await listed(sandbox.apiBaseUrl)).toEqual(before);
}, 20_000);

test('a server that leaves the id out of a subscribe answer: the kit finds those subscriptions by their hook URL and says so', async () => {
  const { code, lines, failures, before, after } = await runAgainst(filteredSubscribeWithoutId);
  expect(code).toBe(1);
  expect(failures).toHaveLength(2);
  for (const failure of failures) expect(failure).toMatch(/^FAIL {2}POST \/notifications with an (action filter|array of two action codes) answers 201 .*: POST \/notifications answered 201: body/);
  const cleaned = lines.filter((l) => l.includes('cleaned up:'));
  expect(cleaned).toHaveLength(2);
  for (const line of cleaned) expect(line).toMatch(/cleaned up: subscription ntf_\w+ found in GET \/notifications by its hook URL$/);
  expect(lines).toContain('PASS  the kit leaves no subscription behind (2 removed at the end, listed above)');
  expect(after).toEqual(before);
  expect(lines.join('\n')).not.toContain('whsec_');
}, 20_000);
