/**
 * The receiver on AWS Lambda, behind a Function URL or an API Gateway HTTP API (payload format
 * 2.0: lower-case header names, the body base64-encoded when the content type is not text). A thin
 * adapter: the handler is ../handler.ts, the store DynamoDB, the hand-off an SQS queue.
 *
 * Environment (set by infra/receiver-stack.ts):
 *   ECOLOGIC_SECRETS_ARN   a Secrets Manager secret holding the space-separated whsec_ secrets
 *                          (or ECOLOGIC_WEBHOOK_SECRETS with the secrets themselves, for tests)
 *   DEDUPE_TABLE           the DynamoDB table        HANDOFF_QUEUE_URL   the SQS (FIFO) queue
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseSecrets } from '../config';
import { createReceiver, type ReceiverHandler, type ReceiverRequest } from '../handler';
import { jsonLog } from '../log';
import { DynamoDbStore } from '../stores/dynamodb';
import { fromEnv } from './env-credentials';
import { SqsHandOff } from './sqs-hand-off';

/** Secrets are re-read this often, so a rotation reaches warm instances without a deploy. */
export const SECRETS_REFRESH_MS = 5 * 60 * 1000;

/**
 * Timing. The function's timeout (14 s, infra/receiver-stack.ts) is inside the platform's 15 s, and
 * the handler is given a deadline: the function's remaining time (Lambda's context) less
 * ANSWER_MARGIN_MS, so work that cannot end before the function would be cut off is not started and
 * the platform gets an answer (503: it retries) rather than a timeout. Within that, every AWS call is
 * bounded well inside the platform's 15 s (below), and the hand-off's requests by the deadline too.
 */
// throwOnRequestTimeout: without it @smithy/node-http-handler only warns and keeps waiting. The
// credentials are the ones Lambda puts in the environment (./env-credentials.ts).
const clientConfig = {
  maxAttempts: 2,
  credentials: fromEnv(),
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
};

/** The secrets from Secrets Manager, cached; a failed refresh keeps the last good value. */
export const secretsFromSecretsManager = (client: Pick<SecretsManagerClient, 'send'>, secretId: string, now: () => number = Date.now) => {
  let cached: { secrets: string[]; at: number } | undefined;
  return async (): Promise<readonly string[]> => {
    if (cached && now() - cached.at < SECRETS_REFRESH_MS) return cached.secrets;
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      cached = { secrets: parseSecrets(answer.SecretString, 'the Secrets Manager secret'), at: now() };
    } catch (error) {
      if (!cached) throw error;
    }
    return cached.secrets;
  };
};

/** Kept back from the function's remaining time: the answer still has to leave the function. */
export const ANSWER_MARGIN_MS = 250;

export type LambdaContext = Pick<Context, 'getRemainingTimeInMillis'>;

export const toReceiverRequest = (event: APIGatewayProxyEventV2, context?: LambdaContext, now: () => number = Date.now): ReceiverRequest => ({
  method: event.requestContext?.http?.method ?? 'POST',
  headers: event.headers ?? {},
  body: event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body,
  // Without a context (tests, another host) the handler's own default applies: 15 s from arrival.
  ...(context ? { deadline: now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS } : {}),
});

export const createLambdaHandler =
  (receive: ReceiverHandler) =>
  async (event: APIGatewayProxyEventV2, context?: LambdaContext): Promise<APIGatewayProxyStructuredResultV2> => {
    const response = await receive(toReceiverRequest(event, context));
    return { statusCode: response.status, headers: response.headers, body: response.body };
  };

const required = (name: string): string => {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: the receiver's stack sets it; see infra/receiver-stack.ts`);
  return value;
};

let handlerInstance: ReturnType<typeof createLambdaHandler> | undefined;

/** Built on the first invocation, so a missing setting is reported by that invocation's log. */
const lambdaHandler = (): ReturnType<typeof createLambdaHandler> => {
  if (handlerInstance) return handlerInstance;
  const log = jsonLog();
  const inline = process.env.ECOLOGIC_WEBHOOK_SECRETS;
  const secrets = inline
    ? (() => {
        const parsed = parseSecrets(inline);
        return () => parsed;
      })()
    : secretsFromSecretsManager(new SecretsManagerClient(clientConfig), required('ECOLOGIC_SECRETS_ARN'));
  const store = new DynamoDbStore({ client: new DynamoDBClient(clientConfig), tableName: required('DEDUPE_TABLE') });
  // Claims (≤ ~3 s) + hand-off (≤ 5 s, and never past the deadline) + completion: an answer well
  // inside the platform's 15 s.
  const handOff = new SqsHandOff({ client: new SQSClient(clientConfig), queueUrl: required('HANDOFF_QUEUE_URL'), timeoutMs: 5_000 });
  handlerInstance = createLambdaHandler(createReceiver({ secrets, store, handOff, log }));
  return handlerInstance;
};

/** Lambda's entry point: `(event, context)`; the context gives the deadline. */
export const handler = (event: APIGatewayProxyEventV2, context?: LambdaContext): Promise<APIGatewayProxyStructuredResultV2> =>
  lambdaHandler()(event, context);
