/**
 * Servers that break the contract in one way, for the conformance kit's end-to-end tests: a proxy on
 * 127.0.0.1 in front of a sandbox, whose handler may answer itself, change the sandbox's answer or
 * pass it on.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRequest {
  method: string;
  /** The path and query as received, base path included (`/v1/notifications`). */
  path: string;
  body: string;
}

export interface ProxyAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Answers one request; `forward` asks the sandbox and resolves with its answer. */
export type ProxyHandler = (req: ProxyRequest, forward: () => Promise<ProxyAnswer>) => Promise<ProxyAnswer>;

export interface Proxy {
  /** The API base of the proxy (`http://127.0.0.1:PORT/v1`). */
  url: string;
  close(): Promise<void>;
}

const PASSED_ON = ['content-type', 'retry-after', 'allow'];

/** A proxy to `target` (a sandbox's origin, `http://127.0.0.1:PORT`) whose answers `handler` decides. */
export async function startProxy(target: { url: string }, handler: ProxyHandler = (_req, forward) => forward()): Promise<Proxy> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const forward = async (): Promise<ProxyAnswer> => {
        const upstream = await fetch(`${target.url}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(body.length > 0 ? { body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        const out: Record<string, string> = {};
        for (const name of PASSED_ON) {
          const value = upstream.headers.get(name);
          if (value !== null) out[name] = value;
        }
        return { status: upstream.status, body: await upstream.text(), headers: out };
      };
      handler({ method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString('utf8') }, forward)
        .then((answer) => {
          const out = answer.body === '' ? {} : { 'content-type': 'application/json', ...answer.headers };
          res.writeHead(answer.status, out).end(answer.body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Changes the sandbox's answers with a plain function of the request and the answer. */
export const tampering =
  (tamper: (req: ProxyRequest, res: ProxyAnswer) => ProxyAnswer): ProxyHandler =>
  async (req, forward) =>
    tamper(req, await forward());

const isSubscribe = (req: ProxyRequest): boolean => req.method === 'POST' && req.path === '/v1/notifications';

/** A server that answers `200` where the contract says `201` to a subscribe, and is otherwise right. */
export const subscribeAnswers200: ProxyHandler = tampering((req, res) => (isSubscribe(req) && res.status === 201 ? { ...res, status: 200 } : res));

/** A server whose `DELETE /notifications/{id}` always fails with a 500 (and deletes nothing). */
export const deleteFails: ProxyHandler = async (req, forward) =>
  req.method === 'DELETE' && req.path.startsWith('/v1/notifications/')
    ? { status: 500, body: JSON.stringify({ error: { code: 'internal_error', message: 'the store is unavailable' } }) }
    : forward();

/**
 * A server that answers 201 to a subscribe without an id when it has filters (and is otherwise
 * right): the kit can find such subscriptions only by their hook URL.
 */
export const filteredSubscribeWithoutId: ProxyHandler = tampering((req, res) => {
  if (!isSubscribe(req) || res.status !== 201) return res;
  const sent = JSON.parse(req.body) as { filters?: Record<string, unknown> };
  if (Object.keys(sent.filters ?? {}).length === 0) return res;
  const body = JSON.parse(res.body) as Record<string, unknown>;
  delete body['id'];
  return { ...res, body: JSON.stringify(body) };
});

/**
 * A server that accepts the subscribes the contract refuses (an unknown event, a bad uri, a bad
 * filter): where the sandbox answers 400 it answers 201 and keeps the subscription itself, listing
 * it with the sandbox's and deleting it like one (204, then 410).
 */
export function acceptingBadSubscribes(): { handler: ProxyHandler; kept: () => string[] } {
  const kept = new Map<string, Record<string, unknown>>();
  const deleted = new Set<string>();
  let next = 0;
  const handler: ProxyHandler = async (req, forward) => {
    if (isSubscribe(req)) {
      const upstream = await forward();
      if (upstream.status !== 400) return upstream;
      const sent = JSON.parse(req.body) as Record<string, unknown>;
      const sub = {
        id: `ntf_lenient${++next}`,
        type: 'webhook',
        event: sent['event'],
        uri: sent['uri'],
        filters: sent['filters'] ?? {},
        created_at: new Date().toISOString(),
      };
      kept.set(sub.id, sub);
      return { status: 201, body: JSON.stringify({ ...sub, secret: 'whsec_bGVuaWVudCBzZXJ2ZXIgc2VjcmV0IDAx' }) };
    }
    if (req.method === 'GET' && req.path === '/v1/notifications') {
      const upstream = await forward();
      if (upstream.status !== 200) return upstream;
      const list = JSON.parse(upstream.body) as { data: unknown[] };
      return { ...upstream, body: JSON.stringify({ data: [...list.data, ...kept.values()] }) };
    }
    const m = /^\/v1\/notifications\/([^/?]+)$/.exec(req.path);
    if (req.method === 'DELETE' && m) {
      const id = decodeURIComponent(m[1] as string);
      if (kept.delete(id)) {
        deleted.add(id);
        return { status: 204, body: '' };
      }
      if (deleted.has(id)) return { status: 410, body: JSON.stringify({ error: { code: 'gone', message: 'already deleted' } }) };
    }
    return forward();
  };
  return { handler, kept: () => [...kept.keys()] };
}
