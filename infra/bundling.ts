/**
 * How the Lambda functions are bundled, in one place: infra/receiver-stack.ts hands these settings to
 * CDK's NodejsFunction (which runs esbuild, then sideBundleCommands for the phone library's file),
 * and the cold-start bench and the bundle-size test build the same files with esbuild's API through
 * esbuildOptionsFor and sideBundleOptionsFor. test/receiver/lambda-bundle.test.ts checks that both
 * give the same bytes.
 *
 * Why each setting (measured with scripts/bench/lambda-cold.ts; docs/performance.md):
 * - Everything is bundled, the AWS SDK v3 clients included (no module from node_modules is left to
 *   the runtime; the only external is our own file beside the bundle, below). The versions in
 *   package-lock.json are the ones the tests ran against, where the runtime's copy changes without a
 *   deploy; and the runtime's copy is no faster: its CommonJS files, read one by one from
 *   node_modules, take longer to require than this whole bundle, and a delivery needs them at once.
 * - `module` before `main`: the SDK ships ES modules beside its CommonJS build, and only those
 *   tree-shake (unused commands, schemas and utilities leave the bundle: ~990 KB down to ~770 KB).
 * - `.json` files are copied next to the bundle, not turned into JavaScript: the phone metadata
 *   (157 KB) is then read with JSON.parse when a record first has a phone, instead of being parsed
 *   as code at every cold start (the bundle: ~590 KB).
 * - The SDK's default credential chain (@aws-sdk/credential-provider-node, which every client
 *   imports) is replaced by a module reading the environment only, where Lambda puts the function's
 *   credentials (LAMBDA_ALIASES): the chain's SSO, STS, ini-file, instance-metadata, process, web
 *   identity and login providers, with the nested SSO/STS clients, took ~130 KB of the bundle, all
 *   parsed at every cold start and never used (~593 KB down to ~460 KB).
 * - The phone library is a file of its own beside the bundle (PHONE_LIBRARY), required when a record
 *   first has a phone: V8 parses all of a script at load, lazily required parts included, so inside
 *   the bundle its ~128 KB cost every cold start; now it costs the first delivery with a phone
 *   instead, and a cold start whose deliveries carry none never reads it (~460 KB down to ~333 KB).
 * - The SDK's event streams are replaced by a module that throws (LAMBDA_ALIASES): no call of these
 *   functions streams events, and they brought the CRC32 checksum, which loads node:zlib at every
 *   cold start (~333 KB down to ~313 KB, and one built-in module fewer).
 * - No dynamic import() left in the bundle: esbuild turns the SDK's few `await import('node:…')` into
 *   require. Node otherwise starts its ES module loader for the first one (measured at ~50 ms of the
 *   first delivery when it happens: the SDK imports node:http that way for plain-http endpoints, such
 *   as the local stand-ins of the tests and the bench; on AWS the endpoints are https, imported
 *   statically, and the other import() calls serve EC2 instance-metadata credentials and Lambda's
 *   invoke store when AWS_LAMBDA_MAX_CONCURRENCY is set, so on AWS the saving is small or none).
 * - Minified, with a source map file beside it but not loaded: Node's --enable-source-maps reads and
 *   parses the map at load (a cost every cold start pays), so the stack sets it only when asked
 *   (the sourceMaps context value); the map in the asset lets an operator map a stack trace by hand.
 * These settings are for the Lambda bundles only: nothing else may take the credentials alias.
 */
import type { BuildOptions } from 'esbuild';

export const LAMBDA_BUNDLE_SETTINGS = {
  minify: true,
  sourceMap: true,
  // Stack traces only need the line mapping; the sources themselves would double the map.
  sourcesContent: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  loader: { '.json': 'copy' },
  externalModules: [] as string[],
} as const;

/**
 * The phone library (libphonenumber-js, ~128 KB minified) as its own file beside each bundle, built
 * from `entry`: src/core requires it only when a record has a phone, and code inside the bundle is
 * parsed at every cold start whether it runs or not. In the bundle, the library's two entry points
 * become small modules (LAMBDA_ALIASES) that require `./${file}` at run time (marked external).
 */
export const PHONE_LIBRARY = {
  entry: 'src/receiver/aws/phone-library/library.ts',
  file: 'phone-library.js',
} as const;

/**
 * Modules replaced in the Lambda bundles, by paths relative to the repository root (where both
 * NodejsFunction and esbuildOptionsFor run esbuild):
 * - the AWS SDK's default credential chain, by a module that reads the environment only (Lambda puts
 *   the function's credentials there; src/receiver/aws/env-credentials.ts says why);
 * - the phone library's entry points, by modules that require PHONE_LIBRARY.file;
 * - the SDK's event streams, which no call of these functions uses, by a module that throws
 *   (src/receiver/aws/no-event-streams.ts).
 */
