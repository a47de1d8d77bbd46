/**
 * The conformance kit against the sandbox (it must pass, with --webhooks) and against servers that
 * break the contract (a proxy in front of the sandbox that changes one thing; the kit must fail).
 */
import { main } from '../../src/conformance/cli';
import { PRODUCTION_SCHEDULE } from '../../src/sandbox/sender';
import type { SandboxServer } from '../../src/sandbox/server';
import { type ProxyAnswer, type ProxyRequest, startProxy, tampering } from '../support/bad-servers';
import { startWatchedSandbox } from './contract-watch';

// The kit holds the first attempt 1.1 s before it answers 503; the sender must see that 503, not a
// timeout, however slow the machine: production's timeout, far above the hold.
const SCHEDULE = { baseDelayMs: 100, capDelayMs: 400, maxAttempts: 8, timeoutMs: PRODUCTION_SCHEDULE.timeoutMs };

type Tamper = (req: ProxyRequest, res: ProxyAnswer) => ProxyAnswer;

async function runKit(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(args, (line) => lines.push(...line.split('\n')));
  return { code, lines };
}

let sandbox: SandboxServer;
const secrets: string[] = [];
const payloadValues: string[] = [];

beforeAll(async () => {
  sandbox = await startWatchedSandbox({
    delivery: SCHEDULE,
    onExchange: (x) => {
      const secret = x.body?.match(/"secret":"([^"]+)"/)?.[1];
      if (secret) secrets.push(secret);
    },
    onDelivery: (d) => {
      const body = JSON.parse(d.body) as Record<string, unknown>;
      for (const key of ['first_name', 'last_name', 'reply_email', 'reply_phone', 'street']) {
        if (typeof body[key] === 'string' && (body[key] as string).trim().length > 3) payloadValues.push((body[key] as string).trim());
      }
    },
  });
});

afterAll(async () => {
  await sandbox.close();
});

const baseArgs = () => ['--base-url', sandbox.apiBaseUrl, '--api-key', sandbox.apiKey];

test('the sandbox passes every check, webhooks included, and the output holds no key, secret or payload value', async () => {
  const { code, lines } = await runKit([...baseArgs(), '--read-only-api-key', sandbox.readOnlyApiKey!, '--webhooks', '--wait', '15']);
  const summary = lines[lines.length - 1];
  expect({ code, failures: lines.filter((l) => l.startsWith('FAIL')), summary }).toEqual({
    code: 0,
    failures: [],
    summary: expect.stringMatching(/^\d+ passed, 0 failed$/),
  });
  expect(Number(summary!.split(' ')[0])).toBeGreaterThanOrEqual(38);
  expect(lines).toContain('PASS  the retry carries a fresh timestamp and signature');
  expect(lines).toContain('PASS  answering 410 removes the subscription');
  expect(lines).toContain('PASS  POST /notifications with an array of two action codes answers 201 and keeps the array');
  // It cleaned up after itself, and printed nothing it must not.
  expect(sandbox.subscriptions()).toEqual([]);
  expect(secrets.length).toBeGreaterThan(0);
  expect(payloadValues.length).toBeGreaterThan(0);
  const output = lines.join('\n');
  for (const value of [sandbox.apiKey, sandbox.readOnlyApiKey!, ...secrets, ...payloadValues]) expect(output).not.toContain(value);
}, 60_000);

