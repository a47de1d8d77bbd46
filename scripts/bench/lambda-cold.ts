import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buildSync } from 'esbuild';
import { Webhook } from 'standardwebhooks';
import { BUNDLE_FILE, esbuildOptionsFor, sideBundleOptionsFor } from '../../infra/bundling';
import { createDedupeTable } from '../../src/receiver/stores/dynamodb';
import { BenchError, median, msSince, quantile, ratioOfRounds, round, type RoundedRatio } from './stats';

/*
 * The receiver Lambda's cold start: its bundle, built exactly as infra/receiver-stack.ts has CDK's
 * NodejsFunction build it (infra/bundling.ts), against a bare handler, in fresh Node processes with
 * the environment the stack sets (no NODE_OPTIONS unless the stack is asked for source maps), and no
 * compile cache (a Lambda cold start has none).
 *
 * Two things are measured, so that moving work from the module's load into the first invocation
 * cannot pass for a cut:
 * - the module: `require` of the bundle (in-process time) and the whole process (spawn to exit);
 *   beside it, for the record, the same bundle with --enable-source-maps and the three AWS SDK
 *   clients required from node_modules (what leaving them to the runtime's copy costs at first use);
 * - the first delivery: a fresh process requires the module and hands one realistic signed delivery
 *   (a quote request with a phone and a country, so the phone library, its metadata and the country
 *   tables load)
 *   to its `handler`, which reads its secret from Secrets Manager, claims the event in DynamoDB
 *   (dynalite, in this process), sends the item to SQS and completes the claim. Secrets Manager and
 *   SQS are a stand-in on 127.0.0.1 answering GetSecretValue and SendMessageBatch. Nothing leaves
 *   the machine, so network time on AWS (and TLS, which local endpoints do not use) comes on top.
 *
 * Each figure is a median over rounds; a round runs every variant, in rotating order, a few fresh
 * processes each (MODULE_PER_ROUND, FIRST_DELIVERY_PER_ROUND), and its ratio is bundle / bare of
 * that round's medians. The ratio reported is the median of the rounds' ratios, with their min–max.
 * About 15–25 s in all on two busy cores.
 */

export const LAMBDA_ENTRY = join('src', 'receiver', 'aws', 'receiver-lambda.ts');
const BARE_HANDLER = 'exports.handler = async () => ({ statusCode: 200 });\n';
const SDK_CLIENTS = "require('@aws-sdk/client-dynamodb');require('@aws-sdk/client-sqs');require('@aws-sdk/client-secrets-manager');exports.handler=1;\n";
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TABLE = 'ecologic-receiver-events';
const QUEUE_PATH = '/111122223333/ecologic-items.fifo';

export const MODULE_ROUNDS = 8;
export const FIRST_DELIVERY_ROUNDS = 7;
/** Fresh processes per variant and round: the module's load has four variants, the first delivery two. */
export const MODULE_PER_ROUND = 2;
export const FIRST_DELIVERY_PER_ROUND = 3;
const WARMUP_ROUNDS = 1;

interface Sample {
  /** In-process time of `require(bundle)`, ms. */
  readonly requireMs: number;
  /** The whole process, spawn to exit, ms. */
  readonly wallMs: number;
  /** Only for the first delivery: the handler's first invocation, ms. */
  readonly invokeMs?: number;
}

export interface Figures {
  readonly requireMsMedian: number;
  readonly requireMsP90: number;
  readonly wallMsMedian: number;
  readonly invokeMsMedian?: number;
}


