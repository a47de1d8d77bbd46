/**
 * What the receiver's logs may say: ids, counts, outcomes and reasons, never a payload value, a
 * secret, a signature or a piece of the body (src/receiver/log.ts). Every outcome is driven with a
 * delivery full of personal data, on the real handler, SQLite store, outbox and Node server where
 * they can be, and every line written meanwhile (the receiver's log, and anything else that reaches
 * standard output, standard error or the console) is searched for each sensitive value.
 *
 * Each case is one row of a table: what it does, the answer it must get and the log lines that
 * prove it happened (so a case cannot pass with nothing logged). A new outcome is one more row.
 */
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import nock from 'nock';
import { createReceiver, MAX_BODY_BYTES, MAX_EVENT_ID_BYTES, MAX_NESTING_DEPTH, MAX_RECORDS_PER_DELIVERY, type ReceiverDeps, type ReceiverHandler } from '../../src/receiver/handler';
import type { HandOff } from '../../src/receiver/hand-off';
import { jsonLog } from '../../src/receiver/log';
import { openSqliteOutbox, type SqliteOutbox } from '../../src/receiver/local/outbox';
import { startReceiverServer, type ReceiverServer } from '../../src/receiver/local/server';
import { StoreUnavailableError, type DedupeStore } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
import { waitUntil, within } from '../support/bounded-wait';
import { fixture, OTHER_SECRET, RecordingHandOff, SECRET, signed, type SignedRequest } from '../support/receiver-kit';

// ---------------------------------------------------------------------------------------------
// The sensitive values

/** A customer, in every personal field of a RequestQuote:Create record. */
const PERSON = {
  first_name: 'Siobhan',
  last_name: 'Kowalczyk',
  reply_email: 'siobhan.kowalczyk@example.com.au',
  reply_phone: '0412 987 654',
  street: '41 Wattlebird Crescent, Brunswick East',
  postcode: '3057',
  comments: 'Gate code 4471; the dog is friendly. Please call after 5pm, never before.',
} as const;

/** Placed in the body: found in a log line only if a piece of the body was logged. */
const MARKER = 'BodyMarker-q7Zx3Kw9';

/** Another person's email, used as a record's `event` name. */
const PERSONAL_EVENT_NAME = 'olivia.nguyen@example.net';

/** A `webhook-id` header holding an email and kilobytes: an unauthenticated sender chooses it. */
const LONG_PART = 'LongIdPart'.repeat(600);
const PERSONAL_WEBHOOK_ID = `msg_${PERSON.reply_email}_${LONG_PART}`;

const keyOf = (secret: string) => secret.slice('whsec_'.length);

interface Needle {
  readonly name: string;
  readonly found: (text: string) => boolean;
}

/** Found case-insensitively anywhere in the text. */
const anyOf = (name: string, ...values: string[]): Needle => ({
  name,
  found: (text) => values.some((value) => text.toLowerCase().includes(value.toLowerCase())),
});

/** The values no log line may hold, by name; `signatures` are the header values sent in the case. */
const needles = (signatures: readonly string[]): Needle[] => [
  anyOf('first name', PERSON.first_name),
  anyOf('last name', PERSON.last_name),
  anyOf('email', PERSON.reply_email, PERSON.reply_email.replace('@', '%40')),
  anyOf('phone', PERSON.reply_phone, PERSON.reply_phone.replace(/\s/g, ''), `+61${PERSON.reply_phone.replace(/\s/g, '').slice(1)}`),
  anyOf('street address', PERSON.street, 'Wattlebird'),
  // Four digits: not counted inside a longer run of letters or digits (a hash, a duration).
  { name: 'postcode', found: (text) => new RegExp(`(?<![\\w.])${PERSON.postcode}(?![\\w])`).test(text) },
  anyOf('comments', PERSON.comments, 'Gate code 4471', 'dog is friendly'),
  anyOf('body marker', MARKER),
  // A piece of the body as JSON: keys no log line has.
  anyOf('body field names', '"quote_request_id":', '"occurred_at":', '"reply_email":', '"first_name":', '"offer_price":', '"reference":'),
  anyOf('personal event name', PERSONAL_EVENT_NAME),
  anyOf('long webhook-id', LONG_PART.slice(0, 40)),
  anyOf(
    'signing secret',
    ...[SECRET, OTHER_SECRET].flatMap((secret) => [secret, keyOf(secret), keyOf(secret).slice(0, 16), Buffer.from(keyOf(secret), 'base64').toString('hex')]),
  ),
  anyOf(
    'webhook-signature',
    ...signatures.flatMap((header) => [
      header,
      ...header
        .split(' ')
        .map((part) => part.slice(part.indexOf(',') + 1))
        .filter((part) => part.length >= 16)
        .flatMap((part) => [part, part.slice(0, 16)]),
    ]),
  ),
];

