/**
 * The receiver Lambda's bundle, built as the stack builds it (infra/bundling.ts), which its cold
 * start pays for: every cold start parses all of it and runs what it requires at load.
 * - CDK's NodejsFunction and esbuild's API, given the same settings, give the same bytes (so the
 *   bench and these checks measure what deploys);
 * - it stays small: a size bound, and the metafile shows no module that must not be there (the SDK's
 *   CommonJS build, which does not tree-shake; commands the receiver never sends; the default
 *   credential chain and the SSO/STS clients it brings; the SDK's event streams; the phone library,
 *   a file of its own; the forwarder, replay, zod; the phone metadata as code);
 * - at load it reads none of the JSON it carries beside it but the SDK's own package files: the phone
 *   library (a file of its own beside the bundle), its metadata and the country tables wait for a
 *   record that needs them.
 * A delivery through the built bundle is in test/e2e/lambda-bundle.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildSync, type Metafile } from 'esbuild';
import { BUNDLE_FILE, esbuildOptionsFor, LAMBDA_ALIASES, PHONE_LIBRARY, sideBundleOptionsFor } from '../../infra/bundling';
import { DEFAULT_FORWARDER_ENTRY, DEFAULT_RECEIVER_ENTRY, REPO_ROOT } from '../../infra/paths';
import { ReceiverStack } from '../../infra/receiver-stack';

/**
 * Measured at 313 KB (990 KB before tree-shaking, 592 KB before the default credential chain left,
 * 460 KB before the phone library moved beside it, 333 KB before the event streams left); room for
 * ~10% growth.
 */
const MAX_BUNDLE_BYTES = 345_000;
/** The JSON beside it: the phone metadata (157 KB), the country tables, the SDK's package files. */
const MAX_COPIED_BYTES = 220_000;
/** The phone library's file beside it, measured at 128 KB. */
const MAX_PHONE_LIBRARY_BYTES = 150_000;

let dir: string;
let metafile: Metafile;
let inputs: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-bundle-'));
  const result = buildSync({ ...esbuildOptionsFor(DEFAULT_RECEIVER_ENTRY, dir, REPO_ROOT), metafile: true, logLevel: 'silent' });
  metafile = result.metafile!;
  for (const side of sideBundleOptionsFor(dir, REPO_ROOT)) buildSync({ ...side, logLevel: 'silent' });
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(`/${BUNDLE_FILE}`))?.[1];
  inputs = Object.keys(output?.inputs ?? {});
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The SDK's default credential chain and what only it brings; a Lambda takes its credentials from the environment. */
const CREDENTIAL_CHAIN = /node_modules\/@(aws-sdk\/(credential-provider-(?!env\/)[\w-]+|nested-clients|token-providers|client-sso|client-sts)|smithy\/credential-provider-imds)\//;

/** Everything beside the bundle: the copied JSON and the side files with their maps. */
const copiedFiles = (folder: string) => readdirSync(folder).filter((name) => name !== BUNDLE_FILE && name !== `${BUNDLE_FILE}.map`).sort();
const jsonFiles = (folder: string) => copiedFiles(folder).filter((name) => name.endsWith('.json'));

