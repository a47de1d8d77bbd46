/**
 * The Lambda module as deployed (src/receiver/aws/receiver-lambda.ts `handler`, configured only by
 * its environment) with payload-v2 events as a Function URL sends them. DynamoDB is dynalite on
 * 127.0.0.1; SQS and Secrets Manager cannot run here, so a small HTTP stand-in answers the SDK at
 * its wire boundary (AWS JSON protocol, `x-amz-target`), reached through the SDK's own
 * `AWS_ENDPOINT_URL_*` settings: the handler's code path is exactly the one on AWS.
 *
 * The SQS stand-in keeps a FIFO queue's de-duplication as AWS documents it (not as measured on real
 * SQS): a message whose MessageDeduplicationId was sent successfully within the last 5 minutes (in
 * its message group, the stack's deduplication scope) is answered as sent but not enqueued. The fault
 * run below cuts the store between the send and its completion and delivers the events again after
 * the claim lapsed: the queue must still hold one message per event.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SqsHandOff } from '../../src/receiver/aws/sqs-hand-off';
import { createReceiver, MAX_RECORDS_PER_DELIVERY } from '../../src/receiver/handler';
import { memoryLog } from '../../src/receiver/log';
import { createDedupeTable, DynamoDbStore } from '../../src/receiver/stores/dynamodb';
import { waitUntil } from '../support/bounded-wait';
import { localDynamoClient, startDynalite, type LocalDynamo } from '../support/dynalite';
import { fixture, OTHER_SECRET, SECRET, signed } from '../support/receiver-kit';

interface Enqueued {
  body: string;
  attributes: Record<string, { StringValue?: string }>;
  groupId?: string;
  deduplicationId?: string;
}

interface FakeAws {
  readonly url: string;
  /** What the queue holds: messages enqueued, duplicates dropped. */
  readonly messages: Enqueued[];
  /** Every message SQS answered as sent, the dropped duplicates included. */
  readonly accepted: Enqueued[];
  readonly calls: string[];
  /** The next SendMessageBatch calls answer 500. */
  failSends: number;
  /** Added to the stand-in's clock: a test may move past the 5-minute deduplication interval. */
  clockOffsetMs: number;
  /** Called after a send was stored and before it is answered. */
  onSend: (() => void) | undefined;
  close(): Promise<void>;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** AWS: the deduplication interval of a FIFO queue. */
const DEDUPLICATION_INTERVAL_MS = 5 * 60 * 1000;

