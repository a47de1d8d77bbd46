/**
 * Dead-letter replay with the real SQS client against a small stateful SQS behind nock: the
 * dead-letter queue serves ReceiveMessage from its messages (hiding what it returned, as SQS does),
 * and every call is recorded in order, so the tests can check send-before-delete.
 */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { SQSClient } from '@aws-sdk/client-sqs';
import { replayAwsCli, replayDeadLetters } from '../../src/receiver/aws/replay';
import { deduplicationIdOf, messageGroupIdOf } from '../../src/receiver/aws/sqs-hand-off';

const REGION = 'eu-west-1';
const ENDPOINT = `https://sqs.${REGION}.amazonaws.com`;
const QUEUE_URL = `${ENDPOINT}/123456789012/ecologic-items`;
const DLQ_URL = `${ENDPOINT}/123456789012/ecologic-items-dlq`;
const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.0' };

const sqsClient = () =>
  new SQSClient({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }, maxAttempts: 1 });

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

interface Stored {
  id: string;
  body: string;
  attributes?: Record<string, { DataType: string; StringValue: string }>;
  /** The message group it has in a FIFO dead-letter queue. */
  group?: string;
  visible: boolean;
  receipts: number;
}

interface Call {
  operation: string;
  body: Record<string, any>;
}

const deadLetter = (n: number, withAttributes = true): Stored => ({
  id: `dlq-msg-${n}`,
  body: JSON.stringify({ id: `evt_${n}`, event: 'Audit:Create', n }),
  ...(withAttributes
    ? {
        attributes: {
          event_id: { DataType: 'String', StringValue: `evt_${n}` },
          event: { DataType: 'String', StringValue: 'Audit:Create' },
          forward_error: { DataType: 'String', StringValue: 'HTTP 400' },
        },
      }
    : {}),
  visible: true,
  receipts: 0,
});

/**
 * SQS with one dead-letter queue. Receipt handles are `<message id>#<receipt number>`.
 * `fail(call)` answers a call with a 500; `sticky` keeps received messages visible (a queue whose
 * messages keep coming back), to show that polling is bounded anyway.
 */
const fakeSqs = (messages: Stored[], options: { fail?: (call: Call) => boolean; sticky?: boolean } = {}) => {
  const calls: Call[] = [];
  const byHandle = (handle: string) => messages.find((m) => m.id === handle.split('#')[0]);
  nock(ENDPOINT)
    .persist()
    .post('/')
    .reply(async (request: Request) => {
      const operation = (request.headers.get('x-amz-target') ?? '').replace('AmazonSQS.', '');
      const body = JSON.parse(await request.text()) as Record<string, any>;
      const call = { operation, body };
      calls.push(call);
      if (options.fail?.(call)) return [500, JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'boom' }), JSON_HEADERS];
      switch (operation) {
        case 'ReceiveMessage': {
          expect(body.QueueUrl).toBe(DLQ_URL);
          const batch = messages.filter((m) => m.visible).slice(0, body.MaxNumberOfMessages ?? 1);
          for (const m of batch) {
            m.receipts++;
            if (!options.sticky) m.visible = false;
          }
          const Messages = batch.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: `${m.id}#${m.receipts}`,
            MD5OfBody: md5(m.body), // the SDK checks it
            Body: m.body,
            ...(m.attributes ? { MessageAttributes: m.attributes } : {}),
            ...(m.group !== undefined && (body.MessageSystemAttributeNames ?? []).includes('MessageGroupId') ? { Attributes: { MessageGroupId: m.group } } : {}),
          }));
          return [200, JSON.stringify(Messages.length > 0 ? { Messages } : {}), JSON_HEADERS];
        }
        case 'SendMessage':
          return [200, JSON.stringify({ MessageId: 'new-1', MD5OfMessageBody: md5(body.MessageBody) }), JSON_HEADERS];
        case 'DeleteMessage': {
          const found = byHandle(body.ReceiptHandle);
          if (found) messages.splice(messages.indexOf(found), 1);
          return [200, '{}', JSON_HEADERS];
        }
        case 'ChangeMessageVisibility': {
          const found = byHandle(body.ReceiptHandle);
          if (found && body.VisibilityTimeout === 0) found.visible = true;
          return [200, '{}', JSON_HEADERS];
        }
        default:
          return [400, JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: operation }), JSON_HEADERS];
      }
    });
  return calls;
};

const summary = (calls: readonly Call[]) =>
  calls.map((c) => {
    switch (c.operation) {
      case 'SendMessage':
        return `send ${JSON.parse(c.body.MessageBody).id} to ${c.body.QueueUrl === QUEUE_URL ? 'queue' : c.body.QueueUrl}`;
      case 'DeleteMessage':
        return `delete ${c.body.ReceiptHandle}`;
      case 'ChangeMessageVisibility':
        return `visible ${c.body.ReceiptHandle} after ${c.body.VisibilityTimeout}`;
      default:
        return c.operation;
    }
  });

