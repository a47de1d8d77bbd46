#!/usr/bin/env node
/**
 * Keeps the machine busy while tests run, to prove they hold on a shared machine (it is not part
 * of `npm test`):
 *
 *   node scripts/busy-cpu.cjs [loops=2] [minutes=60] &   # then run npm test; kill %1 when done
 *   node scripts/busy-cpu.cjs 2 30 -- npm test           # or: run a command under load, exit with its code
 *
 * Each loop is its own process spinning on one core. They stop after `minutes` at most, and with
 * this process (SIGINT, SIGTERM, or the command after `--` ending).
 */
'use strict';
const { spawn } = require('node:child_process');

const split = process.argv.indexOf('--');
const own = split >= 0 ? process.argv.slice(2, split) : process.argv.slice(2);
const command = split >= 0 ? process.argv.slice(split + 1) : [];
const loops = Number(own[0] ?? 2);
const minutes = Number(own[1] ?? 60);
if (!Number.isInteger(loops) || loops < 1 || !(minutes > 0)) {
  process.stderr.write('usage: node scripts/busy-cpu.cjs [loops>=1] [minutes>0] [-- command ...]\n');
  process.exit(2);
}

const spin = `const end = Date.now() + ${Math.round(minutes * 60_000)}; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0; }`;
const children = Array.from({ length: loops }, () => spawn(process.execPath, ['-e', spin], { stdio: 'ignore' }));
const stopLoops = () => children.forEach((child) => child.kill('SIGKILL'));
process.stderr.write(`busy-cpu: ${loops} CPU-bound loop(s) for at most ${minutes} min (pids ${children.map((c) => c.pid).join(' ')})\n`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopLoops();
    process.exit(130);
  });
}

if (command.length > 0) {
  const started = Date.now();
  const run = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  run.on('exit', (code, signal) => {
    stopLoops();
    process.stderr.write(`busy-cpu: \`${command.join(' ')}\` ended (${signal ?? code}) after ${((Date.now() - started) / 1000).toFixed(1)} s with ${loops} busy loop(s)\n`);
    process.exit(code ?? 1);
  });
} else {
  let left = children.length;
  for (const child of children) child.on('exit', () => --left === 0 && process.exit(0));
}
