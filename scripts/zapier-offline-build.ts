import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { devPackageDirs, stageApp, zapierBuild } from './bench/build';
import { BenchError, kib, msSince } from './bench/stats';
import { analyseZip, bundleViolations, readZip } from './bench/zip';

// `npm run zapier:check`, after `npm run build:app`: the offline `zapier-platform build`, made from the
// folder `zapier-platform push` would build in (the project with production dependencies only; see
// stageApp), then checked for receiver code and dev-only packages. The zip and source.zip are
// copied to the project's build/, where the CLI used to leave them.

const root = join(__dirname, '..', '..');
// The CLI's temp folder (its smoke test unpacks the zip there): inside the project, as before.
const tmpDir = join(root, '.tmp', 'zapier');

const progress = (message: string) => process.stdout.write(`[zapier:check] ${message}\n`);

/**
 * Staging folders a killed run left behind (older than any run lasts): left in the project, their
 * node_modules' package.json files would join the zip of a `zapier-platform push` run from it.
 */
const removeStaleStages = () => {
  const tmp = join(root, '.tmp');
  for (const name of readdirSync(tmp)) {
    const dir = join(tmp, name);
    if (name.startsWith('zapier-app-') && Date.now() - statSync(dir).mtimeMs > 15 * 60_000) rmSync(dir, { recursive: true, force: true });
  }
};

/** Each `.zapierapprc` includeInBuild pattern must match an entry: the CLI adds them only if staged. */
const missingIncludes = (entryNames: readonly string[]): string[] => {
  const rc = JSON.parse(readFileSync(join(root, '.zapierapprc'), 'utf8')) as { includeInBuild?: string[] };
  // The CLI reads them as case-insensitive regular expressions over paths.
  return (rc.includeInBuild ?? []).filter((pattern) => !entryNames.some((name) => new RegExp(pattern, 'i').test(name)));
};

const main = () => {
  const started = process.hrtime.bigint();
  mkdirSync(join(root, '.tmp'), { recursive: true });
  removeStaleStages();
  // A folder of its own per run, so two checks at once do not build in each other's staging.
  const stage = mkdtempSync(join(root, '.tmp', 'zapier-app-'));
  const zipPath = join(root, 'build', 'build.zip');
  try {
    const staged = stageApp(root, stage);
    progress(
      `staged ${staged.projectFiles} project files, ${staged.distFiles} dist/ files, ${staged.packages} production packages (${staged.linkedFiles} files linked, ${staged.copiedFiles} copied) in ${Math.round(staged.ms)} ms`,
    );
    const build = zapierBuild(root, stage, tmpDir, zipPath);
    // source.zip too, so build/ does not keep one from an older build beside the new build.zip.
    const sourceZip = join(stage, 'build', 'source.zip');
    if (existsSync(sourceZip)) copyFileSync(sourceZip, join(root, 'build', 'source.zip'));
    progress(`zapier-platform build --skip-dep-install --skip-validation (smoke test included): ok in ${Math.round(build.ms)} ms`);
  } finally {
    // Left in the project, its node_modules' package.json files would join a later push's zip.
    rmSync(stage, { recursive: true, force: true });
  }

  const entryNames = readZip(root, zipPath).map((entry) => entry.entryName);
  const composition = analyseZip(root, zipPath);
  const bytes = readFileSync(zipPath).length;
  progress(
    `build/build.zip: ${bytes} bytes (${kib(bytes)}), ${entryNames.length} entries, ${kib(composition.uncompressedBytes)} unzipped, ${composition.packageJsonFiles} package.json files`,
  );

  const problems: string[] = [];
  const violations = bundleViolations(entryNames, devPackageDirs(root));
  if (violations.length > 0) {
    problems.push(`${violations.length} entr${violations.length === 1 ? 'y' : 'ies'} the Zapier bundle must not hold:`, ...violations.slice(0, 25).map((v) => `  ${v}`));
    if (violations.length > 25) problems.push(`  … and ${violations.length - 25} more`);
  }
  for (const pattern of missingIncludes(entryNames)) problems.push(`.zapierapprc includeInBuild ${pattern} matches no entry`);
  if (problems.length > 0) throw new BenchError(problems.join('\n'));
  progress(`no receiver code, receiver packages or dev-only packages in the zip; done in ${Math.round(msSince(started))} ms`);
};

try {
  main();
} catch (error: unknown) {
  process.stderr.write(`[zapier:check] failed: ${error instanceof BenchError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