afterEach(() => {
  nock.cleanAll();
});

describe('replayDeadLetters', () => {
  it('sends the named dead letters to the queue, then deletes them, and leaves the others available', async () => {
    // evt_3 has no attributes: found by its body's id.
    const dlq = [deadLetter(1), deadLetter(2), deadLetter(3, false)];
    const calls = fakeSqs(dlq);

    const result = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1', 'evt_3'] });

    expect(result).toEqual({ replayed: ['evt_1', 'evt_3'], missing: [], failed: [] });
    // Ids alone: the queue is read to its end (two empty receives), as another event may have a dead letter with the same id.
    expect(summary(calls)).toEqual([
      'ReceiveMessage',
      'send evt_1 to queue',
      'delete dlq-msg-1#1',
      'send evt_3 to queue',
      'delete dlq-msg-3#1',
      'ReceiveMessage',
      'ReceiveMessage',
      'visible dlq-msg-2#1 after 0',
    ]);
    expect(calls[0]!.body).toEqual({
      QueueUrl: DLQ_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 2,
      VisibilityTimeout: 30,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['MessageGroupId'],
    });
    // Same body and attributes as handed off: forward_error is dropped.
    expect(calls[1]!.body).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: deadLetter(1).body,
      MessageAttributes: {
        event_id: { DataType: 'String', StringValue: 'evt_1' },
        event: { DataType: 'String', StringValue: 'Audit:Create' },
      },
    });
    expect(calls[3]!.body).toEqual({ QueueUrl: QUEUE_URL, MessageBody: deadLetter(3).body, MessageAttributes: {} });
    expect(dlq.map((m) => [m.id, m.visible])).toEqual([['dlq-msg-2', true]]);
  });

  it('does not delete a dead letter whose send failed, and makes it visible again', async () => {
    const dlq = [deadLetter(1), deadLetter(2)];
    const calls = fakeSqs(dlq, { fail: (c) => c.operation === 'SendMessage' && c.body.MessageBody.includes('evt_1') });

    const result = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1', 'evt_2'] });

    expect(result).toEqual({
      replayed: ['evt_2'],
      missing: [],
      failed: [{ eventId: 'evt_1', reason: 'could not send it to the queue (InternalError)' }],
    });
    expect(summary(calls)).toEqual(['ReceiveMessage', 'send evt_1 to queue', 'send evt_2 to queue', 'delete dlq-msg-2#1', 'ReceiveMessage', 'ReceiveMessage', 'visible dlq-msg-1#1 after 0']);
    expect(dlq.map((m) => [m.id, m.visible])).toEqual([['dlq-msg-1', true]]);
  });

  it('replays one event by `<event>/<id>`, and by an id alone every event\'s dead letter with that id', async () => {
    const letter = (n: number, event: string): Stored => ({
      ...deadLetter(n),
      body: JSON.stringify({ id: '42', event, n }),
      attributes: { event_id: { DataType: 'String', StringValue: '42' }, event: { DataType: 'String', StringValue: event } },
    });
    const dlq = [letter(1, 'Audit:Create'), letter(2, 'RequestQuote:Create'), letter(3, 'Audit:Assign')];
    const calls = fakeSqs(dlq);
    const one = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['RequestQuote:Create/42'] });
    expect(one).toEqual({ replayed: ['RequestQuote:Create/42'], missing: [], failed: [] });
    expect(dlq.map((m) => m.id)).toEqual(['dlq-msg-1', 'dlq-msg-3']);

    const all = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['42'] });
    expect(all).toEqual({ replayed: ['42'], missing: [], failed: [] });
    expect(dlq).toEqual([]);
    const sent = calls.filter((c) => c.operation === 'SendMessage').map((c) => JSON.parse(c.body.MessageBody).event);
    expect(sent).toEqual(['RequestQuote:Create', 'Audit:Create', 'Audit:Assign']);
  });

  it('reports an unknown id missing after a bounded number of polls, touching nothing', async () => {
    const dlq = [deadLetter(1), deadLetter(2), deadLetter(3)];
    const calls = fakeSqs(dlq);

    const result = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_9'] });

    expect(result).toEqual({ replayed: [], missing: ['evt_9'], failed: [] });
    // One receive with the three others, then two empty ones: the queue has nothing else.
    expect(summary(calls)).toEqual([
      'ReceiveMessage',
      'ReceiveMessage',
      'ReceiveMessage',
      'visible dlq-msg-1#1 after 0',
      'visible dlq-msg-2#1 after 0',
      'visible dlq-msg-3#1 after 0',
    ]);
    expect(dlq.every((m) => m.visible)).toBe(true);
  });

  it('stops after maxPolls even when the queue keeps returning other messages', async () => {
    const calls = fakeSqs([deadLetter(1)], { sticky: true });

    const result = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_9'], maxPolls: 4 });

    expect(result.missing).toEqual(['evt_9']);
    expect(calls.filter((c) => c.operation === 'ReceiveMessage')).toHaveLength(4);
    // Only the latest receipt handle is reset.
    expect(summary(calls.filter((c) => c.operation !== 'ReceiveMessage'))).toEqual(['visible dlq-msg-1#4 after 0']);
  });

  it('reports the ids as failed, not missing, when the dead-letter queue cannot be read', async () => {
    const calls = fakeSqs([deadLetter(1)], { fail: (c) => c.operation === 'ReceiveMessage' });

    const result = await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1'] });

    expect(result).toEqual({ replayed: [], missing: [], failed: [{ eventId: 'evt_1', reason: 'could not read the dead-letter queue (InternalError)' }] });
    expect(summary(calls)).toEqual(['ReceiveMessage']);
  });

  describe('to a FIFO queue', () => {
    const fifoQueue = `${QUEUE_URL}.fifo`;
    const sends = (calls: readonly Call[]) => calls.filter((c) => c.operation === 'SendMessage').map((c) => c.body);

    it("sends to the original's message group, with a fresh deduplication id, not the hand-off's", async () => {
      // Not what the hand-off would derive, to show it comes from the dead letter itself.
      const original = 'group-of-the-original';
      const calls = fakeSqs([{ ...deadLetter(1), group: original }]);

      await expect(replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: fifoQueue, eventIds: ['evt_1'] })).resolves.toMatchObject({
        replayed: ['evt_1'],
      });

      const [send] = sends(calls);
      expect(send).toMatchObject({ QueueUrl: fifoQueue, MessageGroupId: original });
      expect(send!.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
      // The hand-off's id would make SQS drop the replay silently within 5 minutes of the original.
      expect(send!.MessageDeduplicationId).not.toBe(deduplicationIdOf('Audit:Create', 'evt_1'));
    });

    it('gives every replay of the same event a new deduplication id (a second replay is intended too)', async () => {
      const first = fakeSqs([deadLetter(1)]);
      await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: fifoQueue, eventIds: ['evt_1'] });
      nock.cleanAll();
      const second = fakeSqs([deadLetter(1)]);
      await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: fifoQueue, eventIds: ['evt_1'] });

      const ids = [...sends(first), ...sends(second)].map((body) => body.MessageDeduplicationId as string);
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(2);
    });

    it("without the original's group (a standard dead-letter queue), uses the group the hand-off gives the event", async () => {
      const calls = fakeSqs([deadLetter(1), deadLetter(2, false)]);

      await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: fifoQueue, eventIds: ['evt_1', 'evt_2'] });

      // From the attributes, else from the body's event and id.
      expect(sends(calls).map((body) => body.MessageGroupId)).toEqual([messageGroupIdOf('Audit:Create', 'evt_1'), messageGroupIdOf('Audit:Create', 'evt_2')]);
    });

    it('sends no FIFO fields to a standard queue', async () => {
      const calls = fakeSqs([{ ...deadLetter(1), group: 'g' }]);
      await replayDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1'] });
      expect(sends(calls)[0]).not.toHaveProperty('MessageGroupId');
      expect(sends(calls)[0]).not.toHaveProperty('MessageDeduplicationId');
    });
  });
});