export interface LambdaModuleBench {
  readonly bundle: Figures;
  readonly bare: Figures;
  /** The same bundle with NODE_OPTIONS=--enable-source-maps (what the stack's sourceMaps option costs). */
  readonly bundleWithSourceMaps: Figures;
  /** The three SDK clients required from node_modules (CommonJS, file by file), nothing else. */
  readonly sdkFromNodeModules: Figures;
  /** Whole process, bundle / bare. */
  readonly lambda_cold_start_ratio: RoundedRatio;
  /** In-process require, bundle / bare (the bare handler takes well under 1 ms: a noisy ratio). */
  readonly lambda_require_ratio: RoundedRatio;
  readonly source_maps_cold_start_ratio: RoundedRatio;
  readonly rounds: number;
  readonly perRound: number;
  // As the earlier report had them: ratios of the medians over all samples.
  readonly require_ratio: number;
  readonly wall_ratio: number;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** Files copied beside the bundle (JSON read at run time), name → bytes. */
  readonly copiedFiles: Readonly<Record<string, number>>;
  /** Code beside the bundle, required at first use (the phone library), name → bytes; not in bundleBytes. */
  readonly sideFiles: Readonly<Record<string, number>>;
  /** Bytes of the minified bundle by package (or `src/...`), biggest first: what the load pays for. */
  readonly bundleByPackage: readonly (readonly [string, number])[];
  readonly buildMs: number;
  readonly dir: string;
}

export interface LambdaFirstDeliveryBench {
  /** require + first invocation (one signed delivery, handed off) in a fresh process. */
  readonly bundle: Figures;
  readonly bare: Figures;
  /** Whole process, bundle / bare. */
  readonly lambda_first_delivery_ratio: RoundedRatio;
  /** require + first invocation, in-process, bundle minus bare: what a cold start adds before the answer. */
  readonly first_delivery_extra_ms: number;
  readonly rounds: number;
  readonly perRound: number;
  readonly handedOff: number;
}

export type LambdaColdBench = LambdaModuleBench;

const figures = (samples: readonly Sample[]): Figures => {
  const invoke = samples.flatMap((s) => (s.invokeMs === undefined ? [] : [s.invokeMs]));
  return {
    requireMsMedian: round(median(samples.map((s) => s.requireMs))),
    requireMsP90: round(quantile(samples.map((s) => s.requireMs), 0.9)),
    wallMsMedian: round(median(samples.map((s) => s.wallMs))),
    ...(invoke.length > 0 ? { invokeMsMedian: round(median(invoke)) } : {}),
  };
};

/** Only what Node itself needs, plus `extra`: no receiver setting leaks in from the bench's shell. */
const childEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name] !== undefined) env[name] = process.env[name];
  // Like cold-load.ts: no compile cache, every process compiles from source as a Lambda cold start does.
  env.NODE_DISABLE_COMPILE_CACHE = '1';
  return { ...env, ...extra };
};

/** `node_modules/@scope/name/…` → `@scope/name`; project files → their top two folders. */
const packageOf = (input: string): string => {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return parts.slice(0, 2).join('/');
  const name = parts[at + 1] ?? input;
  return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name;
};

/** Builds the bundle as the stack does into `dir`; its size by package from esbuild's metafile. */
export const buildLambdaBundle = (root: string, dir: string) => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = process.hrtime.bigint();
  const result = buildSync({ ...esbuildOptionsFor(join(root, LAMBDA_ENTRY), dir, root), logLevel: 'silent', metafile: true });
  if (result.errors.length > 0) throw new BenchError(`esbuild could not bundle ${LAMBDA_ENTRY}: ${result.errors.map((e) => e.text).join('; ')}`);
  // The files the bundle requires from beside it, as the stack builds them after the bundle.
  const sideFiles: Record<string, number> = {};
  for (const side of sideBundleOptionsFor(dir, root)) {
    const built = buildSync({ ...side, logLevel: 'silent' });
    if (built.errors.length > 0) throw new BenchError(`esbuild could not build ${side.outfile}: ${built.errors.map((e) => e.text).join('; ')}`);
    const file = side.outfile!.slice(dir.length + 1);
    sideFiles[file] = statSync(join(dir, file)).size;
  }
  const buildMs = round(msSince(started), 1);
  const output = Object.entries(result.metafile?.outputs ?? {}).find(([file]) => file.endsWith(`/${BUNDLE_FILE}`))?.[1];
  if (output === undefined) throw new BenchError('esbuild reported no bundle output');
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const group = packageOf(input);
    byPackage.set(group, (byPackage.get(group) ?? 0) + bytesInOutput);
  }
  const copiedFiles = Object.fromEntries(
    readdirSync(dir)
      .filter((name) => !name.endsWith('.js') && !name.endsWith('.js.map'))
      .map((name) => [name, statSync(join(dir, name)).size]),
  );
  return {
    file: join(dir, BUNDLE_FILE),
    bundleBytes: statSync(join(dir, BUNDLE_FILE)).size,
    sourceMapBytes: statSync(join(dir, `${BUNDLE_FILE}.map`)).size,
    copiedFiles,
    sideFiles,
    bundleByPackage: [...byPackage.entries()].sort((a, b) => b[1] - a[1]),
    metafile: result.metafile!,
    buildMs,
  };
};

