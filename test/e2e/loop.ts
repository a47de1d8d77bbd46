/**
 * Shared set-up of the end-to-end tests: the sandbox API and the Zapier intake stand-in, both on
 * 127.0.0.1 with OS-chosen ports, and the app pointed at the sandbox.
 */
import { Webhook } from 'standardwebhooks';

import app from '../../index';
import { SANDBOX_EVENTS, type EventName } from '../../src/sandbox/events';
import { startIntake, type FaultOptions, type HookApp, type ZapierIntake, type ZapState } from '../../src/sandbox/intake';
import { type DeliverySchedule, PRODUCTION_SCHEDULE, sendRequest } from '../../src/sandbox/sender';
import { DEMO_API_KEY, type SandboxOptions, type SandboxServer } from '../../src/sandbox/server';
import { within } from '../support/bounded-wait';
import { startWatchedSandbox } from './contract-watch';

export const hookApp = app as unknown as HookApp;

/**
 * The sender's per-attempt timeout in the tests: production's (15 s). Everything runs in one
 * process that a busy machine slows down: an answer that takes a few milliseconds on a quiet one
 * has taken seconds with the CPU shared. A timeout near that is a cliff, not a slowdown: the sender
 * retries at once, the abandoned attempts are still processed, work piles up and nothing is answered
 * in time any more. Kept this far above the answers it costs nothing; only a test that makes a
 * timeout happen on purpose waits for it, and such tests make few.
 */
export const SENDER_TIMEOUT_MS = PRODUCTION_SCHEDULE.timeoutMs;

/** The bound of a settle: deliveries and runs of a test end well within it even on a busy machine. */
export const SETTLE_BOUND_MS = 20_000;

/** Short waits between retries, so that a run with many retries takes seconds; production's timeout. */
export const FAST_SCHEDULE: Readonly<Pick<DeliverySchedule, 'baseDelayMs' | 'capDelayMs' | 'maxAttempts' | 'timeoutMs'>> = {
  baseDelayMs: 10,
  capDelayMs: 200,
  maxAttempts: 15,
  timeoutMs: SENDER_TIMEOUT_MS,
};

export interface Loop {
  sandbox: SandboxServer;
  intake: ZapierIntake;
  /** Waits until every delivery has ended and every run it started has ended (SETTLE_BOUND_MS at most). */
  settle(boundMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Waits until the sandbox has no delivery left (queued, in flight or waiting for a retry) and the
 * intake no run; past `boundMs` it fails with the counts of both sides.
 */
export async function settleDeliveries(sandbox: SandboxServer, intake: ZapierIntake, boundMs = SETTLE_BOUND_MS): Promise<void> {
  const deadline = Date.now() + boundMs;
  const state = () => ({ sandbox: sandbox.stats(), intake: intake.stats() });
  // A run can only start after its delivery was accepted, so sender first, then intake.
  await within(sandbox.settled(), { what: "the sandbox's deliveries to end", timeoutMs: boundMs, state });
  await within(intake.settled(), { what: "the intake's runs to end", timeoutMs: deadline - Date.now(), state });
}

export async function startLoop(
  options: { sandbox?: SandboxOptions; faults?: FaultOptions; concurrency?: number } = {},
): Promise<Loop> {
  // Watched: every response and delivery is checked against docs/openapi.yaml (./contract-watch).
  const sandbox = await startWatchedSandbox({ delivery: FAST_SCHEDULE, ...options.sandbox });
  process.env.ECOLOGIC_API_BASE_URL = sandbox.apiBaseUrl;
  const intake = await startIntake({
    app: hookApp,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  return {
    sandbox,
    intake,
    settle(boundMs?: number) {
      return settleDeliveries(sandbox, intake, boundMs);
    },
    async close() {
      await intake.close();
      await sandbox.close();
    },
  };
}

export function triggerKeyOf(event: EventName): string {
  const found = SANDBOX_EVENTS.find((e) => e.event === event);
  if (!found) throw new Error(`no trigger for ${event}`);
  return found.triggerKey;
}

/** Creates and turns on a Zap for an event (the app's real performSubscribe against the sandbox). */
export async function zapFor(loop: Loop, event: EventName, inputData: Record<string, unknown> = {}): Promise<ZapState> {
  const zap = loop.intake.createZap(triggerKeyOf(event), { authData: { api_key: DEMO_API_KEY }, inputData });
  await loop.intake.turnOn(zap.id);
  return zap;
}

export function itemIds(zap: ZapState): string[] {
  return zap.items.map((item) => String(item['id']));
}

/** Posts a delivery straight to a Zap's hook URL, as anyone who learnt the URL could. */
export async function postToHook(
  zap: ZapState,
  body: string,
  headers: Record<string, string>,
): Promise<number> {
  const res = await sendRequest(new URL(zap.targetUrl), { 'Content-Type': 'application/json', ...headers }, body, SENDER_TIMEOUT_MS);
  return res.status;
}

/** Standard Webhooks headers for a body, signed with `secret` at `at`. */
export function signedHeaders(secret: string, webhookId: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(webhookId, at, body),
  };
}

export function secretOf(zap: ZapState): string {
  const secret = zap.subscribeData?.['secret'];
  if (typeof secret !== 'string') throw new Error('the subscription has no secret');
  return secret;
}
