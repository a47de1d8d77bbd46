import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createBareApp, devPackageDirs, stageApp, zapierBuild, type BuildResult } from './bench/build';
import { checkVariant, measureColdLoad, measureFirstDelivery, profileLoad, type ColdVariant } from './bench/cold-load';
import { fixtureBody, measureDeliveryRounds, measureNormaliser, QUOTE_TRIGGER, signedBundle } from './bench/delivery';
import { BenchError, kib, msSince, ratioOfRounds, round, table, withSpread, type RoundedRatio } from './bench/stats';
import { measureLambdaCold, measureLambdaFirstDelivery } from './bench/lambda-cold';
import { measureReceiver } from './bench/receiver';
import { analyseZip, bundleViolations, extractZip, readZip, type ZipComposition } from './bench/zip';

// `npm run bench` (after `npm run build`): cold load, per-delivery cost and bundle size of the built
// app, each against the floor measured in the same run. Prints tables, then one JSON line.
// Exits non-zero only when a measurement fails; a missed target is reported, not fatal.

const root = join(__dirname, '..', '..');
const benchDir = join(root, '.tmp', 'bench');
const tmpDir = join(benchDir, 'tmp');

const TARGETS = { cold_load_ratio: 1.15, per_delivery_ratio: 1.5, per_delivery_same_definition_ratio: 1.25, bundle_size_ratio: 1.5 } as const;
/** The receiver's companion run: as few deliveries in flight as the bench used to send. */
const FEW_CONNECTIONS = 10;
/** The receiver Lambda's whole fresh process against a bare handler's. */
const LAMBDA_COLD_START_TARGET = 2;
const COLD_ROUNDS = 21;
const COLD_WARMUP_ROUNDS = 2;
const FIRST_DELIVERY_ROUNDS = 15;
const PROFILE_RUNS = 3;
/** Fresh processes, one after another, each interleaving the four runners. */
const DELIVERY_ROUNDS = 7;
const DELIVERY_ITERATIONS = 150;
const DELIVERY_WARMUP = 50;
const NORMALISER_MS = 400;

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const verdict = (value: number, target: number) => (value <= target ? 'PASS' : 'MISS');
const spreadOf = (ratio: RoundedRatio) => `${ratio.min}–${ratio.max} (${ratio.rounds.length})`;

const coreVersion = (): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', 'zapier-platform-core', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Files the app's zip must not hold: scratch folders of the project, receiver code, receiver or
 * other dev-only packages (the same rules `npm run zapier:check` enforces).
 */
const assertCleanAppZip = (zipPath: string) => {
  const names = readZip(root, zipPath).map((entry) => entry.entryName);
  const foreign = [
    ...names.filter((name) => name.startsWith('coverage/')).map((name) => `${name}: scratch folder`),
    ...bundleViolations(names, devPackageDirs(root)),
  ];
  if (foreign.length > 0) {
    throw new BenchError(`the app's build.zip holds ${foreign.length} file(s) it must not, e.g.\n${foreign.slice(0, 5).join('\n')}`);
  }
};

const assertCoreInZip = (zipPath: string, label: string) => {
  const names = new Set(readZip(root, zipPath).map((entry) => entry.entryName));
  for (const required of ['zapierwrapper.js', 'index.js', 'node_modules/zapier-platform-core/index.js', 'node_modules/zapier-platform-core/package.json']) {
    if (!names.has(required)) throw new BenchError(`${label} build.zip lacks ${required}`);
  }
};

const topGroups = (composition: ZipComposition, count: number) =>
  [...composition.groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);

