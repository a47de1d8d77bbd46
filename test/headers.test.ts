import fc from 'fast-check';
import { deliveryHeader, webhookHeaders } from '../src/core/headers';
import { propertyRuns } from './helpers';

/** webhookHeaders as first written: each header by deliveryHeader, the Svix name second. */
const oneByOne = (headers: Record<string, unknown> | undefined) => {
  const either = (part: 'id' | 'timestamp' | 'signature') => deliveryHeader(headers, `webhook-${part}`) ?? deliveryHeader(headers, `svix-${part}`);
  return { webhookId: either('id'), webhookTimestamp: either('timestamp'), webhookSignature: either('signature') };
};

test('the Standard Webhooks headers under Zapier’s names, as sent, or under Svix’s', () => {
  expect(webhookHeaders({ 'Http-Webhook-Id': 'msg_1', 'Http-Webhook-Timestamp': '1700000000', 'Http-Webhook-Signature': 'v1,x' })).toEqual({
    webhookId: 'msg_1',
    webhookTimestamp: '1700000000',
    webhookSignature: 'v1,x',
  });
  expect(webhookHeaders({ 'WEBHOOK-ID': 'msg_2', 'svix-id': 'msg_3', 'svix-timestamp': '1', 'Http-Svix-Signature': 'v1,y' })).toEqual({
    webhookId: 'msg_2',
    webhookTimestamp: '1',
    webhookSignature: 'v1,y',
  });
  // The first of two spellings of one header; values that are not text are not headers.
  expect(webhookHeaders({ 'webhook-id': 7, 'Http-Webhook-Id': 'msg_4', 'WEBHOOK-ID': 'msg_5' }).webhookId).toBe('msg_4');
  expect(webhookHeaders({ 'http-http-webhook-id': 'msg_6', 'x-webhook-id': 'msg_7' }).webhookId).toBeUndefined();
  expect(webhookHeaders(undefined)).toEqual({ webhookId: undefined, webhookTimestamp: undefined, webhookSignature: undefined });
});

test('reading the headers in one pass gives what reading each one does', () => {
  const name = fc
    .tuple(
      fc.constantFrom('', 'http-', 'Http-', 'HTTP-', 'http-http-', 'x-'),
      fc.constantFrom('webhook-id', 'Webhook-Timestamp', 'WEBHOOK-SIGNATURE', 'svix-id', 'Svix-Timestamp', 'svix-signature', 'content-type', 'webhook-ids'),
    )
    .map(([prefix, base]) => prefix + base);
  const headers = fc.dictionary(fc.oneof(name, fc.string()), fc.oneof(fc.string(), fc.constant(undefined), fc.integer(), fc.constant(null)), { maxKeys: 8 });
  fc.assert(
    fc.property(headers, (h) => {
      expect(webhookHeaders(h)).toEqual(oneByOne(h));
    }),
    propertyRuns(2000),
  );
});
