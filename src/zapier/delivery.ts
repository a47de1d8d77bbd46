import type { Bundle, ZObject } from 'zapier-platform-core';
import type { RegisteredEvent } from '../core/event-registry';
import { normaliseDelivery, PayloadError, type ZapItem } from '../core/normalise';
import { deliveryHeader, webhookHeaders } from '../core/headers';
import { verifyDelivery } from '../core/signature';
import { claimDeliveries } from './dedupe';
import { partnerError } from './errors';
import { ACTIVITIES } from './messages';
import { validTimeZone } from '../core/derive/local-time';

// Header reading is shared with the receiver; re-exported for the app's callers.
export { deliveryHeader, webhookHeaders };

const isEmpty = (value: unknown): boolean =>
  value === undefined ||
  value === null ||
  (typeof value === 'object' && Object.keys(value as object).length === 0) ||
  (typeof value === 'string' && value.trim() === '');

const parseJson = (content: string): unknown => {
  try {
    return JSON.parse(content);
  } catch {
    throw new PayloadError('the delivery body is not valid JSON');
  }
};

/**
 * An unsigned delivery's JSON: the raw content as the platform sent it, else Zapier's parsed body
 * (which may also carry query-string values, so it comes second).
 */
const unsignedBody = (bundle: Bundle): unknown => {
  const content = bundle.rawRequest?.content;
  if (typeof content !== 'string' || content.trim() === '') return bundle.cleanedRequest;
  try {
    return JSON.parse(content);
  } catch {
    if (!isEmpty(bundle.cleanedRequest)) return bundle.cleanedRequest;
    throw new PayloadError('the delivery body is not valid JSON');
  }
};

/**
 * What may have been signed: the raw content exactly as received, then a re-serialisation of the
 * parsed body, which is computed only when the raw content did not verify.
 */
function* signedBodies(bundle: Bundle): Generator<string> {
  const raw = bundle.rawRequest?.content;
  if (typeof raw === 'string') yield raw;
  if (!isEmpty(bundle.cleanedRequest)) yield JSON.stringify(bundle.cleanedRequest);
}

const subscriptionOf = (bundle: Bundle): { id: string; secret: string | undefined; timeZone: string | null } => {
  const data = (bundle.subscribeData ?? {}) as { id?: unknown; secret?: unknown; time_zone?: unknown };
  return {
    id: typeof data.id === 'string' || typeof data.id === 'number' ? String(data.id) : (bundle.targetUrl ?? 'unsubscribed'),
    secret: typeof data.secret === 'string' && data.secret !== '' ? data.secret : undefined,
    // Stored when the Zap was turned on (a Zap turned on before then has none).
    timeZone: validTimeZone(data.time_zone),
  };
};

/**
 * `perform` of every event trigger: verify the signature when the subscription has a secret, turn
 * the bytes that verified (and nothing else) into Zap items, and drop events this Zap has already
 * received. Headers come from the request's headers only, never from the body. Nothing here makes
 * an HTTP request, whatever URLs a payload contains.
 */
export const receiveDelivery =
  (definition: RegisteredEvent) =>
  async (z: ZObject, bundle: Bundle): Promise<ZapItem[]> => {
    const { webhookId, webhookTimestamp, webhookSignature } = webhookHeaders(bundle.rawRequest?.headers);
    const subscription = subscriptionOf(bundle);

    let items: ZapItem[];
    let claims: string[];
    try {
      let body: unknown;
      if (subscription.secret) {
        const verdict = verifyDelivery(subscription.secret, { webhookId, webhookTimestamp, webhookSignature, bodies: signedBodies(bundle) }, new Date());
        if (!verdict.ok) {
          z.console.warn(`${definition.triggerKey}: delivery rejected, ${verdict.reason}`);
          throw partnerError('deliveryRejected');
        }
        body = parseJson(verdict.body);
      } else {
        body = unsignedBody(bundle);
      }
      const meta = { webhookId, webhookTimestamp, receivedAt: new Date(), timeZone: subscription.timeZone };
      ({ items, claims } = normaliseDelivery(definition, body, meta, bundle.inputData));
    } catch (error) {
      if (error instanceof PayloadError) {
        z.console.warn(`${definition.triggerKey}: unreadable delivery, ${error.message}`);
        throw partnerError('unreadableDelivery', ACTIVITIES.receiving(definition.noun));
      }
      throw error;
    }

    const outcome = await claimDeliveries(z, subscription.id, claims);
    if ([...outcome.values()].includes('unknown')) {
      z.console.warn(`${definition.triggerKey}: de-duplication cache unavailable; delivering without it`);
    }
    return items.filter((_item, index) => outcome.get(claims[index]!) !== 'duplicate');
  };
