import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Webhook } from 'standardwebhooks';
import { BenchError, median, msSince, quantile, ratioOfRounds, round, table } from './stats';

/*
 * `npm run receiver` under load: requests per second and latency of the receiver process against a
 * floor process (node:http, read the body, JSON.parse, 204), both driven by autocannon from this
 * process with the same settings, every request a real signed delivery of a new event.
 *
 * Both servers write standard output and standard error to files, not to pipes read here: this
 * process is also the load generator, and draining the receiver's log line per delivery would take
 * CPU from the generator during the receiver's runs only. (Writes to a file and to a pipe are both
 * synchronous in Node on Linux, so the receiver pays the same per line.)
 */

export const RECEIVER_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** On the way to 0.4: the local receiver with its journal and group commit, one process. */
export const RECEIVER_CONNECTIONS = 64;
export const RECEIVER_THROUGHPUT_TARGET = 0.25;
const FIXTURE = 'quote_request_created';

// --- the slice of autocannon 9's programmatic API used here (it ships no types) ------------------

interface CannonRequest {
  method: string;
  headers: Record<string, string>;
  body: string | Buffer;
}
type Context = { n?: number };
interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number; sent: number };
  latency: { p50: number; p99: number };
}
interface CannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, responseTimeMs: number) => void): unknown;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: CannonResult) => void) => CannonInstance;

// --- signed deliveries ---------------------------------------------------------------------------

/**
 * Signed deliveries of the quote_request_created fixture, entry n carrying event id
 * `evt_bench_<tag>_<n>`. Only signatures are stored (the body is rebuilt from a template around the
 * id): signing costs ~17 µs, so it is done between runs, never by the generator during one.
 */
class DeliveryPool {
  private readonly webhook: Webhook;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly signatures: string[] = [];
  private readonly timestamps: string[] = [];
  /** Entries the receiver's cursor had to sign during a run because the pool ran out. */
  signedDuringRuns = 0;

  constructor(
    template: Record<string, unknown>,
    secret: string,
    private readonly tag: string,
  ) {
    this.webhook = new Webhook(secret);
    const marker = '__BENCH_EVENT_ID__';
    const [prefix, suffix, ...rest] = JSON.stringify({ ...template, event_id: marker }).split(marker);
    if (prefix === undefined || suffix === undefined || rest.length > 0) throw new BenchError('could not make a body template from the fixture');
    this.prefix = prefix;
    this.suffix = suffix;
  }

  get size(): number {
    return this.signatures.length;
  }

  eventId(n: number): string {
    return `evt_bench_${this.tag}_${n}`;
  }

  /** n from an event id of this pool, or -1. */
  indexOf(eventId: string): number {
    const head = `evt_bench_${this.tag}_`;
    if (!eventId.startsWith(head)) return -1;
    const n = Number(eventId.slice(head.length));
    return Number.isInteger(n) && n >= 0 ? n : -1;
  }

  private body(n: number): string {
    return `${this.prefix}${this.eventId(n)}${this.suffix}`;
  }

  private signOne(at: Date): void {
    const n = this.signatures.length;
    this.signatures.push(this.webhook.sign(`msg_bench_${this.tag}_${n}`, at, this.body(n)));
    this.timestamps.push(String(Math.floor(at.getTime() / 1000)));
  }

  /** Signs entries (now: well inside the receiver's five-minute window) until there are `count`. */
  grow(count: number): void {
    const at = new Date();
    while (this.signatures.length < count) this.signOne(at);
  }

  /** Entry n as an autocannon request; signs it now if the pool has run out. */
  fill(request: CannonRequest, n: number): CannonRequest {
    if (n >= this.signatures.length) {
      this.signedDuringRuns += n + 1 - this.signatures.length;
      this.grow(n + 1);
    }
    request.method = 'POST';
    request.headers = {
      'content-type': 'application/json',
      'webhook-id': `msg_bench_${this.tag}_${n}`,
      'webhook-timestamp': this.timestamps[n]!,
      'webhook-signature': this.signatures[n]!,
    };
    request.body = this.body(n);
    return request;
  }
}

// --- child processes -----------------------------------------------------------------------------

interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const readText = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const tail = (text: string, chars = 2000) => (text.length > chars ? `…${text.slice(-chars)}` : text) || '(nothing)';