const startFakeAws = async (secretString: string): Promise<FakeAws> => {
  const fake = {
    messages: [] as Enqueued[],
    accepted: [] as Enqueued[],
    calls: [] as string[],
    failSends: 0,
    clockOffsetMs: 0,
    onSend: undefined as (() => void) | undefined,
  };
  /** Deduplication key (group and id: scope messageGroup) → when it was first sent, and as what. */
  const sentIds = new Map<string, { at: number; messageId: string }>();
  let sequence = 0;

  type Entry = { Id?: string; MessageBody: string; MessageAttributes?: Record<string, { StringValue?: string }>; MessageGroupId?: string; MessageDeduplicationId?: string };
  /** One message into the queue named by `queueUrl`, as SQS takes it; an error code if it refuses it. */
  const enqueue = (queueUrl: string, entry: Entry): { messageId: string } | { code: string } => {
    const message: Enqueued = {
      body: entry.MessageBody,
      attributes: entry.MessageAttributes ?? {},
      ...(entry.MessageGroupId !== undefined ? { groupId: entry.MessageGroupId } : {}),
      ...(entry.MessageDeduplicationId !== undefined ? { deduplicationId: entry.MessageDeduplicationId } : {}),
    };
    if (!queueUrl.endsWith('.fifo')) {
      fake.accepted.push(message);
      fake.messages.push(message);
      return { messageId: `m-${++sequence}` };
    }
    // A FIFO queue without content-based de-duplication needs both ids on every message.
    if (!entry.MessageGroupId || !entry.MessageDeduplicationId) return { code: 'MissingParameter' };
    const key = `${entry.MessageGroupId}\n${entry.MessageDeduplicationId}`;
    const now = Date.now() + fake.clockOffsetMs;
    fake.accepted.push(message);
    const earlier = sentIds.get(key);
    // Within the interval: accepted successfully, not delivered.
    if (earlier && now - earlier.at < DEDUPLICATION_INTERVAL_MS) return { messageId: earlier.messageId };
    const messageId = `m-${++sequence}`;
    sentIds.set(key, { at: now, messageId });
    fake.messages.push(message);
    return { messageId };
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
      if (target === 'AmazonSQS.SendMessageBatch' || target === 'AmazonSQS.SendMessage') {
        if (fake.failSends > 0) {
          fake.failSends -= 1;
          return reply(500, { __type: 'InternalError', message: 'queue unavailable' });
        }
        const queueUrl = String(input.QueueUrl);
        if (target === 'AmazonSQS.SendMessage') {
          const outcome = enqueue(queueUrl, input as unknown as Entry);
          fake.onSend?.();
          if ('code' in outcome) return reply(400, { __type: `com.amazonaws.sqs#${outcome.code}`, message: 'refused' });
          return reply(200, { MessageId: outcome.messageId, MD5OfMessageBody: md5(String(input.MessageBody)) });
        }
        const entries = input.Entries as Entry[];
        const outcomes = entries.map((entry) => ({ entry, outcome: enqueue(queueUrl, entry) }));
        fake.onSend?.();
        return reply(200, {
          Successful: outcomes.flatMap(({ entry, outcome }) =>
            'messageId' in outcome ? [{ Id: entry.Id, MessageId: outcome.messageId, MD5OfMessageBody: md5(entry.MessageBody) }] : [],
          ),
          Failed: outcomes.flatMap(({ entry, outcome }) => ('code' in outcome ? [{ Id: entry.Id, Code: outcome.code, SenderFault: true }] : [])),
        });
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
};

interface StoreCut {
  readonly url: string;
  /** While set, every DynamoDB call is answered 500 (the store is unreachable). */
  cut: boolean;
  /** Calls answered 500 while cut, by operation. */
  readonly refused: string[];
  close(): Promise<void>;
}

/**
 * An HTTP pass-through to dynalite that can cut the store off at an exact point (here: right after
 * the SQS send, before the completion). http.request takes one options object: zapier-platform-core
 * patches it in jest workers, and leaves that form intact.
 */
const startStoreCut = async (upstream: string): Promise<StoreCut> => {
  const target = new URL(upstream);
  const state = { cut: false, refused: [] as string[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (state.cut) {
        state.refused.push(String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '');
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'store cut off' }));
        return;
      }
      const forward = http.request({
        host: target.hostname,
        port: Number(target.port),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      });
      forward.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
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
  let handler: typeof import('../../src/receiver/aws/receiver-lambda').handler;
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
      HANDOFF_QUEUE_URL: `${aws.url}/111122223333/ecologic-items.fifo`,
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
    // A FIFO message: its own group and deduplication id, both the hash of the event's name and id.
    expect(aws.messages[0]!.groupId).toMatch(/^[0-9a-f]{64}$/);
    expect(aws.messages[0]!.deduplicationId).toBe(aws.messages[0]!.groupId);

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

  it('passes the Lambda context\'s remaining time as the deadline: with almost none left it answers 503 and sends nothing', async () => {
    const before = aws.calls.length;
    const context = { getRemainingTimeInMillis: () => 300 };
    const response = await handler(functionUrlEvent(signed(fixture('audit_label_applied'), { webhookId: 'msg_l6' })), context as never);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBeDefined();
    expect(aws.calls.slice(before).filter((call) => call.startsWith('AmazonSQS.'))).toEqual([]);

    // With the time a Lambda normally has, the same delivery is taken.
    const taken = await handler(functionUrlEvent(signed(fixture('audit_label_applied'), { webhookId: 'msg_l6' })), { getRemainingTimeInMillis: () => 13_000 } as never);
    expect(taken.statusCode).toBe(200);
  });

  it('takes a batch at the limit within the time a Lambda has, over as many answers as it needs, one message per event', async () => {
    const before = aws.messages.length;
    const records = Array.from({ length: MAX_RECORDS_PER_DELIVERY }, (_, n) => ({ ...fixture('audit_created'), event_id: `evt_big_${n}` }));
    const remaining = 13_000;
    const answers: Array<{ status: number; ms: number }> = [];
    for (let attempt = 0; attempt < 6 && answers.at(-1)?.status !== 200; attempt++) {
      const started = Date.now();
      const response = await handler(functionUrlEvent(signed(records, { webhookId: 'msg_big' })), { getRemainingTimeInMillis: () => remaining } as never);
      answers.push({ status: response.statusCode ?? 0, ms: Date.now() - started });
      // As the platform does, the retry waits the Retry-After it was given (at most 2 s here): on a
      // busy machine claims that landed after their bound are still being given back.
      const retryAfter = Number(response.headers?.['retry-after'] ?? 0);
      if (response.statusCode !== 200 && retryAfter > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 2) * 1000));
    }
    // Every answer before the function's time was up (in one answer on a quiet machine, more on a busy one).
    for (const answer of answers) expect(answer.ms).toBeLessThan(remaining);
    expect(answers.at(-1)?.status).toBe(200);
    expect(aws.messages.length - before).toBe(MAX_RECORDS_PER_DELIVERY);
    expect(new Set(aws.messages.slice(before).map((m) => m.deduplicationId)).size).toBe(MAX_RECORDS_PER_DELIVERY);

    // One more record than that is refused for good, before anything is claimed or sent.
    const calls = aws.calls.length;
    const tooMany = await handler(functionUrlEvent(signed([...records, { ...records[0]!, event_id: 'evt_big_extra' }], { webhookId: 'msg_too_big' })));
    expect(tooMany.statusCode).toBe(413);
    expect(JSON.parse(tooMany.body!)).toMatchObject({ error: 'too_many_records' });
    expect(aws.calls.slice(calls).filter((call) => call.startsWith('AmazonSQS.'))).toEqual([]);
  }, 90_000);

  it('answers 405 to a GET through the Function URL', async () => {
    const event = functionUrlEvent(signed('{}'));
    event.requestContext.http.method = 'GET';
    expect((await handler(event)).statusCode).toBe(405);
  });
});

