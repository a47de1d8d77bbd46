import AdmZip from 'adm-zip';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { BenchError } from './stats';

// Zip reading with adm-zip (pure JS), so the bench needs no `unzip` binary on the machine.

type ZipEntry = AdmZip.IZipEntry;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const isSymlink = (entry: ZipEntry): boolean => ((entry.attr >>> 16) & S_IFMT) === S_IFLNK;

export const readZip = (_root: string, zipPath: string): ZipEntry[] => new AdmZip(zipPath).getEntries();

/** Extracts every entry (files, directories, symlinks) under `dest`, refusing paths that leave it. */
export const extractZip = (root: string, zipPath: string, dest: string): { files: number; symlinks: number } => {
  const base = resolve(dest);
  let files = 0;
  let symlinks = 0;
  for (const entry of readZip(root, zipPath)) {
    const target = resolve(base, entry.entryName);
    if (target !== base && !target.startsWith(base + sep)) throw new BenchError(`zip entry ${entry.entryName} leaves the target folder`);
    if (entry.isDirectory) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    if (isSymlink(entry)) {
      symlinkSync(entry.getData().toString('utf8'), target);
      symlinks += 1;
    } else {
      writeFileSync(target, entry.getData());
      files += 1;
    }
  }
  return { files, symlinks };
};

/** Bytes an entry takes in the archive: compressed data plus its local and central headers. */
const entryBytes = (entry: ZipEntry): number => entry.header.compressedSize + 30 + 46 + 2 * Buffer.byteLength(entry.entryName);

/** `node_modules/<pkg>` (or `<pkg>/node_modules/<dep>`...) for dependency files, else `(app) <first segment>`. */
const groupOf = (name: string): string => {
  const top = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(name);
  if (top) return top[1]!;
  return `(app) ${name.includes('/') ? `${name.slice(0, name.indexOf('/'))}/` : name}`;
};

/** The innermost package folder a file belongs to, e.g. `node_modules/a/node_modules/@s/b`. */
const packageDirOf = (name: string): string | undefined => {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(name);
  return match?.[1];
};

export interface ZipComposition {
  readonly entries: number;
  readonly uncompressedBytes: number;
  /** ≈ bytes per top-level package (or app folder), headers included. */
  readonly groups: ReadonlyMap<string, number>;
  /** Packages whose only file in the zip is package.json (swept in by the CLI's `package.json` pattern). */
  readonly manifestOnlyPackages: { readonly count: number; readonly bytes: number };
  readonly packageJsonFiles: number;
}

export const analyseZip = (root: string, zipPath: string): ZipComposition => {
  const entries = readZip(root, zipPath).filter((entry) => !entry.isDirectory);
  const groups = new Map<string, number>();
  const filesPerPackage = new Map<string, ZipEntry[]>();
  let uncompressedBytes = 0;
  for (const entry of entries) {
    uncompressedBytes += entry.header.size;
    const group = groupOf(entry.entryName);
    groups.set(group, (groups.get(group) ?? 0) + entryBytes(entry));
    const packageDir = packageDirOf(entry.entryName);
    if (packageDir) filesPerPackage.set(packageDir, [...(filesPerPackage.get(packageDir) ?? []), entry]);
  }
  let count = 0;
  let bytes = 0;
  for (const [packageDir, files] of filesPerPackage) {
    if (files.length === 1 && files[0]!.entryName === `${packageDir}/package.json`) {
      count += 1;
      bytes += entryBytes(files[0]!);
    }
  }
  return {
    entries: entries.length,
    uncompressedBytes,
    groups,
    manifestOnlyPackages: { count, bytes },
    packageJsonFiles: entries.filter((entry) => entry.entryName.endsWith('package.json')).length,
  };
};

/** Receiver code, source or compiled (and CDK output): the Zapier bundle never holds any of it. */
const RECEIVER_DIRS = ['src/receiver/', 'dist/src/receiver/', 'infra/', 'dist/infra/', 'cdk.out/'];

/** Packages only the receiver uses, with their families: not one file of theirs, package.json included. */
const RECEIVER_PACKAGES = [/^@aws-sdk\//, /^@smithy\//, /^@aws-crypto\//, /^@aws-cdk\//, /^aws-cdk(-lib)?$/, /^constructs$/, /^dynalite$/, /^autocannon$/, /^@?esbuild(\/|$)/];

/** Every package folder along an entry's path, outermost first: `node_modules/a`, `node_modules/a/node_modules/@s/b`. */
const packagesAlong = (entryName: string): { dir: string; name: string }[] => {
  const parts = entryName.split('/');
  const found: { dir: string; name: string }[] = [];
  for (let i = 0; i < parts.length - 1; i += 1) {
    if (parts[i] !== 'node_modules') continue;
    const end = i + (parts[i + 1]!.startsWith('@') ? 3 : 2);
    // A package folder holds the entry; `node_modules/x` alone would be a file, not a package.
    if (end >= parts.length) break;
    found.push({ dir: parts.slice(0, end).join('/'), name: parts.slice(i + 1, end).join('/') });
    i = end - 1;
  }
  return found;
};

/**
 * Entries the Zapier bundle must not hold, each with the reason: receiver code, receiver packages,
 * any package package-lock.json marks dev-only (`devDirs`, see devPackageDirs; push does not install
 * those), and files from outside the built folder (a zip rooted above it has `.tmp/...` entries).
 */
export const bundleViolations = (entryNames: readonly string[], devDirs: ReadonlySet<string>): string[] => {
  const violations: string[] = [];
  for (const name of entryNames) {
    if (name.startsWith('.tmp/') || name.startsWith('../')) {
      violations.push(`${name}: from outside the built folder`);
      continue;
    }
    const dir = RECEIVER_DIRS.find((prefix) => name.startsWith(prefix));
    if (dir) {
      violations.push(`${name}: receiver code (${dir})`);
      continue;
    }
    const packages = packagesAlong(name);
    const receiver = packages.find((pkg) => RECEIVER_PACKAGES.some((pattern) => pattern.test(pkg.name)));
    if (receiver) {
      violations.push(`${name}: receiver package ${receiver.name}`);
      continue;
    }
    const dev = packages.find((pkg) => devDirs.has(pkg.dir));
    if (dev) violations.push(`${name}: dev-only package ${dev.dir}`);
  }
  return violations;
};