// --- the module's load ------------------------------------------------------------------------------

// The same script for every file (argv[2]); prints the in-process require time and the handler's type.
// A file, not `node -e`: Node preloads node:crypto for -e, so a module needing it would load for free.
const PROBE =
  'const t=process.hrtime.bigint();const m=require(process.argv[2]);const ms=Number(process.hrtime.bigint()-t)/1e6;' +
  'process.stdout.write(JSON.stringify({ms,handler:typeof m.handler}))\n';

interface ModuleVariant {
  readonly name: string;
  readonly file: string;
  readonly flags: readonly string[];
}

const loadOnce = (probeFile: string) => (variant: ModuleVariant): Sample => {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [...variant.flags, probeFile, variant.file], { env: childEnv(), encoding: 'utf8', timeout: 30_000 });
  const wallMs = msSince(start);
  let parsed: { ms?: unknown; handler?: unknown } = {};
  try {
    parsed = JSON.parse(run.stdout) as typeof parsed;
  } catch {
    // reported below with the process's output
  }
  if (run.status !== 0 || typeof parsed.ms !== 'number' || parsed.handler === 'undefined') {
    throw new BenchError(`requiring the ${variant.name} (${variant.file}) in a fresh process failed (exit ${run.status ?? run.signal}): ${run.stderr || run.error || run.stdout}`);
  }
  return { requireMs: parsed.ms, wallMs };
};

type Rounds = Array<Record<string, Sample[]>>;

/** The order of round r: every variant perRound times, starting one further along each round. */
const order = <V>(variants: readonly V[], r: number, perRound: number): V[] =>
  Array.from({ length: variants.length * perRound }, (_, k) => variants[(r + k) % variants.length]!);

const summarise = (perRound: Rounds) => ({
  all: (name: string) => perRound.flatMap((round) => round[name]!),
  ratio: (name: string, of: string, pick: (s: Sample) => number) =>
    ratioOfRounds(perRound.map((round) => median(round[name]!.map(pick)) / median(round[of]!.map(pick)))),
});

const roundsSync = <V extends { readonly name: string }>(variants: readonly V[], count: number, perRound: number, run: (variant: V) => Sample) => {
  const rounds: Rounds = [];
  for (let r = 0; r < WARMUP_ROUNDS + count; r += 1) {
    const round: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (const variant of order(variants, r, perRound)) round[variant.name]!.push(run(variant));
    if (r >= WARMUP_ROUNDS) rounds.push(round);
  }
  return summarise(rounds);
};

const roundsAsync = async <V extends { readonly name: string }>(variants: readonly V[], count: number, perRound: number, run: (variant: V) => Promise<Sample>) => {
  const rounds: Rounds = [];
  for (let r = 0; r < WARMUP_ROUNDS + count; r += 1) {
    const round: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (const variant of order(variants, r, perRound)) round[variant.name]!.push(await run(variant));
    if (r >= WARMUP_ROUNDS) rounds.push(round);
  }
  return summarise(rounds);
};

