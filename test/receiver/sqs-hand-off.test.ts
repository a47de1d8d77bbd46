/**
 * SqsHandOff against the real @aws-sdk/client-sqs, intercepted by nock at its HTTP boundary: the
 * SDK speaks SQS's JSON protocol (POST /, X-Amz-Target AmazonSQS.<Operation>,
 * application/x-amz-json-1.0), so these tests read the exact requests SQS would receive.
 */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  deduplicationIdOf,
  messageGroupIdOf,
  SqsHandOff,
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BYTES,
} from '../../src/receiver/aws/sqs-hand-off';
import type { HandOffItem } from '../../src/receiver/hand-off';

const REGION = 'eu-west-1';
const ENDPOINT = `https://sqs.${REGION}.amazonaws.com`;
const QUEUE_URL = `${ENDPOINT}/123456789012/ecologic-items`;
const FIFO_URL = `${ENDPOINT}/123456789012/ecologic-items.fifo`;
const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.0' };
const SECRET = 'jane.secret@example.com';

interface BatchEntry {
  Id: string;
  MessageBody: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}
interface BatchRequest {
  QueueUrl: string;
  Entries: BatchEntry[];
}

const client = () =>
  new SQSClient({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }, maxAttempts: 1 });

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

const itemNumber = (n: number, extra: Record<string, unknown> = {}): HandOffItem => ({
  eventId: `evt_${String(n).padStart(4, '0')}`,
  event: n % 2 === 0 ? 'Audit:Create' : 'RequestQuote:Create',
  item: { id: `evt_${String(n).padStart(4, '0')}`, event: n % 2 === 0 ? 'Audit:Create' : 'RequestQuote:Create', contact_email: SECRET, ...extra },
});

/** A real SQS success answer: the SDK checks each MD5OfMessageBody against what it sent. */
const success = (entries: readonly BatchEntry[]) => ({
  Successful: entries.map((e) => ({ Id: e.Id, MessageId: `msg-${e.Id}`, MD5OfMessageBody: md5(e.MessageBody) })),
  Failed: [],
});

type Answer = (request: BatchRequest) => readonly [number, string, Record<string, string>?];
const ok: Answer = (request) => [200, JSON.stringify(success(request.Entries)), JSON_HEADERS];

/** Intercepts `times` SendMessageBatch requests, records their parsed bodies, answers with `answer`. */
const interceptBatches = (times: number, answer: Answer = ok, delayMs = 0) => {
  const requests: BatchRequest[] = [];
  const scope = nock(ENDPOINT)
    .post('/')
    .matchHeader('x-amz-target', 'AmazonSQS.SendMessageBatch')
    .matchHeader('content-type', 'application/x-amz-json-1.0')
    .times(times)
    .delay(delayMs)
    .reply(async (request: Request) => {
      const body = JSON.parse(await request.text()) as BatchRequest;
      requests.push(body);
      const [status, text, headers] = answer(body);
      return [status, text, headers ?? JSON_HEADERS];
    });
  return { requests, scope };
};

// test/setup-nock.ts does it for every unit file; stated here because these tests rely on it.
beforeAll(() => nock.disableNetConnect());

afterEach(() => {
  nock.cleanAll();
});

