/**
 * The webhook checks: the kit listens, subscribes, gets events fired (through the sandbox's
 * `POST /sandbox/events` where the server has it, otherwise by asking the operator), and checks
 * each delivery against contract 3.1 to 3.4:
 *
 *   1. the first attempt of event A: headers, body, `webhook-id` = `event_id`, signature. The kit
 *      holds it just over a second and answers 503 on purpose;
 *   2. the retry of A: same `webhook-id` and body, a later timestamp and a signature of its own
 *      (the hold makes a re-signed attempt's timestamp strictly later); answered 204;
 *   3. event B: answered 410, after which the subscription must be gone and nothing more arrive.
 */
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

import type { PlatformEvent } from '../core/events';
import { SIGNATURE_WINDOW } from '../core/signature';
import type { ContractValidator } from '../contract/validator';
import type { Cleanup } from './cleanup';
import { type ApiClient, asObject, checked, expectStatus, networkProblem } from './client';
import type { Report } from './report';

export interface WebhookOptions {
  event: PlatformEvent;
  /** Where to listen: default 127.0.0.1 on a free port. */
  listenHost: string;
  listenPort: number;
  /** Where the platform reaches the listener, when not directly (a tunnel); the listener's path is appended. */
  publicUrl?: string;
  /** How long to wait for each expected delivery (and for the subscription to disappear). */
  waitMs: number;
  /** How long the first attempt is held before the 503 (just over a second by default). */
  holdMs?: number;
}

interface Received {
  arrivedAt: number;
  headers: Record<string, string>;
  body: string;
}

/** What the listener answers to one attempt. */
type Answer = { status: number; holdMs?: number };

