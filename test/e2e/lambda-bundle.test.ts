/**
 * The receiver Lambda as it deploys: its bundle, built with the stack's settings (infra/bundling.ts:
 * the SDK's ES modules, credentials from the environment, the JSON copied and the phone library
 * built beside the bundle, no source maps loaded), required in a fresh Node process configured only
 * by its environment, answering signed deliveries. DynamoDB is dynalite on 127.0.0.1, Secrets
 * Manager and SQS a stand-in answering the SDK's JSON protocol. The TypeScript sources are tested in
 * receiver-lambda.test.ts; this shows the bundled form works too: the phone library's file, the
 * copied phone metadata and country tables are found at run time, a record comes out normalised
 * and a second delivery of the same event is a duplicate.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { BUNDLE_FILE, esbuildOptionsFor, PHONE_LIBRARY, sideBundleOptionsFor } from '../../infra/bundling';
import { DEFAULT_RECEIVER_ENTRY, REPO_ROOT } from '../../infra/paths';
import { createDedupeTable } from '../../src/receiver/stores/dynamodb';
import { localDynamoClient, startDynalite, type LocalDynamo } from '../support/dynalite';
import { fixture, SECRET, signed } from '../support/receiver-kit';

const TABLE = 'ecologic-receiver-events';

interface StandIn {
  readonly url: string;
  readonly bodies: string[];
  readonly calls: string[];
  /** The access key id each request was signed with (SigV4's `Credential=<key>/…`). */
  readonly signedWith: string[];
  close(): Promise<void>;
}

const startStandIn = async (): Promise<StandIn> => {
  const bodies: string[] = [];
  const calls: string[] = [];
  const signedWith: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push(target);
      signedWith.push(/Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'unsigned');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string; Entries?: Array<{ Id: string; MessageBody: string }> };
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target === 'secretsmanager.GetSecretValue') return reply(200, { ARN: input.SecretId, Name: 'secrets', SecretString: SECRET });
      if (target === 'AmazonSQS.SendMessageBatch') {
        const entries = input.Entries ?? [];
        bodies.push(...entries.map((e) => e.MessageBody));
        return reply(200, {
          Successful: entries.map((e, n) => ({ Id: e.Id, MessageId: `m-${bodies.length}-${n}`, MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex') })),
          Failed: [],
        });
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    calls,
    signedWith,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

// Requires the bundle and answers each event of the JSON array on stdin in turn; prints the answers.
const CHILD = `
const m = require(process.argv[1]);
const events = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
(async () => {
  const answers = [];
  for (const event of events) answers.push(await m.handler(event, { getRemainingTimeInMillis: () => 14000 }));
  const loaded = Object.keys(require.cache);
  process.stdout.write(JSON.stringify({ answers, json: loaded.filter((f) => f.endsWith('.json')), js: loaded.filter((f) => f.endsWith('.js')) }));
  process.exit(0);
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

const runChild = (file: string, events: unknown[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, file], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Generous on a busy machine; a hung child fails the test instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(JSON.stringify(events));
  });

const functionUrlEvent = (request: ReturnType<typeof signed>) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
  requestContext: { http: { method: request.method, path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' } },
  body: request.body,
  isBase64Encoded: false,
});

describe('the bundled receiver Lambda', () => {
  let dir: string;
  let dynamo: LocalDynamo;
  let aws: StandIn;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'receiver-bundle-e2e-'));
    buildSync({ ...esbuildOptionsFor(DEFAULT_RECEIVER_ENTRY, dir, REPO_ROOT), logLevel: 'silent' });
    for (const side of sideBundleOptionsFor(dir, REPO_ROOT)) buildSync({ ...side, logLevel: 'silent' });
    dynamo = await startDynalite();
    aws = await startStandIn();
    await createDedupeTable(localDynamoClient(dynamo.endpoint), TABLE);
  });

  afterAll(async () => {
    await aws?.close();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The function's environment as the stack sets it, pointed at dynalite and the stand-in, plus `extra`. */
  const lambdaEnv = (extra: Record<string, string>): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '',
    AWS_REGION: 'ap-southeast-2',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    ECOLOGIC_SECRETS_ARN: 'arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:ecologic-webhook-secrets-AbCdEf',
    DEDUPE_TABLE: TABLE,
    HANDOFF_QUEUE_URL: `${aws.url}/111122223333/ecologic-items.fifo`,
    ...extra,
  });

  it('answers a signed delivery from its secret in Secrets Manager, hands off the normalised record once, and takes a repeat as a duplicate', async () => {
    const body = { ...fixture('quote_request_created'), event_id: `evt_bundle_${Date.now()}` };
    const delivery = functionUrlEvent(signed(body));
    const run = await runChild(join(dir, BUNDLE_FILE), [delivery, delivery], lambdaEnv({ AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' }));
    expect(run.code).toBe(0);
    // The receiver's log: one JSON line per delivery on stderr, and nothing else (no warning, no trace).
    const lines = run.stderr.trim().split('\n').map((line) => JSON.parse(line) as { outcome?: string });
    expect(lines.map((line) => line.outcome)).toEqual(['accepted', 'duplicate']);
    const { answers, json, js } = JSON.parse(run.stdout) as { answers: Array<{ statusCode: number; body: string }>; json: string[]; js: string[] };
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    expect(aws.calls.filter((call) => call === 'secretsmanager.GetSecretValue')).toHaveLength(1);
    // Signed with the credentials in the environment, the only source the bundle has.
    expect(aws.signedWith).toEqual(aws.calls.map(() => 'AKIDLOCAL'));
    expect(aws.bodies).toHaveLength(1);
    const item = JSON.parse(aws.bodies[0]!) as Record<string, unknown>;
    // Only the files beside the bundle can have given these: the phone library and its metadata, the
    // country table.
    expect(item).toMatchObject({ reply_phone_e164: '+61423456789', country_code: 'AU' });
    const read = json.map((file) => file.slice(dir.length + 1).replace(/-\w+\.json$/, ''));
    expect(read).toEqual(expect.arrayContaining(['metadata.max', 'codes', 'en']));
    expect(js.filter((file) => file.startsWith(dir)).map((file) => file.slice(dir.length + 1)).sort()).toEqual([BUNDLE_FILE, PHONE_LIBRARY.file].sort());
  }, 120_000);

  it('without credentials in the environment looks nowhere else: the delivery is deferred (503) and nothing is sent unsigned', async () => {
    const before = aws.calls.length;
    // Credentials the SDK's default chain would find and use; the Lambda bundles must not.
    const home = mkdtempSync(join(tmpdir(), 'receiver-bundle-home-'));
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = file\n');
    const delivery = functionUrlEvent(signed({ ...fixture('quote_request_created'), event_id: `evt_bundle_nocreds_${Date.now()}` }));
    // No AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment.
    const run = await runChild(join(dir, BUNDLE_FILE), [delivery], lambdaEnv({ HOME: home }));
    rmSync(home, { recursive: true, force: true });
    expect(run.code).toBe(0);
    const { answers } = JSON.parse(run.stdout) as { answers: Array<{ statusCode: number }> };
    expect(answers.map((a) => a.statusCode)).toEqual([503]);
    expect(aws.calls.length).toBe(before);
  }, 120_000);
});