/** The URL from a `{"message":"listening on …","url":…}` line, as the receiver's cli.ts logs it. */
const listeningUrl = (stderr: string): string | undefined => {
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { message?: unknown; url?: unknown };
      if (typeof entry.message === 'string' && entry.message.startsWith('listening on ') && typeof entry.url === 'string') return entry.url;
    } catch {
      // a line cut mid-write: read again on the next poll
    }
  }
  return undefined;
};

const startServer = async (name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, dir: string, timeoutMs: number): Promise<Server> => {
  const stdoutFile = join(dir, `${name}.stdout.jsonl`);
  const stderrFile = join(dir, `${name}.stderr.jsonl`);
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', out, err] });
  } finally {
    // The child has its own copies of the descriptors.
    closeSync(out);
    closeSync(err);
  }
  // One object, mutated: `exited` must be seen by whoever holds it.
  const server: Omit<Server, 'url'> & { url: string } = { name, child, stdoutFile, stderrFile, url: '', exited: false, exit: Promise.resolve({ code: null, signal: null }) };
  server.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      server.exited = true;
      resolve({ code, signal });
    }),
  );
  const started = process.hrtime.bigint();
  for (;;) {
    const stderr = readText(stderrFile);
    const url = listeningUrl(stderr);
    if (url !== undefined) {
      server.url = url;
      return server;
    }
    if (server.exited) throw new BenchError(`the ${name} exited before listening (exit ${child.exitCode ?? child.signalCode}); its standard error:\n${tail(stderr)}`);
    if (msSince(started) > timeoutMs) {
      child.kill('SIGKILL');
      throw new BenchError(`the ${name} did not say "listening on" within ${timeoutMs} ms; its standard error:\n${tail(stderr)}`);
    }
    await sleep(25);
  }
};

/** SIGTERM, then SIGKILL after `graceMs`; true when it stopped on SIGTERM. */
const stopServer = async (server: Server | undefined, graceMs = 10_000): Promise<boolean> => {
  if (server === undefined || server.exited) return true;
  server.child.kill('SIGTERM');
  const clean = await Promise.race([server.exit.then(() => true), sleep(graceMs).then(() => false)]);
  if (!clean) {
    server.child.kill('SIGKILL');
    await server.exit;
  }
  return clean;
};

// --- load ------------------------------------------------------------------------------------------

export interface LoadFigures {
  /** Responses per second over the measured run (median over runs). */
  readonly rps: number;
  /** Response latency percentiles, ms, measured per response by autocannon (median over runs). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses in the measured runs, all runs together. */
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly runs: readonly { readonly rps: number; readonly p50Ms: number; readonly p99Ms: number; readonly requests: number; readonly seconds: number }[];
}

interface RunResult {
  readonly result: CannonResult;
  readonly latencies: number[];
}

type Target = 'receiver' | 'floor';

/** What happened to each receiver request (index = pool entry). */
const SENT = 1;
const ACCEPTED = 2;
const OTHER_2XX = 3;
const NOT_2XX = 4;

export interface ReceiverBenchOptions {
  readonly connections?: number;
  /** Seconds of unmeasured load on each server before its first measured run. */
  readonly warmupSeconds?: number;
  /** Seconds of each measured run. */
  readonly durationSeconds?: number;
  /**
   * Rounds of one receiver run and one floor run, back to back, the order swapped every round
   * (R F F R R F …); each round gives a ratio, and the figure is their median.
   */
  readonly rounds?: number;
  readonly startTimeoutMs?: number;
  /** Write a V8 CPU profile of the receiver process into this folder (--cpu-prof). */
  readonly cpuProfileDir?: string;
  readonly progress?: (message: string) => void;
}

export interface ReceiverBench {
  readonly receiver: LoadFigures;
  readonly floor: LoadFigures;
  /** The median of the rounds' ratios (receiver req/s over floor req/s within one round). */
  readonly receiver_throughput_ratio: number;
  /** Each round's ratio, in the order run. */
  readonly ratioRounds: readonly number[];
  readonly ratioSpread: { readonly min: number; readonly max: number };
  /** What the ratio measures: the receiver as `npm run receiver` starts it, one process; the floor is one process too. */
  readonly mode: string;
  /** JSON lines the receiver wrote on standard output: one per accepted delivery. */
  readonly handedOff: number;
  readonly target: number;
  readonly verdict: 'PASS' | 'MISS';
  readonly settings: { readonly connections: number; readonly pipelining: 1; readonly warmupSeconds: number; readonly durationSeconds: number; readonly rounds: number; readonly order: readonly Target[] };
  readonly check: {
    /** 2xx answers saying `accepted`, warm-ups included. */
    readonly acceptedResponses: number;
    /** Requests unanswered when a run stopped whose item was handed off all the same. */
    readonly handedOffUnanswered: number;
    readonly unansweredRequests: number;
    readonly receiverStoppedOnSigterm: boolean;
  };
  readonly pool: { readonly signed: number; readonly signedDuringRuns: number; readonly receiverRequests: number };
  readonly totalMs: number;
  readonly table: string;
}