/** What a line is searched as: as written, and as its decoded keys and values (the time left out). */
const textsOf = (line: string): string[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [line];
  }
  if (parsed === null || typeof parsed !== 'object') return [line];
  const { time: _time, ...rest } = parsed as Record<string, unknown>;
  const flat: string[] = [];
  const walk = (value: unknown): void => {
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        flat.push(key);
        walk(inner);
      }
    } else flat.push(String(value));
  };
  walk(rest);
  return [JSON.stringify(rest), flat.join('\n')];
};

/** Which sensitive values the lines hold, by name (never the values), each with where it was. */
const leaksIn = (lines: readonly string[], signatures: readonly string[]): Map<string, string[]> => {
  const leaks = new Map<string, string[]>();
  lines.forEach((line, index) => {
    const texts = textsOf(line);
    for (const needle of needles(signatures)) {
      if (texts.some(needle.found)) leaks.set(needle.name, [...(leaks.get(needle.name) ?? []), `line ${index + 1} of ${lines.length}`]);
    }
  });
  return leaks;
};

// ---------------------------------------------------------------------------------------------
// Deliveries

/** A RequestQuote:Create record with every personal field filled, and the marker first, amid and last. */
const quote = (eventId: string): Record<string, unknown> => ({
  reference: MARKER,
  ...fixture('quote_request_created'),
  event_id: eventId,
  ...PERSON,
  offer_description: `Eight 375 W panels and a 3 kW inverter. ${MARKER}`,
  internal_reference: MARKER,
});

/** Nested past the limit, as text (serialising it would overflow the stack). */
const tooDeep = (eventId: string): string => {
  const depth = MAX_NESTING_DEPTH * 4;
  return `${JSON.stringify(quote(eventId)).slice(0, -1)},"extra":${'['.repeat(depth)}"${MARKER}"${']'.repeat(depth)}}`;
};

// ---------------------------------------------------------------------------------------------
// One case's world: a fresh SQLite store and outbox, and everything written while it runs

interface Kit {
  readonly store: DedupeStore;
  readonly outbox: SqliteOutbox;
  /** The outbox's item stream (the hand-off itself, not a log): ends it to make the hand-off fail. */
  readonly itemStream: PassThrough;
  /** Items the outbox wrote downstream. */
  readonly items: string[];
  /** The receiver's log lines, as written. */
  readonly lines: string[];
  readonly deps: ReceiverDeps;
  receiver(overrides?: Partial<ReceiverDeps>): ReceiverHandler;
  /** A delivery signed as the platform signs it; its signature header is remembered as sensitive. */
  sign(body: unknown, options?: { secret?: string; webhookId?: string }): SignedRequest;
  /** A header value that must not be logged either (a made-up signature). */
  remember(signatureHeader: string): void;
  readonly signatures: string[];
  /** The Node server on 127.0.0.1, port 0, in front of `handler` (default: the real receiver). */
  serve(handler?: ReceiverHandler): Promise<ReceiverServer>;
  close(): Promise<void>;
}

