/**
 * `npm run replay -- <event id>…`: sends items that ended in the dead letters (the forwarder gave up
 * on them) back to be delivered again, by the event ids an operator reads in the logs or the
 * dead-letter queue.
 *   on one machine: the outbox under DATA_DIR; the running receiver's forwarder delivers them
 *   on AWS:         --dead-letter-queue-url <url> --queue-url <url> (the stack's outputs); the
 *                   messages go back to the hand-off queue, where the forwarder picks them up
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { replayAwsCli } from './aws/replay';
import { replayLocal } from './local/replay';

const USAGE = `Usage: npm run replay -- <event id>…                       (the local receiver's outbox under DATA_DIR)
       npm run replay -- --dead-letter-queue-url <url> --queue-url <url> <event id>…   (AWS)`;

export const main = async (argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  let parsed: ReturnType<typeof parseArgs<{ options: { 'dead-letter-queue-url': { type: 'string' }; 'queue-url': { type: 'string' }; region: { type: 'string' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { 'dead-letter-queue-url': { type: 'string' }, 'queue-url': { type: 'string' }, region: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const eventIds = [...new Set(parsed.positionals.map((id) => id.trim()).filter((id) => id !== ''))];
  if (eventIds.length === 0) {
    process.stderr.write(`Name the event ids to replay.\n${USAGE}\n`);
    return 2;
  }
  const out = (line: string) => void process.stdout.write(`${line}\n`);
  const dlq = parsed.values['dead-letter-queue-url'];
  const queue = parsed.values['queue-url'];
  if (dlq !== undefined || queue !== undefined) {
    if (!dlq || !queue) {
      process.stderr.write(`On AWS both --dead-letter-queue-url and --queue-url are needed (the stack's DeadLetterQueueUrl and QueueUrl outputs).\n${USAGE}\n`);
      return 2;
    }
    return replayAwsCli({ deadLetterQueueUrl: dlq, queueUrl: queue, eventIds, ...(parsed.values.region ? { region: parsed.values.region } : {}) }, out);
  }
  return replayLocal(resolve(env.DATA_DIR?.trim() || '.receiver-data'), eventIds, out);
};

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`replay failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