class Listener {
  readonly path = `/conformance/${randomBytes(8).toString('hex')}`;
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];
  private server?: http.Server;

  constructor(private readonly answer: (delivery: Received) => Answer) {}

  async start(host: string, port: number): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 1024 * 1024) chunks.push(chunk);
      });
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      req.on('end', () => {
        if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== this.path) {
          res.writeHead(404).end();
          return;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const delivery = { arrivedAt: Date.now(), headers, body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(delivery);
        const { status, holdMs } = this.answer(delivery);
        const reply = () => {
          if (!res.destroyed) res.writeHead(status, { 'Content-Length': '0' }).end();
          for (const wake of this.waiters.splice(0)) wake();
        };
        if (holdMs) setTimeout(reply, holdMs);
        else reply();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${hostPart}:${address.port}${this.path}`;
  }

  /** Resolves with the first delivery `match` accepts (already received or future), or undefined at the deadline. */
  async waitFor(match: (d: Received) => boolean, timeoutMs: number): Promise<Received | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

const webhookId = (d: Received): string | undefined => d.headers['webhook-id'] ?? d.headers['svix-id'];
const timestampOf = (d: Received): number => Number(d.headers['webhook-timestamp'] ?? d.headers['svix-timestamp']);

/** Whether one of the delivery's `v1` signatures is the one its id, timestamp and body give with this secret. */
export function signatureProblems(d: Received, secret: string): string[] {
  const id = webhookId(d);
  const timestamp = timestampOf(d);
  const header = d.headers['webhook-signature'] ?? d.headers['svix-signature'];
  if (id === undefined || !Number.isInteger(timestamp) || header === undefined) return ['the signature headers are incomplete'];
  let expected: string;
  try {
    expected = new Webhook(secret).sign(id, new Date(timestamp * 1000), d.body);
  } catch {
    return ['the subscription secret cannot be used to verify'];
  }
  const problems: string[] = [];
  if (!header.split(' ').includes(expected)) problems.push('no v1 signature matches the secret');
  const ageSeconds = d.arrivedAt / 1000 - timestamp;
  if (ageSeconds > SIGNATURE_WINDOW.pastSeconds || -ageSeconds > SIGNATURE_WINDOW.futureSeconds) {
    problems.push('webhook-timestamp is outside the accepted window');
  }
  return problems;
}

export async function runWebhookChecks(
  api: ApiClient,
  validator: ContractValidator,
  report: Report,
  cleanup: Cleanup,
  options: WebhookOptions,
): Promise<void> {
  const holdMs = options.holdMs ?? 1100;
  let firstId: string | undefined;
  let goneId: string | undefined;
  let phase: 'retry' | 'gone' | 'after' = 'retry';
  const attemptsOf = (id: string | undefined, list: Received[]) => list.filter((d) => id !== undefined && webhookId(d) === id);

  const listener = new Listener((d) => {
    const id = webhookId(d);
    if (phase === 'retry') {
      firstId ??= id;
      // The first attempt of the first event fails on purpose, after a hold that forces a new timestamp.
      if (id === firstId && attemptsOf(id, listener.received).length === 1) return { status: 503, holdMs };
      return { status: 204 };
    }
    if (phase === 'gone' && id !== firstId) {
      goneId ??= id;
      return { status: 410 };
    }
    return { status: 204 };
  });

  let subscriptionId: string | undefined;
  try {
    const listening = await listener.start(options.listenHost, options.listenPort);
    // A tunnel forwards paths, so the listener's own (unguessable) path goes after the public URL.
    const uri = options.publicUrl !== undefined ? `${options.publicUrl.replace(/\/+$/, '')}${listener.path}` : listening;
    report.info(`listening on ${listening}${options.publicUrl ? ` (the platform is given ${options.publicUrl} and the same path)` : ''}`);
    cleanup.ownUri(uri);

    let secret: string | null = null;
    await checked(report, `POST /notifications subscribes the listener to ${options.event}`, async () => {
      const res = await api.send({ method: 'POST', path: '/notifications', body: { type: 'webhook', event: options.event, uri, filters: {} } });
      // Whatever the status, a subscription the answer names is the kit's to delete (at the end, if not before).
      subscriptionId = cleanup.record(res, `POST /notifications subscribes the listener to ${options.event}`);
      const body = asObject(res.json);
      const holder = body && !('id' in body) ? (asObject(body['data']) ?? body) : body;
      secret = typeof holder?.['secret'] === 'string' ? holder['secret'] : null;
      return expectStatus(res, 201);
    });
    if (subscriptionId === undefined) {
      report.check('webhook deliveries', ['not checked: the listener could not be subscribed']);
      return;
    }

    const fire = await eventSource(api, options, report);

    // 1. the first attempt of event A
    await fire('one');
    const first = await listener.waitFor(() => true, options.waitMs);
    const signed = secret !== null;
    report.check(
      `a ${options.event} delivery arrives with the Standard Webhooks headers and a body that matches the document`,
      first ? validator.checkDelivery(first, { signed, event: options.event }) : [`nothing arrived within ${options.waitMs / 1000} s`],
    );
    report.check(
      "its webhook-id equals the body's event_id",
      first ? (eventIdOf(first) === webhookId(first) ? [] : ["webhook-id is not the body's event_id"]) : ['no delivery'],
    );
    report.check(
      "its signature verifies with the subscription's secret",
      first ? (secret !== null ? signatureProblems(first, secret) : []) : ['no delivery'],
      secret === null ? 'the subscription has no secret: deliveries are unsigned, which contract 3.3 allows' : undefined,
    );

    // 2. its retry
    const retry = first
      ? await listener.waitFor((d) => d !== first && webhookId(d) === webhookId(first), options.waitMs + holdMs)
      : undefined;
    const retryProblems: string[] = [];
    if (!first) retryProblems.push('no first delivery');
    else if (!retry) retryProblems.push(`no retry arrived within ${options.waitMs / 1000} s of the failed attempt`);
    else if (retry.body !== first.body) retryProblems.push('the retry body differs from the first attempt');
    report.check('after a failed attempt the delivery comes again with the same webhook-id and body', retryProblems);
    const freshProblems: string[] = [];
    if (!first || !retry) freshProblems.push('no retry');
    else {
      if (!(timestampOf(retry) > timestampOf(first))) freshProblems.push('the retry reuses the first attempt\'s timestamp');
      if (secret !== null) {
        if (retry.headers['webhook-signature'] === first.headers['webhook-signature']) freshProblems.push("the retry reuses the first attempt's signature");
        freshProblems.push(...signatureProblems(retry, secret).map((p) => `retry: ${p}`));
      }
    }
    report.check('the retry carries a fresh timestamp and signature', freshProblems);

    // 3. answering 410
    phase = 'gone';
    await fire('another');
    const goneDelivery = await listener.waitFor((d) => webhookId(d) !== undefined && webhookId(d) !== firstId, options.waitMs);
    const goneProblems: string[] = [];
    if (!goneDelivery) goneProblems.push(`no second event arrived within ${options.waitMs / 1000} s`);
    else {
      const deadline = Date.now() + options.waitMs;
      let listed = true;
      while (listed && Date.now() < deadline) {
        try {
          const res = await api.send({ method: 'GET', path: '/notifications' });
          // A list that cannot be read proves nothing: keep asking until the deadline.
          const data = asObject(res.json)?.['data'];
          listed = res.status !== 200 || !Array.isArray(data) || data.some((s) => String(asObject(s)?.['id']) === subscriptionId);
        } catch {
          listed = true;
        }
        if (listed) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (listed) goneProblems.push(`the subscription is still listed ${options.waitMs / 1000} s after the 410`);
      else {
        // Contract 2.5: a subscription the platform removed after a receiver's 410 answers 410.
        const res = await api.send({ method: 'DELETE', path: `/notifications/${encodeURIComponent(subscriptionId)}` });
        cleanup.gone(subscriptionId, res);
        goneProblems.push(...expectStatus(res, 410).map((p) => `deleting it again: ${p}`));
      }
    }
    report.check('answering 410 removes the subscription', goneProblems);

    phase = 'after';
    const count = listener.received.length;
    if (goneDelivery) {
      await fire('a last', true);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, options.waitMs)));
    }
    report.check(
      'nothing more is delivered to a removed subscription',
      !goneDelivery ? ['not checked: no 410 was answered'] : listener.received.length > count ? ['a delivery arrived after the 410'] : [],
    );

    const others = listener.received.filter((d) => d !== first && d !== retry);
    const otherProblems = others.flatMap((d) => [
      ...validator.checkDelivery(d, { signed, event: options.event }),
      ...(secret !== null ? signatureProblems(d, secret) : []),
    ]);
    report.check(`every other delivery (${others.length}) matches the document and its signature`, [...new Set(otherProblems)]);
  } catch (err) {
    report.check('webhook checks ran to the end', [networkProblem(err)]);
  } finally {
    // The listener's subscription, when still there, is deleted with the rest at the end (cleanup.ts).
    await listener.close();
  }
}

function eventIdOf(d: Received): string | undefined {
  try {
    const id = asObject(JSON.parse(d.body))?.['event_id'];
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How events come about: the sandbox's `POST /sandbox/events` when the server has it, otherwise an
 * operator who triggers them in the platform when the kit asks.
 */
async function eventSource(
  api: ApiClient,
  options: WebhookOptions,
  report: Report,
): Promise<(which: string, optional?: boolean) => Promise<void>> {
  const fireOne = async (): Promise<boolean> => {
    try {
      const res = await api.send({ method: 'POST', path: '/sandbox/events', body: { event: options.event, count: 1 } });
      return res.status === 202;
    } catch {
      return false;
    }
  };
  let sandbox: boolean | undefined;
  return async (which, optional = false) => {
    if (sandbox !== false && (await fireOne())) {
      if (sandbox === undefined) report.info(`events are fired through POST /sandbox/events`);
      sandbox = true;
      return;
    }
    if (sandbox === true) report.info(`POST /sandbox/events stopped answering 202`);
    sandbox = false;
    if (!optional) {
      report.info(`now trigger ${which} ${options.event} event in the platform (waiting up to ${Math.round(options.waitMs / 1000)} s)`);
    }
  };
}
