import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { BenchError, msSince } from './stats';

export interface BuildResult {
  /** A copy of build/build.zip, taken right after the build so a later build cannot replace it. */
  readonly zipPath: string;
  readonly bytes: number;
  readonly ms: number;
}

/** The environment the Zapier CLI runs in: no analytics, no update check, temp folders in the project. */
export const cliEnv = (tmpDir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DISABLE_ZAPIER_ANALYTICS: '1',
  NO_UPDATE_NOTIFIER: '1',
  TMPDIR: tmpDir,
  // Anything the CLI starts (npm, node) must be this Node (Node 22).
  PATH: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
  // The CLI's own guard against re-entry: with it, `build` skips the `_zapier-build` hook (`npm run
  // build`). `push` runs that hook once, in the project, before it copies the project; our callers
  // likewise build dist/ first and stage it, so tsc must not run again in the staged copy.
  npm_lifecycle_event: '_zapier-build',
});

/**
 * `zapier-platform build --skip-dep-install --skip-validation` in `appDir` (a staged app, see
 * stageApp), offline. The CLI is started with this Node (`process.execPath`), and its output is shown
 * only when it fails. build/build.zip and build/source.zip are written inside `appDir`.
 */
export const zapierBuild = (root: string, appDir: string, tmpDir: string, copyTo: string): BuildResult => {
  mkdirSync(tmpDir, { recursive: true });
  const cli = join(root, 'node_modules', '.bin', 'zapier-platform');
  if (!existsSync(cli)) throw new BenchError(`${cli} not found; run npm install`);
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [cli, 'build', '--skip-dep-install', '--skip-validation'], {
    cwd: appDir,
    env: cliEnv(tmpDir),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const ms = msSince(start);
  const zip = join(appDir, 'build', 'build.zip');
  if (run.status !== 0 || !existsSync(zip)) {
    throw new BenchError(
      `zapier-platform build failed in ${appDir} (exit ${run.status ?? run.signal}):\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`,
    );
  }
  mkdirSync(dirname(copyTo), { recursive: true });
  copyFileSync(zip, copyTo);
  return { zipPath: copyTo, bytes: statSync(copyTo).size, ms };
};

interface LinkCounts {
  files: number;
  copied: number;
}

/** One file (or symlink, copied as a symlink) hard-linked to `to`; copied when linking is refused. */
const linkFile = (from: string, to: string, counts: LinkCounts) => {
  mkdirSync(dirname(to), { recursive: true });
  if (lstatSync(from).isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    return;
  }
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    counts.copied += 1;
  }
  counts.files += 1;
};

/**
 * Mirrors `src` into `dest` with hard links (symlinks copied as symlinks), so the copy has the very
 * same files without taking disk space. `skip` names top-level entries of `src` to leave out.
 */
const linkTree = (src: string, dest: string, counts: LinkCounts = { files: 0, copied: 0 }, skip: readonly string[] = []): LinkCounts => {
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const from = join(src, entry.name);
    const to = join(dest, entry.name);
    if (entry.isDirectory()) {
      linkTree(from, to, counts);
    } else if (entry.isSymbolicLink() || entry.isFile()) {
      linkFile(from, to, counts);
    }
  }
  return counts;
};

/** An entry of package-lock.json's `packages`: one installed package folder, keyed by its path. */
interface LockPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly devOptional?: boolean;
  readonly link?: boolean;
}

const lockPackages = (root: string): Record<string, LockPackage> => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, LockPackage> };
  if (!lock.packages) throw new BenchError('package-lock.json has no `packages` (lockfileVersion 2 or later needed)');
  return lock.packages;
};

/**
 * Package folders (`node_modules/a`, `node_modules/a/node_modules/b`) that `npm install --omit=dev`
 * leaves out: those flagged `dev`. A `devOptional` package stays, as npm drops it only when dev and
 * optional are both omitted (arborist Node#shouldOmit), and `zapier-platform push` omits dev only.
 */
export const devPackageDirs = (root: string): Set<string> =>
  new Set(
    Object.entries(lockPackages(root))
      .filter(([dir, entry]) => dir !== '' && entry.dev === true)
      .map(([dir]) => dir),
  );

/**
 * `dest` (a node_modules folder) gets what `zapier-platform push` installs (`npm install --production`
 * in a copy of the project): every package of package-lock.json not flagged `dev`, hard-linked from
 * the project's node_modules. Each package folder is linked without its own node_modules: nested
 * packages are lock entries of their own, so a dev package nested in a production one stays out.
 */
