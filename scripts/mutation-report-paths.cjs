#!/usr/bin/env node
'use strict';
// Makes Stryker's incremental report (.stryker/incremental.json, committed) free of the directory it
// was made in. Stryker records absolute paths: `projectRoot`, and the stack traces in each mutant's
// `statusReason`, which point into its sandbox copy (<root>/.stryker-tmp/sandbox-XXXXXX/test/...)
// and into node_modules. This rewrites every path under the project root relative to that root
// (the sandbox prefix dropped, since the sandbox mirrors the project) and sets `projectRoot` to ".".
// Everything else stays as it was, byte for byte.
//
//   node scripts/mutation-report-paths.cjs [file]      (default: .stryker/incremental.json)
//
// Paths under the system's temporary folder (the temporary directories tests make, quoted in their
// failure messages) become `<tmpdir>/...`: they name one run on one machine.
//
// Stryker reads only `files` and `testFiles` (keys already relative) from the report, so the
// rewrite does not change which mutants a later incremental run tests again.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PROJECT_ROOT = path.resolve(__dirname, '..');
const DEFAULT_FILE = path.join(PROJECT_ROOT, '.stryker', 'incremental.json');

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A function that rewrites, inside any string, each absolute path under one of `roots`: the root
 * (with a Stryker sandbox directory right under it, if any) and the separator after it are removed;
 * a bare root becomes ".".
 */
function pathRewriter(roots) {
  const unique = [...new Set(roots.map((root) => root.replace(/[\\/]+$/, '')).filter((root) => root.length > 1))];
  if (unique.length === 0) return (text) => text;
  // Longest first, so a root inside another root wins.
  unique.sort((a, b) => b.length - a.length);
  const alternatives = unique.map(escapeRegExp).join('|');
  // Not inside a longer path (`/x/a/main`), not a sibling (`/a/main2`, `/a/main.old`).
  const pattern = new RegExp(
    `(?<![\\w.~/\\\\-])(?:${alternatives})(?:[\\\\/]\\.stryker-tmp[\\\\/]sandbox-[^\\\\/\\s"'()]+)?(?:([\\\\/])|(?![\\w-]|\\.\\w))`,
    'g',
  );
  return (text) => text.replace(pattern, (_match, separator) => (separator ? '' : '.'));
}

/** A function that writes each path under one of the temporary folders `roots` as `<tmpdir>/...`. */
function tmpdirRewriter(roots) {
  const unique = [...new Set(roots.map((root) => root.replace(/[\\/]+$/, '')).filter((root) => root.length > 1))];
  if (unique.length === 0) return (text) => text;
  unique.sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\w.~/\\\\-])(?:${unique.map(escapeRegExp).join('|')})(?=[\\\\/])`, 'g');
  return (text) => text.replace(pattern, '<tmpdir>');
}

/** The same JSON value with `rewrite` applied to every string, keys included. */
function mapStrings(value, rewrite) {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, rewrite));
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[rewrite(key)] = mapStrings(item, rewrite);
    return out;
  }
  return value;
}

/** The system's temporary folder, as given and with links resolved (`/tmp`, `/private/var/...`). */
function temporaryRoots() {
  const given = os.tmpdir();
  const roots = [given];
  try {
    roots.push(fs.realpathSync(given));
  } catch {
    // a temporary folder that cannot be resolved is rewritten as given
  }
  return roots;
}

function main(argv) {
  const file = argv[0] ? path.resolve(argv[0]) : DEFAULT_FILE;
  const text = fs.readFileSync(file, 'utf8');
  const report = JSON.parse(text);
  if (report === null || typeof report !== 'object' || Array.isArray(report)) {
    throw new Error(`${file} is not a JSON object`);
  }
  // The report's own root (where Stryker ran) and this checkout's root, which may differ.
  const roots = [PROJECT_ROOT];
  if (typeof report.projectRoot === 'string' && path.isAbsolute(report.projectRoot)) roots.push(report.projectRoot);
  const relative = pathRewriter(roots);
  const tmpdirs = tmpdirRewriter(temporaryRoots());
  const rewritten = mapStrings(report, (text) => tmpdirs(relative(text)));
  if ('projectRoot' in rewritten) rewritten.projectRoot = '.';

  // Stryker writes JSON.stringify(report, null, 2); keep its indentation and its final newline (or none).
  const indent = /^[{[]\r?\n([ \t]+)/.exec(text)?.[1] ?? 2;
  const out = JSON.stringify(rewritten, null, indent) + (/\n$/.test(text) ? '\n' : '');
  if (out !== text) fs.writeFileSync(file, out);
  const left = [...new Set(roots)].filter((root) => root.length > 1 && out.includes(root));
  console.log(`${path.relative(process.cwd(), file) || file}: ${out === text ? 'already relative' : 'paths made relative to the project root'}`);
  if (left.length > 0) {
    console.error(`still names ${left.join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`mutation-report-paths: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

module.exports = { pathRewriter, tmpdirRewriter, mapStrings };
