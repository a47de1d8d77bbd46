/**
 * What stands between the platform and a fleet of receivers, made unreliable on purpose: it spreads
 * deliveries over several receiver processes (as a Function URL spreads them over Lambda
 * instances) and fails about `rate` of them: a 5xx without forwarding, a connection dropped before
 * forwarding, a delivery forwarded but answered only after the sender gave up (timeout), or one
 * forwarded and processed whose answer is lost (the platform must retry what was in fact taken).
 *
 * An attempt the sender abandoned (its own timeout, outside the deliberate `timeout` fault) is not
 * forwarded, and a forward still in flight is cancelled: as a load balancer closes the upstream
 * request when its client goes away. Otherwise, on a slow machine, abandoned attempts pile up on
 * the receivers beside their retries and nothing is ever answered in time.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng } from '../../src/sandbox/fixtures';

export type BalancerFault = 'server_error' | 'drop' | 'timeout' | 'ack_lost';

export interface FaultBalancer {
  readonly url: string;
  setUpstreams(urls: readonly string[]): void;
  /** `abandoned`: attempts the sender gave up on before they were answered, not forwarded or cancelled. */
  readonly counts: Record<BalancerFault | 'forwarded' | 'requests' | 'abandoned', number>;
  close(): Promise<void>;
}

const FAULTS: readonly BalancerFault[] = ['server_error', 'drop', 'timeout', 'ack_lost'];

/** The run was a real fault run: every kind of fault happened, and more than `share` of the requests met one. */
export const expectEveryFaultKind = (balancer: FaultBalancer, share = 0.1): void => {
  for (const kind of FAULTS) expect(balancer.counts[kind]).toBeGreaterThan(0);
  const faulted = FAULTS.reduce((sum, kind) => sum + balancer.counts[kind], 0);
  expect(faulted / balancer.counts.requests).toBeGreaterThan(share);
};

export const startFaultBalancer = async (options: {
  rate: number;
  modes: Partial<Record<BalancerFault, number>>;
  /**
   * How long a `timeout` holds the answer at most; it holds until the sender gives up, so keep this
   * longer than the sender's timeout.
   */
  holdMs: number;
  seed: number;
}): Promise<FaultBalancer> => {
  const random = createRng(options.seed);
  const weights = Object.entries(options.modes).filter(([, w]) => (w ?? 0) > 0) as Array<[BalancerFault, number]>;
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  const counts = { server_error: 0, drop: 0, timeout: 0, ack_lost: 0, forwarded: 0, requests: 0, abandoned: 0 };
  let upstreams: string[] = [];
  let next = 0;
  const held = new Set<NodeJS.Timeout>();

  const pickFault = (): BalancerFault | undefined => {
    if (random() >= options.rate) return undefined;
    let r = random() * total;
    for (const [mode, w] of weights) if ((r -= w) < 0) return mode;
    return weights[weights.length - 1]?.[0];
  };

  /** Forwards to the next upstream; `abandoned` aborts it (the client went away). */
  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
    abandoned: AbortSignal | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> => {
    const target = new URL(req.url ?? '/', upstreams[next++ % upstreams.length]);
    counts.forwarded += 1;
    return new Promise((resolve, reject) => {
      // The one-argument form: zapier-platform-core, loaded by other suites in this worker, patches
      // http.request in a way that drops the options of the (url, options) form.
      const upstream = http.request(
        {
          method: req.method,
          hostname: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          headers: { ...req.headers, host: target.host },
          agent: false,
          ...(abandoned ? { signal: abandoned } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  };

  const server = http.createServer((req, res) => {
    // The client (the sender) closed the connection before it had an answer: it gave up.
    let clientGone = false;
    const abandon = new AbortController();
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      abandon.abort();
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      counts.requests += 1;
      const body = Buffer.concat(chunks);
      const fault = pickFault();
      if (fault) counts[fault] += 1;
      if (fault === 'drop') return void req.socket.destroy();
      if (fault === 'server_error') {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
        return;
      }
      // The sender may already have given up while the body was read or the machine was busy.
      if (clientGone) {
        counts.abandoned += 1;
        return;
      }
      try {
        // The deliberate timeout is processed in full whatever the sender does; anything else is
        // cancelled when the sender goes away.
        const answer = await forward(req, body, fault === 'timeout' ? undefined : abandon.signal);
        if (fault === 'ack_lost') return void req.socket.destroy();
        if (fault === 'timeout') {
          // Held until the sender gives up (it closes the connection), or holdMs at most.
          if (clientGone) return;
          const timer = setTimeout(() => {
            held.delete(timer);
            req.socket.destroy();
          }, options.holdMs);
          held.add(timer);
          res.once('close', () => {
            clearTimeout(timer);
            held.delete(timer);
          });
          return;
        }
        res.writeHead(answer.status, { 'content-type': String(answer.headers['content-type'] ?? 'application/json'), ...(answer.headers['retry-after'] ? { 'retry-after': String(answer.headers['retry-after']) } : {}) });
        res.end(answer.body);
      } catch {
        if (clientGone) counts.abandoned += 1;
        else if (!res.headersSent) res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    setUpstreams: (urls) => void (upstreams = [...urls]),
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
