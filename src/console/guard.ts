/**
 * What keeps another page open in the same browser from acting through a console (cross-site
 * request forgery), and the live updates' event stream. Both consoles use these for every action.
 *
 * An action is accepted only when all of these hold:
 * - it carries the console's token in the `x-console-token` header: a custom header that a
 *   cross-site form or `fetch` cannot send without a CORS preflight, which the consoles never grant;
 * - the browser says it came from the same origin (`Sec-Fetch-Site: same-origin`), when it says;
 * - its `Origin`, when sent, is the console's own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A fresh token for one console process; the page gets it in its HTML. */
export const newConsoleToken = (): string => randomBytes(24).toString('base64url');

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Why an action request is refused, or null when it comes from the console's own page. */
export const crossSiteRefusal = (req: IncomingMessage, token: string): string | null => {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return `the request came from another site (${site === 'cross-site' || site === 'same-site' ? site : 'unknown'})`;
  const origin = header(req, 'origin');
  const host = header(req, 'host');
  if (origin !== undefined && (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`))) return 'the request came from another origin';
  const sent = Buffer.from(header(req, 'x-console-token') ?? '');
  const expected = Buffer.from(token);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) return 'the request did not carry the console token';
  return null;
};

/** Answers 403 with a short JSON reason when the request is not the console's own. */
export const refuseCrossSite = (req: IncomingMessage, res: ServerResponse, token: string): boolean => {
  const reason = crossSiteRefusal(req, token);
  if (reason === null) return false;
  res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: { code: 'cross_site', message: reason } }));
  return true;
};

export interface EventStream {
  /** Sends one event (`event:` name and JSON `data:`). */
  send(event: string, data: unknown): void;
  readonly closed: boolean;
}

/**
 * Server-Sent Events on `res`: the headers, a comment every 15 s so proxies keep it open, and a
 * callback when the browser goes away (unsubscribe there).
 */
export const openEventStream = (req: IncomingMessage, res: ServerResponse, onClose: () => void): EventStream => {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': open\n\n');
  let closed = false;
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    onClose();
  };
  req.on('close', close);
  res.on('close', close);
  return {
    send: (event, data) => {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
  };
};
