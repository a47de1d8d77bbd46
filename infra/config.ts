/**
 * The deploy-time choices, read from CDK context (`-c key=value` or cdk.json's "context"). An empty
 * value counts as absent, so `-c forwardUrl=` turns the forwarder off again.
 */
import type { Node } from 'constructs';

export interface ReceiverContext {
  readonly forwardUrl?: string;
  readonly alarmEmail?: string;
  readonly stackName?: string;
}

const KEYS = ['forwardUrl', 'alarmEmail', 'stackName'] as const;

export const readReceiverContext = (node: Node): ReceiverContext => {
  const context: { -readonly [K in keyof ReceiverContext]: ReceiverContext[K] } = {};
  for (const key of KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new Error(`context ${key} must be a string (got ${typeof value})`);
    context[key] = value.trim();
  }
  return context;
};