/**
 * The store is cut off right after the SQS send and before the completion: the item is in the queue
 * but the table still shows the claim. Once the (here short) claim lease has lapsed the same events
 * are delivered again; the retry claims them anew and sends them again, and the FIFO queue drops the
 * copies (same deduplication ids within 5 minutes). The receiver runs as the Lambda module builds it
 * (createReceiver, DynamoDbStore, SqsHandOff), only with a lease it cannot take from its environment.
 */
describe('fault run: the completion is lost after the send', () => {
  const LEASE_MS = 2_000;
  const QUEUE = '111122223333/ecologic-items.fifo';
  let dynamo: LocalDynamo;
  let storeCut: StoreCut;
  let aws: FakeAws;
  let receive: ReturnType<typeof createReceiver>;
  let sqs: SQSClient;
  const log = memoryLog();

  beforeAll(async () => {
    dynamo = await startDynalite();
    storeCut = await startStoreCut(dynamo.endpoint);
    aws = await startFakeAws(SECRET);
    await createDedupeTable(localDynamoClient(dynamo.endpoint), 'fault-run-events');
    sqs = new SQSClient({ endpoint: aws.url, region: 'ap-southeast-2', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
    receive = createReceiver({
      secrets: () => [SECRET],
      // One attempt per call: the cut answers 500 at once, and the handler retries completions itself.
      store: new DynamoDbStore({ client: localDynamoClient(storeCut.url, { maxAttempts: 1 }), tableName: 'fault-run-events', leaseMs: LEASE_MS }),
      handOff: new SqsHandOff({ client: sqs, queueUrl: `${aws.url}/${QUEUE}` }),
      log,
    });
  });

  afterAll(async () => {
    sqs.destroy();
    await aws.close();
    await storeCut.close();
    await dynamo.close();
  });

  /** Two events with the same id and different types: two events, two messages. */
  const batchBody = (id: string) => [
    { ...fixture('audit_created'), event_id: id },
    { ...fixture('quote_request_created'), event_id: id },
  ];
  const deliver = (body: unknown, webhookId: string) => receive({ ...signed(body, { webhookId }), deadline: Date.now() + 14_000 });
  const messagesOf = (id: string) => aws.messages.filter((m) => m.attributes.event_id?.StringValue === id);
  const acceptedOf = (id: string) => aws.accepted.filter((m) => m.attributes.event_id?.StringValue === id);

  /** The first delivery: sent to SQS, then the store is cut before the completions. */
  const deliverLosingCompletions = async (id: string, webhookId: string) => {
    aws.onSend = () => {
      storeCut.cut = true;
    };
    try {
      return await deliver(batchBody(id), webhookId);
    } finally {
      aws.onSend = undefined;
      storeCut.cut = false;
    }
  };

  /**
   * The platform's retries: delivered again until the answer is no longer 429 (another delivery's
   * claim is live), i.e. until the lease of the lost completion's claim has lapsed.
   */
  const deliverUntilTaken = async (body: unknown, webhookId: string) => {
    let response = await deliver(body, webhookId);
    let attempts = 1;
    const bound = Date.now() + 10 * LEASE_MS; // inside jest's 30 s, so this error is the one reported
    while (response.status === 429) {
      const retryAt = Date.now() + 50;
      await waitUntil(() => Date.now() >= retryAt, { what: 'the pause between retries', timeoutMs: 1_000 });
      if (Date.now() > bound) throw new Error(`still 429 after ${attempts} attempts: the claim never lapsed`);
      response = await deliver(body, webhookId);
      attempts += 1;
    }
    return { response, attempts };
  };

  it('hands each event to the queue once, though the completion was lost and the events were delivered again after the lease', async () => {
    const first = await deliverLosingCompletions('evt_0042', 'msg_f1');
    // Sent, so the platform is told it was taken (no retry asked for); the completions are missing.
    expect(first.status).toBe(200);
    expect(storeCut.refused).toContain('UpdateItem');
    expect(log.lines.some((line) => line.outcome === 'handoff_unrecorded')).toBe(true);
    expect(messagesOf('evt_0042')).toHaveLength(2);

    // Delivered again (another subscription, a replay by the platform): the lapsed claims are taken
    // over and both items are sent a second time.
    const { response: again } = await deliverUntilTaken(batchBody('evt_0042'), 'msg_f2');
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ outcome: 'accepted', accepted: 2 });
    expect(acceptedOf('evt_0042')).toHaveLength(4);

    // The queue kept exactly one message per event: SQS dropped the copies.
    const held = messagesOf('evt_0042');
    expect(held.map((m) => m.attributes.event?.StringValue).sort()).toEqual(['Audit:Create', 'RequestQuote:Create']);
    expect(new Set(held.map((m) => m.deduplicationId)).size).toBe(2);

    // Now recorded: a third delivery is a duplicate, and nothing is sent.
    const sendsBefore = aws.accepted.length;
    const third = await deliver(batchBody('evt_0042'), 'msg_f3');
    expect(JSON.parse(third.body)).toMatchObject({ outcome: 'duplicate' });
    expect(aws.accepted.length).toBe(sendsBefore);
  });

  it('still sends a second copy when the takeover comes more than 5 minutes after the first send (what remains)', async () => {
    await deliverLosingCompletions('evt_0043', 'msg_g1');
    expect(messagesOf('evt_0043')).toHaveLength(2);

    aws.clockOffsetMs += DEDUPLICATION_INTERVAL_MS + 1_000;
    const { response } = await deliverUntilTaken(batchBody('evt_0043'), 'msg_g2');
    expect(response.status).toBe(200);
    // Past the interval SQS no longer knows the ids: each event is in the queue twice.
    expect(messagesOf('evt_0043')).toHaveLength(4);
  });
});
