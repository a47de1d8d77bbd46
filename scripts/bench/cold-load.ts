import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, median, msSince, round } from './stats';

export interface ColdVariant {
  readonly name: string;
  readonly cwd: string;
  /** What the process requires, relative to `cwd`, or null for an empty process. */
  readonly request: string | null;
}

/** A fresh process's environment: the same for every variant, and no compile cache. */
const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
  delete env.NODE_COMPILE_CACHE;
  return env;
};

// The same few statements in every process; prints the in-process require time in ms.
const probe = (request: string | null): string =>
  request === null
    ? 'process.stdout.write("0")'
    : `const t=process.hrtime.bigint();require(${JSON.stringify(request)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;

const spawnOnce = (variant: ColdVariant): { wallMs: number; requireMs: number } => {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['-e', probe(variant.request)], { cwd: variant.cwd, env: childEnv(), encoding: 'utf8', timeout: 30_000 });
  const wallMs = msSince(start);
  const requireMs = Number(run.stdout);
  if (run.status !== 0 || !Number.isFinite(requireMs)) {
    throw new BenchError(`cold load of ${variant.name} failed (exit ${run.status ?? run.signal}): ${run.stderr || run.error || run.stdout}`);
  }
  return { wallMs, requireMs };
};

export interface LoadCheck {
  readonly modules: number;
  readonly triggers: readonly string[];
}

/**
 * Loads the variant once and checks that every module it loaded comes from its own folder: the
 * unzipped build sits inside the project, and Node would otherwise quietly fall back to the
 * project's node_modules for a file the zip lacks.
 */
export const checkVariant = (variant: ColdVariant): LoadCheck => {
  if (variant.request === null) return { modules: 0, triggers: [] };
  const code = `
    const path = require('node:path'); const fs = require('node:fs');
    const loaded = require(${JSON.stringify(variant.request)});
    const home = fs.realpathSync(process.cwd()) + path.sep;
    const files = Object.keys(require.cache);
    const outside = files.filter((file) => !fs.realpathSync(file).startsWith(home));
    process.stdout.write(JSON.stringify({ modules: files.length, outside, triggers: Object.keys((loaded && loaded.triggers) || {}) }));`;
  const run = spawnSync(process.execPath, ['-e', code], { cwd: variant.cwd, env: childEnv(), encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new BenchError(`loading ${variant.name} in ${variant.cwd} failed: ${run.stderr || run.error}`);
  const result = JSON.parse(run.stdout) as { modules: number; outside: string[]; triggers: string[] };
  if (result.outside.length > 0) {
    throw new BenchError(
      `${variant.name} loaded ${result.outside.length} module(s) from outside ${realpathSync(variant.cwd)} (missing from the zip?), e.g. ${result.outside.slice(0, 3).join(', ')}`,
    );
  }
  return { modules: result.modules, triggers: result.triggers };
};

export interface ColdLoadResult {
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly samples: Readonly<Record<string, { readonly wallMs: number[]; readonly requireMs: number[] }>>;
  readonly medians: Readonly<Record<string, { readonly wallMs: number; readonly requireMs: number }>>;
}

/**
 * `rounds` fresh processes per variant, interleaved: each round runs every variant once, in an
 * order rotated round by round, so drift on the machine falls on all variants alike.
 */
export const measureColdLoad = (variants: readonly ColdVariant[], rounds: number, warmupRounds: number): ColdLoadResult => {
  const samples: Record<string, { wallMs: number[]; requireMs: number[] }> = {};
  for (const variant of variants) samples[variant.name] = { wallMs: [], requireMs: [] };
  for (let r = 0; r < warmupRounds + rounds; r += 1) {
    for (let k = 0; k < variants.length; k += 1) {
      const variant = variants[(r + k) % variants.length]!;
      const sample = spawnOnce(variant);
      if (r < warmupRounds) continue;
      samples[variant.name]!.wallMs.push(sample.wallMs);
      samples[variant.name]!.requireMs.push(sample.requireMs);
    }
  }
  const medians: Record<string, { wallMs: number; requireMs: number }> = {};
  for (const [name, { wallMs, requireMs }] of Object.entries(samples)) {
    medians[name] = { wallMs: round(median(wallMs)), requireMs: round(median(requireMs)) };
  }
  return { rounds, warmupRounds, samples, medians };
};

export interface LoadProfile {
  readonly totalMs: number;
  readonly modules: number;
  /** Self time per package (or app folder), ms, biggest first. */
  readonly byPackage: readonly (readonly [string, number])[];
}

/** Runs scripts/bench/load-profile.js in the variant's folder `runs` times; median self time per package. */
export const profileLoad = (variant: ColdVariant, runs: number): LoadProfile => {
  if (variant.request === null) throw new BenchError('nothing to profile');
  const profiles: LoadProfile[] = [];
  for (let i = 0; i < runs; i += 1) {
    const run = spawnSync(process.execPath, [join(__dirname, 'load-profile.js'), variant.request], {
      cwd: variant.cwd,
      env: childEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (run.status !== 0) throw new BenchError(`load profile of ${variant.name} failed: ${run.stderr || run.error}`);
    profiles.push(JSON.parse(run.stdout) as LoadProfile);
  }
  const names = new Set(profiles.flatMap((profile) => profile.byPackage.map(([name]) => name)));
  const byPackage = [...names]
    .map((name) => [name, round(median(profiles.map((profile) => profile.byPackage.find(([n]) => n === name)?.[1] ?? 0)), 1)] as const)
    .sort((a, b) => b[1] - a[1]);
  return {
    totalMs: round(median(profiles.map((profile) => profile.totalMs)), 1),
    modules: median(profiles.map((profile) => profile.modules)),
    byPackage,
  };
};

export interface FirstDeliveryVariant {
  readonly name: string;
  readonly cwd: string;
  readonly mode: 'app' | 'passthrough';
}

interface FirstDeliverySample {
  readonly wallMs: number;
  readonly loadMs: number;
  readonly firstDeliveryMs: number;
}

export interface FirstDeliveryResult {
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly medians: Readonly<Record<string, { readonly wallMs: number; readonly loadMs: number; readonly firstDeliveryMs: number }>>;
  readonly samplesWallMs: Readonly<Record<string, number[]>>;
}

/**
 * Cold start as a delivery meets it: a fresh process loads the app and runs one signed delivery
 * (so the libraries the app loads on first use are counted), against the pass-through trigger on
 * the same core; interleaved like the cold load. `makeBundle` gives each process a fresh event.
 */
export const measureFirstDelivery = (
  variants: readonly FirstDeliveryVariant[],
  rounds: number,
  warmupRounds: number,
  triggerKey: string,
  makeBundle: () => { bundle: object; eventId: string },
): FirstDeliveryResult => {
  const samples: Record<string, FirstDeliverySample[]> = {};
  for (const variant of variants) samples[variant.name] = [];
  for (let r = 0; r < warmupRounds + rounds; r += 1) {
    for (let k = 0; k < variants.length; k += 1) {
      const variant = variants[(r + k) % variants.length]!;
      const { bundle, eventId } = makeBundle();
      const start = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [join(__dirname, 'first-delivery.js'), variant.mode], {
        cwd: variant.cwd,
        env: childEnv(),
        encoding: 'utf8',
        input: JSON.stringify({ bundle, triggerKey }),
        timeout: 30_000,
      });
      const wallMs = msSince(start);
      if (run.status !== 0) throw new BenchError(`first delivery (${variant.name}) failed: ${run.stderr || run.error}`);
      const result = JSON.parse(run.stdout) as { loadMs: number; firstDeliveryMs: number; items: unknown; outside: string[] };
      const items = Array.isArray(result.items) ? (result.items as { id?: unknown; event_id?: unknown }[]) : [];
      const delivered = items.length === 1 && (variant.mode === 'app' ? items[0]!.id : items[0]!.event_id) === eventId;
      if (!delivered) throw new BenchError(`first delivery (${variant.name}) returned ${JSON.stringify(result.items)?.slice(0, 300)}; expected 1 item for ${eventId}`);
      if (result.outside.length > 0) {
        throw new BenchError(`first delivery (${variant.name}) loaded modules from outside ${variant.cwd}, e.g. ${result.outside.slice(0, 3).join(', ')}`);
      }
      if (r >= warmupRounds) samples[variant.name]!.push({ wallMs, loadMs: result.loadMs, firstDeliveryMs: result.firstDeliveryMs });
    }
  }
  const medians: Record<string, { wallMs: number; loadMs: number; firstDeliveryMs: number }> = {};
  for (const [name, list] of Object.entries(samples)) {
    medians[name] = {
      wallMs: round(median(list.map((s) => s.wallMs))),
      loadMs: round(median(list.map((s) => s.loadMs))),
      firstDeliveryMs: round(median(list.map((s) => s.firstDeliveryMs))),
    };
  }
  return {
    rounds,
    warmupRounds,
    medians,
    samplesWallMs: Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, list.map((s) => round(s.wallMs, 2))])),
  };
};
