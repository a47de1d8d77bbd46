import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { BenchError, median, msSince, quantile, round } from './stats';

/*
 * The receiver Lambda's cold module load: its bundle, made the way CDK's NodejsFunction makes it
 * for infra/receiver-stack.ts (esbuild, bundle, node22, cjs, minify, source map without sources,
 * no external modules: the AWS SDK clients are inside), against a bare handler, each `require`d in
 * fresh Node processes with the flag the stack sets (NODE_OPTIONS=--enable-source-maps).
 */

export const LAMBDA_ENTRY = join('src', 'receiver', 'aws', 'receiver-lambda.ts');
const BARE_HANDLER = 'exports.handler = async () => ({ statusCode: 200 });\n';
const WARMUP_ROUNDS = 2;

export interface ColdFigures {
  /** In-process `require(file)` time, ms (hrtime in the child). */
  readonly requireMsMedian: number;
  readonly requireMsP90: number;
  /** The whole process (spawn to exit), ms. */
  readonly wallMsMedian: number;
  readonly samplesRequireMs: readonly number[];
}

export interface LambdaColdBench {
  readonly bundle: ColdFigures;
  readonly bare: ColdFigures;
  /** Median require time, bundle / bare. */
  readonly require_ratio: number;
  readonly wall_ratio: number;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** Bytes of the minified bundle by package (or `src`), biggest first: what the load pays for. */
  readonly bundleByPackage: readonly (readonly [string, number])[];
  readonly buildMs: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** Only what Node itself needs: no receiver setting, to show the module loads without them. */
const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name] !== undefined) env[name] = process.env[name];
  // Like cold-load.ts: no compile cache, every process compiles from source as a Lambda cold start does.
  env.NODE_DISABLE_COMPILE_CACHE = '1';
  return env;
};

// The same statements for both files; prints the in-process require time and the handler's type.
const probe = (file: string): string =>
  `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});const ms=Number(process.hrtime.bigint()-t)/1e6;` +
  `process.stdout.write(JSON.stringify({ms,handler:typeof m.handler}))`;

const loadOnce = (name: string, file: string): { requireMs: number; wallMs: number } => {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--enable-source-maps', '-e', probe(file)], { env: childEnv(), encoding: 'utf8', timeout: 30_000 });
  const wallMs = msSince(start);
  let parsed: { ms?: unknown; handler?: unknown } = {};
  try {
    parsed = JSON.parse(run.stdout) as typeof parsed;
  } catch {
    // reported below with the process's output
  }
  if (run.status !== 0 || typeof parsed.ms !== 'number' || parsed.handler !== 'function') {
    throw new BenchError(`requiring the ${name} (${file}) in a fresh process failed (exit ${run.status ?? run.signal}, handler ${String(parsed.handler)}): ${run.stderr || run.error || run.stdout}`);
  }
  return { requireMs: parsed.ms, wallMs };
};

const figures = (samples: readonly { requireMs: number; wallMs: number }[]): ColdFigures => ({
  requireMsMedian: round(median(samples.map((s) => s.requireMs))),
  requireMsP90: round(quantile(samples.map((s) => s.requireMs), 0.9)),
  wallMsMedian: round(median(samples.map((s) => s.wallMs))),
  samplesRequireMs: samples.map((s) => round(s.requireMs, 2)),
});

/** `node_modules/@scope/name/…` → `@scope/name`; project files → their top folder. */
const packageOf = (input: string): string => {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return parts[0] ?? input;
  const name = parts[at + 1] ?? input;
  return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name;
};

/** Bundles the receiver Lambda into <root>/.tmp/bench/lambda and times its cold require against a bare handler. */
export function measureLambdaCold(root: string, rounds = 15): LambdaColdBench {
  const dir = join(root, '.tmp', 'bench', 'lambda');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bundleFile = join(dir, 'receiver.js');
  const bareFile = join(dir, 'bare.js');

  const built = process.hrtime.bigint();
  // The options CDK's NodejsFunction turns BUNDLING (infra/receiver-stack.ts) into.
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [join(root, LAMBDA_ENTRY)],
    outfile: bundleFile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    logLevel: 'silent',
    metafile: true,
  });
  const buildMs = round(msSince(built), 1);
  if (result.errors.length > 0) throw new BenchError(`esbuild could not bundle ${LAMBDA_ENTRY}: ${result.errors.map((e) => e.text).join('; ')}`);
  writeFileSync(bareFile, BARE_HANDLER);
  const byPackage = new Map<string, number>();
  const output = Object.entries(result.metafile?.outputs ?? {}).find(([file]) => file.endsWith('.js'))?.[1];
  if (output === undefined) throw new BenchError('esbuild reported no .js output for the bundle');
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const group = packageOf(input);
    byPackage.set(group, (byPackage.get(group) ?? 0) + bytesInOutput);
  }

  const variants = [
    { name: 'bundle', file: bundleFile },
    { name: 'bare handler', file: bareFile },
  ] as const;
  const samples: Record<string, { requireMs: number; wallMs: number }[]> = { bundle: [], 'bare handler': [] };
  for (let r = 0; r < WARMUP_ROUNDS + rounds; r += 1) {
    // Alternating which goes first, so drift on the machine falls on both alike.
    for (let k = 0; k < variants.length; k += 1) {
      const variant = variants[(r + k) % variants.length]!;
      const sample = loadOnce(variant.name, variant.file);
      if (r >= WARMUP_ROUNDS) samples[variant.name]!.push(sample);
    }
  }
  const bundle = figures(samples.bundle!);
  const bare = figures(samples['bare handler']!);
  return {
    bundle,
    bare,
    require_ratio: round(bundle.requireMsMedian / bare.requireMsMedian),
    wall_ratio: round(bundle.wallMsMedian / bare.wallMsMedian),
    bundleBytes: statSync(bundleFile).size,
    sourceMapBytes: statSync(`${bundleFile}.map`).size,
    bundleByPackage: [...byPackage.entries()].sort((a, b) => b[1] - a[1]),
    buildMs,
    rounds,
    warmupRounds: WARMUP_ROUNDS,
  };
}