describe('a server that breaks the contract fails the kit', () => {
  test.each<[string, Tamper, RegExp]>([
    [
      'a wrong status',
      (req, res) => (req.method === 'DELETE' && res.status === 204 ? { status: 200, body: '' } : res),
      /^FAIL {2}DELETE \/notifications\/\{id\} answers 204: DELETE \/notifications\/ntf_\w+ answered 200, expected 204$/,
    ],
    [
      'a wrong type',
      (req, res) => (req.path === '/v1/me' && res.status === 200 ? { ...res, body: res.body.replace(/"organisation_id":"[^"]*"/, '"organisation_id":7') } : res),
      /^FAIL {2}GET \/me answers 200 with the organisation: GET \/me answered 200: body\/organisation_id must be string,null$/,
    ],
    [
      'an unknown event refused with 422 instead of 400',
      (req, res) =>
        req.method === 'POST' && req.path === '/v1/notifications' && res.status === 400 && res.body.includes('"invalid_event"') ? { ...res, status: 422 } : res,
      /^FAIL {2}POST \/notifications with an unknown event answers 400 invalid_event: POST \/notifications answered 422 with error\.code invalid_event, expected 400 with error\.code invalid_event$/,
    ],
    [
      'an unknown event refused with another error code',
      (req, res) =>
        req.path === '/v1/notifications/samples?event=Audit%3AConformance' ? { ...res, body: res.body.replace('"invalid_event"', '"invalid_request"') } : res,
      /^FAIL {2}GET \/notifications\/samples with an unknown event answers 400 invalid_event: GET \/notifications\/samples\?event=Audit%3AConformance answered 400 with error\.code invalid_request, expected 400 with error\.code invalid_event$/,
    ],
    [
      'an action list echoed as its first code',
      (req, res) =>
        req.method === 'POST' && req.path === '/v1/notifications' && res.status === 201
          ? { ...res, body: res.body.replace(/"action":\[("[^"]+")[^\]]*\]/, '"action":$1') }
          : res,
      /^FAIL {2}POST \/notifications with an array of two action codes answers 201 and keeps the array: filters\.action is not the array subscribed; subscription ntf_\w+ removed again$/,
    ],
  ])('%s', async (_name, tamper, failure) => {
    const proxy = await startProxy(sandbox, tampering(tamper));
    try {
      const { code, lines } = await runKit(['--base-url', proxy.url, '--api-key', sandbox.apiKey]);
      expect(code).toBe(1);
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([expect.stringMatching(failure)]);
      expect(lines[lines.length - 1]).toMatch(/^\d+ passed, 1 failed$/);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  test('a bad signature (the secret handed out is not the one that signs)', async () => {
    const other = 'whsec_c2Vjb25kIHNlY3JldCBvZiBlbm91Z2ggbGVuZ3Ro';
    const proxy = await startProxy(
      sandbox,
      tampering((req, res) =>
        req.method === 'POST' && req.path === '/v1/notifications' ? { ...res, body: res.body.replace(/"secret":"[^"]+"/, `"secret":"${other}"`) } : res,
      ),
    );
    try {
      const { code, lines } = await runKit(['--base-url', proxy.url, '--api-key', sandbox.apiKey, '--webhooks', '--wait', '15']);
      expect(code).toBe(1);
      const failures = lines.filter((l) => l.startsWith('FAIL'));
      expect(failures).toContain("FAIL  its signature verifies with the subscription's secret: no v1 signature matches the secret");
      expect(failures.every((l) => /signature/.test(l))).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  test('without POST /sandbox/events it asks for the event and waits; nothing triggered means a bounded failure', async () => {
    // A server without the sandbox's control plane, like production.
    const proxy = await startProxy(sandbox, async (req, forward) =>
      req.path.startsWith('/v1/sandbox/')
        ? { status: 404, body: '{"error":{"code":"not_found","message":"no such endpoint"}}' }
        : forward(),
    );
    try {
      const started = Date.now();
      const lines: string[] = [];
      // An operator who triggers the first event when asked, and then walks away.
      let asked = 0;
      const code = await main(['--base-url', proxy.url, '--api-key', sandbox.apiKey, '--webhooks', '--wait', '2'], (line) => {
        lines.push(line);
        if (/now trigger one RequestQuote:Create event/.test(line) && asked++ === 0) {
          setTimeout(() => sandbox.fire('RequestQuote:Create'), 50);
        }
      });
      expect(code).toBe(1);
      expect(lines).toContain('PASS  after a failed attempt the delivery comes again with the same webhook-id and body');
      expect(lines).toContain('FAIL  answering 410 removes the subscription: no second event arrived within 2 s');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(sandbox.subscriptions()).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