/** The module's cold load: bundle, bare handler, bundle with source maps, SDK clients from node_modules. */
export function measureLambdaCold(root: string, roundCount = MODULE_ROUNDS): LambdaModuleBench {
  const dir = join(root, '.tmp', 'bench', 'lambda');
  const built = buildLambdaBundle(root, dir);
  const bareFile = join(dir, 'bare.js');
  writeFileSync(bareFile, BARE_HANDLER);
  const probeFile = join(root, '.tmp', 'bench', 'lambda-probe.js');
  writeFileSync(probeFile, PROBE);
  // Required from the project (node_modules), like the runtime's own SDK copy would be.
  const sdkFile = join(root, '.tmp', 'bench', 'lambda-sdk-clients.js');
  writeFileSync(sdkFile, SDK_CLIENTS);
  const variants: ModuleVariant[] = [
    { name: 'bundle', file: built.file, flags: [] },
    { name: 'bare', file: bareFile, flags: [] },
    { name: 'bundle+sourcemaps', file: built.file, flags: ['--enable-source-maps'] },
    { name: 'sdk', file: sdkFile, flags: [] },
  ];
  const { all, ratio } = roundsSync(variants, roundCount, MODULE_PER_ROUND, loadOnce(probeFile));
  const bundle = figures(all('bundle'));
  const bare = figures(all('bare'));
  return {
    bundle,
    bare,
    bundleWithSourceMaps: figures(all('bundle+sourcemaps')),
    sdkFromNodeModules: figures(all('sdk')),
    lambda_cold_start_ratio: ratio('bundle', 'bare', (s) => s.wallMs),
    lambda_require_ratio: ratio('bundle', 'bare', (s) => s.requireMs),
    require_ratio: round(bundle.requireMsMedian / bare.requireMsMedian),
    source_maps_cold_start_ratio: ratio('bundle+sourcemaps', 'bare', (s) => s.wallMs),
    rounds: roundCount,
    perRound: MODULE_PER_ROUND,
    wall_ratio: round(bundle.wallMsMedian / bare.wallMsMedian),
    bundleBytes: built.bundleBytes,
    sourceMapBytes: built.sourceMapBytes,
    copiedFiles: built.copiedFiles,
    sideFiles: built.sideFiles,
    bundleByPackage: built.bundleByPackage,
    buildMs: built.buildMs,
    dir,
  };
}

// --- the first delivery -----------------------------------------------------------------------------

