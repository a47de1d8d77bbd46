/**
 * `npm run receiver` as its own process for end-to-end tests: the CLI bundled with esbuild (the way
 * the Lambda is bundled; a second or less, where tsc takes many), started with the real
 * environment interface, its standard output read as the item stream and its standard error as logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const root = join(__dirname, '..', '..');

/** Bundles src/receiver/local/cli.ts once per test file into .tmp/e2e/. */
export const bundleReceiverCli = (name = 'receiver-cli'): string => {
  const outfile = join(root, '.tmp', 'e2e', `${name}-${process.pid}.js`);
  mkdirSync(join(root, '.tmp', 'e2e'), { recursive: true });
  buildSync({ entryPoints: [join(root, 'src/receiver/local/cli.ts')], bundle: true, platform: 'node', target: 'node22', format: 'cjs', outfile, logLevel: 'error' });
  return outfile;
};

export interface ReceiverProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every JSON line the receiver wrote on standard output: the handed-off items. */
  readonly items: Array<Record<string, unknown>>;
  /** Its log lines (JSON objects; anything else kept as `{ text }`). */
  readonly logs: Array<Record<string, unknown>>;
  /** SIGTERM, then the exit code (npm's, for `npm run receiver`: null when npm itself took the signal). */
  stop(): Promise<number | null>;
}

const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
};

export const startReceiverProcess = (
  command: { file: string; args?: string[] } | { npm: true },
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ReceiverProcess> => {
  const child =
    'npm' in command
      ? // Its own process group, so a stop reaches the node process npm starts, not only npm.
        spawn('npm', ['run', '-s', 'receiver'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      : spawn(process.execPath, ['--disable-warning=ExperimentalWarning', command.file, ...(command.args ?? [])], {
          cwd: root,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const items: Array<Record<string, unknown>> = [];
  const logs: Array<Record<string, unknown>> = [];
  // 'close', not 'exit': the streams are drained by then, so the last log lines are in `logs`; with
  // npm it also waits for the node process npm started, which holds the same pipes.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  lines(child.stdout!, (line) => items.push(JSON.parse(line) as Record<string, unknown>));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the receiver did not say where it listens within ${timeoutMs} ms:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the receiver exited (${code}) before listening:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
    });
    lines(child.stderr!, (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { text: line };
      }
      logs.push(entry);
      if (typeof entry.url === 'string' && String(entry.message).startsWith('listening on')) {
        clearTimeout(timer);
        resolve({
          url: entry.url,
          child,
          items,
          logs,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              if ('npm' in command) process.kill(-child.pid!, 'SIGTERM');
              else child.kill('SIGTERM');
            }
            return exited;
          },
        });
      }
    });
  });
};

export const countBy = (values: readonly string[]): Map<string, number> =>
  values.reduce((map, value) => map.set(value, (map.get(value) ?? 0) + 1), new Map<string, number>());

/** Every fired event became exactly one item across the processes: none lost, none duplicated. */
export const expectOneItemPerEvent = (receivers: readonly ReceiverProcess[], fired: readonly string[]): void => {
  const handedOff = receivers.flatMap((receiver) => receiver.items.map((item) => String(item.id)));
  const counts = countBy(handedOff);
  expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
  expect(fired.filter((id) => !counts.has(id))).toEqual([]);
  expect(handedOff).toHaveLength(fired.length);
};