describe('replayAwsCli', () => {
  it('prints one plain line per id and exits 1 when one was not found', async () => {
    fakeSqs([deadLetter(1), deadLetter(2)]);
    const lines: string[] = [];

    const code = await replayAwsCli({ deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1', 'evt_9'] }, (line) => lines.push(line), sqsClient());

    expect(code).toBe(1);
    expect(lines).toEqual([
      'evt_1: replayed to the queue ecologic-items',
      'evt_9: not found in the dead-letter queue ecologic-items-dlq',
      '1 replayed, 1 not found, 0 failed.',
    ]);
  });

  it('exits 0 when every id was replayed, writing to a stream', async () => {
    fakeSqs([deadLetter(1), deadLetter(2)]);
    let text = '';

    const code = await replayAwsCli(
      { deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_2', 'evt_1'] },
      { write: (chunk: string) => (text += chunk) },
      sqsClient(),
    );

    expect(code).toBe(0);
    expect(text).toBe('evt_2: replayed to the queue ecologic-items\nevt_1: replayed to the queue ecologic-items\n2 replayed, 0 not found, 0 failed.\n');
  });

  it('says why an id was not replayed when the send failed', async () => {
    fakeSqs([deadLetter(1)], { fail: (c) => c.operation === 'SendMessage' });
    const lines: string[] = [];

    const code = await replayAwsCli({ deadLetterQueueUrl: DLQ_URL, queueUrl: QUEUE_URL, eventIds: ['evt_1'] }, (line) => lines.push(line), sqsClient());

    expect(code).toBe(1);
    expect(lines[0]).toBe('evt_1: not replayed: could not send it to the queue (InternalError); it stays in the dead-letter queue ecologic-items-dlq');
  });
});