describe('SqsHandOff', () => {
  it('sends one item as one SendMessageBatch entry: the Zap item as body, event id and event as attributes', async () => {
    const { requests, scope } = interceptBatches(1);
    const handOff = new SqsHandOff({ client: client(), queueUrl: QUEUE_URL });
    const item = itemNumber(1);

    await expect(handOff.send([item])).resolves.toEqual([{ ok: true }]);

    expect(scope.isDone()).toBe(true);
    expect(handOff.description).toBe('sqs:ecologic-items');
    // Exactly the request body: no FIFO fields on a standard queue, the body is the item as a Zap sees it.
    expect(requests).toEqual([
      {
        QueueUrl: QUEUE_URL,
        Entries: [
          {
            Id: '0',
            MessageBody: JSON.stringify(item.item),
            MessageAttributes: {
              event_id: { DataType: 'String', StringValue: 'evt_0001' },
              event: { DataType: 'String', StringValue: 'RequestQuote:Create' },
            },
          },
        ],
      },
    ]);
    expect(JSON.parse(requests[0]!.Entries[0]!.MessageBody)).toEqual(item.item);
  });

  it('splits 23 items into requests of 10, 10 and 3 entries, every item sent once', async () => {
    const { requests, scope } = interceptBatches(3);
    const items = Array.from({ length: 23 }, (_, n) => itemNumber(n));

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send(items);

    expect(scope.isDone()).toBe(true);
    expect(results).toEqual(items.map(() => ({ ok: true })));
    // Chunks go concurrently, so compare sizes regardless of arrival order.
    expect(requests.map((r) => r.Entries.length).sort((a, b) => b - a)).toEqual([10, 10, 3]);
    const sent = requests.flatMap((r) => r.Entries.map((e) => [e.Id, JSON.parse(e.MessageBody).id as string] as const));
    expect(new Map(sent)).toEqual(new Map(items.map((item, n) => [String(n), item.eventId])));
  });

  it('keeps each request within 1 MiB of payload', async () => {
    expect(SQS_MAX_BYTES).toBe(1024 * 1024);
    expect(SQS_MAX_BATCH_BYTES).toBe(1024 * 1024);
    const { requests, scope } = interceptBatches(3);
    // 400 KiB each: two fit in one request, a third would not.
    const items = Array.from({ length: 5 }, (_, n) => itemNumber(n, { notes: 'x'.repeat(400 * 1024) }));

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send(items);

    expect(scope.isDone()).toBe(true);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(requests.map((r) => r.Entries.length).sort()).toEqual([1, 2, 2]);
    for (const request of requests) {
      expect(request.Entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody), 0)).toBeLessThanOrEqual(SQS_MAX_BYTES);
    }
  });

  it('sends a single item of 900 KiB, larger than the old 256 KiB limit', async () => {
    const { requests, scope } = interceptBatches(1);
    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0, { notes: 'z'.repeat(900 * 1024) })]);
    expect(scope.isDone()).toBe(true);
    expect(results).toEqual([{ ok: true }]);
    expect(Buffer.byteLength(requests[0]!.Entries[0]!.MessageBody)).toBeGreaterThan(900 * 1024);
  });

  it('fails an item larger than 1 MiB alone, permanently, without sending it, and sends the others', async () => {
    const { requests, scope } = interceptBatches(1);
    const items = [itemNumber(0), itemNumber(1, { notes: `${SECRET} ${'y'.repeat(1024 * 1024)}` }), itemNumber(2)];

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send(items);

    expect(scope.isDone()).toBe(true);
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    expect(results[1]).toEqual({ ok: false, reason: expect.stringMatching(/too_large: \d+ bytes > 1048576$/), permanent: true });
    expect(requests[0]!.Entries.map((e) => e.Id)).toEqual(['0', '2']);
    expect(JSON.stringify(results)).not.toContain(SECRET);
  });

  it('fails only the entry SQS lists in Failed, with its code and not its message', async () => {
    const { scope } = interceptBatches(1, (request) => {
      const [first, second, third] = request.Entries;
      return [
        200,
        JSON.stringify({
          Successful: success([first!, third!]).Successful,
          // A real Failed message can quote the content it objects to.
          Failed: [{ Id: second!.Id, Code: 'InvalidMessageContents', SenderFault: true, Message: `Invalid character in ${SECRET}` }],
        }),
      ];
    });

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0), itemNumber(1), itemNumber(2)]);

    expect(scope.isDone()).toBe(true);
    expect(results).toEqual([{ ok: true }, { ok: false, reason: 'sqs_entry_failed: InvalidMessageContents' }, { ok: true }]);
  });

  it('fails an entry SQS neither accepted nor rejected', async () => {
    const { scope } = interceptBatches(1, (request) => [200, JSON.stringify(success(request.Entries.slice(1)))]);

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0), itemNumber(1)]);

    expect(scope.isDone()).toBe(true);
    expect(results).toEqual([{ ok: false, reason: 'sqs_entry_unanswered' }, { ok: true }]);
  });

  it.each([
    [
      'throttling',
      [400, JSON.stringify({ __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' }), { ...JSON_HEADERS, 'x-amzn-query-error': 'ThrottlingException;Sender' }],
      'sqs_request_failed: ThrottlingException',
    ],
    ['an HTTP 500 without a body', [500, '', {}], 'sqs_request_failed: http_500'],
  ] as const)('fails the items of a chunk whose request fails (%s), and only those', async (_, failure, reason) => {
    // The chunk holding entry 0 fails as a whole; the other chunk is stored.
    const { scope } = interceptBatches(2, (request) => (request.Entries.some((e) => e.Id === '0') ? failure : ok(request)));
    const items = Array.from({ length: 12 }, (_, n) => itemNumber(n));

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send(items);

    expect(scope.isDone()).toBe(true);
    expect(results.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => ({ ok: false, reason })));
    expect(results.slice(10)).toEqual([{ ok: true }, { ok: true }]);
  });

  it('fails every item of a request that meets a network error', async () => {
    const scope = nock(ENDPOINT).post('/').replyWithError('socket hang up');

    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0), itemNumber(1)]);

    expect(scope.isDone()).toBe(true);
    expect(results).toEqual([
      { ok: false, reason: expect.stringMatching(/^sqs_request_failed: /) },
      { ok: false, reason: expect.stringMatching(/^sqs_request_failed: /) },
    ]);
  });

  it('gives up on a request that outlasts its timeout', async () => {
    interceptBatches(1, ok, 500);

    const started = Date.now();
    const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL, timeoutMs: 100 }).send([itemNumber(0)]);

    expect(results).toEqual([{ ok: false, reason: 'sqs_request_failed: timeout' }]);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('on a FIFO queue gives each event (name and id) its own deduplication id and group, both the hash of the pair', async () => {
    const { requests, scope } = interceptBatches(1);
    const long = 'evt_' + 'é'.repeat(200); // longer than SQS's 128 characters, and outside its alphabet
    const audit42: HandOffItem = { eventId: '42', event: 'Audit:Create', item: { id: '42', event: 'Audit:Create' } };
    const quote42: HandOffItem = { eventId: '42', event: 'RequestQuote:Create', item: { id: '42', event: 'RequestQuote:Create' } };
    const items = [audit42, quote42, { ...itemNumber(2), eventId: long }];

    const handOff = new SqsHandOff({ client: client(), queueUrl: FIFO_URL });
    await expect(handOff.send(items)).resolves.toEqual([{ ok: true }, { ok: true }, { ok: true }]);

    expect(scope.isDone()).toBe(true);
    expect(handOff.description).toBe('sqs:ecologic-items.fifo');
    const entries = requests[0]!.Entries;
    const dedup = entries.map((e) => e.MessageDeduplicationId!);
    const groups = entries.map((e) => e.MessageGroupId!);
    // The pair, unambiguously encoded, hashed: not the id alone (42 is two events here), not the name alone.
    expect(dedup[0]).toBe(createHash('sha256').update(JSON.stringify(['Audit:Create', '42'])).digest('hex'));
    expect(dedup[0]).not.toBe(createHash('sha256').update('42').digest('hex'));
    expect(dedup[0]).not.toBe(dedup[1]);
    expect(new Set(dedup).size).toBe(3);
    // One group per event: the same value, so no event is held back behind another.
    expect(groups).toEqual(dedup);
    for (const id of [...dedup, ...groups]) expect(id).toMatch(/^[0-9a-f]{64}$/);
    // The attributes a consumer and replay read are still there.
    expect(entries[1]!.MessageAttributes).toEqual({
      event_id: { DataType: 'String', StringValue: '42' },
      event: { DataType: 'String', StringValue: 'RequestQuote:Create' },
    });

    // The same event always gets the same ids, so SQS drops a second copy within 5 minutes.
    const again = interceptBatches(1);
    await handOff.send([{ ...audit42, item: { ...audit42.item, resent: true } }]);
    expect(again.requests[0]!.Entries[0]!.MessageDeduplicationId).toBe(dedup[0]);
    expect(again.requests[0]!.Entries[0]!.MessageGroupId).toBe(groups[0]);
  });

  it('derives ids no two different pairs share, however the name and id split', () => {
    expect(deduplicationIdOf('Audit:Create', '42')).toBe(deduplicationIdOf('Audit:Create', '42'));
    expect(deduplicationIdOf('Audit:Create', '42')).not.toBe(deduplicationIdOf('RequestQuote:Create', '42'));
    expect(deduplicationIdOf('a:b', 'c')).not.toBe(deduplicationIdOf('a', 'b:c'));
    expect(deduplicationIdOf('a', '"b')).not.toBe(deduplicationIdOf('a"', 'b'));
    expect(messageGroupIdOf('Audit:Create', '42')).toBe(deduplicationIdOf('Audit:Create', '42'));
  });

  describe('with a deadline', () => {
    it('bounds a request by the deadline when it comes before the timeout, and fails its items (not permanently)', async () => {
      interceptBatches(1, ok, 1_000);

      const started = Date.now();
      const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL, timeoutMs: 10_000 }).send([itemNumber(0), itemNumber(1)], {
        deadline: started + 400,
      });

      expect(results).toEqual([
        { ok: false, reason: 'sqs_request_failed: timeout' },
        { ok: false, reason: 'sqs_request_failed: timeout' },
      ]);
      // Cut at the deadline less its margin (~150 ms), before the answer (1 s) and the timeout (10 s).
      expect(Date.now() - started).toBeLessThan(900);
    });

    it('keeps the timeout when the deadline is further away', async () => {
      interceptBatches(1, ok, 600);

      const started = Date.now();
      const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL, timeoutMs: 100 }).send([itemNumber(0)], { deadline: started + 60_000 });

      expect(results).toEqual([{ ok: false, reason: 'sqs_request_failed: timeout' }]);
      expect(Date.now() - started).toBeLessThan(500);
    });

    it('sends nothing once the deadline (less its margin) has passed, and fails the items so their claims are released', async () => {
      const { requests } = interceptBatches(1);

      const results = await new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0)], { deadline: Date.now() + 100 });

      expect(results).toEqual([{ ok: false, reason: 'sqs_not_sent: no time left before the deadline' }]);
      expect(requests).toEqual([]);
    });

    it('sends normally with time to spare', async () => {
      const { scope } = interceptBatches(1);
      await expect(new SqsHandOff({ client: client(), queueUrl: QUEUE_URL }).send([itemNumber(0)], { deadline: Date.now() + 10_000 })).resolves.toEqual([{ ok: true }]);
      expect(scope.isDone()).toBe(true);
    });
  });
});
