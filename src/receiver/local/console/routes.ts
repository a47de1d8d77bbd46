/**
 * The receiver's console (`CONSOLE_PORT`): a page for the partner running `npm run receiver` that
 * shows what arrived (outcomes per minute, recent deliveries, live), the outbox (pending,
 * delivered, dead letters with their attempts and last error) and replays a dead letter or writes
 * out again an item the reader never got, with a click. Its own server, on 127.0.0.1 only: never
 * the delivery port, never another interface, whatever HOST says.
 *
 * Items are masked in every list and in the event stream (mask.ts); one item is shown as it is
 * only through the reveal action. Every action (replay, re-emit, reveal) is a POST that must come
 * from the console's own page (refuseCrossSite); requests naming another host are refused, so a
 * page elsewhere cannot reach the console through a DNS name pointed at 127.0.0.1.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSOLE_SECURITY_HEADERS, consolePage, consoleResource } from '../../../console/page';
import { newConsoleToken, openEventStream, refuseCrossSite, type EventStream } from '../../../console/guard';
import type { ReceiverLog } from '../../log';
import { sqliteReason } from '../../sqlite-errors';
import type { BrowsedRow, SqliteOutbox } from '../outbox';
import { replayIn } from '../replay';
import type { DeliveryActivity } from './activity';
import { maskedSummary, maskPersonal } from './mask';

/** The console is only ever served here. */
export const CONSOLE_HOST = '127.0.0.1';

const FOLDER = ['src', 'receiver', 'local', 'console'] as const;

/** An action's JSON body is a name or two: anything larger is not the console's page. */
const MAX_ACTION_BYTES = 4_096;

export interface ReceiverConsoleOptions {
  readonly port: number;
  readonly outbox: SqliteOutbox;
  readonly activity: DeliveryActivity;
  /** A forwarder posts the outbox's items (FORWARD_URL); else standard output is the hand-off. */
  readonly forwarding: boolean;
  readonly log: ReceiverLog;
  /** How often the outbox is looked at for changes while a page is open (default 1000 ms). */
  readonly pollMs?: number;
  readonly token?: string;
}

export interface ReceiverConsole {
  /** e.g. http://127.0.0.1:8788/console */
  readonly url: string;
  close(): Promise<void>;
}

/** An outbox row as every view shows it: the item masked, a masked line naming who it is about. */
export interface ConsoleRow {
  /** `<event>/<id>`: what the actions name. */
  readonly name: string;
  readonly event: string;
  readonly eventId: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly who: string | null;
  readonly item: unknown;
}

export const consoleRow = (row: BrowsedRow): ConsoleRow => ({
  name: `${row.event}/${row.eventId}`,
  event: row.event,
  eventId: row.eventId,
  state: row.state,
  attempts: row.attempts,
  lastError: row.lastError,
  createdAt: row.createdAt,
  who: maskedSummary(row.item),
  item: maskPersonal(row.item),
});

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const problem = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } });

/** The action's `name`, or undefined when the body is not `{"name": "…"}` within the limit. */
const readName = (req: http.IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ACTION_BYTES) chunks.push(chunk);
    });
    req.on('error', () => resolve(undefined));
    req.on('end', () => {
      if (size > MAX_ACTION_BYTES) return resolve(undefined);
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown };
        resolve(typeof body.name === 'string' && body.name.trim() !== '' && body.name.length <= 2_100 ? body.name.trim() : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });

