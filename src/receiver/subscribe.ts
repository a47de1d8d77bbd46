/**
 * `npm run subscribe -- --url <receiver URL> [--event <name>]… [--action <code>]…`: registers the
 * receiver on Ecologic, one subscription per event, with the same `POST /notifications` the Zapier
 * app makes when a Zap is turned on (contract section 2.4), and says where to store the signing
 * secrets the platform returns (they are shown only once).
 *   ECOLOGIC_API_KEY       an organisation API key (Settings → Partner API)
 *   ECOLOGIC_API_BASE_URL  default https://api.getecologic.com/v1 (a loopback http sandbox is allowed)
 */
import { parseArgs } from 'node:util';
import { ECOLOGIC_API_BASE_URL, ECOLOGIC_LINKS } from '../core/links';
import { isPlatformEvent, PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import { isHttpsOrLoopback } from '../core/net';

const API_KEYS_URL = ECOLOGIC_LINKS.apiKeys;
export const DEFAULT_API_BASE_URL = ECOLOGIC_API_BASE_URL;
const REQUEST_TIMEOUT_MS = 15_000;

export class SubscribeError extends Error {
  override readonly name = 'SubscribeError';
}

export interface Subscription {
  readonly event: PlatformEvent;
  readonly id: string;
  readonly secret: string | null;
  readonly existing: boolean;
}

/** https, or http on a loopback host (a sandbox); nothing else may carry an API key or a delivery. */
export const secureUrl = (value: string, what: string): URL => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SubscribeError(`${what} is not a valid URL`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new SubscribeError(`${what} must use https:// (http:// only on 127.0.0.1 or localhost, for a sandbox)`);
  }
  return url;
};

const platformMessage = (body: unknown): string | undefined => {
  const error = (body as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' ? error.message.slice(0, 200) : undefined;
};

/** Plain words for each answer the platform may give; its own message is added when it sent one. */
const failure = (status: number, body: unknown, event: string): SubscribeError => {
  const detail = platformMessage(body);
  const said = detail ? ` Ecologic said: "${detail}"` : '';
  if (status === 401) return new SubscribeError(`Ecologic refused the API key. Check ECOLOGIC_API_KEY, or make a new key at ${API_KEYS_URL}.${said}`);
  if (status === 403) return new SubscribeError(`This API key may not manage notifications; ask your organisation's Ecologic administrator.${said}`);
  if (status === 400 || status === 422) return new SubscribeError(`Ecologic did not accept the subscription to ${event}.${said}`);
  if (status === 429) return new SubscribeError(`Ecologic is limiting requests; wait a minute and run the command again.${said}`);
  return new SubscribeError(`Ecologic answered ${status} while subscribing to ${event}; try again in a few minutes.${said}`);
};

export const subscribe = async (options: {
  apiBaseUrl: string;
  apiKey: string;
  receiverUrl: string;
  events: readonly PlatformEvent[];
  actions?: readonly string[];
  fetch?: typeof fetch;
}): Promise<Subscription[]> => {
  const base = secureUrl(options.apiBaseUrl, 'ECOLOGIC_API_BASE_URL');
  const uri = secureUrl(options.receiverUrl, 'The receiver URL').toString();
  const send = options.fetch ?? fetch;
  const endpoint = `${base.toString().replace(/\/+$/, '')}/notifications`;
  const subscriptions: Subscription[] = [];
  for (const event of options.events) {
    const filters = event === 'RequestQuote:Create' && options.actions?.length ? { action: options.actions.length === 1 ? options.actions[0] : [...options.actions] } : {};
    let response: Response;
    try {
      response = await send(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ type: 'webhook', event, uri, filters }),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch {
      throw new SubscribeError(`Could not reach Ecologic at ${base.origin} to subscribe to ${event}; check the address and your connection.`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status !== 200 && response.status !== 201) throw failure(response.status, body, event);
    const record = ((body as { data?: unknown } | undefined)?.data ?? body) as { id?: unknown; secret?: unknown } | undefined;
    const id = typeof record?.id === 'string' || typeof record?.id === 'number' ? String(record.id) : '';
    if (id === '') throw new SubscribeError(`Ecologic's answer to the ${event} subscription has no id; contact Ecologic support.`);
    subscriptions.push({ event, id, secret: typeof record?.secret === 'string' && record.secret !== '' ? record.secret : null, existing: response.status === 200 });
  }
  return subscriptions;
};

/** What the operator reads: one line per subscription, then where the secrets go. */
export const report = (subscriptions: readonly Subscription[], receiverUrl: string): string => {
  const lines = [`Subscribed ${receiverUrl} to:`];
  for (const s of subscriptions) lines.push(`  ${s.event.padEnd(26)} ${s.id}${s.existing ? ' (already subscribed)' : ''}`);
  const secrets = [...new Set(subscriptions.map((s) => s.secret).filter((secret): secret is string => secret !== null))];
  if (secrets.length === 0) {
    lines.push('', 'Ecologic returned no signing secret: deliveries to this receiver are not signed, and the receiver refuses unsigned deliveries.');
    return lines.join('\n');
  }
  const value = secrets.join(' ');
  lines.push(
    '',
    'Signing secrets (shown only now; store them before closing this window):',
    `  ${value}`,
    '',
    'Store them where the receiver reads them:',
    `  npm run receiver:       ECOLOGIC_WEBHOOK_SECRETS='${value}' npm run receiver`,
    `  AWS (the stack's SecretArn output):`,
    `                          aws secretsmanager put-secret-value --secret-id <SecretArn> --secret-string '${value}'`,
    'Keep any secret still in use when you add new ones: the receiver accepts a delivery signed by any of them.',
  );
  return lines.join('\n');
};

export const main = async (argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const apiKey = env.ECOLOGIC_API_KEY?.trim();
  if (!apiKey) {
    process.stderr.write(`ECOLOGIC_API_KEY is not set: make an organisation API key at ${API_KEYS_URL} and put it in ECOLOGIC_API_KEY.\n`);
    return 2;
  }
  try {
    const subscriptions = await subscribe({ apiBaseUrl: env.ECOLOGIC_API_BASE_URL?.trim() || DEFAULT_API_BASE_URL, apiKey, receiverUrl: args.url, events: args.events, actions: args.actions });
    process.stdout.write(`${report(subscriptions, args.url)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof SubscribeError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
};

const USAGE = `Usage: npm run subscribe -- --url https://<receiver> [--event RequestQuote:Create]… [--action solar_pv]…
  Without --event, the receiver is subscribed to all six events.`;

const parseCli = (argv: readonly string[]) => {
  const { values } = parseArgs({
    args: [...argv],
    options: { url: { type: 'string' }, event: { type: 'string', multiple: true }, action: { type: 'string', multiple: true } },
    strict: true,
  });
  if (!values.url) throw new Error('--url is required: the receiver address deliveries should go to.');
  const events = (values.event ?? [...PLATFORM_EVENTS]).map((name) => {
    if (!isPlatformEvent(name)) throw new Error(`"${name}" is not one of the six events: ${PLATFORM_EVENTS.join(', ')}`);
    return name;
  });
  return { url: values.url, events: [...new Set(events)], actions: values.action ?? [] };
};

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`subscribe failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