// Child: require the module, invoke its handler once with the event on stdin, print the times and
// the answer's status. It exits at once: the SDK's kept-alive sockets would hold the process open
// (Lambda freezes an instance between invocations instead).
const FIRST_DELIVERY_CHILD = `
const start = process.hrtime.bigint();
const m = require(process.argv[2]);
const requireMs = Number(process.hrtime.bigint() - start) / 1e6;
const event = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const invoked = process.hrtime.bigint();
Promise.resolve(m.handler(event, { getRemainingTimeInMillis: () => 14000 })).then((answer) => {
  const invokeMs = Number(process.hrtime.bigint() - invoked) / 1e6;
  process.stdout.write(JSON.stringify({ requireMs, invokeMs, status: answer && answer.statusCode }));
  process.exit(0);
}, (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

/** Secrets Manager and SQS on 127.0.0.1 (AWS JSON protocol): the secret, and every batch accepted. */
const startAwsStandIn = async (): Promise<{ server: Server; url: string; handedOff: () => number }> => {
  let handedOff = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string; Entries?: Array<{ Id: string; MessageBody: string }> };
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target === 'secretsmanager.GetSecretValue') return reply(200, { ARN: input.SecretId, Name: 'ecologic-webhook-secrets', SecretString: SECRET });
      if (target === 'AmazonSQS.SendMessageBatch') {
        const entries = input.Entries ?? [];
        handedOff += entries.length;
        // The SDK checks each message's MD5.
        return reply(200, {
          Successful: entries.map((e, n) => ({ Id: e.Id, MessageId: `m-${handedOff}-${n}`, MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex') })),
          Failed: [],
        });
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, handedOff: () => handedOff };
};

const startDynamo = async (): Promise<{ server: Server; url: string }> => {
  // dynalite ships no types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: { createTableMs?: number }) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint: url, region: 'ap-southeast-2', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } });
  await createDedupeTable(client, TABLE);
  client.destroy();
  return { server, url };
};

/** A Function URL event (payload 2.0) carrying a signed delivery of the quote request fixture, a new event each time. */
const deliveryEvent = (template: Record<string, unknown>, n: number): string => {
  const body = JSON.stringify({ ...template, event_id: `evt_lambda_bench_${n}_${randomBytes(6).toString('hex')}` });
  const id = `msg_lambda_bench_${n}_${randomBytes(6).toString('hex')}`;
  const at = new Date();
  return JSON.stringify({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(SECRET).sign(id, at, body),
    },
    requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' } },
    body,
    isBase64Encoded: false,
  });
};

const firstDeliveryOnce = (file: string, event: string, env: NodeJS.ProcessEnv, childFile: string): Promise<Sample & { status: unknown }> =>
  new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [childFile, file], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = msSince(start);
      try {
        const parsed = JSON.parse(stdout) as { requireMs: number; invokeMs: number; status: unknown };
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolve({ requireMs: parsed.requireMs, invokeMs: parsed.invokeMs, wallMs, status: parsed.status });
      } catch (error) {
        reject(new BenchError(`the first delivery through ${file} failed (${String(error)}): ${stderr.slice(0, 2000)}`));
      }
    });
    child.stdin.end(event);
  });

/** A fresh process requires the module and answers one signed delivery, against the bare handler. */
export async function measureLambdaFirstDelivery(root: string, bundleFile: string, roundCount = FIRST_DELIVERY_ROUNDS): Promise<LambdaFirstDeliveryBench> {
  const dir = join(root, '.tmp', 'bench', 'lambda-first');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bareFile = join(dir, 'bare.js');
  const childFile = join(dir, 'first-delivery.js');
  writeFileSync(bareFile, BARE_HANDLER);
  writeFileSync(childFile, FIRST_DELIVERY_CHILD);
  const template = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'quote_request_created.json'), 'utf8')) as Record<string, unknown>;
  if (typeof template.reply_phone !== 'string' || typeof template.country !== 'string') throw new BenchError('the fixture should carry a phone and a country, so their tables load');

  const dynamo = await startDynamo();
  const aws = await startAwsStandIn();
  try {
    const env = childEnv({
      AWS_REGION: 'ap-southeast-2',
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SQS: aws.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      ECOLOGIC_SECRETS_ARN: 'arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:ecologic-webhook-secrets-AbCdEf',
      DEDUPE_TABLE: TABLE,
      HANDOFF_QUEUE_URL: `${aws.url}${QUEUE_PATH}`,
    });
    let n = 0;
    let accepted = 0;
    const variants = [
      { name: 'bundle', file: bundleFile },
      { name: 'bare', file: bareFile },
    ];
    const { all, ratio } = await roundsAsync(variants, roundCount, FIRST_DELIVERY_PER_ROUND, async (variant) => {
      const sample = await firstDeliveryOnce(variant.file, deliveryEvent(template, (n += 1)), env, childFile);
      if (sample.status !== 200) throw new BenchError(`the ${variant.name} answered ${String(sample.status)} to a signed delivery, not 200`);
      if (variant.name === 'bundle') accepted += 1;
      return sample;
    });
    if (aws.handedOff() !== accepted) throw new BenchError(`${accepted} deliveries accepted but ${aws.handedOff()} items handed off to the SQS stand-in`);
    const bundle = figures(all('bundle'));
    const bare = figures(all('bare'));
    const inProcess = (f: Figures) => f.requireMsMedian + (f.invokeMsMedian ?? 0);
    return {
      bundle,
      bare,
      lambda_first_delivery_ratio: ratio('bundle', 'bare', (s) => s.wallMs),
      first_delivery_extra_ms: round(inProcess(bundle) - inProcess(bare), 1),
      rounds: roundCount,
      perRound: FIRST_DELIVERY_PER_ROUND,
      handedOff: aws.handedOff(),
    };
  } finally {
    for (const server of [aws.server, dynamo.server]) {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