const openKit = (): Kit => {
  const dir = mkdtempSync(join(tmpdir(), 'log-privacy-'));
  const file = join(dir, 'receiver.db');
  const store = openSqliteStore(file);
  const itemStream = new PassThrough();
  const items: string[] = [];
  itemStream.setEncoding('utf8').on('data', (chunk: string) => items.push(chunk));
  const outbox = openSqliteOutbox(file, { lines: itemStream });
  const lines: string[] = [];
  const log = jsonLog((line) => void lines.push(line));
  const deps: ReceiverDeps = { secrets: () => [SECRET], store, handOff: outbox, log };
  const signatures: string[] = [];
  const servers: ReceiverServer[] = [];
  return {
    store,
    outbox,
    itemStream,
    items,
    lines,
    deps,
    signatures,
    receiver: (overrides = {}) => createReceiver({ ...deps, ...overrides }),
    sign: (body, options = {}) => {
      const request = signed(body, { webhookId: PERSONAL_WEBHOOK_ID, ...options });
      signatures.push(request.headers['webhook-signature']!);
      return request;
    },
    remember: (header) => void signatures.push(header),
    serve: async (handler) => {
      const server = await startReceiverServer(handler ?? createReceiver(deps), { host: '127.0.0.1', port: 0, log });
      servers.push(server);
      return server;
    },
    close: async () => {
      for (const server of servers) await within(server.close(), { what: 'the server to close', timeoutMs: 10_000 }).catch(() => undefined);
      await outbox.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Everything else written while a case runs: standard output and error, and the console. */
const captureOtherOutput = () => {
  const text: string[] = [];
  const keep = (chunk: unknown) => void text.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (keep(chunk), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (keep(chunk), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => keep(args.map(String).join(' '))),
    ),
  ];
  return { text, stop: () => spies.forEach((spy) => spy.mockRestore()) };
};

// ---------------------------------------------------------------------------------------------
// Stand-ins, only where a real piece cannot be made to fail this way

/** The store, with some of its methods replaced (whatever their parameters). */
const storeWith = (store: DedupeStore, replaced: Partial<Record<'claim' | 'complete' | 'release', () => Promise<never>>>): DedupeStore =>
  new Proxy(store, {
    get: (target, property, receiver) => {
      const replacement = replaced[property as keyof typeof replaced];
      if (replacement) return replacement;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });

const storeDown = () => Promise.reject(new StoreUnavailableError('sqlite:/data/receiver.db unavailable: SQLITE_BUSY: database is locked'));

/** A hand-off that holds every batch until `open()`, then passes it to `next`. */
const heldHandOff = (next: HandOff) => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered = 0;
  const handOff: HandOff = {
    description: 'held',
    send: async (items) => {
      entered += 1;
      await gate;
      return next.send(items);
    },
  };
  return { handOff, open, entered: () => entered };
};

// ---------------------------------------------------------------------------------------------
// HTTP, one options object per request (zapier-platform-core patches http.request in jest workers)

interface Exchange {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends `chunks` (chunked, unless a content-length header is given) and resolves with the answer.
 * `hold`: write the chunks but never end the body; `abortWhen`: then, once it holds, destroy the
 * request and resolve with status 0 (no answer is expected).
 */
const exchange = (
  url: string,
  options: { method?: string; headers: Record<string, string>; chunks: readonly Buffer[]; hold?: boolean; abortWhen?: () => boolean },
): Promise<Exchange> => {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ method: options.method ?? 'POST', hostname, port, path: pathname, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.setTimeout(20_000, () => {
      req.destroy();
      reject(new Error('no answer within 20 s'));
    });
    // The server may answer and close while the body is still being written: the answer counts.
    req.on('error', (error) => (options.abortWhen || req.writableEnded ? undefined : reject(error)));
    const write = (index: number): void => {
      if (req.destroyed) return;
      if (index === options.chunks.length) {
        if (options.abortWhen) {
          req.flushHeaders();
          waitUntil(options.abortWhen, { what: 'the server to start reading the upload', timeoutMs: 10_000 }).then(() => {
            req.once('close', () => resolve({ status: 0, body: '' }));
            req.destroy();
          }, reject);
        } else if (!options.hold) req.end();
        else req.flushHeaders();
        return;
      }
      if (req.write(options.chunks[index]!)) write(index + 1);
      else req.once('drain', () => write(index + 1));
    };
    write(0);
  });
};

// ---------------------------------------------------------------------------------------------
// The cases

interface Case {
  readonly name: string;
  /** The HTTP status answered; null when no answer is expected (the sender went away). */
  readonly status: number | null;
  /** Each must match one of the case's log lines; empty: the case must log nothing at all. */
  readonly logged: ReadonlyArray<Record<string, unknown>>;
  /** Drives the outcome; resolves with the status answered (the last one, for several deliveries). */
  readonly run: (kit: Kit) => Promise<number | null>;
}

const statusOf = async (answer: Promise<{ status: number }> | { status: number } | undefined) => (await answer)?.status ?? null;

const handlerCases: Case[] = [
  {
    name: 'accepted (200)',
    status: 200,
    logged: [{ outcome: 'accepted' }],
    run: async (kit) => {
      const status = await statusOf(kit.receiver()(kit.sign(quote('evt_privacy_accepted'))));
      // The personal data did go downstream: only the log must not have it.
      expect(kit.items.join('')).toContain(PERSON.reply_email);
      return status;
    },
  },
  {
    name: 'accepted (200), with records whose event names are personal data',
    status: 200,
    logged: [{ outcome: 'accepted' }, { message: 'record skipped: not one of the six events' }],
    run: (kit) =>
      statusOf(
        kit.receiver()(
          kit.sign([quote('evt_privacy_named'), { ...quote('evt_privacy_named_2'), event: PERSONAL_EVENT_NAME }, { ...quote('evt_privacy_named_3'), event: PERSON.reply_email }]),
        ),
      ),
  },
  {
    name: 'duplicate (200): a second delivery of the same event',
    status: 200,
    logged: [{ outcome: 'accepted' }, { outcome: 'duplicate' }],
    run: async (kit) => {
      const handle = kit.receiver();
      expect((await handle(kit.sign(quote('evt_privacy_dup')))).status).toBe(200);
      return statusOf(handle(kit.sign(quote('evt_privacy_dup'))));
    },
  },
  {
    name: 'in_progress (429): another delivery holds the claim',
    status: 429,
    logged: [{ outcome: 'in_progress' }, { outcome: 'accepted' }],
    run: async (kit) => {
      const held = heldHandOff(kit.outbox);
      const handle = kit.receiver({ handOff: held.handOff });
      const first = handle(kit.sign(quote('evt_privacy_busy')));
      await waitUntil(() => held.entered() > 0, { what: 'the first delivery to reach the hand-off', timeoutMs: 10_000, state: () => ({ lines: kit.lines.length }) });
      const second = await handle(kit.sign(quote('evt_privacy_busy')));
      held.open();
      expect((await within(first, { what: 'the first delivery to be answered', timeoutMs: 10_000 })).status).toBe(200);
      return second.status;
    },
  },
  {
    name: 'rejected signature (401): signed with another secret',
    status: 401,
    logged: [{ outcome: 'rejected_signature' }],
    run: (kit) => statusOf(kit.receiver()(kit.sign(quote('evt_privacy_other_secret'), { secret: OTHER_SECRET }))),
  },
  {
    name: 'rejected signature (401): a body changed after signing',
    status: 401,
    logged: [{ outcome: 'rejected_signature' }],
    run: (kit) => {
      const request = kit.sign(quote('evt_privacy_changed'));
      return statusOf(kit.receiver()({ ...request, body: request.body.replace(PERSON.street, '1 Other Street') }));
    },
  },
  {
    name: 'rejected signature (401) from the headers alone (refuseEarly): no signature, a personal webhook-id',
    status: 401,
    logged: [{ outcome: 'rejected_signature' }],
    run: async (kit) => statusOf(kit.receiver().refuseEarly?.({ method: 'POST', headers: { 'webhook-id': PERSONAL_WEBHOOK_ID } })),
  },
  {
    name: 'rejected signature (401) from the headers alone (refuseEarly): a stale timestamp and a made-up signature',
    status: 401,
    logged: [{ outcome: 'rejected_signature' }],
    run: async (kit) => {
      const signature = `v1,${Buffer.from(`${MARKER}-${PERSON.reply_email}`).toString('base64')}`;
      kit.remember(signature);
      const headers = { 'webhook-id': PERSONAL_WEBHOOK_ID, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600), 'webhook-signature': signature };
      return statusOf(kit.receiver().refuseEarly?.({ method: 'POST', headers }));
    },
  },
  {
    name: 'refused (400): not JSON',
    status: 400,
    logged: [{ outcome: 'not_events' }],
    run: (kit) => statusOf(kit.receiver()(kit.sign(JSON.stringify(quote('evt_privacy_not_json')).slice(0, -40)))),
  },
  {
    name: 'refused (400): no recognised events (their event names are personal data)',
    status: 400,
    logged: [{ outcome: 'not_events' }],
    run: (kit) =>
      statusOf(
        kit.receiver()(kit.sign([{ ...quote('evt_privacy_unknown_1'), event: PERSONAL_EVENT_NAME }, { ...quote('evt_privacy_unknown_2'), event: PERSON.reply_email }])),
      ),
  },
  {
    name: 'refused (400): nesting too deep',
    status: 400,
    logged: [{ outcome: 'not_events' }],
    run: (kit) => statusOf(kit.receiver()(kit.sign(tooDeep('evt_privacy_deep')))),
  },
  {
    name: 'refused (400): an event id too long (holding personal data)',
    status: 400,
    logged: [{ outcome: 'not_events' }],
    run: (kit) =>
      statusOf(kit.receiver()(kit.sign(quote(`evt_${PERSON.reply_email}_${MARKER}_${'x'.repeat(MAX_EVENT_ID_BYTES)}`)))),
  },
  {
    name: 'refused (413): body too large',
    status: 413,
    logged: [{ outcome: 'too_large' }],
    run: (kit) => {
      const body = { ...quote('evt_privacy_huge'), comments: `${PERSON.comments} `.repeat(Math.ceil(MAX_BODY_BYTES / PERSON.comments.length) + 1) };
      return statusOf(kit.receiver()(kit.sign(body)));
    },
  },
  {
    name: 'refused (413): an item too large for the hand-off',
    status: 413,
    logged: [{ outcome: 'too_large', stage: 'hand-off' }],
    run: (kit) => {
      const handOff = new RecordingHandOff();
      handOff.tooLarge.add('evt_privacy_item_too_large');
      return statusOf(kit.receiver({ handOff })(kit.sign([quote('evt_privacy_item_fits'), quote('evt_privacy_item_too_large')])));
    },
  },
  {
    name: 'unavailable (503): the store fails on claim',
    status: 503,
    logged: [{ outcome: 'unavailable', stage: 'claim' }],
    run: (kit) => statusOf(kit.receiver({ store: storeWith(kit.store, { claim: storeDown }) })(kit.sign(quote('evt_privacy_store_down')))),
  },
  {
    name: 'unavailable (503): the SQLite store is closed',
    status: 503,
    logged: [{ outcome: 'unavailable', stage: 'claim' }],
    run: async (kit) => {
      await kit.store.close();
      return statusOf(kit.receiver()(kit.sign(quote('evt_privacy_store_closed'))));
    },
  },
  {
    name: 'unavailable (503): the hand-off throws',
    status: 503,
    logged: [{ outcome: 'unavailable', stage: 'hand-off' }],
    run: (kit) => {
      const handOff = new RecordingHandOff();
      handOff.throwNext = true;
      return statusOf(kit.receiver({ handOff })(kit.sign(quote('evt_privacy_handoff_throws'))));
    },
  },
  {
    name: 'unavailable (503): the outbox cannot write its items out (the reader went away)',
    status: 503,
    logged: [{ outcome: 'unavailable', stage: 'hand-off' }],
    run: (kit) => {
      kit.itemStream.end();
      return statusOf(kit.receiver()(kit.sign(quote('evt_privacy_outbox_closed'))));
    },
  },
  {
    name: 'unavailable (503): the secrets cannot be read, with the secret in the error',
    status: 503,
    logged: [{ outcome: 'unavailable' }],
    run: (kit) => {
      const secrets = () => {
        throw new Error(`could not parse WEBHOOK_SECRETS="${SECRET}"`);
      };
      return statusOf(kit.receiver({ secrets })(kit.sign(quote('evt_privacy_secrets'))));
    },
  },
  {
    name: 'hand-off not recorded (200): handed off, but the store does not take the completion',
    status: 200,
    logged: [{ outcome: 'handoff_unrecorded', count: 1 }, { outcome: 'accepted' }],
    run: (kit) => statusOf(kit.receiver({ store: storeWith(kit.store, { complete: storeDown }) })(kit.sign(quote('evt_privacy_unrecorded')))),
  },
  {
    name: 'refused (413): more records than a delivery may hold',
    status: 413,
    logged: [{ outcome: 'too_many_records' }],
    run: (kit) => statusOf(kit.receiver()(kit.sign(Array.from({ length: MAX_RECORDS_PER_DELIVERY + 1 }, (_, n) => quote(`evt_privacy_many_${n}`))))),
  },
  {
    name: 'unavailable (503): too little time left to take the delivery',
    status: 503,
    logged: [{ outcome: 'unavailable', stage: 'arrival' }],
    run: (kit) => statusOf(kit.receiver()({ ...kit.sign(quote('evt_privacy_late')), deadline: Date.now() + 1_200 })),
  },
];

