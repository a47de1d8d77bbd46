/**
 * The conformance kit: checks any server against docs/openapi.yaml.
 *
 *   npm run -s conformance -- --base-url URL --api-key KEY [--webhooks] [options]
 *
 * One line per check, then `N passed, N failed`; exit code 1 when anything failed, 2 for a usage
 * error. A failed check names the request, the status received and the status(es) expected, and the
 * server's `error.code`. It never prints keys, secrets or payload values. The last check is the
 * clean-up: every subscription the kit caused is deleted again (cleanup.ts).
 */
import { isPlatformEvent, PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import { openApiPath } from '../contract/paths';
import { ContractValidator } from '../contract/validator';
import { Cleanup } from './cleanup';
import { ApiClient } from './client';
import { Report } from './report';
import { runRestChecks } from './rest';
import { runWebhookChecks } from './webhooks';

export const USAGE = `Usage: npm run -s conformance -- --base-url URL --api-key KEY [--webhooks] [options]

Checks a server against the Ecologic Notification API contract (docs/openapi.yaml).

  --base-url URL          the API base, e.g. https://staging.getecologic.com/v1 or http://127.0.0.1:PORT/v1
  --api-key KEY           an API key of a test organisation (or set ECOLOGIC_API_KEY)
  --read-only-api-key KEY also check that a key without write permission gets 403
  --webhooks              also subscribe a listener and check real deliveries
  --event NAME            the event the subscription checks use (default RequestQuote:Create)
  --listen HOST:PORT      where the listener listens (default 127.0.0.1:0, a free port)
  --public-url URL        where the platform reaches the listener when not directly (a tunnel or
                          proxy to --listen); the kit appends its own path. Default: the listener
  --wait SECONDS          how long to wait for each delivery (default 60)
  --openapi PATH          the document to check against (default docs/openapi.yaml)

Without POST /sandbox/events on the server, the kit says which event to trigger and waits.
Every subscription the kit causes is deleted again, whatever the server answered; the last check
says which were removed at the end, and names any it could not remove.`;

export interface ConformanceOptions {
  baseUrl: string;
  apiKey: string;
  readOnlyApiKey?: string;
  webhooks: boolean;
  event: PlatformEvent;
  listenHost: string;
  listenPort: number;
  publicUrl?: string;
  waitMs: number;
  openapi?: string;
  /** Where each line goes (default stdout). */
  write?: (line: string) => void;
  /** How long the first delivery attempt is held before the kit fails it (default 1.1 s). */
  holdMs?: number;
}

export class UsageError extends Error {}

const VALUE_FLAGS = ['base-url', 'api-key', 'read-only-api-key', 'event', 'listen', 'public-url', 'wait', 'openapi'];

export function parseConformanceArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ConformanceOptions | 'help' {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return 'help';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (VALUE_FLAGS.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else if (name === 'webhooks') flags[name] = true;
    else throw new UsageError(`unknown option --${name}`);
  }
  const baseUrl = flags['base-url'];
  if (typeof baseUrl !== 'string') throw new UsageError('--base-url is required');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new UsageError('--base-url must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError('--base-url must be an absolute http(s) URL');
  const apiKey = typeof flags['api-key'] === 'string' ? flags['api-key'] : env['ECOLOGIC_API_KEY'];
  if (!apiKey) throw new UsageError('--api-key (or ECOLOGIC_API_KEY) is required');
  const event = flags['event'] ?? 'RequestQuote:Create';
  if (!isPlatformEvent(event)) throw new UsageError(`--event must be one of ${PLATFORM_EVENTS.join(', ')}`);
  const [listenHost, listenPortText] = (typeof flags['listen'] === 'string' ? flags['listen'] : '127.0.0.1:0').split(/:(?=\d+$)/);
  const listenPort = Number(listenPortText);
  if (!listenHost || !Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) {
    throw new UsageError('--listen must be HOST:PORT, e.g. 127.0.0.1:8099');
  }
  const wait = Number(flags['wait'] ?? 60);
  if (!Number.isFinite(wait) || wait <= 0) throw new UsageError('--wait must be a number of seconds');
  const publicUrl = flags['public-url'];
  if (typeof publicUrl === 'string' && !/^https?:\/\//.test(publicUrl)) throw new UsageError('--public-url must be an http(s) URL');
  return {
    baseUrl,
    apiKey,
    ...(typeof flags['read-only-api-key'] === 'string' ? { readOnlyApiKey: flags['read-only-api-key'] } : {}),
    webhooks: flags['webhooks'] === true,
    event,
    listenHost: listenHost.replace(/^\[|\]$/g, ''),
    listenPort,
    ...(typeof publicUrl === 'string' ? { publicUrl } : {}),
    waitMs: wait * 1000,
    ...(typeof flags['openapi'] === 'string' ? { openapi: flags['openapi'] } : {}),
  };
}

/** Runs every check; resolves with the report (its last line already written). */
export async function runConformance(options: ConformanceOptions): Promise<Report> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const report = new Report(write);
  const validator = ContractValidator.fromFile(options.openapi ?? openApiPath());
  const api = new ApiClient(options.baseUrl, options.apiKey, validator);
  const cleanup = new Cleanup(api);
  report.info(`checking ${options.baseUrl} against ${options.openapi ?? 'docs/openapi.yaml'}`);
  try {
    await runRestChecks(api, report, cleanup, {
      event: options.event,
      ...(options.readOnlyApiKey !== undefined ? { readOnlyApiKey: options.readOnlyApiKey } : {}),
    });
    if (options.webhooks) {
      await runWebhookChecks(api, validator, report, cleanup, {
        event: options.event,
        listenHost: options.listenHost,
        listenPort: options.listenPort,
        waitMs: options.waitMs,
        ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
        ...(options.holdMs !== undefined ? { holdMs: options.holdMs } : {}),
      });
    }
  } finally {
    // Whatever happened above, every subscription the kit caused is deleted, or reported as left.
    await cleanup.finish(report);
  }
  write(report.summary());
  return report;
}

/** The command: resolves with the exit code. */
export async function main(argv: readonly string[], write?: (line: string) => void): Promise<number> {
  const out = write ?? ((line: string) => process.stdout.write(`${line}\n`));
  let options: ConformanceOptions | 'help';
  try {
    options = parseConformanceArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out(`conformance: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    out(USAGE);
    return 0;
  }
  const report = await runConformance({ ...options, write: out });
  return report.failed === 0 ? 0 : 1;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`conformance: ${err instanceof Error ? err.name : 'error'}\n`);
      process.exitCode = 2;
    },
  );
}
