/**
 * The limits of a delivery agree end to end: the contract's prose and OpenAPI, the receiver's
 * checks and the SQS hand-off all take them from src/contract/limits.ts, and say the same numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PLATFORM_EVENTS } from '../../src/core/events';
import { DELIVERY_LIMITS } from '../../src/contract/limits';
import { contractSection } from '../../src/contract/openapi';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BYTES } from '../../src/receiver/aws/sqs-hand-off';
import { MAX_BODY_BYTES, MAX_EVENT_ID_BYTES, MAX_NESTING_DEPTH, MAX_RECORDS_PER_DELIVERY } from '../../src/receiver/handler';

const root = join(__dirname, '../..');

it('the receiver enforces the contract limits, and an SQS message holds the largest item the contract allows', () => {
  expect(MAX_BODY_BYTES).toBe(DELIVERY_LIMITS.maxBodyBytes);
  expect(MAX_RECORDS_PER_DELIVERY).toBe(DELIVERY_LIMITS.maxRecords);
  expect(MAX_EVENT_ID_BYTES).toBe(DELIVERY_LIMITS.maxEventIdBytes);
  expect(MAX_NESTING_DEPTH).toBe(DELIVERY_LIMITS.maxNestingDepth);
  expect(SQS_MAX_BYTES).toBe(DELIVERY_LIMITS.maxItemBytes);
  expect(SQS_MAX_BATCH_BYTES).toBeGreaterThanOrEqual(SQS_MAX_BYTES);
  // A body at the limit can hold an item at the limit: nothing within the body limit is refused for its size alone.
  expect(DELIVERY_LIMITS.maxItemBytes).toBeGreaterThanOrEqual(DELIVERY_LIMITS.maxBodyBytes);
});

it('the contract states each limit, and how it is refused', () => {
  const section = contractSection(readFileSync(join(root, 'docs/ecologic-api.md'), 'utf8'), '3.6');
  const rows: Array<[string, string]> = [
    [`body: ${DELIVERY_LIMITS.maxBodyBytes / 1024 / 1024} MiB (${DELIVERY_LIMITS.maxBodyBytes.toLocaleString('en')} bytes)`, '413 too_large'],
    [`records (events) in one delivery: ${DELIVERY_LIMITS.maxRecords.toLocaleString('en')}`, '413 too_many_records'],
    [`normalised: ${DELIVERY_LIMITS.maxItemBytes / 1024 / 1024} MiB`, '413 item_too_large'],
    [`an event id: ${DELIVERY_LIMITS.maxEventIdBytes.toLocaleString('en')} bytes`, '400 not_events'],
    [`nested: ${DELIVERY_LIMITS.maxNestingDepth} deep`, '400 not_events'],
  ];
  for (const [limit, answer] of rows) {
    const row = section.split('\n').find((line) => line.includes(limit));
    expect(row).toBeDefined();
    expect(row).toContain(`\`${answer}`);
  }
});

it('every webhook in the OpenAPI document carries the same limits and a 413 answer', () => {
  const document = parse(readFileSync(join(root, 'docs/openapi.yaml'), 'utf8')) as {
    webhooks: Record<string, { post: { 'x-ecologic-limits': Record<string, unknown>; responses: Record<string, unknown> } }>;
  };
  for (const event of PLATFORM_EVENTS) {
    const operation = document.webhooks[event]!.post;
    expect(operation['x-ecologic-limits']).toEqual({
      max_body_bytes: DELIVERY_LIMITS.maxBodyBytes,
      max_events_per_delivery: DELIVERY_LIMITS.maxRecords,
      max_item_bytes: DELIVERY_LIMITS.maxItemBytes,
      max_event_id_bytes: DELIVERY_LIMITS.maxEventIdBytes,
      max_nesting_depth: DELIVERY_LIMITS.maxNestingDepth,
      refused_for_good: [400, 413],
    });
    expect(operation.responses['413']).toBeDefined();
  }
});
