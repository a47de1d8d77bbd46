import { BOOKKEEPING_KEYS, documentedKeys, documentedShape, readingOrder } from './catalog';
import type { DerivationContext } from './derivations';
import { validTimeZone } from './derive/local-time';
import { isoUtc } from './derive/time';
import { eventDefinition, type EventDefinition } from './event-registry';
import { platformEventNamed, type PlatformEvent } from './events';
import { passesFilter } from './filters';
import { eventIdentity, usableId, type DeliveredRecord, type EventIdentity } from './identity';

export type ZapItem = Record<string, unknown> & { id: string };

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
  /**
   * The organisation's IANA time zone (e.g. `Australia/Melbourne`), when its account says; the
   * customer's local time uses it when the customer's address names no zone of its own.
   */
  readonly timeZone?: string | null;
}

export interface NormalisedDelivery {
  readonly items: ZapItem[];
  /** For each item, the key de-duplication claims for it (see `EventIdentity.claim`). */
  readonly claims: string[];
  /** Records that named another event, did not match the partner's filter, or repeated an event. */
  readonly skipped: { readonly otherEvent: number; readonly filtered: number; readonly repeated: number };
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
  // Every other key is an ordinary data property; defining it costs several plain assignments.
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  else fields[key] = value;
};

/** Keeps a value the platform sent under `key`, or `key_2`… when the body already has that key. */
const keepAside = (fields: Record<string, unknown>, key: string, value: unknown): void => setField(fields, freeKey(fields, key), value);

const isEnvelope = (body: Record<string, unknown>): boolean =>
  isPlainObject(body.data) && Object.keys(body).every((key) => key === 'data' || ENVELOPE_KEYS.has(key));

const toRecord = (element: Record<string, unknown>, position: number, count: number): DeliveredRecord => {
  if (!isEnvelope(element)) return { fields: element, position, count };
  const envelope: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) if (key !== 'data') setField(envelope, key, value);
  return { fields: element.data as Record<string, unknown>, envelope, position, count };
};

/** The records a delivery body holds: one object, an envelope, or an array of either. */
export const recordsOf = (body: unknown): DeliveredRecord[] => {
  if (Array.isArray(body)) {
    return body.map((element, index) => {
      if (!isPlainObject(element)) {
        throw new PayloadError(`element ${index} of the delivery is ${kindOf(element)}, not a JSON object`);
      }
      return toRecord(element, index + 1, body.length);
    });
  }
  if (isPlainObject(body)) {
    if (Object.keys(body).length === 0) throw new PayloadError('the delivery body is an empty object');
    return [toRecord(body, 1, 1)];
  }
  throw new PayloadError(`the delivery body is ${kindOf(body)}; expected a JSON object or an array of objects`);
};

/** The record names a platform event other than this trigger's (spelling and case aside). */
const namesOtherEvent = (definition: EventDefinition, record: DeliveredRecord): boolean => {
  const other = (value: unknown) => {
    const named = platformEventNamed(value);
    return named !== undefined && named !== definition.event;
  };
  const { fields, envelope } = record;
  return other(fields.event) || other(fields.type) || (envelope !== undefined && (other(envelope.event) || other(envelope.type)));
};

/**
 * One record to one Zap item: every key the platform sent survives (documented strings trimmed,
 * blank ones null), documented keys it left out are null, and derived fields are added beside them
 * without ever overwriting a key the record itself has. A derivation may fill in a documented key
 * it names in `fills` only while that key is null (left out or blank). The item's `id` is the event's identity;
 * the ids the platform sent stay beside it: the record's own `id` as `record_id`, an envelope `id`
 * that is not the identity as `envelope_id`, the `webhook-id` header as `delivery_id`.
 */
export const toZapItem = (definition: EventDefinition, record: DeliveredRecord, identity: EventIdentity, meta: DeliveryMeta): ZapItem => {
  const documented = documentedKeys(definition.event);
  const { fields, envelope } = record;
  // Documented keys the record leaves out are null. Without an envelope the item starts with all of
  // them, null, in a fast layout (see `documentedShape`), and the record's values go over them; an
  // envelope's keys must first meet only the record's, so that item starts empty.
  const item: Record<string, unknown> = envelope ? {} : { ...documentedShape(definition.event) };
  const copy = (key: string, value: unknown) =>
    setField(item, key, typeof value === 'string' && documented.has(key) ? value.trim() || null : value);
  for (const key of Object.keys(fields)) if (key !== 'id') copy(key, fields[key]);
  if (envelope) {
    for (const key of Object.keys(envelope)) {
      if (key !== 'id') copy(Object.hasOwn(item, key) ? freeKey(item, `envelope_${key}`) : key, envelope[key]);
    }
  }
  const sent = (key: string) => Object.hasOwn(item, key);
  if (envelope) for (const key of documented) if (!sent(key)) item[key] = null;

  const bodySent = new Set(Object.keys(item));
  // An id is kept aside under its own name (`_2`… if the body has that key); absent, the key is null.
  const keepId = (key: string, has: boolean, value: unknown) => {
    if (has) keepAside(item, key, value);
    else if (!sent(key)) item[key] = null;
  };
  keepId('record_id', Object.hasOwn(record.fields, 'id'), record.fields.id);
  if (record.envelope && Object.hasOwn(record.envelope, 'id') && identity.source !== 'envelope_id') {
    keepAside(item, 'envelope_id', record.envelope.id);
  }
  keepId('delivery_id', usableId(meta.webhookId) !== null, usableId(meta.webhookId));

  // The name as published, when the platform spelled this trigger's event another way.
  if (!sent('event') || platformEventNamed(item.event) === definition.event) item.event = definition.event;
  if (!sent('occurred_at')) {
    item.occurred_at =
      isoUtc(item.created_at) ?? isoUtc(item.timestamp) ?? isoUtc(meta.webhookTimestamp) ?? meta.receivedAt.toISOString();
  }

  const context: DerivationContext = { timeZone: validTimeZone(meta.timeZone), recordId: usableId(record.fields.id) };
  for (const derivation of definition.derivations) {
    const derived = derivation.derive(item, context);
    for (const key of Object.keys(derived)) {
      if (derivation.fills?.includes(key) ? item[key] === null : !bodySent.has(key)) item[key] = derived[key];
    }
  }
  item.id = identity.id;
  return inReadingOrder(definition, item);
};

