/** The six platform events, spelled exactly as Ecologic publishes them. */
export const PLATFORM_EVENTS = [
  'Audit:Create',
  'Audit:Simulate',
  'Audit:Assign',
  'Audit:Label:Apply',
  'RequestQuote:Create',
  'RequestQuote:Label:Apply',
] as const;

export type PlatformEvent = (typeof PLATFORM_EVENTS)[number];

const KNOWN = new Set<string>(PLATFORM_EVENTS);

export const isPlatformEvent = (value: unknown): value is PlatformEvent =>
  typeof value === 'string' && KNOWN.has(value);
