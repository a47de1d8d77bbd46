// Child process of the bench: `node first-delivery.js app|passthrough` in an unzipped build, with a
// signed delivery bundle as JSON on stdin. Loads the app (or a pass-through hook app on the same
// zapier-platform-core), runs that one delivery through createAppTester and prints, as JSON, the
// in-process times and what came back. Everything is resolved from the working folder, so only the
// unzipped build's files are used; modules loaded from elsewhere are reported.
import { passThroughApp } from './pass-through-app';
import { readFileSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';

const start = process.hrtime.bigint();
const msSince = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

type Perform = (z: unknown, bundle: { cleanedRequest?: unknown }) => unknown;
type Tester = (perform: Perform, bundle: object) => Promise<unknown>;
interface Core {
  version: string;
  createAppTester: (app: object) => Tester;
}

const main = async () => {
  const variant = process.argv[2];
  const home = realpathSync(process.cwd());
  const input = JSON.parse(readFileSync(0, 'utf8')) as { bundle: object; triggerKey: string };
  // core prints a memory line per invocation outside tests; keep stdout for the result.
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (args[0] !== 'ZID:') log(...args);
  };

  const core = require(require.resolve('zapier-platform-core', { paths: [home] })) as Core;
  let app: { triggers: Record<string, { operation: { perform: Perform } }> };
  let triggerKey = input.triggerKey;
  if (variant === 'app') {
    app = require(require.resolve('./index.js', { paths: [home] })) as typeof app;
  } else if (variant === 'passthrough') {
    triggerKey = 'passthrough';
    app = passThroughApp(core.version) as unknown as typeof app;
  } else {
    throw new Error('usage: node first-delivery.js app|passthrough < bundle.json');
  }
  const loadMs = msSince(start);
  const perform = app.triggers[triggerKey]?.operation.perform;
  if (typeof perform !== 'function') throw new Error(`no trigger ${triggerKey}`);
  const deliveryStart = process.hrtime.bigint();
  const items = await core.createAppTester(app)(perform, input.bundle);
  const firstDeliveryMs = msSince(deliveryStart);
  const outside = Object.keys(require.cache).filter((file) => !file.startsWith(home + sep) && file !== __filename && file !== require.resolve('./pass-through-app'));
  process.stdout.write(JSON.stringify({ loadMs, firstDeliveryMs, totalMs: msSince(start), items, outside }));
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
