/**
 * How the Lambda functions are bundled, in one place: infra/receiver-stack.ts hands these settings to
 * CDK's NodejsFunction (which runs esbuild), and the cold-start bench and the bundle-size test build
 * the same bundle with esbuild's API through esbuildOptionsFor. test/receiver/lambda-bundle.test.ts
 * checks that both give the same bytes.
 *
 * Why each setting (measured with scripts/bench/lambda-cold.ts; docs/performance.md):
 * - Everything is bundled, the AWS SDK v3 clients included (no external modules). The versions in
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
 * The AWS SDK's default credential chain, replaced in the Lambda bundles by a module that reads the
 * environment only (Lambda puts the function's credentials there; src/receiver/aws/env-credentials.ts
 * says why). A path relative to the repository root, where both NodejsFunction and
 * esbuildOptionsFor run esbuild.
 */
export const LAMBDA_ALIASES = { '@aws-sdk/credential-provider-node': './src/receiver/aws/env-credentials.ts' } as const;

/** LAMBDA_ALIASES as NodejsFunction's esbuildArgs (`--alias:<package>=<path>`). */
export const LAMBDA_ALIAS_ARGS: Record<string, string> = Object.fromEntries(Object.entries(LAMBDA_ALIASES).map(([from, to]) => [`--alias:${from}`, to]));

/** esbuild's `supported` override, as NodejsFunction's esbuildArgs and as esbuild's API option. */
export const NO_DYNAMIC_IMPORT = { cliArgs: { '--supported:dynamic-import': 'false' }, api: { 'dynamic-import': false } } as const;

/** The file NodejsFunction writes (its `handler` is `index.handler`). */
export const BUNDLE_FILE = 'index.js';

/**
 * esbuild's API options for what NodejsFunction runs with LAMBDA_BUNDLE_SETTINGS: bundle, node
 * platform, CommonJS, the settings above. `outdir` gets index.js, index.js.map and the copied files.
 */
export const esbuildOptionsFor = (entry: string, outdir: string, root: string): BuildOptions => ({
  absWorkingDir: root,
  entryPoints: [entry],
  outfile: `${outdir}/${BUNDLE_FILE}`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: LAMBDA_BUNDLE_SETTINGS.target,
  minify: LAMBDA_BUNDLE_SETTINGS.minify,
  sourcemap: LAMBDA_BUNDLE_SETTINGS.sourceMap,
  sourcesContent: LAMBDA_BUNDLE_SETTINGS.sourcesContent,
  mainFields: [...LAMBDA_BUNDLE_SETTINGS.mainFields],
  loader: { ...LAMBDA_BUNDLE_SETTINGS.loader },
  external: [...LAMBDA_BUNDLE_SETTINGS.externalModules],
  supported: { ...NO_DYNAMIC_IMPORT.api },
  alias: { ...LAMBDA_ALIASES },
  logLevel: 'warning',
});
