import { readableText } from './derive/text';

/**
 * A partner's filter on a trigger. It is sent to the platform at subscribe time and enforced again
 * on every delivery, so a platform that ignores filters still cannot put the wrong event in a Zap.
 */
export interface EventFilter {
  /** The input field and subscription filter key. Live Zaps store values under it: never rename. */
  readonly key: 'action' | 'label';
  /** The partner may choose several values; an event matching any of them passes. */
  readonly several: boolean;
  /**
   * Text is split on commas (a Zap made before the field allowed several, or typed by hand). Only
   * where values can never contain one: action codes yes, label names no.
   */
  readonly splitsText: boolean;
  matches(item: Readonly<Record<string, unknown>>, wanted: string): boolean;
}

const folded = (value: unknown): string | null => readableText(value)?.toLowerCase() ?? null;

/** New Quote Request: the product or service (action code, e.g. `solar_pv`), without regard to case. */
export const actionFilter: EventFilter = {
  key: 'action',
  several: true,
  splitsText: true,
  matches: (item, wanted) => folded(item.action) === folded(wanted),
};

/** Label triggers: the label's ID, or its name without regard to case; any of several. */
export const labelFilter: EventFilter = {
  key: 'label',
  several: true,
  splitsText: false,
  matches: (item, wanted) => {
    const want = folded(wanted);
    return want !== null && (folded(item.label_id) === want || folded(item.label) === want);
  },
};

/**
 * The values a partner chose, readable and without repeats. A multi-select field arrives as a list,
 * or (from a Zap made before it allowed several, or typed by hand) as text; action codes never
 * contain commas, so text is split on them. A label's name may, so each label stays one value,
 * whether it came as text or as an element of a list.
 */
export const wantedValues = (filter: EventFilter, input: unknown): string[] => {
  const raw = Array.isArray(input) ? input : [input];
  const values = raw.flatMap((value) => {
    const text = readableText(value);
    if (text === null) return [];
    return filter.splitsText ? text.split(',').map((part) => part.trim()).filter(Boolean) : [text];
  });
  return [...new Set(values)];
};

/** True when no filter value is set or the item matches one of them. */
export const passesFilter = (
  filter: EventFilter | undefined,
  item: Readonly<Record<string, unknown>>,
  inputData: Readonly<Record<string, unknown>>,
): boolean => {
  if (!filter) return true;
  const input = inputData[filter.key];
  // No choice made (most Zaps): nothing to read.
  if (input === undefined || input === null) return true;
  const wanted = wantedValues(filter, input);
  return wanted.length === 0 || wanted.some((value) => filter.matches(item, value));
};
