/**
 * The REST checks: every endpoint the app calls, its success shape and its negative cases (a bad
 * key, an unknown event, an unknown subscription id, a bad limit, a filter that does not apply), and
 * action filters of one code and of several.
 * Everything the kit subscribes it deletes again.
 */
import { randomBytes } from 'node:crypto';

import { PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import { type ApiClient, asObject, checked, expectStatus, listOf } from './client';
import type { Report } from './report';

type Json = Record<string, unknown>;

export interface RestOptions {
  /** A key of the same organisation without write permission, to check 403 (optional). */
  readOnlyApiKey?: string;
  /** The event the subscription checks use. */
  event: PlatformEvent;
}

const nonce = (): string => randomBytes(6).toString('hex');

/** A hook URL no platform can deliver to (`.invalid` is reserved), for subscriptions that only test the API. */
export const unreachableHookUrl = (): string => `https://conformance.invalid/hooks/${nonce()}`;

const q = encodeURIComponent;

export async function runRestChecks(api: ApiClient, report: Report, options: RestOptions): Promise<void> {
  await checked(report, 'GET /me answers 200 with the organisation', async () => expectStatus(await api.send({ method: 'GET', path: '/me' }), 200));
  await checked(report, 'GET /me without a key answers 401', async () =>
    expectStatus(await api.send({ method: 'GET', path: '/me', apiKey: null }), 401),
  );
  await checked(report, 'GET /me with an unknown key answers 401', async () =>
    expectStatus(await api.send({ method: 'GET', path: '/me', apiKey: `eco_conformance_unknown_${nonce()}` }), 401),
  );

  const actionCodes: string[] = [];
  await checked(report, 'GET /actions answers 200 with the action codes', async () => {
    const res = await api.send({ method: 'GET', path: '/actions' });
    for (const action of listOf(res)) {
      const code = asObject(action)?.['code'];
      if (typeof code === 'string' && code.trim() !== '' && !actionCodes.includes(code)) actionCodes.push(code);
    }
    return expectStatus(res, 200);
  });
  const actionCode = actionCodes[0];
  for (const type of ['audit', 'quote_request'] as const) {
    await checked(report, `GET /labels?type=${type} answers 200 with labels of that type only`, async () => {
      const res = await api.send({ method: 'GET', path: `/labels?type=${type}` });
      const problems = expectStatus(res, 200);
      if (listOf(res).some((label) => asObject(label)?.['type'] !== type)) problems.push(`a label of another type than ${type} is listed`);
      return problems;
    });
  }
  await checked(report, 'GET /labels without a type answers 400', async () => expectStatus(await api.send({ method: 'GET', path: '/labels' }), 400));

  for (const event of PLATFORM_EVENTS) {
    await checked(report, `GET /notifications/samples?event=${event}&limit=5 answers 200 with at most 5 ${event} bodies, newest first`, async () => {
      const res = await api.send({ method: 'GET', path: `/notifications/samples?event=${q(event)}&limit=5` });
      const problems = expectStatus(res, 200);
      const samples = listOf(res).map(asObject);
      if (samples.length > 5) problems.push(`${samples.length} samples for limit=5`);
      if (samples.some((s) => s?.['event'] !== event)) problems.push(`a sample is not a ${event} body`);
      const times = samples.map((s) => Date.parse(String(s?.['occurred_at'])));
      if (times.some((t, i) => i > 0 && t > (times[i - 1] as number))) problems.push('samples are not newest first');
      return problems;
    });
  }
  await checked(report, 'GET /notifications/samples with an unknown event answers 400', async () =>
    expectStatus(await api.send({ method: 'GET', path: `/notifications/samples?event=${q('Audit:Conformance')}` }), 400),
  );
  await checked(report, 'GET /notifications/samples without an event answers 400', async () =>
    expectStatus(await api.send({ method: 'GET', path: '/notifications/samples' }), 400),
  );
  await checked(report, 'GET /notifications/samples with a bad limit (0, 101, ten) answers 400', async () => {
    const problems: string[] = [];
    for (const limit of ['0', '101', 'ten']) {
      const res = await api.send({ method: 'GET', path: `/notifications/samples?event=${q(options.event)}&limit=${limit}` });
      problems.push(...expectStatus(res, 400).map((p) => `limit=${limit}: ${p}`));
    }
    return problems;
  });

  const subscribe = (body: Json, apiKey?: string | null) =>
    api.send({ method: 'POST', path: '/notifications', body, ...(apiKey !== undefined ? { apiKey } : {}) });
  const valid = (event: PlatformEvent = options.event, filters: Json = {}): Json => ({
    type: 'webhook',
    event,
    uri: unreachableHookUrl(),
    filters,
  });

  await checked(report, 'POST /notifications with an unknown event answers 400', async () =>
    expectStatus(await subscribe({ ...valid(), event: 'Audit:Conformance' }), 400),
  );
  await checked(report, 'POST /notifications with a uri that is not an absolute https URL answers 400', async () =>
    expectStatus(await subscribe({ ...valid(), uri: 'ftp://conformance.invalid/hook' }), 400),
  );
  await checked(report, 'POST /notifications with a filter that does not apply to the event answers 400', async () =>
    expectStatus(await subscribe(valid('Audit:Create', { action: actionCode ?? 'solar_pv' })), 400),
  );
  await checked(report, 'POST /notifications without a key answers 401', async () => expectStatus(await subscribe(valid(), null), 401));
  if (options.readOnlyApiKey !== undefined) {
    await checked(report, 'POST /notifications with a read-only key answers 403', async () =>
      expectStatus(await subscribe(valid(), options.readOnlyApiKey), 403),
    );
  }

  // One subscription's life: create, repeat, list, delete, delete again.
  const request = valid();
  let created: Json | undefined;
  await checked(report, 'POST /notifications answers 201 with the subscription', async () => {
    const res = await subscribe(request);
    const problems = expectStatus(res, 201);
    const body = asObject(res.json);
    if (res.status === 201 && body) {
      created = body;
      for (const key of ['event', 'uri'] as const) if (body[key] !== request[key]) problems.push(`${key} is not the one subscribed`);
      if (JSON.stringify(body['filters']) !== '{}') problems.push('filters are not the ones subscribed');
    }
    return problems;
  });
  const id = typeof created?.['id'] === 'string' || typeof created?.['id'] === 'number' ? String(created['id']) : undefined;
  const needsSubscription = (name: string, run: (id: string) => Promise<string[]>) =>
    checked(report, name, async () => (id === undefined ? ['not checked: the subscription could not be created'] : run(id)));

  await needsSubscription('POST /notifications again with the same event and uri answers 200 with the same id and secret', async (subId) => {
    const res = await subscribe(request);
    const problems = expectStatus(res, 200);
    const body = asObject(res.json);
    if (res.status === 200 && body) {
      if (String(body['id']) !== subId) problems.push('a different id');
      if ((body['secret'] ?? null) !== (created?.['secret'] ?? null)) problems.push('a different secret');
    }
    return problems;
  });
  await needsSubscription('GET /notifications lists the subscription without its secret', async (subId) => {
    const res = await api.send({ method: 'GET', path: '/notifications' });
    const problems = expectStatus(res, 200);
    const listed = listOf(res).map(asObject).find((s) => String(s?.['id']) === subId);
    if (!listed) problems.push('the subscription is not listed');
    else if ('secret' in listed) problems.push('the secret is listed');
    return problems;
  });
  await needsSubscription('DELETE /notifications/{id} answers 204', async (subId) =>
    expectStatus(await api.send({ method: 'DELETE', path: `/notifications/${q(subId)}` }), 204),
  );
  await needsSubscription('DELETE /notifications/{id} of a deleted subscription answers 404 or 410', async (subId) =>
    expectStatus(await api.send({ method: 'DELETE', path: `/notifications/${q(subId)}` }), 404, 410),
  );
  await needsSubscription('GET /notifications no longer lists a deleted subscription', async (subId) => {
    const res = await api.send({ method: 'GET', path: '/notifications' });
    const problems = expectStatus(res, 200);
    if (listOf(res).some((s) => String(asObject(s)?.['id']) === subId)) problems.push('the deleted subscription is still listed');
    return problems;
  });
  await checked(report, 'DELETE /notifications/{id} of an unknown id answers 404', async () =>
    expectStatus(await api.send({ method: 'DELETE', path: `/notifications/ntf_conformance_${nonce()}` }), 404),
  );

  /** Subscribes with filters, checks the echo, and deletes the subscription again whatever the outcome. */
  const filteredSubscription = async (filters: Json, echoed: (filters: Json | undefined) => string[]): Promise<string[]> => {
    const res = await subscribe(valid('RequestQuote:Create', filters));
    const problems = expectStatus(res, 201);
    const body = asObject(res.json);
    problems.push(...echoed(asObject(body?.['filters'])));
    const subId = body?.['id'];
    if (typeof subId === 'string' || typeof subId === 'number') {
      await api.send({ method: 'DELETE', path: `/notifications/${q(String(subId))}` });
    }
    return problems;
  };

  if (actionCode !== undefined) {
    await checked(report, 'POST /notifications with an action filter answers 201 and keeps the filter', () =>
      filteredSubscription({ action: actionCode }, (filters) =>
        filters?.['action'] !== actionCode ? ['filters.action is not the one subscribed'] : [],
      ),
    );
  }
  const twoCodes = actionCodes.slice(0, 2);
  if (twoCodes.length === 2) {
    await checked(report, 'POST /notifications with an array of two action codes answers 201 and keeps the array', () =>
      filteredSubscription({ action: twoCodes }, (filters) =>
        JSON.stringify(filters?.['action']) !== JSON.stringify(twoCodes) ? ['filters.action is not the array subscribed'] : [],
      ),
    );
  } else {
    report.info('not checked: an array action filter (GET /actions listed fewer than two codes)');
  }
}
