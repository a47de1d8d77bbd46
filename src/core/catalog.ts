import type { PlatformEvent } from './events';
import type { FieldOrigin } from './schemas/fields';
import { FIELD_CATALOG } from './generated/field-catalog';

/** One field of a Zap item, as generated from the event's zod schema. */
export interface CatalogField {
  readonly key: string;
  readonly label: string;
  readonly type: 'string' | 'number' | 'datetime' | 'boolean';
  readonly origin: FieldOrigin;
  readonly description: string;
}

export const fieldsOf = (event: PlatformEvent): readonly CatalogField[] => FIELD_CATALOG[event];

const documented = new Map<PlatformEvent, ReadonlySet<string>>();

/** Keys the platform sends (published or assumed), as opposed to the ones the app derives. */
export const documentedKeys = (event: PlatformEvent): ReadonlySet<string> => {
  let keys = documented.get(event);
  if (!keys) {
    keys = new Set(FIELD_CATALOG[event].filter((field) => field.origin !== 'derived').map((field) => field.key));
    documented.set(event, keys);
  }
  return keys;
};

/**
 * An object made by `JSON.parse`, so V8 gives it its fast layout: an object built key by key is
 * kept as a slower hash table once it holds a few dozen keys, and a copy of this one is not.
 */
const parsedShape = (keys: Iterable<string>): Readonly<Record<string, null>> =>
  JSON.parse(JSON.stringify(Object.fromEntries([...keys].map((key) => [key, null])))) as Record<string, null>;

const documentedShapes = new Map<PlatformEvent, Readonly<Record<string, null>>>();

/** Every documented key of the event, each null: where an item starts before the record is copied in. */
export const documentedShape = (event: PlatformEvent): Readonly<Record<string, null>> => {
  let shape = documentedShapes.get(event);
  if (!shape) {
    shape = parsedShape(documentedKeys(event));
    documentedShapes.set(event, shape);
  }
  return shape;
};

/**
 * The event's bookkeeping keys, in the order they close every item (see `bookkeepingFields`); the
 * platform's own `event_id` and an envelope's `envelope_id` join them when sent.
 */
export const BOOKKEEPING_KEYS = [
  'event',
  'occurred_at',
  'occurred_at_local',
  'time_zone',
  'id',
  'event_id',
  'record_id',
  'delivery_id',
  'envelope_id',
] as const;

export interface ReadingOrder {
  /** The documented and derived keys about the customer and the request, in catalog order. */
  readonly lead: readonly string[];
  /** Keys placed by the first two lists; anything else the platform sent goes between them. */
  readonly placed: ReadonlySet<string>;
  /**
   * An object holding the lead keys in order, each null: an item that has them all starts as a
   * copy of it (see `parsedShape`), which every later read and copy of the item (the platform
   * copies and serialises it) benefits from.
   */
  readonly leadShape: Readonly<Record<string, null>>;
}

const orders = new Map<PlatformEvent, ReadingOrder>();

/** How an item of this event is laid out: lead fields, then anything else sent, then bookkeeping. */
export const readingOrder = (event: PlatformEvent): ReadingOrder => {
  let order = orders.get(event);
  if (!order) {
    const tail = new Set<string>(BOOKKEEPING_KEYS);
    const lead = FIELD_CATALOG[event].map((field) => field.key).filter((key) => !tail.has(key));
    order = { lead, placed: new Set([...lead, ...tail]), leadShape: parsedShape(lead) };
    orders.set(event, order);
  }
  return order;
};