export const linkProductionModules = (root: string, dest: string, counts: LinkCounts = { files: 0, copied: 0 }): { packages: number; counts: LinkCounts } => {
  let packages = 0;
  for (const [dir, entry] of Object.entries(lockPackages(root))) {
    if (dir === '' || entry.dev === true) continue;
    if (!dir.startsWith('node_modules/')) throw new BenchError(`package-lock.json entry ${dir} is outside node_modules (workspaces are not staged)`);
    if (entry.link) throw new BenchError(`package-lock.json entry ${dir} is a link; staging does not follow links`);
    const from = join(root, dir);
    const manifest = join(from, 'package.json');
    if (!existsSync(manifest)) {
      // Optional packages are installed only where they apply (os, cpu); the others must be there.
      if (entry.optional || entry.devOptional) continue;
      throw new BenchError(`${dir} is in package-lock.json but not installed: run npm ci`);
    }
    // A node_modules older or newer than the lock would stage packages push would not install.
    const installed = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version?.replace(/^v/, '');
    if (entry.version !== undefined && installed !== entry.version) {
      throw new BenchError(`${dir} is ${installed ?? 'unversioned'} on disk but ${entry.version} in package-lock.json: run npm ci`);
    }
    linkTree(from, join(dest, dir.slice('node_modules/'.length)), counts, ['node_modules']);
    packages += 1;
  }
  return { packages, counts };
};

/**
 * The project's own files as a clean checkout has them: tracked files plus untracked ones that
 * .gitignore does not exclude (new files not committed yet), without deleted ones.
 */
const checkoutFiles = (root: string): string[] => {
  const run = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new BenchError(`git ls-files failed in ${root}: ${run.stderr ?? ''}${run.error ? String(run.error) : ''}`);
  return run.stdout
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('node_modules/'))
    .filter((file) => {
      try {
        lstatSync(join(root, file));
        return true;
      } catch {
        return false;
      }
    });
};

export interface StagedApp {
  readonly projectFiles: number;
  readonly distFiles: number;
  readonly packages: number;
  readonly linkedFiles: number;
  readonly copiedFiles: number;
  readonly ms: number;
}

/**
 * `dir` becomes the folder `zapier-platform push` builds in: a copy of the project (here the clean
 * checkout's files, not local scratch such as coverage/ or cdk.out/), the dist/ that its `_zapier-build`
 * hook compiled beforehand, and a node_modules of production packages only (linkProductionModules).
 * Building the project folder itself would let the CLI's walk add the package.json of every
 * devDependency (the receiver's AWS SDK and CDK among them), which push never uploads.
 * All hard links: a real folder, not a symlink, because the CLI's file walk does not enter a
 * symlinked node_modules and its esbuild pass resolves one to the project (see createBareApp).
 * `dir` must be removed after the build: a package.json-laden folder inside the project would be
 * swept into a `zapier-platform push` run from the project folder.
 */
export const stageApp = (root: string, dir: string): StagedApp => {
  const start = process.hrtime.bigint();
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new BenchError('dist/index.js is missing: run `npm run build` first');
  mkdirSync(dir, { recursive: true });
  const counts: LinkCounts = { files: 0, copied: 0 };
  const files = checkoutFiles(root);
  for (const file of files) linkFile(join(root, file), join(dir, file), counts);
  const before = counts.files;
  linkTree(join(root, 'dist'), join(dir, 'dist'), counts);
  const distFiles = counts.files - before;
  const { packages } = linkProductionModules(root, join(dir, 'node_modules'), counts);
  return {
    projectFiles: files.length,
    distFiles,
    packages,
    linkedFiles: counts.files - counts.copied,
    copiedFiles: counts.copied,
    ms: msSince(start),
  };
};

export const BARE_APP_INDEX = `// Bare core-only Zapier app (generated by scripts/bench.ts): the floor the real app is measured against.
const zapier = require('zapier-platform-core');

module.exports = require('./pass-through-app.js').passThroughApp(zapier.version, require('./package.json').version);
`;

/**
 * The bare app: package.json, index.js, the app's .zapierapprc, and the same production-only
 * node_modules the staged app gets (linkProductionModules), hard-linked from the project's. A
 * symlinked node_modules does not build the same way: the CLI's esbuild pass resolves it to the
 * project folder (zip rooted at the project, `.tmp/...` paths), its file walk does not enter it (no
 * package.json files, no includeInBuild files, so the build's self-test fails). With a real folder of
 * the same files both zips are made by identical rules.
 */
export const createBareApp = (root: string, dir: string, coreVersion: string): { linkedFiles: number; copiedFiles: number; ms: number } => {
  const start = process.hrtime.bigint();
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify(
      { name: 'bare-core-app', version: '1.0.0', private: true, main: 'index.js', dependencies: { 'zapier-platform-core': coreVersion } },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(dir, 'index.js'), BARE_APP_INDEX);
  copyFileSync(join(__dirname, 'pass-through-app.js'), join(dir, 'pass-through-app.js'));
  writeFileSync(join(dir, '.zapierapprc'), readFileSync(join(root, '.zapierapprc')));
  writeFileSync(join(dir, '.gitignore'), readFileSync(join(root, '.gitignore')));
  const { counts } = linkProductionModules(root, join(dir, 'node_modules'));
  return { linkedFiles: counts.files - counts.copied, copiedFiles: counts.copied, ms: msSince(start) };
};
