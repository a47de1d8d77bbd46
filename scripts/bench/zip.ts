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
