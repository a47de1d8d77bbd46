/**
 * The run commands as a newcomer types them: each bundles only its own entry point (no TypeScript
 * compiler) and starts. `npm start` runs the whole loop and must exit 0 with the expected items.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

const run = (args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`npm ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

describe('run commands', () => {
  it('npm start bundles the demo, runs the whole loop and exits 0 with the expected items', async () => {
    const { code, stdout, stderr } = await run(['start'], 90_000);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/OK: 6 Zap items, 1 duplicate and 1 forgery suppressed/);
    const bundle = join(root, '.tmp', 'run', 'demo.js');
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
  }, 120_000);

  it.each(['sandbox', 'conformance', 'receiver', 'subscribe', 'replay'])('the %s command bundles its own entry point only', async (name) => {
    const { code, stderr } = await run(['exec', '--', 'node', 'scripts/bundle-entry.cjs', name], 60_000);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const bundle = join(root, '.tmp', 'run', `${name}.js`);
    // Fresh: written by this run, not left from an earlier one.
    expect(Date.now() - statSync(bundle).mtimeMs).toBeLessThan(60_000);
  }, 90_000);

  it('refuses an unknown entry and lists the known ones', async () => {
    const { code, stderr } = await run(['exec', '--', 'node', 'scripts/bundle-entry.cjs', 'nonsense'], 60_000);
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: .*demo\|sandbox\|conformance\|receiver\|subscribe\|replay/);
  }, 90_000);
});