export const LAMBDA_ALIASES = {
  '@aws-sdk/credential-provider-node': './src/receiver/aws/env-credentials.ts',
  'libphonenumber-js/max': './src/receiver/aws/phone-library/max.ts',
  'libphonenumber-js/core': './src/receiver/aws/phone-library/core.ts',
  '@smithy/core/event-streams': './src/receiver/aws/no-event-streams.ts',
} as const;

/** LAMBDA_ALIASES as NodejsFunction's esbuildArgs (`--alias:<package>=<path>`). */
export const LAMBDA_ALIAS_ARGS: Record<string, string> = Object.fromEntries(Object.entries(LAMBDA_ALIASES).map(([from, to]) => [`--alias:${from}`, to]));

/** Required by the bundle at run time, from beside it: the files the side builds emit. */
export const LAMBDA_EXTERNALS = [`./${PHONE_LIBRARY.file}`];

/** esbuild's `supported` override, as NodejsFunction's esbuildArgs and as esbuild's API option. */
export const NO_DYNAMIC_IMPORT = { cliArgs: { '--supported:dynamic-import': 'false' }, api: { 'dynamic-import': false } } as const;

/** The file NodejsFunction writes (its `handler` is `index.handler`). */
export const BUNDLE_FILE = 'index.js';

/** What the bundle and the side files share: bundle, node platform, CommonJS, the settings above. */
const sharedOptions = (root: string): BuildOptions => ({
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: LAMBDA_BUNDLE_SETTINGS.target,
  minify: LAMBDA_BUNDLE_SETTINGS.minify,
  sourcemap: LAMBDA_BUNDLE_SETTINGS.sourceMap,
  sourcesContent: LAMBDA_BUNDLE_SETTINGS.sourcesContent,
  mainFields: [...LAMBDA_BUNDLE_SETTINGS.mainFields],
  loader: { ...LAMBDA_BUNDLE_SETTINGS.loader },
  supported: { ...NO_DYNAMIC_IMPORT.api },
  logLevel: 'warning',
});

/**
 * esbuild's API options for what NodejsFunction runs with LAMBDA_BUNDLE_SETTINGS: the shared
 * settings, the aliases and the externals. `outdir` gets index.js, index.js.map and the copied files;
 * the side files come from sideBundleOptionsFor (a Lambda bundle needs both).
 */
export const esbuildOptionsFor = (entry: string, outdir: string, root: string): BuildOptions => ({
  ...sharedOptions(root),
  entryPoints: [entry],
  outfile: `${outdir}/${BUNDLE_FILE}`,
  external: [...LAMBDA_BUNDLE_SETTINGS.externalModules, ...LAMBDA_EXTERNALS],
  alias: { ...LAMBDA_ALIASES },
});

/** The phone library's file beside the bundle in `outdir` (no aliases: it is the library itself). */
export const sideBundleOptionsFor = (outdir: string, root: string): BuildOptions[] => [
  { ...sharedOptions(root), entryPoints: [`${root}/${PHONE_LIBRARY.entry}`], outfile: `${outdir}/${PHONE_LIBRARY.file}` },
];

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * sideBundleOptionsFor as the shell commands NodejsFunction runs after its own esbuild (its
 * commandHooks), with the same settings through esbuild's command line; the project's esbuild, as
 * NodejsFunction runs it. test/receiver/lambda-bundle.test.ts checks both give the same bytes.
 */
export const sideBundleCommands = (inputDir: string, outputDir: string): string[] => [
  [
    'npx',
    '--no-install',
    'esbuild',
    shellQuote(`${inputDir}/${PHONE_LIBRARY.entry}`),
    '--bundle',
    '--platform=node',
    '--format=cjs',
    `--target=${LAMBDA_BUNDLE_SETTINGS.target}`,
    ...(LAMBDA_BUNDLE_SETTINGS.minify ? ['--minify'] : []),
    ...(LAMBDA_BUNDLE_SETTINGS.sourceMap ? ['--sourcemap'] : []),
    `--sources-content=${String(LAMBDA_BUNDLE_SETTINGS.sourcesContent)}`,
    `--main-fields=${LAMBDA_BUNDLE_SETTINGS.mainFields.join(',')}`,
    ...Object.entries(LAMBDA_BUNDLE_SETTINGS.loader).map(([ext, loader]) => `--loader:${ext}=${loader}`),
    ...Object.entries(NO_DYNAMIC_IMPORT.cliArgs).map(([flag, value]) => `${flag}=${value}`),
    '--log-level=warning',
    shellQuote(`--outfile=${outputDir}/${PHONE_LIBRARY.file}`),
  ].join(' '),
];
