/**
 * The committed mutation baseline must name no directory of one machine: the script that cleans it
 * makes project paths relative (the Stryker sandbox prefix dropped) and temporary ones `<tmpdir>/`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { pathRewriter, tmpdirRewriter, mapStrings } = require('../scripts/mutation-report-paths.cjs') as {
  pathRewriter(roots: string[]): (text: string) => string;
  tmpdirRewriter(roots: string[]): (text: string) => string;
  mapStrings(value: unknown, rewrite: (text: string) => string): unknown;
};

const root = join(tmpdir(), 'checkout', 'main');

it('makes paths under the project root relative, its Stryker sandbox included, and leaves siblings alone', () => {
  const rewrite = pathRewriter([root]);
  expect(rewrite(`at ${root}/.stryker-tmp/sandbox-Ab12/test/receiver/outbox.test.ts:3:1`)).toBe('at test/receiver/outbox.test.ts:3:1');
  expect(rewrite(`${root}/src/receiver/handler.ts`)).toBe('src/receiver/handler.ts');
  expect(rewrite(root)).toBe('.');
  expect(rewrite(`${root}2/src/x.ts`)).toBe(`${root}2/src/x.ts`);
});

it('writes paths under the temporary folder as <tmpdir>, and nothing that only looks alike', () => {
  const rewrite = tmpdirRewriter([tmpdir()]);
  expect(rewrite(`SqliteStore unavailable: sqlite:${join(tmpdir(), 'stores-x1', 'receiver.db')} (locked)`)).toBe(
    `SqliteStore unavailable: sqlite:${join('<tmpdir>', 'stores-x1', 'receiver.db')} (locked)`,
  );
  expect(rewrite(`${tmpdir()}other/x`)).toBe(`${tmpdir()}other/x`);
  expect(rewrite(`/srv${tmpdir()}/x`)).toBe(`/srv${tmpdir()}/x`);
});

it('rewrites every string of a report, keys included', () => {
  const rewrite = (text: string) => tmpdirRewriter([tmpdir()])(pathRewriter([root])(text));
  expect(mapStrings({ [`${root}/src/a.ts`]: { reason: [`${tmpdir()}/t/db`], n: 1 } }, rewrite)).toEqual({ 'src/a.ts': { reason: ['<tmpdir>/t/db'], n: 1 } });
});
