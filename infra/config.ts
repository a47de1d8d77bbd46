/**
 * The deploy-time choices, read from CDK context (`-c key=value` or cdk.json's "context"). An empty
 * value counts as absent, so `-c forwardUrl=` turns the forwarder off again. receiverConcurrency
 * (a number, or none) and forwarderConcurrency (a number) bound how many instances run at once.
 */
import type { Node } from 'constructs';

export interface ReceiverContext {
  readonly forwardUrl?: string;
  readonly alarmEmail?: string;
  readonly stackName?: string;
  readonly receiverConcurrency?: number | 'none';
  readonly forwarderConcurrency?: number;
}

const KEYS = ['forwardUrl', 'alarmEmail', 'stackName'] as const;

/** A whole number from `-c key=20` (or a number in cdk.json); the stack checks its range. */
const wholeNumber = (key: string, value: unknown): number => {
  const text = String(value).trim();
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d+$/.test(text)) {
    throw new Error(`context ${key} must be a whole number (got ${JSON.stringify(value)})`);
  }
  return Number(text);
};

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

export const readReceiverContext = (node: Node): ReceiverContext => {
  const context: { -readonly [K in keyof ReceiverContext]: ReceiverContext[K] } = {};
  for (const key of KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (!present(value)) continue;
    if (typeof value !== 'string') throw new Error(`context ${key} must be a string (got ${typeof value})`);
    context[key] = value.trim();
  }
  const receiver: unknown = node.tryGetContext('receiverConcurrency');
  if (present(receiver)) context.receiverConcurrency = String(receiver).trim() === 'none' ? 'none' : wholeNumber('receiverConcurrency', receiver);
  const forwarder: unknown = node.tryGetContext('forwarderConcurrency');
  if (present(forwarder)) context.forwarderConcurrency = wholeNumber('forwarderConcurrency', forwarder);
  return context;
};
