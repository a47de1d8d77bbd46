/**
 * The Lambda module as deployed (src/receiver/aws/receiver-lambda.ts `handler`, configured only by
 * its environment) with payload-v2 events as a Function URL sends them. DynamoDB is dynalite on
 * 127.0.0.1; SQS and Secrets Manager cannot run here, so a small HTTP stand-in answers the SDK at
 * its wire boundary (AWS JSON protocol, `x-amz-target`), reached through the SDK's own
 * `AWS_ENDPOINT_URL_*` settings: the handler's code path is exactly the one on AWS.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDedupeTable } from '../../src/receiver/stores/dynamodb';
import { localDynamoClient, startDynalite, type LocalDynamo } from '../support/dynalite';
import { fixture, OTHER_SECRET, SECRET, signed } from '../support/receiver-kit';

interface FakeAws {
  readonly url: string;
  readonly messages: Array<{ body: string; attributes: Record<string, { StringValue?: string }> }>;
  readonly calls: string[];
  /** The next SendMessageBatch calls answer 500. */
  failSends: number;
  close(): Promise<void>;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const startFakeAws = async (secretString: string): Promise<FakeAws> => {
  const fake = {
    messages: [] as FakeAws['messages'],
    calls: [] as string[],
    failSends: 0,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      fake.calls.push(target);
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target === 'secretsmanager.GetSecretValue') return reply(200, { ARN: String(input.SecretId), Name: 'ecologic-webhook-secrets', SecretString: secretString });
      if (target === 'AmazonSQS.SendMessageBatch') {
        if (fake.failSends > 0) {
          fake.failSends -= 1;
          return reply(500, { __type: 'InternalError', message: 'queue unavailable' });
        }
        const entries = input.Entries as Array<{ Id: string; MessageBody: string; MessageAttributes: Record<string, { StringValue?: string }> }>;
        for (const entry of entries) fake.messages.push({ body: entry.MessageBody, attributes: entry.MessageAttributes });
        return reply(200, { Successful: entries.map((entry, n) => ({ Id: entry.Id, MessageId: `m-${fake.messages.length}-${n}`, MD5OfMessageBody: md5(entry.MessageBody) })), Failed: [] });
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
};

/** A delivery as a Lambda Function URL hands it over: payload format 2.0. */
const functionUrlEvent = (request: ReturnType<typeof signed>, options: { base64?: boolean } = {}): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {
    ...request.headers,
    host: 'abcdefghij.lambda-url.ap-southeast-2.on.aws',
    'user-agent': 'Ecologic-Webhooks/1.0',
    'x-forwarded-proto': 'https',
    'content-length': String(Buffer.byteLength(request.body)),
  },
  requestContext: {
    accountId: 'anonymous',
    apiId: 'abcdefghij',
    domainName: 'abcdefghij.lambda-url.ap-southeast-2.on.aws',
    domainPrefix: 'abcdefghij',
    http: { method: request.method, path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Ecologic-Webhooks/1.0' },
    requestId: 'c7f1a2b3-0000-4000-8000-000000000000',
    routeKey: '$default',
    stage: '$default',
    time: '28/Nov/2026:05:00:00 +0000',
    timeEpoch: Date.now(),
  },
  body: options.base64 ? Buffer.from(request.body).toString('base64') : request.body,
  isBase64Encoded: options.base64 ?? false,
});

describe('the receiver Lambda, configured by its environment', () => {
  let dynamo: LocalDynamo;
  let aws: FakeAws;
  let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startDynalite();
    aws = await startFakeAws(`${OTHER_SECRET} ${SECRET}`);
    await createDedupeTable(localDynamoClient(dynamo.endpoint), 'ecologic-receiver-events');
    Object.assign(process.env, {
      AWS_REGION: 'ap-southeast-2',
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: aws.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      ECOLOGIC_SECRETS_ARN: 'arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:ecologic-webhook-secrets-AbCdEf',
      DEDUPE_TABLE: 'ecologic-receiver-events',
      HANDOFF_QUEUE_URL: `${aws.url}/111122223333/ecologic-items`,
    });
    delete process.env.ECOLOGIC_WEBHOOK_SECRETS;
    jest.isolateModules(() => {
      ({ handler } = require('../../src/receiver/aws/receiver-lambda') as typeof import('../../src/receiver/aws/receiver-lambda'));
    });
  });

  afterAll(async () => {
    process.env = saved;
    await aws.close();
    await dynamo.close();
  });

  it('takes a signed delivery, hands the item to SQS with its event id, and answers a retry as a duplicate', async () => {
    const body = fixture('quote_request_created');
    const first = await handler(functionUrlEvent(signed(body, { webhookId: 'msg_l1' })));
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body!)).toMatchObject({ outcome: 'accepted', accepted: 1 });
    expect(aws.messages).toHaveLength(1);
    const item = JSON.parse(aws.messages[0]!.body) as Record<string, unknown>;
    expect(item).toMatchObject({ id: body.event_id, event: 'RequestQuote:Create', quote_request_id: body.quote_request_id });
    expect(aws.messages[0]!.attributes.event_id?.StringValue).toBe(body.event_id);

    const retry = await handler(functionUrlEvent(signed(body, { webhookId: 'msg_l1' })));
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body!)).toMatchObject({ outcome: 'duplicate' });
    expect(aws.messages).toHaveLength(1);
    // The secrets were read once from Secrets Manager, not per delivery.
    expect(aws.calls.filter((call) => call === 'secretsmanager.GetSecretValue')).toHaveLength(1);
  });

  it('decodes a base64 body (isBase64Encoded) and verifies the decoded bytes', async () => {
    const response = await handler(functionUrlEvent(signed(fixture('audit_created'), { secret: OTHER_SECRET }), { base64: true }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(aws.messages.at(-1)!.body)).toMatchObject({ event: 'Audit:Create' });
  });

  it('answers 401 to a delivery signed with another secret', async () => {
    const response = await handler(functionUrlEvent(signed(fixture('audit_simulated'), { secret: 'whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldA==' })));
    expect(response.statusCode).toBe(401);
  });

  it('answers 503 with Retry-After when SQS fails, and takes the retry once SQS is back', async () => {
    const before = aws.messages.length;
    const request = () => functionUrlEvent(signed(fixture('audit_assigned'), { webhookId: 'msg_l4' }));
    aws.failSends = 10;
    const failed = await handler(request());
    expect(failed.statusCode).toBe(503);
    expect(failed.headers?.['retry-after']).toBeDefined();
    expect(aws.messages).toHaveLength(before);
    aws.failSends = 0;
    const retried = await handler(request());
    expect(retried.statusCode).toBe(200);
    expect(aws.messages).toHaveLength(before + 1);
  });

  it('answers 405 to a GET through the Function URL', async () => {
    const event = functionUrlEvent(signed('{}'));
    event.requestContext.http.method = 'GET';
    expect((await handler(event)).statusCode).toBe(405);
  });
});
