import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root, found from a module's folder: the same code runs from `src/` under ts-jest
 * from `dist/src/` when built for Zapier, and bundled from `.tmp/run/` by the run commands, so a fixed number of `..` would be wrong in one of them.
 */
export function findRepoRoot(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'docs', 'ecologic-api.md'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

export function repoRoot(from: string = __dirname): string {
  const root = findRepoRoot(from);
  if (root === undefined) throw new Error(`no repository root (with docs/ecologic-api.md) above ${from}`);
  return root;
}

export const contractDocPath = (): string => join(repoRoot(), 'docs', 'ecologic-api.md');
export const openApiPath = (): string => join(repoRoot(), 'docs', 'openapi.yaml');
export const referenceHtmlPath = (): string => join(repoRoot(), 'dist', 'docs', 'reference.html');