const summarise = (runs: readonly RunResult[]): LoadFigures => {
  const perRun = runs.map(({ result, latencies }) => ({
    rps: round(result.requests.total / result.duration, 1),
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
    requests: result.requests.total,
    seconds: result.duration,
  }));
  const sum = (pick: (r: CannonResult) => number) => runs.reduce((total, run) => total + pick(run.result), 0);
  return {
    rps: round(median(perRun.map((r) => r.rps)), 1),
    p50Ms: round(median(perRun.map((r) => r.p50Ms))),
    p99Ms: round(median(perRun.map((r) => r.p99Ms))),
    requests: sum((r) => r.requests.total),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    runs: perRun,
  };
};

/** Event ids of the receiver's standard output lines (items are JSON objects whose `id` is the event id). */
const readHandedOff = async (file: string): Promise<string[]> => {
  const ids: string[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    let id: unknown;
    try {
      id = (JSON.parse(line) as { id?: unknown }).id;
    } catch {
      throw new BenchError(`the receiver wrote a standard output line that is not JSON: ${line.slice(0, 200)}`);
    }
    if (typeof id !== 'string') throw new BenchError(`a handed-off item has no string id: ${line.slice(0, 200)}`);
    ids.push(id);
  }
  return ids;
};

const statusSummary = (stats: Record<string, { count: number }>) =>
  Object.entries(stats)
    .map(([status, { count }]) => `${status}×${count}`)
    .join(', ');

/**
 * Starts the receiver exactly as `npm run receiver` does (SQLite store, outbox, JSON lines on
 * standard output; a fresh DATA_DIR) and the floor server, drives each with autocannon, checks
 * every accepted request handed off exactly one item, and compares requests per second.
 * Needs `npm run build` (dist/).
 */
