/**
 * The deploy-time choices, read from CDK context (`-c key=value` or cdk.json's "context"). An empty
 * value counts as absent. forwarder (true/false) deploys the forwarder with a secret for its URL;
 * forwardUrlSecretArn names an existing secret instead (and implies forwarder). receiverConcurrency
 * (a number, or none) and forwarderConcurrency (a number) bound how many instances run at once.
 * sourceMaps (true/false) makes the functions load their source maps (a cold-start cost).
 *
 * The forward URL itself is not a context value: context ends up in the template and the function's
 * configuration in plain text, and a CRM webhook URL often carries a token. `-c forwardUrl=…` is
 * refused with a message saying what to do instead (without repeating the value).
 */
import type { Node } from 'constructs';
import { FORWARD_URL_MOVED } from './receiver-stack';

export interface ReceiverContext {
  readonly forwarder?: boolean;
  readonly forwardUrlSecretArn?: string;
  readonly alarmEmail?: string;
  readonly stackName?: string;
  readonly receiverConcurrency?: number | 'none';
  readonly forwarderConcurrency?: number;
  readonly sourceMaps?: boolean;
}

const KEYS = ['forwardUrlSecretArn', 'alarmEmail', 'stackName'] as const;

/** A whole number from `-c key=20` (or a number in cdk.json); the stack checks its range. */
const wholeNumber = (key: string, value: unknown): number => {
  const text = String(value).trim();
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d+$/.test(text)) {
    throw new Error(`context ${key} must be a whole number (got ${JSON.stringify(value)})`);
  }
  return Number(text);
};

/** `-c forwarder=true` arrives as a string, cdk.json may hold a boolean. */
const yesNo = (key: string, value: unknown): boolean => {
  const text = String(value).trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`context ${key} must be true or false (got ${typeof value === 'string' ? JSON.stringify(value) : typeof value})`);
};

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

export const readReceiverContext = (node: Node): ReceiverContext => {
  if (present(node.tryGetContext('forwardUrl'))) throw new Error(`context ${FORWARD_URL_MOVED}`);
  const context: { -readonly [K in keyof ReceiverContext]: ReceiverContext[K] } = {};
  for (const key of KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (!present(value)) continue;
    if (typeof value !== 'string') throw new Error(`context ${key} must be a string (got ${typeof value})`);
    context[key] = value.trim();
  }
  const forwarder: unknown = node.tryGetContext('forwarder');
  if (present(forwarder)) context.forwarder = yesNo('forwarder', forwarder);
  const sourceMaps: unknown = node.tryGetContext('sourceMaps');
  if (present(sourceMaps)) context.sourceMaps = yesNo('sourceMaps', sourceMaps);
  const receiver: unknown = node.tryGetContext('receiverConcurrency');
  if (present(receiver)) context.receiverConcurrency = String(receiver).trim() === 'none' ? 'none' : wholeNumber('receiverConcurrency', receiver);
  const forwarderConcurrency: unknown = node.tryGetContext('forwarderConcurrency');
  if (present(forwarderConcurrency)) context.forwarderConcurrency = wholeNumber('forwarderConcurrency', forwarderConcurrency);
  return context;
};
