/**
 * `npm run sandbox`: keeps the Ecologic sandbox running on 127.0.0.1 until Ctrl-C and prints the
 * `.env` lines that point `zapier-platform invoke` at it.
 *
 *   npm run -s sandbox -- [serve] [--port N] [--api-key KEY] [--unsigned] [--fast-retries] [--quiet]
 *   npm run -s sandbox -- fire <Event:Name> --url http://127.0.0.1:PORT [--api-key KEY] [--count N] [--data JSON]
 *
 * Output carries ids, event names and counts only, never payload values, keys or secrets other
 * than the sandbox's own demo API key.
 */
import { EVENT_NAMES, isEventName } from './events';
import { sendRequest } from './sender';
import { DEMO_API_KEY, startSandbox } from './server';

const USAGE = `Usage:
  npm run sandbox [-- --port N] [--api-key KEY] [--unsigned] [--fast-retries] [--quiet]
      Runs the sandbox until Ctrl-C.
  npm run -s sandbox -- fire <event> --url http://127.0.0.1:PORT [--api-key KEY] [--count N] [--data '{"action":"solar_pv"}']
      Fires events on a running sandbox (POST /sandbox/events with the API key; default the demo key).
Events: ${EVENT_NAMES.join(', ')}`;

export interface CliArgs {
  command: 'serve' | 'fire' | 'help';
  event?: string;
  flags: Record<string, string | true>;
}

export function parseArgs(argv: string[]): CliArgs {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (inline !== undefined) flags[name] = inline;
      else if (['port', 'api-key', 'url', 'count', 'data'].includes(name) && next !== undefined) {
        flags[name] = next;
        i++;
      } else flags[name] = true;
    } else if (arg === '-h') flags['help'] = true;
    else positional.push(arg);
  }
  const [first, second] = positional;
  if (flags['help'] || first === 'help') return { command: 'help', flags };
  if (first === 'fire') return { command: 'fire', ...(second !== undefined ? { event: second } : {}), flags };
  if (first === undefined || first === 'serve') return { command: 'serve', flags };
  return { command: 'help', flags };
}

async function serve(flags: CliArgs['flags']): Promise<void> {
  const port = flags['port'] === undefined ? 0 : Number(flags['port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number');
  const quiet = flags['quiet'] === true;
  const sandbox = await startSandbox({
    port,
    ...(typeof flags['api-key'] === 'string' ? { apiKey: flags['api-key'] } : {}),
    sign: flags['unsigned'] !== true,
    ...(flags['fast-retries'] === true ? { delivery: { baseDelayMs: 200, capDelayMs: 5000, maxAttempts: 8, timeoutMs: 5000 } } : {}),
    log: quiet ? () => undefined : (line) => console.log(`${new Date().toISOString().slice(11, 19)}  ${line}`),
  });
  const s = sandbox.sender.schedule;
  console.log(`Ecologic Notification API sandbox listening on ${sandbox.url}`);
  console.log(`Console: ${sandbox.url}/console (fire events, watch every delivery live, redeliver, a catch endpoint)`);
  console.log(`API reference: ${sandbox.url}/docs (after npm run docs)`);
  console.log('State is in memory only: subscriptions and events are lost when it stops.');
  console.log(`Organisation: ${sandbox.organisation.organisation_name} (${sandbox.organisation.organisation_id})`);
  console.log(
    `Deliveries: ${sandbox.signing ? 'signed (Standard Webhooks)' : 'UNSIGNED'}; retries: base ${s.baseDelayMs} ms, ` +
      `cap ${s.capDelayMs} ms, ${s.maxAttempts} attempts, ${s.timeoutMs} ms timeout; loopback receivers only.`,
  );
  console.log('');
  console.log('Put these lines in .env to point `zapier-platform invoke auth test` and `invoke trigger list_actions` at it:');
  console.log('');
  console.log(`ECOLOGIC_API_BASE_URL=${sandbox.apiBaseUrl}`);
  console.log(`authData_api_key=${sandbox.apiKey}`);
  console.log('');
  console.log('Fire events:');
  console.log(`  curl -s -X POST ${sandbox.url}/sandbox/events -H 'Authorization: Bearer ${sandbox.apiKey}' \\`);
  console.log(`       -H 'Content-Type: application/json' -d '{"event":"RequestQuote:Create","data":{"action":"solar_pv"},"count":1}'`);
  const keyFlag = sandbox.apiKey === DEMO_API_KEY ? '' : ` --api-key ${sandbox.apiKey}`;
  console.log(`  npm run -s sandbox -- fire RequestQuote:Create --url ${sandbox.url}${keyFlag}`);
  if (sandbox.readOnlyApiKey) console.log(`A read-only key (403 on subscribe/unsubscribe): ${sandbox.readOnlyApiKey}`);
  console.log('Ctrl-C stops it.');
  console.log('');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const stats = sandbox.stats();
  await sandbox.close();
  console.log(
    `Stopped. ${stats.subscriptions} subscriptions, ${stats.enqueued} deliveries queued, ${stats.delivered} delivered, ` +
      `${stats.pending} still pending were dropped.`,
  );
}

async function fire(event: string | undefined, flags: CliArgs['flags']): Promise<void> {
  if (!isEventName(event)) throw new Error(`name one of the six events: ${EVENT_NAMES.join(', ')}`);
  const base = typeof flags['url'] === 'string' ? flags['url'] : process.env.ECOLOGIC_SANDBOX_URL;
  if (!base) throw new Error('--url http://127.0.0.1:PORT of a running sandbox is required');
  let url: URL;
  try {
    url = new URL('/sandbox/events', base);
  } catch {
    throw new Error('--url must be the sandbox URL, http://127.0.0.1:PORT');
  }
  const apiKey = typeof flags['api-key'] === 'string' ? flags['api-key'] : DEMO_API_KEY;
  const body: Record<string, unknown> = { event };
  if (flags['count'] !== undefined) body['count'] = Number(flags['count']);
  if (typeof flags['data'] === 'string') {
    try {
      body['data'] = JSON.parse(flags['data']) as unknown;
    } catch {
      throw new Error('--data must be a JSON object');
    }
  }
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` };
  const res = await sendRequest(url, headers, JSON.stringify(body), 10_000);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  if (res.status !== 202) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new Error(`the sandbox answered ${res.status}${error ? `: ${error.code} ${error.message}` : ''}`);
  }
  const result = parsed as { event_ids: string[]; deliveries: number };
  console.log(`fired ${event} x${result.event_ids.length}: ${result.event_ids.join(' ')}`);
  console.log(`${result.deliveries} deliveries queued`);
}

export async function runCli(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  try {
    if (args.command === 'help') {
      console.log(USAGE);
      return 0;
    }
    if (args.command === 'fire') await fire(args.event, args.flags);
    else await serve(args.flags);
    return 0;
  } catch (err) {
    console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