/**
 * The same keys and values, laid out as a partner reads a lead in the Zap editor: the customer and
 * the request in catalog order, then anything else the platform sent, then the event's bookkeeping.
 */
const inReadingOrder = (definition: EventDefinition, item: Record<string, unknown>): ZapItem => {
  const { lead, placed, leadShape } = readingOrder(definition.event);
  const ordered: Record<string, unknown> = lead.every((key) => Object.hasOwn(item, key)) ? { ...leadShape } : {};
  // Lead and bookkeeping keys are the catalog's own; only the others may be "__proto__".
  for (const key of lead) if (Object.hasOwn(item, key)) ordered[key] = item[key];
  for (const key of Object.keys(item)) if (!placed.has(key)) setField(ordered, key, item[key]);
  for (const key of BOOKKEEPING_KEYS) if (Object.hasOwn(item, key)) ordered[key] = item[key];
  return ordered as ZapItem;
};

/**
 * A delivery body to Zap items for one trigger: records naming another event, records the
 * partner's filter excludes and repeats of an event within the delivery produce no item; a body
 * that is not JSON objects is a PayloadError. `claims[i]` is what de-duplicates `items[i]`.
 */
export const normaliseDelivery = (
  definition: EventDefinition,
  body: unknown,
  meta: DeliveryMeta,
  inputData: Readonly<Record<string, unknown>> = {},
): NormalisedDelivery => {
  const items: ZapItem[] = [];
  const claims: string[] = [];
  const seen = new Set<string>();
  const skipped = { otherEvent: 0, filtered: 0, repeated: 0 };
  const deliveryId = usableId(meta.webhookId);
  for (const record of recordsOf(body)) {
    if (namesOtherEvent(definition, record)) {
      skipped.otherEvent += 1;
      continue;
    }
    const identity = eventIdentity(definition.event, record, deliveryId);
    if (seen.has(identity.id)) {
      skipped.repeated += 1;
      continue;
    }
    seen.add(identity.id);
    const item = toZapItem(definition, record, identity, meta);
    if (!passesFilter(definition.filter, item, inputData)) {
      skipped.filtered += 1;
      continue;
    }
    items.push(item);
    claims.push(identity.claim);
  }
  return { items, claims, skipped };
};

/** An item for whichever of the six events its record names: what a receiver subscribed to several events hands off. */
export interface EventItem {
  readonly event: PlatformEvent;
  readonly item: ZapItem;
}

export interface NormalisedEvents {
  readonly items: EventItem[];
  /** Records that name none of the six events (or two different ones), by what they named: `(none)` when nothing. */
  readonly unrecognised: string[];
  /** Repeats of an event within the delivery. */
  readonly repeated: number;
}

/** The six-event name a record gives itself (its own `event`/`type`, its envelope's), or what it said instead. */
const namedEvent = (record: DeliveredRecord): { event: PlatformEvent } | { said: string } => {
  const said = [record.fields, record.envelope].flatMap((keys) => ['event', 'type'].map((key) => keys?.[key])).filter((value) => value !== undefined && value !== null);
  const known = new Set(said.map(platformEventNamed).filter((event): event is PlatformEvent => event !== undefined));
  if (known.size === 1) return { event: [...known][0]! };
  if (known.size > 1) return { said: [...known].join(' and ') };
  const first = said.find((value) => typeof value === 'string');
  return { said: typeof first === 'string' ? first : '(none)' };
};

/**
 * A delivery body to items for any of the six events, each record by the event it names, with the
 * same identity rule and fields as the Zap triggers (`toZapItem`). A receiver has no trigger to
 * imply the event, so a record that names none is not an event; it is reported, never guessed.
 */
export const normaliseEvents = (body: unknown, meta: DeliveryMeta): NormalisedEvents => {
  const items: EventItem[] = [];
  const unrecognised: string[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  const deliveryId = usableId(meta.webhookId);
  for (const record of recordsOf(body)) {
    const named = namedEvent(record);
    if (!('event' in named)) {
      unrecognised.push(named.said);
      continue;
    }
    const identity = eventIdentity(named.event, record, deliveryId);
    // Ids are often numbered per event type: a repeat is the same event AND the same id.
    const key = `${named.event}/${identity.id}`;
    if (seen.has(key)) {
      repeated += 1;
      continue;
    }
    seen.add(key);
    items.push({ event: named.event, item: toZapItem(eventDefinition(named.event), record, identity, meta) });
  }
  return { items, unrecognised, repeated };
};
