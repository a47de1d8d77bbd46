import { documentedKeys } from './catalog';
import { contentId } from './derive/ids';
import { isoUtc } from './derive/time';
import type { EventDefinition } from './event-registry';
import { isPlatformEvent } from './events';
import { passesFilter } from './filters';

export type ZapItem = Record<string, unknown> & { id: string | number };

/**
 * The delivery body is not something we can turn into Zap items. The message names the problem and
 * never includes payload values.
 */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/** What the delivery said about itself, outside the body. */
export interface DeliveryMeta {
  readonly webhookId?: string | null;
  readonly webhookTimestamp?: string | null;
  readonly receivedAt: Date;
}

export interface NormalisedDelivery {
  readonly items: ZapItem[];
  /** Records that named another event, or did not match the partner's filter. */
  readonly skipped: { readonly otherEvent: number; readonly filtered: number };
}

// Keys an envelope `{id, event, created_at, data: {...}}` may carry beside `data`.
const ENVELOPE_KEYS = new Set([
  'id',
  'event_id',
  'event',
  'type',
  'created_at',
  'timestamp',
  'occurred_at',
  'webhook_id',
  'api_version',
  'version',
  'object',
]);

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const kindOf = (value: unknown): string => {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.trim() === '' ? 'empty' : 'text';
  return `a ${typeof value}`;
};

/** A key not yet used in `fields`: `base`, else `base_2`, `base_3`... so nothing is overwritten. */
const freeKey = (fields: Record<string, unknown>, base: string): string => {
  if (!Object.hasOwn(fields, base)) return base;
  let n = 2;
  while (Object.hasOwn(fields, `${base}_${n}`)) n += 1;
  return `${base}_${n}`;
};

/**
 * Sets an own property whatever the key: a JSON body may carry "__proto__", which a plain
 * assignment would turn into a prototype change instead of a field.
 */
const setField = (fields: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
};

const isEnvelope = (body: Record<string, unknown>): boolean =>
  isPlainObject(body.data) && Object.keys(body).every((key) => key === 'data' || ENVELOPE_KEYS.has(key));

/** The event's fields with the envelope's own keys beside them; on a clash both are kept. */
const unwrapEnvelope = (body: Record<string, unknown>): Record<string, unknown> => {
  if (!isEnvelope(body)) return body;
  const fields: Record<string, unknown> = { ...(body.data as Record<string, unknown>) };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'data') continue;
    setField(fields, Object.hasOwn(fields, key) ? freeKey(fields, `envelope_${key}`) : key, value);
  }
  return fields;
};

/** The records a delivery body holds: one object, an envelope, or an array of either. */
export const recordsOf = (body: unknown): Record<string, unknown>[] => {
  if (Array.isArray(body)) {
    return body.map((element, index) => {
      if (!isPlainObject(element)) {
        throw new PayloadError(`element ${index} of the delivery is ${kindOf(element)}, not a JSON object`);
      }
      return unwrapEnvelope(element);
    });
  }
  if (isPlainObject(body)) {
    if (Object.keys(body).length === 0) throw new PayloadError('the delivery body is an empty object');
    return [unwrapEnvelope(body)];
  }
  throw new PayloadError(`the delivery body is ${kindOf(body)}; expected a JSON object or an array of objects`);
};

const isUsableId = (value: unknown): value is string | number =>
  (typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && Number.isFinite(value));

/** The record names a platform event other than this trigger's. */
const namesOtherEvent = (definition: EventDefinition, record: Record<string, unknown>): boolean =>
  ['event', 'type'].some((key) => {
    const named = typeof record[key] === 'string' ? (record[key] as string).trim() : undefined;
    return isPlatformEvent(named) && named !== definition.event;
  });

/**
 * One record to one Zap item: every key the platform sent survives (documented strings trimmed,
 * blank ones null), documented keys it left out are null, and derived fields are added beside them
 * without ever overwriting a key the record itself has.
 */
export const toZapItem = (definition: EventDefinition, record: Record<string, unknown>, meta: DeliveryMeta): ZapItem => {
  const documented = documentedKeys(definition.event);
  const item: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    setField(item, key, documented.has(key) && typeof value === 'string' ? value.trim() || null : value);
  }
  for (const key of documented) {
    if (!Object.hasOwn(item, key)) item[key] = null;
  }

  const sent = (key: string) => Object.hasOwn(record, key);
  if (sent('id') && !isUsableId(record.id)) {
    // Zapier needs a primitive id; keep what was sent under another name.
    item[freeKey(item, 'body_id')] = record.id;
    delete item.id;
  }
  if (!isUsableId(item.id)) {
    item.id = isUsableId(record.event_id)
      ? record.event_id
      : meta.webhookId && meta.webhookId.trim() !== ''
        ? meta.webhookId.trim()
        : contentId(definition.event, record);
  }
  if (!sent('event')) item.event = definition.event;
  if (!sent('occurred_at')) {
    item.occurred_at =
      isoUtc(record.created_at) ?? isoUtc(record.timestamp) ?? isoUtc(meta.webhookTimestamp) ?? meta.receivedAt.toISOString();
  }

  for (const derivation of definition.derivations) {
    for (const [key, value] of Object.entries(derivation.derive(item))) {
      if (!sent(key)) item[key] = value;
    }
  }
  // Same keys and values; the event's identity first, as a partner reads it in the Zap editor.
  return { id: item.id, event: item.event, occurred_at: item.occurred_at, ...item } as ZapItem;
};

/**
 * A delivery body to Zap items for one trigger: records naming another event and records the
 * partner's filter excludes produce no item; a body that is not JSON objects is a PayloadError.
 */
export const normaliseDelivery = (
  definition: EventDefinition,
  body: unknown,
  meta: DeliveryMeta,
  inputData: Readonly<Record<string, unknown>> = {},
): NormalisedDelivery => {
  const items: ZapItem[] = [];
  let otherEvent = 0;
  let filtered = 0;
  for (const record of recordsOf(body)) {
    if (namesOtherEvent(definition, record)) {
      otherEvent += 1;
      continue;
    }
    const item = toZapItem(definition, record, meta);
    if (passesFilter(definition.filter, item, inputData)) items.push(item);
    else filtered += 1;
  }
  return { items, skipped: { otherEvent, filtered } };
};
