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
const BY_FOLDED = new Map<string, PlatformEvent>(PLATFORM_EVENTS.map((event) => [event.toLowerCase(), event]));

/** Exactly one of the six names, as published: what the platform's own API expects. */
export const isPlatformEvent = (value: unknown): value is PlatformEvent =>
  typeof value === 'string' && KNOWN.has(value);

/**
 * The platform event a delivered name refers to, read tolerantly: surrounding spaces and case are
 * ignored (`requestquote:create ` is RequestQuote:Create), so a platform that changes its spelling
 * can neither turn one event into another trigger's item nor lose events.
 */
export const platformEventNamed = (value: unknown): PlatformEvent | undefined =>
  typeof value === 'string' ? BY_FOLDED.get(value.trim().toLowerCase()) : undefined;
