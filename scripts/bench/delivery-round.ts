/**
 * One round of the per-delivery measurement in a fresh process: `node delivery-round.js <root>
 * <iterations> <warmup>` prints measureDelivery's result as JSON. Each round is its own process
 * because what moves the ratio from run to run (heap layout, what the JIT made of the app) is a
 * property of a process: rounds in one process would all share it.
 */
import { measureDelivery } from './delivery';

const [root, iterations, warmup] = process.argv.slice(2);
if (root === undefined || iterations === undefined || warmup === undefined) {
  process.stderr.write('usage: delivery-round <root> <iterations> <warmup>\n');
  process.exit(2);
}
measureDelivery(root, Number(iterations), Number(warmup)).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
