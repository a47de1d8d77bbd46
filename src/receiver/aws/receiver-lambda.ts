/**
 * The receiver on AWS Lambda, behind a Function URL or an API Gateway HTTP API (payload format
 * 2.0: lower-case header names, the body base64-encoded when the content type is not text). A thin
 * adapter: the handler is ../handler.ts, the store DynamoDB, the hand-off an SQS queue.
 *
 * Environment (set by infra/receiver-stack.ts):
 *   ECOLOGIC_SECRETS_ARN   a Secrets Manager secret holding the space-separated whsec_ secrets
 *                          (or ECOLOGIC_WEBHOOK_SECRETS with the secrets themselves, for tests)
 *   DEDUPE_TABLE           the DynamoDB table        HANDOFF_QUEUE_URL   the SQS queue
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseSecrets } from '../config';
import { createReceiver, type ReceiverHandler } from '../handler';
import { jsonLog } from '../log';
import { DynamoDbStore } from '../stores/dynamodb';
import { SqsHandOff } from './sqs-hand-off';

/** Secrets are re-read this often, so a rotation reaches warm instances without a deploy. */
export const SECRETS_REFRESH_MS = 5 * 60 * 1000;

/**
 * Every AWS call must answer well inside the platform's 15 s: a slow one is a failure (503, the
 * platform retries) rather than a delivery the platform counts as timed out.
 */
// throwOnRequestTimeout: without it @smithy/node-http-handler only warns and keeps waiting.
const clientConfig = { maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true } };

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

export const toReceiverRequest = (event: APIGatewayProxyEventV2) => ({
  method: event.requestContext?.http?.method ?? 'POST',
  headers: event.headers ?? {},
  body: event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body,
});

export const createLambdaHandler = (receive: ReceiverHandler) => async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const response = await receive(toReceiverRequest(event));
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
  // Claims (≤ ~3 s) + hand-off (≤ 5 s) + completion: an answer well inside the platform's 15 s.
  const handOff = new SqsHandOff({ client: new SQSClient(clientConfig), queueUrl: required('HANDOFF_QUEUE_URL'), timeoutMs: 5_000 });
  handlerInstance = createLambdaHandler(createReceiver({ secrets, store, handOff, log }));
  return handlerInstance;
};

export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => lambdaHandler()(event);