/** A signed delivery's headers, for a body sent over HTTP (its content-length added). */
const headersFor = (request: SignedRequest): Record<string, string> => ({ ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) });

/** Over the limit in 256 KiB chunks, each full of personal data and the marker. */
const personalChunks = (): Buffer[] => {
  const chunk = Buffer.from(`${JSON.stringify(quote('evt_privacy_chunk'))} `.repeat(Math.ceil((256 * 1024) / 1000)).slice(0, 256 * 1024));
  return Array.from({ length: Math.ceil(MAX_BODY_BYTES / chunk.length) + 2 }, () => chunk);
};

const serverCases: Case[] = [
  {
    name: 'server: accepted (200) over HTTP',
    status: 200,
    logged: [{ outcome: 'accepted' }],
    run: async (kit) => {
      const server = await kit.serve();
      const request = kit.sign(quote('evt_privacy_http'));
      return (await exchange(server.url, { headers: headersFor(request), chunks: [Buffer.from(request.body)] })).status;
    },
  },
  {
    name: 'server: refused (413) a chunked body over the limit',
    status: 413,
    logged: [{ outcome: 'too_large' }],
    run: async (kit) => {
      const server = await kit.serve();
      const { headers } = kit.sign(quote('evt_privacy_http_chunked'));
      return (await exchange(server.url, { headers, chunks: personalChunks() })).status;
    },
  },
  {
    name: 'server: refused (413) a declared length over the limit, before its body',
    status: 413,
    logged: [{ outcome: 'too_large' }],
    run: async (kit) => {
      const server = await kit.serve();
      const { headers } = kit.sign(quote('evt_privacy_http_declared'));
      return (await exchange(server.url, { headers: { ...headers, 'content-length': String(MAX_BODY_BYTES + 1) }, chunks: personalChunks().slice(0, 1), hold: true })).status;
    },
  },
  {
    name: 'server: rejected signature (401) from the headers alone, before the body',
    status: 401,
    logged: [{ outcome: 'rejected_signature' }],
    run: async (kit) => {
      const server = await kit.serve();
      const body = Buffer.from(JSON.stringify(quote('evt_privacy_http_unsigned')));
      const headers = { 'content-type': 'application/json', 'content-length': String(body.length), 'webhook-id': PERSONAL_WEBHOOK_ID };
      return (await exchange(server.url, { headers, chunks: [body] })).status;
    },
  },
  {
    // The server answers 405 without a log line: nothing logged is the outcome checked.
    name: 'server: a method refused (405) before the body',
    status: 405,
    logged: [],
    run: async (kit) => {
      const server = await kit.serve();
      const request = kit.sign(quote('evt_privacy_http_put'));
      return (await exchange(server.url, { method: 'PUT', headers: headersFor(request), chunks: [Buffer.from(request.body)] })).status;
    },
  },
  {
    name: 'server: a sender that goes away before its body arrived',
    status: null,
    // Meant to be `aborted`; today the request's error (ECONNRESET) comes before its close, so the
    // server logs it as a failure inside the receiver (`error`). Either way the line is searched.
    logged: [{ outcome: expect.stringMatching(/^(aborted|error)$/) }],
    run: async (kit) => {
      const server = await kit.serve();
      const request = kit.sign(quote('evt_privacy_http_aborted'));
      const body = Buffer.from(request.body);
      let seen = false;
      server.server.once('request', () => (seen = true));
      await exchange(server.url, { headers: headersFor(request), chunks: [body.subarray(0, body.length >> 1)], abortWhen: () => seen });
      await waitUntil(() => kit.lines.length > 0, { what: 'the server to log the abandoned delivery', timeoutMs: 10_000 });
      return null;
    },
  },
  {
    name: 'server: the handler fails (500) with personal data in its error',
    status: 500,
    logged: [{ outcome: 'error' }],
    run: async (kit) => {
      const failing = Object.assign(
        async () => {
          throw new TypeError(`cannot read ${PERSON.reply_email} of ${MARKER}`);
        },
        { refuseEarly: () => undefined },
      );
      const server = await kit.serve(failing);
      const request = kit.sign(quote('evt_privacy_http_error'));
      return (await exchange(server.url, { headers: headersFor(request), chunks: [Buffer.from(request.body)] })).status;
    },
  },
];

