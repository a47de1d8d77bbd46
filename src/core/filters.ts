import { readableText } from './derive/text';

/**
 * A partner's filter on a trigger. It is sent to the platform at subscribe time and enforced again
 * on every delivery, so a platform that ignores filters still cannot put the wrong event in a Zap.
 */
export interface EventFilter {
  /** The input field and subscription filter key. */
  readonly key: 'action' | 'label';
  matches(item: Readonly<Record<string, unknown>>, wanted: string): boolean;
}

const folded = (value: unknown): string | null => readableText(value)?.toLowerCase() ?? null;

/** New Quote Request: the action code, e.g. `solar_pv`, compared without regard to case. */
export const actionFilter: EventFilter = {
  key: 'action',
  matches: (item, wanted) => folded(item.action) === folded(wanted),
};

/** Label triggers: the label's id, or its name without regard to case. */
export const labelFilter: EventFilter = {
  key: 'label',
  matches: (item, wanted) => {
    const want = folded(wanted);
    return want !== null && (folded(item.label_id) === want || folded(item.label) === want);
  },
};

/** True when no filter value is set or the item matches it. */
export const passesFilter = (
  filter: EventFilter | undefined,
  item: Readonly<Record<string, unknown>>,
  inputData: Readonly<Record<string, unknown>>,
): boolean => {
  if (!filter) return true;
  const wanted = readableText(inputData[filter.key]);
  return wanted === null || filter.matches(item, wanted);
};
