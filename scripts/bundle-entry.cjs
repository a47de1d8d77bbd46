#!/usr/bin/env node
/**
 * Builds only what a run command runs: `npm start`, `npm run sandbox`, `receiver`, `subscribe`,
 * `replay`, `conformance` and `docs` each bundle their own entry point with esbuild (the project's code in
 * one file, packages left to node_modules) into .tmp/run/<name>.js, in well under a second. No
 * type-check here: `npm test` type-checks everything.
 *
 *   node scripts/bundle-entry.cjs <name> [--reference-html]
 *
 * --reference-html also renders docs/openapi.yaml to dist/docs/reference.html (what the sandbox
 * serves at /docs), only when that file is missing or older than the document.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { buildSync } = require('esbuild');

const root = join(__dirname, '..');

/** Run command -> its entry point. */
const ENTRIES = {
  demo: 'src/sandbox/demo.ts',
  sandbox: 'src/sandbox/cli.ts',
  conformance: 'src/conformance/cli.ts',
  receiver: 'src/receiver/local/cli.ts',
  subscribe: 'src/receiver/subscribe.ts',
  replay: 'src/receiver/replay.ts',
  // npm run docs and zapier:check; two folders deep like dist/scripts/, so their root is the same.
  'generate-docs': 'scripts/generate-docs.ts',
  'zapier-offline-build': 'scripts/zapier-offline-build.ts',
};

const [name, ...flags] = process.argv.slice(2);
const entry = ENTRIES[name];
if (entry === undefined) {
  process.stderr.write(`usage: node scripts/bundle-entry.cjs <${Object.keys(ENTRIES).join('|')}> [--reference-html]\n`);
  process.exit(2);
}

const outfile = join(root, '.tmp', 'run', `${name}.js`);
const { outputFiles } = buildSync({
  entryPoints: [join(root, entry)],
  outfile,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // Packages load from node_modules as they are; only the project's own TypeScript is bundled.
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
// Written aside and renamed into place, so a command starting at the same moment never loads half a file.
mkdirSync(dirname(outfile), { recursive: true });
for (const file of outputFiles) {
  const aside = `${file.path}.${process.pid}.tmp`;
  writeFileSync(aside, file.contents);
  renameSync(aside, file.path);
}

if (flags.includes('--reference-html')) {
  const source = join(root, 'docs', 'openapi.yaml');
  const html = join(root, 'dist', 'docs', 'reference.html');
  if (!existsSync(html) || statSync(html).mtimeMs < statSync(source).mtimeMs) {
    execFileSync('npm', ['run', '-s', 'docs:html'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