const main = async () => {
  const started = process.hrtime.bigint();
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new BenchError('dist/index.js is missing: run `npm run build` (npm run bench does)');
  rmSync(benchDir, { recursive: true, force: true });

  // 1. Bundle size: both zips made by the same CLI command, from the same production-only
  // node_modules (what `zapier-platform push` installs), each in a staged folder.
  const appDir = join(benchDir, 'app');
  progress('staging the app (checkout files, dist/, production packages hard-linked)…');
  const staged = stageApp(root, appDir);
  progress(`  ${staged.linkedFiles} files linked, ${staged.copiedFiles} copied, ${staged.packages} packages, ${Math.round(staged.ms)} ms; building it (zapier-platform build --skip-dep-install --skip-validation)…`);
  let appBuild: BuildResult;
  try {
    appBuild = zapierBuild(root, appDir, tmpDir, join(benchDir, 'zips', 'app.zip'));
  } finally {
    // A package.json-laden folder inside the project would be swept into a push of the project.
    rmSync(appDir, { recursive: true, force: true });
  }
  assertCleanAppZip(appBuild.zipPath);
  assertCoreInZip(appBuild.zipPath, 'the app');
  progress(`app build.zip: ${appBuild.bytes} bytes in ${Math.round(appBuild.ms)} ms`);

  const bareDir = join(benchDir, 'bare-app');
  progress('creating the bare core-only app (hard-linked production node_modules)…');
  const bare = createBareApp(root, bareDir, coreVersion());
  progress(`  ${bare.linkedFiles} files linked, ${bare.copiedFiles} copied, ${Math.round(bare.ms)} ms; building it…`);
  let bareBuild: BuildResult;
  try {
    bareBuild = zapierBuild(root, bareDir, tmpDir, join(benchDir, 'zips', 'bare.zip'));
  } finally {
    // As for the app: no package.json-laden folder left inside the project.
    rmSync(bareDir, { recursive: true, force: true });
  }
  assertCoreInZip(bareBuild.zipPath, 'the bare app');
  progress(`bare build.zip: ${bareBuild.bytes} bytes in ${Math.round(bareBuild.ms)} ms`);
  const appZip = analyseZip(root, appBuild.zipPath);
  const bareZip = analyseZip(root, bareBuild.zipPath);
  const bundleRatio = round(appBuild.bytes / bareBuild.bytes);
  const appOnly = [...appZip.groups.entries()]
    .map(([group, bytes]) => [group, bytes - (bareZip.groups.get(group) ?? 0)] as const)
    .filter(([, extra]) => extra > 0)
    .sort((a, b) => b[1] - a[1]);
  const netApp = appBuild.bytes - appZip.manifestOnlyPackages.bytes;
  const netBare = bareBuild.bytes - bareZip.manifestOnlyPackages.bytes;

  // 2. Cold load, on the unzipped builds.
  const unzipped = join(benchDir, 'unzipped');
  let cold: ReturnType<typeof measureColdLoad>;
  let profile: ReturnType<typeof profileLoad>;
  let firstDelivery: ReturnType<typeof measureFirstDelivery>;
  let checks: Record<string, ReturnType<typeof checkVariant>>;
  try {
    const appRun = join(unzipped, 'app');
    const bareRun = join(unzipped, 'bare');
    const extractedApp = extractZip(root, appBuild.zipPath, appRun);
    const extractedBare = extractZip(root, bareBuild.zipPath, bareRun);
    progress(`unzipped: app ${extractedApp.files} files, bare ${extractedBare.files} files`);
    const variants: ColdVariant[] = [
      { name: 'app', cwd: appRun, request: './index.js' },
      { name: 'core', cwd: appRun, request: 'zapier-platform-core' },
      { name: 'bare', cwd: bareRun, request: './index.js' },
      { name: 'node', cwd: appRun, request: null },
    ];
    checks = Object.fromEntries(variants.map((variant) => [variant.name, checkVariant(variant)]));
    if (!checks.app?.triggers.includes(QUOTE_TRIGGER)) throw new BenchError(`the unzipped app has no ${QUOTE_TRIGGER} trigger`);
    progress(`cold load: ${COLD_WARMUP_ROUNDS} warm-up + ${COLD_ROUNDS} rounds of ${variants.length} fresh processes…`);
    cold = measureColdLoad(variants, COLD_ROUNDS, COLD_WARMUP_ROUNDS);
    progress('load profile of the app (self time per package)…');
    profile = profileLoad(variants[0]!, PROFILE_RUNS);
    progress(`cold first delivery: ${COLD_WARMUP_ROUNDS} warm-up + ${FIRST_DELIVERY_ROUNDS} rounds of 2 fresh processes…`);
    const template = fixtureBody(root, QUOTE_TRIGGER);
    let sequence = 0;
    firstDelivery = measureFirstDelivery(
      [
        { name: 'app', cwd: appRun, mode: 'app' },
        { name: 'passthrough', cwd: appRun, mode: 'passthrough' },
      ],
      FIRST_DELIVERY_ROUNDS,
      COLD_WARMUP_ROUNDS,
      QUOTE_TRIGGER,
      () => signedBundle(template, (sequence += 1)),
    );
  } finally {
    rmSync(unzipped, { recursive: true, force: true });
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const m = cold.medians;
  // A round is one fresh process of each variant: the ratio is the median of the rounds' ratios.
  const coldRounds = ratioOfRounds(cold.samples.app!.wallMs.map((wallMs, index) => wallMs / cold.samples.core!.wallMs[index]!));
  const coldRatio = coldRounds.median;
  const requireRatio = round(m.app!.requireMs / m.core!.requireMs);
  const fd = firstDelivery.medians;
  const firstDeliveryRatio = round(fd.app!.wallMs / fd.passthrough!.wallMs);

  // 3. Per delivery, in this process, on the built project tree (root index.js -> dist/).
  progress(`per delivery: ${DELIVERY_ROUNDS} fresh processes, each ${DELIVERY_WARMUP} warm-up + ${DELIVERY_ITERATIONS} iterations of 4 interleaved runners…`);
  const delivery = measureDeliveryRounds(root, join(__dirname, 'bench', 'delivery-round.js'), DELIVERY_ROUNDS, DELIVERY_ITERATIONS, DELIVERY_WARMUP);
  progress('normaliser throughput…');
  const normaliser = measureNormaliser(root, NORMALISER_MS);

  // 4. The receiver (npm run receiver) under load against a floor server, and its Lambda's cold load.
  progress('receiver under load (autocannon, signed deliveries of new events) against the floor server…');
  const receiver = await measureReceiver(root, { progress: (message) => progress(`  ${message}`) });
  progress(`the same at ${FEW_CONNECTIONS} connections, two rounds (latency-bound, no target)…`);
  const receiverFew = await measureReceiver(root, { connections: FEW_CONNECTIONS, rounds: 2, progress: (message) => progress(`  ${message}`) });
  progress('receiver Lambda bundle: cold module load against a bare handler…');
  const lambdaCold = measureLambdaCold(root);
  progress('receiver Lambda: the first delivery of a fresh process (dynalite and a queue stand-in on 127.0.0.1)…');
  const lambdaFirst = await measureLambdaFirstDelivery(root, join(lambdaCold.dir, 'index.js'));

  const ratios = {
    cold_load_ratio: coldRatio,
    per_delivery_ratio: delivery.ratio.median,
    per_delivery_same_definition_ratio: delivery.sameDefinitionRatio.median,
    bundle_size_ratio: bundleRatio,
  };
  const met: Record<string, boolean> = Object.fromEntries(Object.entries(TARGETS).map(([key, target]) => [key, ratios[key as keyof typeof ratios] <= target]));
  // Higher is better for this one: the receiver's requests per second over the floor's.
  met.receiver_throughput_ratio = receiver.verdict === 'PASS';
  met.lambda_cold_start_ratio = lambdaCold.lambda_cold_start_ratio.median <= LAMBDA_COLD_START_TARGET;
  const targetsMet = Object.values(met).every(Boolean);

  const out: string[] = [];
  out.push(`Ecologic Zapier app benchmark · node ${process.version} · zapier-platform-core ${coreVersion()} · ${cpus().length} CPU(s)`);
  out.push('');
  out.push(
    table(
      ['figure', 'app', 'floor', 'ratio (median)', 'spread (min–max)', 'target', 'result'],
      [
        ['cold load, median wall ms/process', m.app!.wallMs, m.core!.wallMs, coldRatio, spreadOf(coldRounds), `<= ${TARGETS.cold_load_ratio}`, verdict(coldRatio, TARGETS.cold_load_ratio)],
        [
          'per delivery, median ms (app tester)',
          delivery.appMs,
          delivery.passThroughMs,
          delivery.ratio.median,
          spreadOf(delivery.ratio),
          `<= ${TARGETS.per_delivery_ratio}`,
          verdict(delivery.ratio.median, TARGETS.per_delivery_ratio),
        ],
        [
          'per delivery vs same-definition floor, median ms',
          delivery.appMs,
          delivery.sameDefinitionMs,
          delivery.sameDefinitionRatio.median,
          spreadOf(delivery.sameDefinitionRatio),
          `<= ${TARGETS.per_delivery_same_definition_ratio}`,
          verdict(delivery.sameDefinitionRatio.median, TARGETS.per_delivery_same_definition_ratio),
        ],
        ['bundle, build.zip bytes', appBuild.bytes, bareBuild.bytes, bundleRatio, '-', `<= ${TARGETS.bundle_size_ratio}`, verdict(bundleRatio, TARGETS.bundle_size_ratio)],
        [
          'receiver, requests/s (one process each)',
          receiver.receiver.rps,
          receiver.floor.rps,
          receiver.receiver_throughput_ratio,
          `${receiver.ratioSpread.min}–${receiver.ratioSpread.max} (${receiver.ratioRounds.length})`,
          `>= ${receiver.target}`,
          receiver.verdict,
        ],
        [
          'receiver Lambda, fresh process wall ms',
          lambdaCold.bundle.wallMsMedian,
          lambdaCold.bare.wallMsMedian,
          lambdaCold.lambda_cold_start_ratio.median,
          spreadOf(lambdaCold.lambda_cold_start_ratio),
          `<= ${LAMBDA_COLD_START_TARGET}`,
          verdict(lambdaCold.lambda_cold_start_ratio.median, LAMBDA_COLD_START_TARGET),
        ],
      ],
    ),
  );
  out.push('');
  out.push(`Cold load (${COLD_ROUNDS} fresh processes per variant, interleaved, after ${COLD_WARMUP_ROUNDS} warm-up rounds; on the unzipped build.zip files)`);
  out.push(
    table(
      ['variant', 'wall ms (median)', 'in-process require ms (median)', 'modules loaded'],
      [
        ['app: require("./index.js")', m.app!.wallMs, m.app!.requireMs, checks.app!.modules],
        ['floor: require("zapier-platform-core"), same folder', m.core!.wallMs, m.core!.requireMs, checks.core!.modules],
        ['bare core-only app: require("./index.js")', m.bare!.wallMs, m.bare!.requireMs, checks.bare!.modules],
        ['empty node process', m.node!.wallMs, '-', '-'],
        ['ratio app / floor', coldRatio, requireRatio, '-'],
      ],
    ),
  );
  out.push('');
  out.push(`Where the app's load time goes (self ms per package, median of ${PROFILE_RUNS} profiled loads, total ${profile.totalMs} ms)`);
  out.push(table(['package', 'self ms'], profile.byPackage.slice(0, 12).map(([name, ms]) => [name, ms])));
  out.push('');
  out.push(
    `Cold first delivery, no target (${FIRST_DELIVERY_ROUNDS} fresh processes each: load, then one signed ${QUOTE_TRIGGER} delivery via createAppTester; lazy-loaded libraries count here)`,
  );
  out.push(
    table(
      ['process', 'wall ms (median)', 'load ms', 'first delivery ms'],
      [
        ['app', fd.app!.wallMs, fd.app!.loadMs, fd.app!.firstDeliveryMs],
        ['pass-through app on the same core', fd.passthrough!.wallMs, fd.passthrough!.loadMs, fd.passthrough!.firstDeliveryMs],
        ['ratio app / pass-through', firstDeliveryRatio, round(fd.app!.loadMs / fd.passthrough!.loadMs), round(fd.app!.firstDeliveryMs / fd.passthrough!.firstDeliveryMs)],
      ],
    ),
  );
  out.push('');
  out.push(
    `Per delivery (${DELIVERY_ROUNDS} rounds, each a fresh process running ${DELIVERY_ITERATIONS} signed RequestQuote:Create deliveries per runner, interleaved in rotating order, after ${DELIVERY_WARMUP} warm-up; medians over the rounds; core runs prepareApp twice per invocation)`,
  );
  out.push(
    table(
      ['runner', 'median ms', 'prepareApp ms/call'],
      [
        [`app perform (${QUOTE_TRIGGER})`, delivery.appMs, delivery.prepareAppMs.app],
        ['pass-through hook trigger', delivery.passThroughMs, delivery.prepareAppMs.passThrough],
        ["pass-through perform in the app's exact definition", delivery.sameDefinitionMs, delivery.prepareAppMs.sameDefinition],
        ['(diagnostic) app perform in a one-trigger app', delivery.oneTriggerAppMs, delivery.prepareAppMs.oneTriggerApp],
      ],
    ),
  );
  out.push(`Ratios per round: one-trigger floor ${delivery.ratio.rounds.join(', ')}; same-definition floor ${delivery.sameDefinitionRatio.rounds.join(', ')}`);
  out.push('');
  out.push(`Normaliser throughput (normaliseDelivery on test/fixtures/<trigger>.json, ${NORMALISER_MS} ms per event)`);
  out.push(table(['trigger', 'event', 'events/s', 'µs/event'], normaliser.map((r) => [r.triggerKey, r.event, r.eventsPerSec, r.microsPerEvent])));
  out.push('');
  out.push('Bundle (zapier-platform build --skip-dep-install --skip-validation, same production-only node_modules for both)');
  out.push(
    table(
      ['zip', 'bytes', 'size', 'entries', 'unzipped', 'package.json-only packages'],
      [
        ['app', appBuild.bytes, kib(appBuild.bytes), appZip.entries, kib(appZip.uncompressedBytes), `${appZip.manifestOnlyPackages.count} (${kib(appZip.manifestOnlyPackages.bytes)})`],
        ['bare core-only', bareBuild.bytes, kib(bareBuild.bytes), bareZip.entries, kib(bareZip.uncompressedBytes), `${bareZip.manifestOnlyPackages.count} (${kib(bareZip.manifestOnlyPackages.bytes)})`],
      ],
    ),
  );
  out.push(`Without package.json-only packages: app ${netApp} bytes, bare ${netBare} bytes, ratio ${round(netApp / netBare)}`);
  out.push('What the app adds over the bare zip (≈ bytes, headers included):');
  out.push(table(['package / folder', 'extra bytes'], appOnly.slice(0, 10).map(([group, bytes]) => [group, bytes])));
  out.push('');
  out.push(
    `Receiver (npm run receiver) against a floor server that reads the body, parses the JSON and answers 204: autocannon, ${receiver.settings.connections} connections, ${receiver.settings.rounds} × ${receiver.settings.durationSeconds} s each after ${receiver.settings.warmupSeconds} s warm-up; every request a signed delivery of a new event`,
  );
  out.push(receiver.table);
  out.push(`receiver_throughput_ratio ${receiver.receiver_throughput_ratio} (target >= ${receiver.target}): ${receiver.verdict}; ${receiver.handedOff} items handed off, one per accepted delivery`);
  out.push(
    `At ${FEW_CONNECTIONS} connections (${receiverFew.settings.rounds} rounds, no target): receiver ${receiverFew.receiver.rps} req/s, p99 ${receiverFew.receiver.p99Ms} ms; floor ${receiverFew.floor.rps} req/s; ratio ${receiverFew.receiver_throughput_ratio} (${receiverFew.ratioSpread.min}–${receiverFew.ratioSpread.max}); ${receiverFew.handedOff} items, one per accepted delivery`,
  );
  out.push('');
  out.push(
    `Receiver Lambda cold start (esbuild bundle as the CDK stack builds it; ${lambdaCold.rounds} interleaved rounds of ${lambdaCold.perRound} fresh processes per variant; ratios are medians of the rounds' ratios)`,
  );
  out.push(
    table(
      ['process', 'require ms (median)', 'require ms (p90)', 'process wall ms (median)', 'bytes'],
      [
        ['receiver-lambda bundle', lambdaCold.bundle.requireMsMedian, lambdaCold.bundle.requireMsP90, lambdaCold.bundle.wallMsMedian, lambdaCold.bundleBytes],
        ['bare handler', lambdaCold.bare.requireMsMedian, lambdaCold.bare.requireMsP90, lambdaCold.bare.wallMsMedian, '-'],
        ['the bundle with --enable-source-maps', lambdaCold.bundleWithSourceMaps.requireMsMedian, lambdaCold.bundleWithSourceMaps.requireMsP90, lambdaCold.bundleWithSourceMaps.wallMsMedian, '-'],
        ['the three SDK clients alone, from node_modules', lambdaCold.sdkFromNodeModules.requireMsMedian, lambdaCold.sdkFromNodeModules.requireMsP90, lambdaCold.sdkFromNodeModules.wallMsMedian, '-'],
      ],
    ),
  );
  out.push(
    `lambda_cold_start_ratio ${withSpread(lambdaCold.lambda_cold_start_ratio)} (target <= ${LAMBDA_COLD_START_TARGET}): ${verdict(lambdaCold.lambda_cold_start_ratio.median, LAMBDA_COLD_START_TARGET)}; require ${withSpread(lambdaCold.lambda_require_ratio)}; with source maps ${withSpread(lambdaCold.source_maps_cold_start_ratio)}`,
  );
  out.push(
    `First delivery of a fresh process (require + one signed delivery, claimed and handed off; ${lambdaFirst.rounds} rounds): bundle ${lambdaFirst.bundle.wallMsMedian} ms wall (require ${lambdaFirst.bundle.requireMsMedian} ms, invocation ${lambdaFirst.bundle.invokeMsMedian ?? '-'} ms) against a bare handler's ${lambdaFirst.bare.wallMsMedian} ms: ratio ${withSpread(lambdaFirst.lambda_first_delivery_ratio)}, ${lambdaFirst.first_delivery_extra_ms} ms more before the answer (no target; the stand-ins are plain HTTP on 127.0.0.1)`,
  );
  out.push(`What the bundle's load pays for (bytes): ${lambdaCold.bundleByPackage.slice(0, 6).map(([name, bytes]) => `${name} ${bytes}`).join(', ')}`);
  out.push(
    `Beside the bundle, loaded only when needed (bytes): ${Object.entries({ ...lambdaCold.sideFiles, ...lambdaCold.copiedFiles })
      .map(([name, bytes]) => `${name} ${bytes}`)
      .join(', ')}`,
  );
  out.push('');
  out.push(
    `Targets: ${Object.entries(met)
      .map(([key, ok]) => `${key} ${ok ? 'PASS' : 'MISS'}`)
      .join(', ')} → ${targetsMet ? 'all met' : 'not all met'}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);

  const json = {
    bench: 'ecologic-zapier',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    zapier_platform_core: coreVersion(),
    ...ratios,
    lambda_cold_start_ratio: lambdaCold.lambda_cold_start_ratio.median,
    cold_first_delivery_ratio: firstDeliveryRatio,
    ratio_spreads: {
      cold_load_ratio: coldRounds,
      per_delivery_ratio: delivery.ratio,
      per_delivery_same_definition_ratio: delivery.sameDefinitionRatio,
      lambda_cold_start_ratio: lambdaCold.lambda_cold_start_ratio,
      receiver_throughput_ratio: { median: receiver.receiver_throughput_ratio, ...receiver.ratioSpread, rounds: receiver.ratioRounds },
    },
    targets: { ...TARGETS, receiver_throughput_ratio: `>= ${receiver.target}`, lambda_cold_start_ratio: LAMBDA_COLD_START_TARGET },
    targets_met: targetsMet,
    target_results: met,
    cold_load: {
      ratio_uses: 'median wall time of a whole fresh process (spawnSync, hrtime around it): app require("./index.js") vs require("zapier-platform-core"), both in the unzipped app build.zip',
      rounds: cold.rounds,
      warmup_rounds: cold.warmupRounds,
      samples_per_variant: cold.rounds,
      app_wall_ms_median: m.app!.wallMs,
      core_wall_ms_median: m.core!.wallMs,
      bare_app_wall_ms_median: m.bare!.wallMs,
      empty_node_wall_ms_median: m.node!.wallMs,
      app_require_ms_median: m.app!.requireMs,
      core_require_ms_median: m.core!.requireMs,
      bare_app_require_ms_median: m.bare!.requireMs,
      require_ratio: requireRatio,
      ratio_rounds: coldRounds,
      modules_loaded: { app: checks.app!.modules, core: checks.core!.modules, bare_app: checks.bare!.modules },
      compile_cache: 'disabled (NODE_COMPILE_CACHE unset, NODE_DISABLE_COMPILE_CACHE=1)',
      app_load_profile_self_ms: Object.fromEntries(profile.byPackage.slice(0, 15)),
      first_delivery: {
        what: 'fresh process: load, then one signed delivery through createAppTester; app vs pass-through trigger on the same core, in the unzipped app build',
        rounds: firstDelivery.rounds,
        warmup_rounds: firstDelivery.warmupRounds,
        ratio: firstDeliveryRatio,
        app_wall_ms_median: fd.app!.wallMs,
        pass_through_wall_ms_median: fd.passthrough!.wallMs,
        app_load_ms_median: fd.app!.loadMs,
        pass_through_load_ms_median: fd.passthrough!.loadMs,
        app_first_delivery_ms_median: fd.app!.firstDeliveryMs,
        pass_through_first_delivery_ms_median: fd.passthrough!.firstDeliveryMs,
        samples_wall_ms: firstDelivery.samplesWallMs,
      },
      samples_wall_ms: Object.fromEntries(Object.entries(cold.samples).map(([name, s]) => [name, s.wallMs.map((v) => round(v, 2))])),
    },
    per_delivery: {
      trigger: QUOTE_TRIGGER,
      event: 'RequestQuote:Create',
      signed: 'standardwebhooks v1, fresh event id and webhook-id per delivery',
      rounds: DELIVERY_ROUNDS,
      iterations_per_round: DELIVERY_ITERATIONS,
      warmup_per_round: DELIVERY_WARMUP,
      ratio: delivery.ratio,
      app_ms_median: delivery.appMs,
      pass_through_ms_median: delivery.passThroughMs,
      same_definition_floor: "the app's definition deep-copied, every hook trigger's perform returning [bundle.cleanedRequest]; all else identical",
      same_definition_ratio: delivery.sameDefinitionRatio,
      same_definition_ms_median: delivery.sameDefinitionMs,
      one_trigger_app_ms_median: delivery.oneTriggerAppMs,
      prepare_app_ms_per_call: delivery.prepareAppMs,
    },
    receiver_throughput_ratio: receiver.receiver_throughput_ratio,
    receiver: {
      target: `>= ${receiver.target}`,
      verdict: receiver.verdict,
      mode: receiver.mode,
      ratio_rounds: receiver.ratioRounds,
      ratio_spread: receiver.ratioSpread,
      receiver_rps: receiver.receiver.rps,
      receiver_p50_ms: receiver.receiver.p50Ms,
      receiver_p99_ms: receiver.receiver.p99Ms,
      floor_rps: receiver.floor.rps,
      floor_p50_ms: receiver.floor.p50Ms,
      floor_p99_ms: receiver.floor.p99Ms,
      handed_off: receiver.handedOff,
      settings: receiver.settings,
      check: receiver.check,
      at_few_connections: {
        connections: FEW_CONNECTIONS,
        ratio: receiverFew.receiver_throughput_ratio,
        ratio_rounds: receiverFew.ratioRounds,
        receiver_rps: receiverFew.receiver.rps,
        receiver_p99_ms: receiverFew.receiver.p99Ms,
        floor_rps: receiverFew.floor.rps,
        handed_off: receiverFew.handedOff,
      },
      total_ms: receiver.totalMs,
    },
    receiver_lambda_cold_load: {
      what: 'require() of the esbuild bundle of src/receiver/aws/receiver-lambda.ts (as the CDK stack bundles it) vs a bare handler, fresh processes',
      lambda_cold_start_ratio: lambdaCold.lambda_cold_start_ratio,
      lambda_require_ratio: lambdaCold.lambda_require_ratio,
      source_maps_cold_start_ratio: lambdaCold.source_maps_cold_start_ratio,
      rounds: lambdaCold.rounds,
      processes_per_round: lambdaCold.perRound,
      bundle: lambdaCold.bundle,
      bare: lambdaCold.bare,
      bundle_with_source_maps: lambdaCold.bundleWithSourceMaps,
      sdk_clients_from_node_modules: lambdaCold.sdkFromNodeModules,
      bundle_bytes: lambdaCold.bundleBytes,
      copied_files: lambdaCold.copiedFiles,
      side_files: lambdaCold.sideFiles,
      first_delivery: {
        what: 'fresh process: require the bundle, then one signed delivery claimed in dynalite and handed to a queue stand-in, both on 127.0.0.1; against a bare handler',
        ratio: lambdaFirst.lambda_first_delivery_ratio,
        extra_ms: lambdaFirst.first_delivery_extra_ms,
        bundle: lambdaFirst.bundle,
        bare: lambdaFirst.bare,
        rounds: lambdaFirst.rounds,
        handed_off: lambdaFirst.handedOff,
      },
      source_map_bytes: lambdaCold.sourceMapBytes,
    },
    normaliser_events_per_sec: Object.fromEntries(normaliser.map((r) => [r.triggerKey, r.eventsPerSec])),
    normaliser: { ms_per_event_type: NORMALISER_MS, iterations: Object.fromEntries(normaliser.map((r) => [r.triggerKey, r.iterations])) },
    bundle: {
      command: 'zapier-platform build --skip-dep-install --skip-validation',
      app: 'staged: checkout files + dist/ + production packages of package-lock.json (what push installs), hard-linked',
      bare_app: 'index.js + package.json + .zapierapprc, node_modules = the same production packages, hard-linked',
      app_zip_bytes: appBuild.bytes,
      bare_zip_bytes: bareBuild.bytes,
      app_zip_entries: appZip.entries,
      bare_zip_entries: bareZip.entries,
      app_unzipped_bytes: appZip.uncompressedBytes,
      bare_unzipped_bytes: bareZip.uncompressedBytes,
      app_package_json_only_packages: appZip.manifestOnlyPackages,
      bare_package_json_only_packages: bareZip.manifestOnlyPackages,
      net_ratio_without_package_json_only_packages: round(netApp / netBare),
      app_extra_bytes_by_package: Object.fromEntries(appOnly.slice(0, 15)),
      app_build_ms: Math.round(appBuild.ms),
      bare_build_ms: Math.round(bareBuild.ms),
    },
    total_ms: Math.round(msSince(started)),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`[bench] measurement failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
