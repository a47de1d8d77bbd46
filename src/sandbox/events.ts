/**
 * The six events as the sandbox sees them: name, the filter a subscription may carry, and the app
 * trigger that receives it (used by the demo and the tests). Derived from the app's event registry,
 * so there is one list of events in the project.
 */
import { EVENT_REGISTRY } from '../core/event-registry';
import { isPlatformEvent, PLATFORM_EVENTS, type PlatformEvent } from '../core/events';

export const EVENT_NAMES: readonly PlatformEvent[] = PLATFORM_EVENTS;

export type EventName = PlatformEvent;

export type FilterKind = 'action' | 'label';

export interface SandboxEvent {
  event: EventName;
  triggerKey: string;
  /** The trigger's title in the Zap editor, e.g. "New Quote Request". */
  label: string;
  filter?: FilterKind;
  labelType?: 'audit' | 'quote_request';
}

export const SANDBOX_EVENTS: readonly SandboxEvent[] = EVENT_REGISTRY.map((entry) => {
  const out: SandboxEvent = { event: entry.event, triggerKey: entry.triggerKey, label: entry.label };
  if ('filter' in entry && entry.filter) out.filter = entry.filter.key;
  if ('labelType' in entry && entry.labelType) out.labelType = entry.labelType;
  return out;
});

export const isEventName = isPlatformEvent;

export function sandboxEvent(event: EventName): SandboxEvent {
  const found = SANDBOX_EVENTS.find((e) => e.event === event);
  if (!found) throw new Error(`unknown event ${event}`);
  return found;
}

/** The filter key a subscription to this event may carry (contract 2.4), if any. */
export function filterKindFor(event: EventName): FilterKind | undefined {
  return sandboxEvent(event).filter;
}

/** Which labels (`GET /labels?type=`) apply to a label event. */
export function labelTypeFor(event: EventName): 'audit' | 'quote_request' | undefined {
  return sandboxEvent(event).labelType;
}
