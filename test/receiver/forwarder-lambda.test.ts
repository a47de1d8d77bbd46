/**
 * The forwarder Lambda with the real SQS client and the real forwardItem (global fetch), both
 * intercepted by nock: the CRM at https://crm.example, SQS at its regional JSON endpoint.
 */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  createForwarder,
  FORWARD_URL_REFRESH_MS,
  FORWARD_URL_RETRY_MS,
  forwarderFromEnv,
  forwardTargetFromSecretsManager,
  type ForwarderOptions,
} from '../../src/receiver/aws/forwarder-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { forwardDelayMs } from '../../src/receiver/forward';
import { memoryLog } from '../../src/receiver/log';

const REGION = 'eu-west-1';
const SQS_ENDPOINT = `https://sqs.${REGION}.amazonaws.com`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:123456789012:ecologic-items`;
const QUEUE_URL = `${SQS_ENDPOINT}/123456789012/ecologic-items`;
const DLQ_URL = `${SQS_ENDPOINT}/123456789012/ecologic-items-dlq`;
const CRM = 'https://crm.example';
const CRM_PATH = '/hooks/catch/123/abc';
const TOKEN = 'tok-very-secret';
const FORWARD_URL = `${CRM}${CRM_PATH}?token=${TOKEN}`;
const SECRET = 'jane.secret@example.com';
const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.0' };

const sqsClient = () =>
  new SQSClient({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }, maxAttempts: 1 });

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

const zapItem = (n: number) => ({ id: `evt_${n}`, event: 'Audit:Create', contact_email: SECRET, n });

const record = (n: number, options: { body?: string; receiveCount?: number; arn?: string; attributes?: boolean; group?: string } = {}): SQSRecord => ({
  messageId: `m-${n}`,
  receiptHandle: `rh-${n}`,
  body: options.body ?? JSON.stringify(zapItem(n)),
  attributes: {
    ApproximateReceiveCount: String(options.receiveCount ?? 1),
    SentTimestamp: '1760000000000',
    SenderId: 'AIDATEST',
    ApproximateFirstReceiveTimestamp: '1760000000001',
    ...(options.group !== undefined ? { MessageGroupId: options.group, SequenceNumber: `1800000000000000000${n}`, MessageDeduplicationId: `d-${n}` } : {}),
  },
  messageAttributes:
    options.attributes === false
      ? {}
      : {
          event_id: { dataType: 'String', stringValue: `evt_${n}` },
          event: { dataType: 'String', stringValue: 'Audit:Create' },
        },
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: options.arn ?? QUEUE_ARN,
  awsRegion: REGION,
});

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

interface SqsCall {
  operation: string;
  body: Record<string, unknown>;
}

/**
 * SQS as the SDK sees it: every JSON-protocol call is recorded; SendMessage answers with the MD5
 * the SDK checks, other operations with `{}`. `fail` turns chosen calls into 500s.
 */
const fakeSqs = (fail: (call: SqsCall) => boolean = () => false) => {
  const calls: SqsCall[] = [];
  nock(SQS_ENDPOINT)
    .persist()
    .post('/')
    .reply(async (request: Request) => {
      const operation = (request.headers.get('x-amz-target') ?? '').replace('AmazonSQS.', '');
      const body = JSON.parse(await request.text()) as Record<string, unknown>;
      const call = { operation, body };
      calls.push(call);
      if (fail(call)) return [500, JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'boom' }), JSON_HEADERS];
      if (operation === 'SendMessage') {
        return [200, JSON.stringify({ MessageId: 'dlq-1', MD5OfMessageBody: md5(String(body.MessageBody)) }), JSON_HEADERS];
      }
      return [200, '{}', JSON_HEADERS];
    });
  return calls;
};

/** The CRM: answers each POST with the next status of `statuses`, recording bodies and headers. */
const fakeCrm = (statuses: ReadonlyArray<number | [number, Record<string, string>]>) => {
  const posts: Array<{ body: unknown; idempotencyKey: string | null }> = [];
  statuses.forEach((status) => {
    const [code, headers] = Array.isArray(status) ? status : [status, {}];
    nock(CRM)
      .post(CRM_PATH)
      .query({ token: TOKEN })
      .reply(async (request: Request) => {
        posts.push({ body: JSON.parse(await request.text()), idempotencyKey: request.headers.get('idempotency-key') });
        return [code, 'crm says hello', headers];
      });
  });
  return posts;
};

const forwarder = (overrides: Partial<ForwarderOptions> = {}) => {
  const log = memoryLog();
  const handler = createForwarder({
    sqs: sqsClient(),
    target: FORWARD_URL,
    deadLetterQueueUrl: DLQ_URL,
    log,
    random: () => 0.5,
    ...overrides,
  });
  return { handler, log };
};

/** Logs carry ids, outcomes and reasons: never an item value, nor the URL's token. */
const expectCleanLogs = (lines: ReadonlyArray<Record<string, unknown>>) => {
  const text = JSON.stringify(lines);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(TOKEN);
};

afterEach(() => {
  nock.cleanAll();
});

describe('forwarder Lambda', () => {
  it('posts each item unchanged and reports no failures when the CRM accepts them', async () => {
    const sqsCalls = fakeSqs();
    const posts = fakeCrm([200, 204]);
    const { handler, log } = forwarder();

    await expect(handler(batch(record(1), record(2)))).resolves.toEqual({ batchItemFailures: [] });

    expect(posts.map((p) => p.body).sort((a, b) => (a as { n: number }).n - (b as { n: number }).n)).toEqual([zapItem(1), zapItem(2)]);
    expect(posts.map((p) => p.idempotencyKey).sort()).toEqual(['Audit:Create/evt_1', 'Audit:Create/evt_2']);
    expect(sqsCalls).toEqual([]); // delivered records are deleted by Lambda, not by us
    expect(log.lines.filter((l) => l.outcome === 'delivered').map((l) => l.event_id).sort()).toEqual(['evt_1', 'evt_2']);
    expectCleanLogs(log.lines);
  });

  it('falls back to the item id when the message has no attributes', async () => {
    fakeSqs();
    const posts = fakeCrm([200]);
    const { handler } = forwarder();

    await expect(handler(batch(record(7, { attributes: false })))).resolves.toEqual({ batchItemFailures: [] });
    expect(posts[0]!.idempotencyKey).toBe('Audit:Create/evt_7');
  });

  it('on a 503 fails the record and delays its next attempt by the backoff for its receive count', async () => {
    const sqsCalls = fakeSqs();
    fakeCrm([503, 200]);
    const { handler, log } = forwarder();

    const response = await handler(batch(record(1, { receiveCount: 3 }), record(2)));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    // Third receive, random 0.5: half of 2 s * 2^2 = 4 s.
    const expected = Math.ceil(forwardDelayMs(3, () => 0.5) / 1000);
    expect(expected).toBe(4);
    expect(sqsCalls).toEqual([
      { operation: 'ChangeMessageVisibility', body: { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-1', VisibilityTimeout: expected } },
    ]);
    expect(log.lines).toContainEqual(expect.objectContaining({ event_id: 'evt_1', outcome: 'retry', reason: 'HTTP 503', receive_count: 3, retry_in_s: 4 }));
    expectCleanLogs(log.lines);
  });

  it("honours the CRM's Retry-After in the visibility timeout", async () => {
    const sqsCalls = fakeSqs();
    fakeCrm([[429, { 'Retry-After': '120' }]]);
    const { handler } = forwarder();

    await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(sqsCalls.map((c) => c.body.VisibilityTimeout)).toEqual([120]);
  });

  it('still fails the record when the visibility change fails (it returns after the default timeout)', async () => {
    fakeSqs((call) => call.operation === 'ChangeMessageVisibility');
    fakeCrm([503]);
    const { handler, log } = forwarder();

    await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(log.lines).toContainEqual(expect.objectContaining({ message: 'could not set the retry delay', event_id: 'evt_1' }));
  });

  it('dead-letters a 400 with the original body and attributes plus forward_error, and does not fail it', async () => {
    const sqsCalls = fakeSqs();
    fakeCrm([400]);
    const { handler, log } = forwarder();
    const rejected = record(1);

    await expect(handler(batch(rejected))).resolves.toEqual({ batchItemFailures: [] });

    expect(sqsCalls).toEqual([
      {
        operation: 'SendMessage',
        body: {
          QueueUrl: DLQ_URL,
          MessageBody: rejected.body,
          MessageAttributes: {
            event_id: { DataType: 'String', StringValue: 'evt_1' },
            event: { DataType: 'String', StringValue: 'Audit:Create' },
            forward_error: { DataType: 'String', StringValue: 'HTTP 400' },
          },
        },
      },
    ]);
    expect(log.lines).toContainEqual(expect.objectContaining({ event_id: 'evt_1', outcome: 'dead_letter', reason: 'HTTP 400' }));
    expectCleanLogs(log.lines);
  });

  it('fails a rejected record when the dead-letter queue cannot take it, so it is not lost', async () => {
    fakeSqs((call) => call.operation === 'SendMessage');
    fakeCrm([422]);
    const { handler } = forwarder();

    await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });

  it('dead-letters a body that is not JSON without posting it, and logs none of it', async () => {
    const sqsCalls = fakeSqs();
    const crm = nock(CRM).post(CRM_PATH).query(true).reply(200);
    const { handler, log } = forwarder();
    const garbage = record(1, { body: `${SECRET} is not json` });

    await expect(handler(batch(garbage))).resolves.toEqual({ batchItemFailures: [] });

    expect(crm.isDone()).toBe(false);
    expect(sqsCalls).toHaveLength(1);
    expect(sqsCalls[0]!.body).toMatchObject({
      QueueUrl: DLQ_URL,
      MessageBody: garbage.body,
      MessageAttributes: { forward_error: { DataType: 'String', StringValue: 'message body is not JSON' } },
    });
    // JSON.parse's own message quotes the body: it must not reach the reason or the log.
    expectCleanLogs(log.lines);
  });

  it('refuses FORWARD_URL http://example.com: a clear error line, and every record fails', async () => {
    const crm = nock('http://example.com').post(/.*/).reply(200);
    const sqsCalls = fakeSqs();
    const { handler, log } = forwarder({ target: 'http://example.com/hook' });

    const response = await handler(batch(record(1), record(2)));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(crm.isDone()).toBe(false);
    expect(sqsCalls).toEqual([]);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors[0]).toMatchObject({ message: expect.stringContaining('FORWARD_URL'), reason: expect.stringContaining('must use https') });
    expect(errors).toContainEqual(expect.objectContaining({ message: expect.stringContaining('not forwarded'), records: 2 }));
  });

  it('reads FORWARD_URL and DEAD_LETTER_QUEUE_URL from the environment in the exported handler', async () => {
    const saved = { ...process.env };
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      Object.assign(process.env, { FORWARD_URL: 'http://example.com', DEAD_LETTER_QUEUE_URL: DLQ_URL, AWS_REGION: REGION });
      let handler: typeof import('../../src/receiver/aws/forwarder-lambda').handler | undefined;
      jest.isolateModules(() => {
        handler = (require('../../src/receiver/aws/forwarder-lambda') as typeof import('../../src/receiver/aws/forwarder-lambda')).handler;
      });
      await expect(handler!(batch(record(1)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
    const lines = written.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: 'error', message: expect.stringContaining('FORWARD_URL') });
    expect(written.join('')).not.toContain('example.com');
  });

  it('forwards at most 5 records at a time', async () => {
    fakeSqs();
    let inFlight = 0;
    let most = 0;
    nock(CRM)
      .post(CRM_PATH)
      .query(true)
      .times(12)
      .reply(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return [200, ''];
      });
    const { handler } = forwarder();

    const records = Array.from({ length: 12 }, (_, n) => record(n));
    await expect(handler(batch(...records))).resolves.toEqual({ batchItemFailures: [] });
    expect(most).toBe(5);
  });

  it('does not start a POST it has no time left for, and fails that record', async () => {
    fakeSqs();
    const crm = nock(CRM).post(CRM_PATH).query(true).reply(200);
    const { handler, log } = forwarder();

    // 3.5 s left: after the 3 s kept for SQS calls, less than the 1 s a POST needs.
    const response = await handler(batch(record(1)), { getRemainingTimeInMillis: () => 3_500 });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(crm.isDone()).toBe(false);
    expect(log.lines).toContainEqual(expect.objectContaining({ event_id: 'evt_1', outcome: 'not_attempted', reason: 'out of time' }));
  });

  describe('on a FIFO queue (one message group per event)', () => {
    /** The event id in a post's Idempotency-Key (`<event>/<id>`). */
    const eventIdOf = (request: Request) => (request.headers.get('idempotency-key') ?? '').replace(/^[A-Za-z:]+\//, '');
    /** The CRM for `posts` posts: each answered by `answer` (given the event id) after `ms`. */
    const slowCrm = (posts: number, ms: number, answer: (eventId: string) => number, onPost: (eventId: string) => void, onDone: (eventId: string) => void = () => undefined) =>
      nock(CRM)
        .post(CRM_PATH)
        .query(true)
        .times(posts)
        .reply(async (request: Request) => {
          const key = eventIdOf(request);
          onPost(key);
          await new Promise((resolve) => setTimeout(resolve, ms));
          onDone(key);
          return [answer(key), ''];
        });
    const arn = `${QUEUE_ARN}.fifo`;

    it('forwards the records of different groups concurrently, and goes on with other groups after one fails', async () => {
      const sqsCalls = fakeSqs();
      let inFlight = 0;
      let most = 0;
      const posted: string[] = [];
      slowCrm(
        4,
        30,
        (key) => (key === 'evt_2' ? 503 : 200),
        (key) => {
          posted.push(key);
          inFlight++;
          most = Math.max(most, inFlight);
        },
        () => inFlight--,
      );
      const { handler } = forwarder();

      const response = await handler(batch(...[1, 2, 3, 4].map((n) => record(n, { arn, group: `g${n}` }))));

      // evt_2's failure holds back nothing but its own group.
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
      expect(posted.sort()).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4']);
      expect(most).toBeGreaterThan(1);
      expect(sqsCalls.map((c) => [c.operation, c.body.QueueUrl, c.body.ReceiptHandle])).toEqual([['ChangeMessageVisibility', `${QUEUE_URL}.fifo`, 'rh-2']]);
    });

    it('keeps order within a group: one at a time, and once one fails the later ones of its group fail unattempted', async () => {
      fakeSqs();
      const order: string[] = [];
      let inGroupA = 0;
      let overlap = false;
      const inGroupAKey = (key: string) => ['evt_1', 'evt_3', 'evt_5'].includes(key);
      slowCrm(
        4,
        20,
        (key) => (key === 'evt_3' ? 500 : 200),
        (key) => {
          order.push(key);
          if (inGroupAKey(key) && inGroupA++ > 0) overlap = true;
        },
        (key) => {
          if (inGroupAKey(key)) inGroupA--;
        },
      );
      const { handler, log } = forwarder();

      // Group a: 1, 3, 5 (3 fails, so 5 must not go); group b: 2, 4 (both go).
      const records = [record(1, { arn, group: 'a' }), record(2, { arn, group: 'b' }), record(3, { arn, group: 'a' }), record(4, { arn, group: 'b' }), record(5, { arn, group: 'a' })];
      const response = await handler(batch(...records));

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-3' }, { itemIdentifier: 'm-5' }] });
      expect(order.filter((key) => ['evt_1', 'evt_3', 'evt_5'].includes(key))).toEqual(['evt_1', 'evt_3']);
      expect(order.filter((key) => ['evt_2', 'evt_4'].includes(key))).toEqual(['evt_2', 'evt_4']);
      expect(overlap).toBe(false);
      expect(log.lines).toContainEqual(
        expect.objectContaining({ event_id: 'evt_5', outcome: 'not_attempted', reason: 'an earlier record of its FIFO message group failed' }),
      );
    });

    it('does not even dead-letter a record of a group that already failed', async () => {
      const sqsCalls = fakeSqs();
      fakeCrm([503]);
      const { handler } = forwarder();

      const response = await handler(batch(record(1, { arn, group: 'a' }), record(2, { arn, group: 'a', body: 'not json' })));

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
      expect(sqsCalls.map((c) => c.operation)).toEqual(['ChangeMessageVisibility']);
    });

    it('dead-letters to a FIFO dead-letter queue in the record\'s own group', async () => {
      const sqsCalls = fakeSqs();
      fakeCrm([400]);
      const { handler } = forwarder({ deadLetterQueueUrl: `${DLQ_URL}.fifo` });

      await expect(handler(batch(record(1, { arn, group: 'g-evt-1' })))).resolves.toEqual({ batchItemFailures: [] });

      expect(sqsCalls[0]!.body).toMatchObject({ QueueUrl: `${DLQ_URL}.fifo`, MessageGroupId: 'g-evt-1', MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    });
  });

  describe('the forward URL from Secrets Manager', () => {
    const SM_ENDPOINT = `https://secretsmanager.${REGION}.amazonaws.com`;
    const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:ecologic-forward-url-AbC123`;
    const smClient = () =>
      new SecretsManagerClient({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }, maxAttempts: 1 });

    /** Secrets Manager answering GetSecretValue with the next of `answers` (a value, or a 500). */
    const fakeSecretsManager = (answers: Array<string | 500>) => {
      const reads: string[] = [];
      for (const answer of answers) {
        nock(SM_ENDPOINT)
          .post('/')
          .matchHeader('x-amz-target', 'secretsmanager.GetSecretValue')
          .reply(async (request: Request) => {
            const body = JSON.parse(await request.text()) as { SecretId: string };
            reads.push(body.SecretId);
            if (answer === 500) return [500, JSON.stringify({ __type: 'InternalServiceError', message: 'down' }), { 'content-type': 'application/x-amz-json-1.1' }];
            return [200, JSON.stringify({ ARN: SECRET_ARN, Name: 'ecologic-forward-url', SecretString: answer }), { 'content-type': 'application/x-amz-json-1.1' }];
          });
      }
      return reads;
    };

    it('reads the URL from the secret once, posts there, and keeps it for the refresh interval', async () => {
      fakeSqs();
      const reads = fakeSecretsManager([FORWARD_URL]);
      const posts = fakeCrm([200, 200]);
      let clock = 1_000_000;
      const { handler, log } = forwarder({ target: forwardTargetFromSecretsManager(smClient(), SECRET_ARN, () => clock) });

      await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [] });
      clock += FORWARD_URL_REFRESH_MS - 1;
      await expect(handler(batch(record(2)))).resolves.toEqual({ batchItemFailures: [] });

      expect(reads).toEqual([SECRET_ARN]);
      expect(posts.map((p) => p.idempotencyKey)).toEqual(['Audit:Create/evt_1', 'Audit:Create/evt_2']);
      expectCleanLogs(log.lines);
    });

    it('re-reads it after the interval, and keeps the last good URL when the read fails or the value is unusable', async () => {
      fakeSqs();
      const reads = fakeSecretsManager([FORWARD_URL, 500, 'http://crm.example/hook?token=' + TOKEN]);
      const posts = fakeCrm([200, 200, 200]);
      let clock = 1_000_000;
      const { handler, log } = forwarder({ target: forwardTargetFromSecretsManager(smClient(), SECRET_ARN, () => clock) });

      await handler(batch(record(1)));
      clock += FORWARD_URL_REFRESH_MS;
      await expect(handler(batch(record(2)))).resolves.toEqual({ batchItemFailures: [] }); // read fails: last good URL
      clock += FORWARD_URL_RETRY_MS;
      await expect(handler(batch(record(3)))).resolves.toEqual({ batchItemFailures: [] }); // http: refused, last good URL

      expect(reads).toHaveLength(3);
      expect(posts).toHaveLength(3);
      expectCleanLogs(log.lines);
    });

    it('fails every record with a clear error, and neither the value nor its token in the log, while the secret holds the placeholder', async () => {
      const sqsCalls = fakeSqs();
      fakeSecretsManager(['not-configured', `http://crm.example${CRM_PATH}?token=${TOKEN}`]);
      const crm = nock(CRM).post(/.*/).query(true).reply(200);
      let clock = 1_000_000;
      const { handler, log } = forwarder({ target: forwardTargetFromSecretsManager(smClient(), SECRET_ARN, () => clock), targetName: 'the forward URL secret' });

      await expect(handler(batch(record(1), record(2)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
      clock += FORWARD_URL_RETRY_MS;
      await expect(handler(batch(record(3)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-3' }] });

      expect(crm.isDone()).toBe(false);
      expect(sqsCalls).toEqual([]);
      const errors = log.lines.filter((l) => l.level === 'error');
      expect(errors[0]).toMatchObject({ message: expect.stringContaining('misconfigured'), reason: expect.stringMatching(/forward URL secret does not hold a usable URL: .*not a valid absolute URL/) });
      expect(errors[1]).toMatchObject({ reason: expect.stringContaining('must use https') });
      expectCleanLogs(log.lines);
      expect(JSON.stringify(log.lines)).not.toContain('crm.example');
    });

    it('says so when the secret cannot be read at all', async () => {
      fakeSqs();
      fakeSecretsManager([500]);
      const { handler, log } = forwarder({ target: forwardTargetFromSecretsManager(smClient(), SECRET_ARN) });

      await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(log.lines).toContainEqual(expect.objectContaining({ level: 'error', reason: 'the forward URL secret could not be read (InternalServiceError)' }));
    });

    it('is what the deployed function uses when FORWARD_URL_SECRET_ARN is set (FORWARD_URL is then ignored)', async () => {
      fakeSqs();
      const reads = fakeSecretsManager([FORWARD_URL]);
      const posts = fakeCrm([200]);
      const handler = forwarderFromEnv(
        { FORWARD_URL_SECRET_ARN: SECRET_ARN, FORWARD_URL: 'https://elsewhere.example/hook', DEAD_LETTER_QUEUE_URL: DLQ_URL },
        sqsClient(),
        smClient,
        memoryLog(),
      );

      await expect(handler(batch(record(1)))).resolves.toEqual({ batchItemFailures: [] });
      expect(reads).toEqual([SECRET_ARN]);
      expect(posts).toHaveLength(1);
    });
  });
});