export async function measureReceiver(root: string, options: ReceiverBenchOptions = {}): Promise<ReceiverBench> {
  const startedAll = process.hrtime.bigint();
  // Deliveries in flight at once, as a busy platform sends them to one receiver. The receiver
  // shares one commit among the deliveries that arrive together; with only 10 in flight it spends
  // part of each round trip waiting for the next requests, and the figure then reads latency more
  // than throughput (the bench also prints a short run at 10 beside it).
  const connections = options.connections ?? RECEIVER_CONNECTIONS;
  const warmupSeconds = options.warmupSeconds ?? 2;
  // Short runs, many rounds: on a shared machine the load of others comes and goes, and a median of
  // interleaved pairs follows it better than two long runs (6 rounds: about 50 s in all).
  const durationSeconds = options.durationSeconds ?? 3;
  const rounds = options.rounds ?? 6;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const progress = options.progress ?? (() => undefined);

  const cli = join(root, 'dist', 'src', 'receiver', 'local', 'cli.js');
  const floorScript = join(root, 'dist', 'scripts', 'bench', 'floor-server.js');
  for (const file of [cli, floorScript]) if (!existsSync(file)) throw new BenchError(`${file} is missing: run \`npm run build\``);
  const autocannon = require('autocannon') as Autocannon;

  const template = JSON.parse(readFileSync(join(root, 'test', 'fixtures', `${FIXTURE}.json`), 'utf8')) as Record<string, unknown>;
  const pool = new DeliveryPool(template, RECEIVER_SECRET, `${Date.now().toString(36)}${process.pid}`);
  const states: number[] = [];
  let receiverNext = 0;
  let floorNext = 0;

  const parent = join(root, '.tmp', 'bench', 'receiver');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'run-'));
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the caller's shell may switch the receiver to forwarding or DynamoDB.
  for (const name of ['FORWARD_URL', 'DEDUPE_STORE', 'DEDUPE_TABLE', 'DYNAMODB_ENDPOINT', 'HOST', 'NODE_OPTIONS']) delete baseEnv[name];

  let receiver: Server | undefined;
  let floor: Server | undefined;
  try {
    progress('starting the receiver (dist/src/receiver/local/cli.js) and the floor server…');
    const profileArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
    receiver = await startServer(
      'receiver',
      ['--disable-warning=ExperimentalWarning', ...profileArgs, cli],
      { ...baseEnv, ECOLOGIC_WEBHOOK_SECRETS: RECEIVER_SECRET, PORT: '0', DATA_DIR: join(dir, 'data') },
      root,
      dir,
      startTimeoutMs,
    );
    floor = await startServer('floor', [floorScript], { ...baseEnv, PORT: '0' }, root, dir, startTimeoutMs);

    const drive = (target: Target, seconds: number, measured: boolean): Promise<RunResult> =>
      new Promise((resolve, reject) => {
        const server = target === 'receiver' ? receiver! : floor!;
        const latencies: number[] = [];
        // The same per-request work for both targets: a pool entry in, one array write out. The
        // receiver's cursor never wraps (each event once); the floor's reuses entries.
        const next = target === 'receiver' ? () => receiverNext++ : () => floorNext++ % pool.size;
        const seen: number[] = target === 'receiver' ? states : [];
        const instance = autocannon(
          {
            url: server.url,
            connections,
            // Fixed: a response is matched to its request through the connection's context.
            pipelining: 1,
            duration: seconds,
            timeout: 10,
            requests: [
              {
                setupRequest: (request: CannonRequest, context: Context) => {
                  const n = next();
                  context.n = n;
                  seen[n] = SENT;
                  return pool.fill(request, n);
                },
                onResponse: (status: number, body: string, context: Context) => {
                  const n = context.n!;
                  seen[n] = status < 200 || status > 299 ? NOT_2XX : target === 'floor' || body.startsWith('{"outcome":"accepted"') ? ACCEPTED : OTHER_2XX;
                },
              },
            ],
          },
          (error, result) => (error ? reject(error) : resolve({ result, latencies })),
        );
        if (measured) instance.on('response', (_client, _status, _bytes, ms) => void latencies.push(ms));
        if (server.exited) reject(new BenchError(`the ${target} exited during the run; its standard error:\n${tail(readText(server.stderrFile))}`));
      });

    // Rates seen so far, to sign enough entries before each receiver run (and not 100k blindly).
    let receiverRate = 8_000;
    const ensurePool = (target: Target, seconds: number) => {
      const want = target === 'receiver' ? receiverNext + Math.ceil(receiverRate * seconds * 1.5) + 5_000 : 20_000;
      if (want > pool.size) {
        const t = process.hrtime.bigint();
        const before = pool.size;
        pool.grow(want);
        progress(`  signed ${pool.size - before} deliveries in ${Math.round(msSince(t))} ms`);
      }
    };

    const measuredRuns: Record<Target, RunResult[]> = { receiver: [], floor: [] };
    const order: Target[] = [];
    const ratios: number[] = [];
    const check = (target: Target, result: CannonResult) => {
      if (result.errors > 0 || result.timeouts > 0) {
        throw new BenchError(`autocannon saw ${result.errors} connection error(s), ${result.timeouts} timeout(s) against the ${target}; its standard error:\n${tail(readText((target === 'receiver' ? receiver : floor)!.stderrFile))}`);
      }
      if (result.non2xx > 0) {
        throw new BenchError(`the ${target} answered ${result.non2xx} request(s) with a non-2xx status (${statusSummary(result.statusCodeStats)}); its standard error:\n${tail(readText((target === 'receiver' ? receiver : floor)!.stderrFile))}`);
      }
    };
    // One warm-up each, before the rounds: the JIT, SQLite's cache and the file's first pages.
    for (const target of ['floor', 'receiver'] as const) {
      ensurePool(target, warmupSeconds);
      const warm = await drive(target, warmupSeconds, false);
      check(target, warm.result);
      if (target === 'receiver') receiverRate = Math.max(receiverRate * 0.5, warm.result.requests.total / warm.result.duration);
      progress(`  ${target} warm-up: ${round(warm.result.requests.total / warm.result.duration, 1)} req/s`);
    }
    for (let r = 0; r < rounds; r += 1) {
      const pair: Target[] = r % 2 === 0 ? ['receiver', 'floor'] : ['floor', 'receiver'];
      const rps: Partial<Record<Target, number>> = {};
      for (const target of pair) {
        order.push(target);
        ensurePool(target, durationSeconds);
        const run = await drive(target, durationSeconds, true);
        check(target, run.result);
        if (target === 'receiver') receiverRate = run.result.requests.total / run.result.duration;
        measuredRuns[target].push(run);
        const figures = summarise([run]);
        rps[target] = figures.rps;
        progress(
          `  round ${r + 1} ${target}: ${figures.rps} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms (${figures.requests} requests in ${durationSeconds} s; ${statusSummary(run.result.statusCodeStats)})`,
        );
      }
      ratios.push(rps.receiver! / rps.floor!);
      progress(`  round ${r + 1} ratio: ${round(ratios[ratios.length - 1]!)}`);
    }

    // Stop the receiver first: it finishes what it took in, and its standard output is then complete.
    const stoppedOnSigterm = await stopServer(receiver);
    await stopServer(floor);

    const ids = await readHandedOff(receiver.stdoutFile);
    const lineOf = new Set<number>();
    for (const id of ids) {
      const n = pool.indexOf(id);
      if (n < 0 || states[n] === undefined) throw new BenchError(`the receiver handed off an item for an event that was never sent: ${id}`);
      if (lineOf.has(n)) throw new BenchError(`the receiver handed off event ${id} more than once`);
      lineOf.add(n);
    }
    let acceptedResponses = 0;
    let unanswered = 0;
    let handedOffUnanswered = 0;
    const missing: string[] = [];
    const notAccepted: string[] = [];
    for (let n = 0; n < receiverNext; n += 1) {
      const state = states[n];
      if (state === ACCEPTED) {
        acceptedResponses += 1;
        if (!lineOf.has(n)) missing.push(pool.eventId(n));
      } else if (state === SENT) {
        // In flight when a run stopped: autocannon closed the socket; the receiver may have taken it.
        unanswered += 1;
        if (lineOf.has(n)) handedOffUnanswered += 1;
      } else if (state === OTHER_2XX || state === NOT_2XX) notAccepted.push(pool.eventId(n));
    }
    if (notAccepted.length > 0) throw new BenchError(`${notAccepted.length} receiver request(s) were not answered "accepted" (e.g. ${notAccepted.slice(0, 3).join(', ')})`);
    if (missing.length > 0) throw new BenchError(`${missing.length} accepted request(s) handed off no item (e.g. ${missing.slice(0, 3).join(', ')})`);
    if (ids.length !== acceptedResponses + handedOffUnanswered) throw new BenchError(`${ids.length} items handed off for ${acceptedResponses} accepted requests + ${handedOffUnanswered} unanswered`);

    const receiverFigures = summarise(measuredRuns.receiver);
    const floorFigures = summarise(measuredRuns.floor);
    const ratio = ratioOfRounds(ratios);
    const verdict = ratio.median >= RECEIVER_THROUGHPUT_TARGET ? 'PASS' : 'MISS';
    const mode = 'one receiver process (npm run receiver: SQLite journal, group commit) against one floor process';
    const printable = table(
      ['server (one process each)', 'req/s (median)', 'p50 ms', 'p99 ms', 'requests', 'non-2xx'],
      [
        ['receiver (npm run receiver: verify, normalise, SQLite journal + group commit, stdout line)', receiverFigures.rps, receiverFigures.p50Ms, receiverFigures.p99Ms, receiverFigures.requests, receiverFigures.non2xx],
        ['floor (node:http: read body, JSON.parse, 204)', floorFigures.rps, floorFigures.p50Ms, floorFigures.p99Ms, floorFigures.requests, floorFigures.non2xx],
        [`receiver_throughput_ratio: median of ${rounds} rounds (target >= ${RECEIVER_THROUGHPUT_TARGET})`, ratio.median, '-', '-', '-', verdict],
        [`  per round (${ratio.rounds.join(', ')}), spread`, `${ratio.min}-${ratio.max}`, '-', '-', '-', '-'],
      ],
    );
    return {
      receiver: receiverFigures,
      floor: floorFigures,
      receiver_throughput_ratio: ratio.median,
      ratioRounds: ratio.rounds,
      ratioSpread: { min: ratio.min, max: ratio.max },
      mode,
      handedOff: ids.length,
      target: RECEIVER_THROUGHPUT_TARGET,
      verdict,
      settings: { connections, pipelining: 1, warmupSeconds, durationSeconds, rounds, order },
      check: { acceptedResponses, handedOffUnanswered, unansweredRequests: unanswered, receiverStoppedOnSigterm: stoppedOnSigterm },
      pool: { signed: pool.size, signedDuringRuns: pool.signedDuringRuns, receiverRequests: receiverNext },
      totalMs: Math.round(msSince(startedAll)),
      table: printable,
    };
  } finally {
    await Promise.all([stopServer(receiver, 3_000), stopServer(floor, 3_000)]);
    rmSync(dir, { recursive: true, force: true });
  }
}
