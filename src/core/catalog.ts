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