// ---------------------------------------------------------------------------------------------

const parsedLines = (lines: readonly string[]) =>
  lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { unparsed: true };
    }
  });

const runCase = async (testCase: Case) => {
  const kit = openKit();
  const other = captureOtherOutput();
  let status: number | null;
  try {
    status = await within(testCase.run(kit), { what: `the case "${testCase.name}" to run`, timeoutMs: 20_000, state: () => ({ lines: kit.lines.length }) });
  } finally {
    other.stop();
    await kit.close();
  }

  // (1) The outcome really happened: its answer, and the log lines that say so.
  expect(status).toBe(testCase.status);
  if (testCase.logged.length === 0) expect(kit.lines).toHaveLength(0);
  for (const shape of testCase.logged) expect(parsedLines(kit.lines)).toContainEqual(expect.objectContaining(shape));

  // (2) No line holds a sensitive value. Only names and line numbers are reported.
  const leaks = leaksIn([...kit.lines, ...other.text], kit.signatures);
  if (leaks.size > 0) {
    const where = [...leaks].map(([name, at]) => `${name} (${at.join(', ')})`).join('; ');
    throw new Error(`log lines hold sensitive values: ${where}`);
  }
};

describe('the receiver logs no personal data, secret, signature or body', () => {
  it.each(handlerCases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => runCase(testCase));
});