export const startReceiverConsole = async (options: ReceiverConsoleOptions): Promise<ReceiverConsole> => {
  const { outbox, activity, log, forwarding } = options;
  const token = options.token ?? newConsoleToken();
  const pollMs = options.pollMs ?? 1_000;
  let port = options.port;
  const streams = new Set<EventStream & { lastOutbox: string; lastMinute: string }>();

  const outboxView = () => ({ counts: outbox.counts(), rows: outbox.browse().map(consoleRow) });
  const snapshot = () => ({ forwarding, outcomes: activity.outcomes(), deliveries: activity.recent(), outbox: outboxView() });

  /** Sends each open page what changed in the outbox, and the outcomes when a new minute began. */
  const refresh = () => {
    if (streams.size === 0) return;
    let view: string;
    try {
      view = JSON.stringify(outboxView());
    } catch (error) {
      log.warn('console could not read the outbox', { reason: sqliteReason(error) });
      return;
    }
    const outcomes = activity.outcomes();
    const minute = outcomes[outcomes.length - 1]!.minute;
    for (const stream of streams) {
      if (stream.lastOutbox !== view) {
        stream.lastOutbox = view;
        stream.send('outbox', JSON.parse(view));
      }
      if (stream.lastMinute !== minute) {
        stream.lastMinute = minute;
        stream.send('outcomes', outcomes);
      }
    }
  };
  const poller = setInterval(refresh, pollMs);
  poller.unref();
  const unsubscribe = activity.subscribe((delivery) => {
    const outcomes = activity.outcomes();
    for (const stream of streams) stream.send('delivery', { delivery, outcomes });
    // A delivery usually adds an outbox row: shown now rather than at the next poll.
    setImmediate(refresh);
  });

  const ownHost = (req: http.IncomingMessage) => {
    const host = req.headers.host ?? '';
    return host === `${CONSOLE_HOST}:${port}` || host === `localhost:${port}`;
  };

  const act = async (req: http.IncomingMessage, res: http.ServerResponse, action: 'replay' | 'resend' | 'reveal') => {
    if (refuseCrossSite(req, res, token)) {
      log.warn('console action refused', { action, reason: 'not from the console page' });
      return;
    }
    const name = await readName(req);
    if (name === undefined) return problem(res, 400, 'bad_request', 'Send {"name": "<event>/<id>"} as JSON.');
    const row = outbox.find(name);
    if (row === undefined) return problem(res, 404, 'unknown', `${name} is unknown to this receiver.`);
    const ids = { event: row.event, event_id: row.eventId };
    if (action === 'reveal') {
      const found = outbox.findItem(name);
      // The one place an item leaves unmasked: the answer to this request, never a log or a list.
      log.info('item revealed in the console', ids);
      return json(res, 200, { name, item: found?.item ?? null });
    }
    if (action === 'replay') {
      const lines: string[] = [];
      const code = replayIn(outbox, [name], (line) => void lines.push(line));
      log.info(code === 0 ? 'dead letter replayed from the console' : 'console replay: nothing replayed', { ...ids, outcome: code === 0 ? 'replayed' : 'not_replayed' });
      setImmediate(refresh);
      return json(res, code === 0 ? 200 : 409, { replayed: code === 0, message: lines.join(' ') });
    }
    try {
      const { resent } = await outbox.resend([name]);
      log.info(resent.length > 0 ? 'item written out again from the console' : 'console re-emit: nothing written', ids);
      setImmediate(refresh);
      return json(res, resent.length > 0 ? 200 : 409, {
        resent: resent.length > 0,
        message: resent.length > 0 ? `${name}: written to standard output again.` : `${name}: not written again, its state is ${row.state} (only items the reader never got are).`,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'standard output failed';
      return problem(res, 503, 'unavailable', `${name}: not written again: ${reason}.`);
    }
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (!ownHost(req)) return problem(res, 421, 'wrong_host', `The console answers at ${CONSOLE_HOST}:${port} only.`);
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '/' || path === '/console/') {
          res.writeHead(302, { ...CONSOLE_SECURITY_HEADERS, location: '/console' }).end();
          return;
        }
        if (path === '/console') {
          const page = consolePage({ title: 'Receiver console', script: '/console/app.js', data: { token } });
          res.writeHead(200, { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(page);
          return;
        }
        if (path === '/favicon.ico') {
          res.writeHead(204, CONSOLE_SECURITY_HEADERS).end();
          return;
        }
        if (path === '/console/api/state') return json(res, 200, snapshot());
        if (path === '/console/api/stream') {
          const stream = Object.assign(
            openEventStream(req, res, () => void streams.delete(stream)),
            { lastOutbox: '', lastMinute: '' },
          );
          const state = snapshot();
          stream.lastOutbox = JSON.stringify(state.outbox);
          stream.lastMinute = state.outcomes[state.outcomes.length - 1]!.minute;
          stream.send('state', state);
          streams.add(stream);
          return;
        }
        const asset = consoleResource(FOLDER, path);
        if (asset) {
          res.writeHead(200, { ...CONSOLE_SECURITY_HEADERS, 'content-type': asset.contentType, 'content-length': asset.body.length }).end(asset.body);
          return;
        }
        return problem(res, 404, 'not_found', 'Nothing here; the console is at /console.');
      }
      if (req.method === 'POST') {
        if (path === '/console/api/replay') return act(req, res, 'replay');
        if (path === '/console/api/resend') return act(req, res, 'resend');
        if (path === '/console/api/reveal') return act(req, res, 'reveal');
      }
      return problem(res, 404, 'not_found', 'Nothing here; the console is at /console.');
    })().catch((error: unknown) => {
      log.error('console request failed', { reason: sqliteReason(error) });
      if (!res.headersSent) problem(res, 500, 'internal', 'The console failed; try again.');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, CONSOLE_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${CONSOLE_HOST}:${port}/console`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(poller);
        unsubscribe();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
