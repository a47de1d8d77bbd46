#!/usr/bin/env node
/**
 * `npm run mutation [-- stryker flags]`: StrykerJS over the code named in stryker.config.json.
 * Stryker (about 115 packages) is not installed by `npm ci`: everyone pays for `npm ci`, few run
 * mutation testing. The first run installs the pinned versions without touching package.json or
 * the lock file; then Stryker runs, and the paths in the committed baseline are made relative to
 * the project root (scripts/mutation-report-paths.cjs).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
/** Pinned: the jest runner must match the core exactly. */
const STRYKER = ['@stryker-mutator/core@10.0.0', '@stryker-mutator/jest-runner@10.0.0'];

const installed = () => {
  try {
    for (const spec of STRYKER) {
      const name = spec.slice(0, spec.lastIndexOf('@'));
      const { version } = require(require.resolve(`${name}/package.json`, { paths: [root] }));
      if (version !== spec.slice(spec.lastIndexOf('@') + 1)) return false;
    }
    return true;
  } catch {
    return false;
  }
};

const run = (command, args, env = process.env) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
};

if (!installed()) {
  process.stderr.write(`mutation: installing ${STRYKER.join(' ')} (once; package.json and the lock file stay as they are)\n`);
  const status = run('npm', ['install', '--no-save', '--no-audit', '--no-fund', ...STRYKER]);
  if (status !== 0) process.exit(status);
}

const strykerBin = join(root, 'node_modules', '.bin', 'stryker');
const status = run(strykerBin, ['run', ...process.argv.slice(2)], { ...process.env, PROPERTY_RUNS_SCALE: process.env.PROPERTY_RUNS_SCALE ?? '0.1' });
run(process.execPath, [join(__dirname, 'mutation-report-paths.cjs')]);
process.exit(status);
