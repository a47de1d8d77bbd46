/**
 * The REST checks: every endpoint the app calls, its success shape and its negative cases (a bad
 * key, an unknown event, an unknown subscription id, a bad limit, a filter that does not apply), and
 * action filters of one code and of several.
 * Everything the kit subscribes it deletes again, whatever the server answered (see cleanup.ts).
 *
 * The statuses, and the error codes where the contract names one, are the contract's
 * (docs/ecologic-api.md 2.3 to 2.9): an unknown or missing event is `400 invalid_event` everywhere,
 * a bad filter `400 invalid_filter`, a bad `uri` `400 invalid_uri`, a bad `limit` or label type
 * `400 invalid_request`, a second `DELETE` of a deleted subscription `410`, an id that never existed
 * `404`.
 */
import { randomBytes } from 'node:crypto';

import { PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import type { Cleanup } from './cleanup';
import { type ApiClient, type ApiResponse, asObject, checked, exchangeProblems, expectStatus, listOf } from './client';
import type { Report } from './report';

type Json = Record<string, unknown>;

export interface RestOptions {
  /** A key of the same organisation without write permission, to check 403 (optional). */
  readOnlyApiKey?: string;
  /** The event the subscription checks use. */
  event: PlatformEvent;
}

const nonce = (): string => randomBytes(6).toString('hex');

const q = encodeURIComponent;

export async function runRestChecks(api: ApiClient, report: Report, cleanup: Cleanup, options: RestOptions): Promise<void> {
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
  await checked(report, 'GET /labels without a type answers 400 invalid_request', async () =>
    exchangeProblems(await api.send({ method: 'GET', path: '/labels' }), [400], 'invalid_request'),
  );

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
  await checked(report, 'GET /notifications/samples with an unknown event answers 400 invalid_event', async () =>
    exchangeProblems(await api.send({ method: 'GET', path: `/notifications/samples?event=${q('Audit:Conformance')}` }), [400], 'invalid_event'),
  );
  await checked(report, 'GET /notifications/samples without an event answers 400 invalid_event', async () =>
    exchangeProblems(await api.send({ method: 'GET', path: '/notifications/samples' }), [400], 'invalid_event'),
  );
  await checked(report, 'GET /notifications/samples with a bad limit (0, 101, ten) answers 400 invalid_request', async () => {
    const problems: string[] = [];
    for (const limit of ['0', '101', 'ten']) {
      const res = await api.send({ method: 'GET', path: `/notifications/samples?event=${q(options.event)}&limit=${limit}` });
      problems.push(...exchangeProblems(res, [400], 'invalid_request'));
    }
    return problems;
  });

  const subscribe = (body: Json, apiKey?: string | null) =>
    api.send({ method: 'POST', path: '/notifications', body, ...(apiKey !== undefined ? { apiKey } : {}) });
  const valid = (event: PlatformEvent = options.event, filters: Json = {}): Json => ({
    type: 'webhook',
    event,
    uri: cleanup.hookUrl(),
    filters,
  });
  /** A subscribe the contract refuses: the status (and code) it expects; anything the server kept is deleted at once. */
  const refusal = async (name: string, body: Json, statuses: number[], code?: string, apiKey?: string | null): Promise<string[]> => {
    const res = await subscribe(body, apiKey);
    const problems = exchangeProblems(res, statuses, code);
    const id = cleanup.record(res, name);
    if (id !== undefined) problems.push(...(await cleanup.removeNow(id)));
    return problems;
  };

  await checked(report, 'POST /notifications with an unknown event answers 400 invalid_event', () =>
    refusal('POST /notifications with an unknown event', { ...valid(), event: 'Audit:Conformance' }, [400], 'invalid_event'),
  );
  await checked(report, 'POST /notifications with a uri that is not an absolute https URL answers 400 invalid_uri', () =>
    refusal('POST /notifications with a bad uri', { ...valid(), uri: cleanup.hookUrl('ftp') }, [400], 'invalid_uri'),
  );
  await checked(report, 'POST /notifications with a filter that does not apply to the event answers 400 invalid_filter', () =>
    refusal('POST /notifications with a filter on the wrong event', valid('Audit:Create', { action: actionCode ?? 'solar_pv' }), [400], 'invalid_filter'),
  );
  await checked(
    report,
    'POST /notifications with bad filter values (an unknown code, an empty list, an empty code, 21 codes, another key) answers 400 invalid_filter',
    async () => {
      const code = actionCode ?? 'solar_pv';
      const bad: [string, Json][] = [
        ['an unknown code', { action: `conformance_unknown_${nonce()}` }],
        ['an empty list', { action: [] }],
        ['an empty code', { action: [code, ''] }],
        ['21 codes', { action: Array.from({ length: 21 }, () => code) }],
        ['another key', { conformance: code }],
      ];
      const problems: string[] = [];
      for (const [what, filters] of bad) {
        problems.push(...(await refusal(`POST /notifications with ${what} as a filter`, valid('RequestQuote:Create', filters), [400], 'invalid_filter')).map((p) => `${what}: ${p}`));
      }
      return problems;
    },
  );
  await checked(report, 'POST /notifications without a key answers 401', () =>
    refusal('POST /notifications without a key', valid(), [401], undefined, null),
  );
  if (options.readOnlyApiKey !== undefined) {
    await checked(report, 'POST /notifications with a read-only key answers 403', () =>
      refusal('POST /notifications with a read-only key', valid(), [403], undefined, options.readOnlyApiKey),
    );
  }

  // One subscription's life: create, repeat, list, delete, delete again. A subscription the server
  // made with the wrong status is still one: the checks go on with its id, and it is deleted.
  const request = valid();
  let created: Json | undefined;
  let id: string | undefined;
  await checked(report, 'POST /notifications answers 201 with the subscription', async () => {
    const res = await subscribe(request);
    id = cleanup.record(res, 'POST /notifications answers 201 with the subscription');
    const problems = expectStatus(res, 201);
    const body = asObject(res.json);
    if (id !== undefined && body) {
      created = body;
      for (const key of ['event', 'uri'] as const) if (body[key] !== request[key]) problems.push(`${key} is not the one subscribed`);
      if (JSON.stringify(body['filters']) !== '{}') problems.push('filters are not the ones subscribed');
    }
    return problems;
  });
  const needsSubscription = (name: string, run: (id: string) => Promise<string[]>) =>
    checked(report, name, async () => (id === undefined ? ['not checked: POST /notifications named no subscription id'] : run(id)));
  const remove = async (subId: string): Promise<ApiResponse> => {
    const res = await api.send({ method: 'DELETE', path: `/notifications/${q(subId)}` });
    cleanup.gone(subId, res);
    return res;
  };

  await needsSubscription('POST /notifications again with the same event and uri answers 200 with the same id and secret', async (subId) => {
    const res = await subscribe(request);
    cleanup.record(res, 'POST /notifications again with the same event and uri');
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
  await needsSubscription('DELETE /notifications/{id} answers 204', async (subId) => expectStatus(await remove(subId), 204));
  // Contract 2.5: 410 for a subscription that was already deleted, 404 for an id that never existed.
  await needsSubscription('DELETE /notifications/{id} of a deleted subscription answers 410', async (subId) => expectStatus(await remove(subId), 410));
  await needsSubscription('GET /notifications no longer lists a deleted subscription', async (subId) => {
    const res = await api.send({ method: 'GET', path: '/notifications' });
    const problems = expectStatus(res, 200);
    if (listOf(res).some((s) => String(asObject(s)?.['id']) === subId)) problems.push('the deleted subscription is still listed');
    return problems;
  });
  await checked(report, 'DELETE /notifications/{id} of an unknown id answers 404', async () =>
    expectStatus(await api.send({ method: 'DELETE', path: `/notifications/ntf_conformance_${nonce()}` }), 404),
  );

  /** Subscribes with filters, checks the echo, and deletes the subscription again whatever the status. */
  const filteredSubscription = async (name: string, filters: Json, echoed: (filters: Json | undefined) => string[]): Promise<string[]> => {
    const res = await subscribe(valid('RequestQuote:Create', filters));
    const problems = expectStatus(res, 201);
    const body = asObject(res.json);
    problems.push(...echoed(asObject(body?.['filters']) ?? asObject(asObject(body?.['data'])?.['filters'])));
    const subId = cleanup.record(res, name);
    if (subId === undefined) return problems;
    const removal = await cleanup.removeNow(subId);
    // Removing it is the normal end of a passing check; worth saying only when something else failed, or it failed.
    if (problems.length > 0 || !removal.every((line) => line.endsWith('removed again'))) problems.push(...removal);
    return problems;
  };

  if (actionCode !== undefined) {
    const name = 'POST /notifications with an action filter answers 201 and keeps the filter';
    await checked(report, name, () =>
      filteredSubscription(name, { action: actionCode }, (filters) => (filters?.['action'] !== actionCode ? ['filters.action is not the one subscribed'] : [])),
    );
  }
  const twoCodes = actionCodes.slice(0, 2);
  if (twoCodes.length === 2) {
    const name = 'POST /notifications with an array of two action codes answers 201 and keeps the array';
    await checked(report, name, () =>
      filteredSubscription(name, { action: twoCodes }, (filters) =>
        JSON.stringify(filters?.['action']) !== JSON.stringify(twoCodes) ? ['filters.action is not the array subscribed'] : [],
      ),
    );
  } else {
    report.info('not checked: an array action filter (GET /actions listed fewer than two codes)');
  }
}
