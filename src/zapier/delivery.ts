import type { Bundle, ZObject } from 'zapier-platform-core';
import type { RegisteredEvent } from '../core/event-registry';
import { normaliseDelivery, PayloadError, type ZapItem } from '../core/normalise';
import { verifyDelivery } from '../core/signature';
import { claimDelivery } from './dedupe';
import { appError, haltedError } from './errors';

type Headers = Readonly<Record<string, string>>;

/**
 * A delivery header by its lowercase name, e.g. `webhook-id`. Zapier renames incoming headers to
 * `Http-Webhook-Id`; other hosts keep them as sent. Both forms are accepted, in any case.
 */
export const deliveryHeader = (headers: Headers | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    if ((lower === wanted || lower === `http-${wanted}`) && typeof value === 'string') return value;
  }
  return undefined;
};

const isEmpty = (value: unknown): boolean =>
  value === undefined ||
  value === null ||
  (typeof value === 'object' && Object.keys(value as object).length === 0) ||
  (typeof value === 'string' && value.trim() === '');

/** The delivered JSON: Zapier's parsed body, or the raw content when Zapier could not parse it. */
const bodyOf = (bundle: Bundle): unknown => {
  if (!isEmpty(bundle.cleanedRequest)) return bundle.cleanedRequest;
  const content = bundle.rawRequest?.content;
  if (typeof content !== 'string' || content.trim() === '') return bundle.cleanedRequest;
  try {
    return JSON.parse(content);
  } catch {
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

const subscriptionOf = (bundle: Bundle): { id: string; secret: string | undefined } => {
  const data = (bundle.subscribeData ?? {}) as { id?: unknown; secret?: unknown };
  return {
    id: typeof data.id === 'string' || typeof data.id === 'number' ? String(data.id) : (bundle.targetUrl ?? 'unsubscribed'),
    secret: typeof data.secret === 'string' && data.secret !== '' ? data.secret : undefined,
  };
};

/**
 * `perform` of every event trigger: verify the signature when the subscription has a secret, turn
 * the body into Zap items, and drop events this Zap has already received. Nothing here makes an
 * HTTP request, whatever URLs a payload contains.
 */
export const receiveDelivery =
  (definition: RegisteredEvent) =>
  async (z: ZObject, bundle: Bundle): Promise<ZapItem[]> => {
    const headers = { ...(bundle.cleanedRequest?.headers as Headers | undefined), ...bundle.rawRequest?.headers };
    const webhookId = deliveryHeader(headers, 'webhook-id');
    const webhookTimestamp = deliveryHeader(headers, 'webhook-timestamp');
    const subscription = subscriptionOf(bundle);

    if (subscription.secret) {
      const verdict = verifyDelivery(
        subscription.secret,
        { webhookId, webhookTimestamp, webhookSignature: deliveryHeader(headers, 'webhook-signature'), bodies: signedBodies(bundle) },
        new Date(),
      );
      if (!verdict.ok) {
        z.console.warn(`${definition.triggerKey}: delivery rejected, ${verdict.reason}`);
        throw haltedError(
          `Ecologic delivery rejected: ${verdict.reason}. This run was stopped and no data was passed on. If this repeats, turn the Zap off and on again to renew its signing secret.`,
        );
      }
    }

    let items: ZapItem[];
    try {
      ({ items } = normaliseDelivery(definition, bodyOf(bundle), { webhookId, webhookTimestamp, receivedAt: new Date() }, bundle.inputData));
    } catch (error) {
      if (error instanceof PayloadError) {
        throw appError(`${definition.label}: ${error.message}. Ecologic must send a JSON object per event.`, 'InvalidPayload');
      }
      throw error;
    }

    const fresh: ZapItem[] = [];
    for (const item of items) {
      const claim = await claimDelivery(z, subscription.id, String(item.id));
      if (claim === 'duplicate') continue;
      if (claim === 'unknown') z.console.warn(`${definition.triggerKey}: de-duplication cache unavailable; delivering without it`);
      fresh.push(item);
    }
    return fresh;
  };