describe('the Node server logs none either', () => {
  // Real HTTP to 127.0.0.1: nock's interception holds a request's bytes until its body ends, so
  // an upload held open or abandoned would never reach the server. Put back for the next suite.
  let nockWasActive = false;
  beforeAll(() => {
    nockWasActive = nock.isActive();
    nock.restore();
  });
  afterAll(() => {
    if (nockWasActive && !nock.isActive()) nock.activate();
  });

  it.each(serverCases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => runCase(testCase));
});

describe('the leak check itself', () => {
  it('finds each sensitive value by name, and nothing in an ordinary line', () => {
    const line = (fields: Record<string, unknown>) => JSON.stringify({ time: '2026-11-27T02:08:40.305Z', level: 'warn', message: 'delivery refused', ...fields });
    expect([...leaksIn([line({ outcome: 'accepted', webhook_id: 'msg_2Yx', events: 1, ms: 3 })], []).keys()]).toEqual([]);
    const leaked = leaksIn(
      [line({ reason: `bad ${JSON.stringify(quote('evt_1'))}` }), line({ named: PERSONAL_EVENT_NAME }), line({ secret: keyOf(SECRET), webhook_id: PERSONAL_WEBHOOK_ID.slice(0, 300) })],
      [],
    );
    expect([...leaked.keys()].sort()).toEqual(
      ['body field names', 'body marker', 'comments', 'email', 'first name', 'last name', 'long webhook-id', 'personal event name', 'phone', 'postcode', 'signing secret', 'street address'].sort(),
    );
  });
});