describe('the receiver bundle', () => {
  it('is what the stack deploys: CDK bundles the same bytes and files', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'receiver-synth-'));
    const validation = process.env['CDK_VALIDATION'];
    process.env['CDK_VALIDATION'] = 'false';
    try {
      // With cdk.json's feature flags, as `cdk synth` runs it.
      const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
      const app = new App({ outdir, context: cdkJson.context ?? {} });
      const stack = new ReceiverStack(app, 'Bundled', { receiverConcurrency: 'none' });
      const assembly = app.synth();
      const template = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
      const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Code?.S3Key);
      const hash = fn!.Properties.Code!.S3Key!.replace(/\.zip$/, '');
      const asset = join(assembly.directory, `asset.${hash}`);
      expect(readFileSync(join(asset, BUNDLE_FILE)).equals(readFileSync(join(dir, BUNDLE_FILE)))).toBe(true);
      // The phone library, built by the stack's command after the bundle: the same bytes too.
      expect(readFileSync(join(asset, PHONE_LIBRARY.file)).equals(readFileSync(join(dir, PHONE_LIBRARY.file)))).toBe(true);
      expect(copiedFiles(asset)).toEqual(copiedFiles(dir));
      expect(readdirSync(asset)).toContain(`${BUNDLE_FILE}.map`);
    } finally {
      if (validation === undefined) delete process.env['CDK_VALIDATION'];
      else process.env['CDK_VALIDATION'] = validation;
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);

  it(`stays under ${MAX_BUNDLE_BYTES} bytes, with under ${MAX_COPIED_BYTES} bytes of JSON and the phone library beside it`, () => {
    expect(statSync(join(dir, BUNDLE_FILE)).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    const copied = jsonFiles(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(copied).toBeLessThanOrEqual(MAX_COPIED_BYTES);
    expect(statSync(join(dir, PHONE_LIBRARY.file)).size).toBeLessThanOrEqual(MAX_PHONE_LIBRARY_BYTES);
    expect(copiedFiles(dir).filter((name) => !name.endsWith('.json'))).toEqual([PHONE_LIBRARY.file, `${PHONE_LIBRARY.file}.map`]);
  });

  it("takes the SDK's ES modules (tree-shaken), never its CommonJS build", () => {
    expect(inputs.filter((input) => /node_modules\/@(aws-sdk|smithy)\/.*\/dist-es\//.test(input)).length).toBeGreaterThan(50);
    expect(inputs.filter((input) => /node_modules\/@(aws-sdk|smithy)\/.*\/dist-cjs\//.test(input))).toEqual([]);
  });

  it('carries only the DynamoDB, SQS and Secrets Manager commands the receiver sends (not even the store\'s table creation)', () => {
    const commands = inputs.flatMap((input) => /\/(client-[a-z-]+)\/dist-es\/commands\/(\w+)Command\.js$/.exec(input)?.slice(1, 3).join(' ') ?? []).sort();
    expect(commands).toEqual(
      [
        'client-dynamodb BatchGetItem',
        'client-dynamodb DeleteItem',
        'client-dynamodb DescribeEndpoints', // the client's own endpoint discovery
        'client-dynamodb GetItem',
        'client-dynamodb PutItem',
        'client-dynamodb UpdateItem',
        'client-secrets-manager GetSecretValue',
        'client-sqs SendMessageBatch',
      ].sort(),
    );
  });

  it("takes its credentials from the environment only: none of the SDK's default chain is in it", () => {
    expect(inputs.filter((input) => CREDENTIAL_CHAIN.test(input))).toEqual([]);
    // The alias is what removed it: the environment provider is there, through our module.
    expect(inputs).toContain(LAMBDA_ALIASES['@aws-sdk/credential-provider-node'].replace(/^\.\//, ''));
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/credential-provider-env/'))).toBe(true);
  });

  it("leaves out the SDK's event streams, which no call streams, and with them the CRC32 checksum that loads node:zlib", () => {
    expect(inputs.filter((input) => /node_modules\/@smithy\/core\/dist-es\/submodules\/(event-streams|checksum\/crc32)\//.test(input))).toEqual([]);
    expect(inputs).toContain(LAMBDA_ALIASES['@smithy/core/event-streams'].replace(/^\.\//, ''));
    expect(readFileSync(join(dir, BUNDLE_FILE), 'utf8')).not.toMatch(/require\("(node:)?zlib"\)/);
    // Should an operation ever stream events, it fails saying why.
    const { EventStreamSerde, eventStreamSerdeProvider } = require('../../src/receiver/aws/no-event-streams') as typeof import('../../src/receiver/aws/no-event-streams');
    expect(() => new EventStreamSerde()).toThrow(/event streams are left out of the Lambda bundles/);
    expect(() => eventStreamSerdeProvider()).toThrow(/event streams are left out/);
  });

  it('leaves no dynamic import() for Node\'s ES module loader to start for', () => {
    expect(readFileSync(join(dir, BUNDLE_FILE), 'utf8')).not.toMatch(/\bimport\(/);
  });

  it('leaves out the forwarder, replay and zod, and keeps the phone metadata out of the code', () => {
    const project = inputs.filter((input) => !input.includes('node_modules/'));
    expect(project.filter((input) => /forwarder|replay|local\/|sqlite|zapier/.test(input))).toEqual([]);
    expect(inputs.filter((input) => /node_modules\/zod\//.test(input))).toEqual([]);
    expect(inputs.filter((input) => input.endsWith('.json'))).toEqual([]);
    expect(copiedFiles(dir).some((name) => /^metadata\.max-\w+\.json$/.test(name))).toBe(true);
  });

  it('keeps the phone library out of the bundle: it requires the file beside it', () => {
    expect(inputs.filter((input) => input.includes('node_modules/libphonenumber-js/'))).toEqual([]);
    expect(inputs).toEqual(expect.arrayContaining([LAMBDA_ALIASES['libphonenumber-js/max'], LAMBDA_ALIASES['libphonenumber-js/core']].map((path) => path.replace(/^\.\//, ''))));
    expect(readFileSync(join(dir, BUNDLE_FILE), 'utf8')).toContain(`require("./${PHONE_LIBRARY.file}")`);
    const library = require(join(dir, PHONE_LIBRARY.file)) as typeof import('../../src/receiver/aws/phone-library/library');
    expect(library.max.parsePhoneNumberFromString('0423 456 789', 'AU')?.number).toBe('+61423456789');
    expect(typeof library.core.Metadata).toBe('function');
  });

  it('reads neither the phone metadata nor the country tables at load', () => {
    const run = spawnSync(
      process.execPath,
      ['-e', `const m = require(${JSON.stringify(join(dir, BUNDLE_FILE))}); process.stdout.write(JSON.stringify({ handler: typeof m.handler, loaded: Object.keys(require.cache) }))`],
      { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env['PATH'] ?? '' } },
    );
    expect(run.status).toBe(0);
    const { handler, loaded } = JSON.parse(run.stdout) as { handler: string; loaded: string[] };
    expect(handler).toBe('function');
    // Nothing but the bundle itself of the code beside it: the phone library waits too.
    expect(loaded.filter((file) => file.startsWith(dir))).toContain(join(dir, BUNDLE_FILE));
    expect(loaded.filter((file) => file.startsWith(dir) && file.endsWith('.js'))).toEqual([join(dir, BUNDLE_FILE)]);
    const json = loaded.filter((file) => file.endsWith('.json')).map((file) => file.slice(dir.length + 1));
    // The SDK clients read their package.json (their version, for the user agent) at load.
    expect(json.filter((name) => !/^package-\w+\.json$/.test(name))).toEqual([]);
    expect(jsonFiles(dir).filter((name) => !/^package-\w+\.json$/.test(name)).length).toBeGreaterThanOrEqual(3);
  });
});

describe('the forwarder bundle, built with the same settings', () => {
  it('builds and loads, with no dynamic import() left and no default credential chain', () => {
    const forwarderDir = mkdtempSync(join(tmpdir(), 'forwarder-bundle-'));
    try {
      const built = buildSync({ ...esbuildOptionsFor(DEFAULT_FORWARDER_ENTRY, forwarderDir, REPO_ROOT), metafile: true, logLevel: 'silent' });
      const forwarderInputs = Object.keys(Object.entries(built.metafile!.outputs).find(([name]) => name.endsWith(`/${BUNDLE_FILE}`))![1].inputs);
      expect(forwarderInputs.filter((input) => CREDENTIAL_CHAIN.test(input))).toEqual([]);
      expect(forwarderInputs.some((input) => input.includes('node_modules/@aws-sdk/credential-provider-env/'))).toBe(true);
      const file = join(forwarderDir, BUNDLE_FILE);
      expect(readFileSync(file, 'utf8')).not.toMatch(/\bimport\(/);
      const run = spawnSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(file)}).handler)`], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env['PATH'] ?? '' },
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('function');
    } finally {
      rmSync(forwarderDir, { recursive: true, force: true });
    }
  });
});
