// The platform fixtures against the TypeScript types that openapi-typescript generates from
// docs/openapi.yaml. Never run, only compiled: `npm run check:openapi-types` generates the types
// and the fixtures' exact types into .tmp/openapi-types/ (see scripts/openapi-types.mjs), then
// compiles this file.
//
// It holds in both directions: every fixture (one platform body per event, test/fixtures/*.json)
// must fit the webhook body type of its event, and each `@ts-expect-error` below must still meet an
// error, so types that stopped refusing a wrong event name or a wrong field type fail the check
// ("Unused '@ts-expect-error' directive").
//
// An `.mts` file so that the main typecheck (`test/**/*.ts`) leaves it out: the types it imports
// exist only once generated.
import type { components, webhooks } from '#openapi-types/openapi.js';
import type { Fixtures } from '#openapi-types/fixtures.js';

/** The event names the document delivers (its `webhooks`). */
type EventName = keyof webhooks;
/** What the platform POSTs for one event: the request body of its webhook. */
type WebhookBody<E extends EventName> = webhooks[E]['post']['requestBody']['content']['application/json'];

/** Each fixture's event. Every fixture must be named (and nothing else), and every event must have one. */
const EVENT_OF_FIXTURE = {
  audit_created: 'Audit:Create',
  audit_simulated: 'Audit:Simulate',
  audit_assigned: 'Audit:Assign',
  audit_label_applied: 'Audit:Label:Apply',
  quote_request_created: 'RequestQuote:Create',
  quote_request_label_applied: 'RequestQuote:Label:Apply',
} as const satisfies Record<keyof Fixtures, EventName>;
type EventOfFixture = typeof EVENT_OF_FIXTURE;

declare const fixtures: Fixtures;
declare const anyEvent: EventName;

// Every event of the document has a fixture.
export const everyEventHasAFixture: EventOfFixture[keyof EventOfFixture] = anyEvent;

// (a) Every fixture is a body of its event's webhook, and one of the document's `EventBody` union.
export const everyFixtureFitsItsEvent: { [K in keyof Fixtures]: WebhookBody<EventOfFixture[K]> } = fixtures;
export const everyFixtureIsAnEventBody: { [K in keyof Fixtures]: components['schemas']['EventBody'] } = fixtures;

// The same, named one by one, so that a failure says which event.
export const auditCreate: WebhookBody<'Audit:Create'> = fixtures.audit_created;
export const auditSimulate: WebhookBody<'Audit:Simulate'> = fixtures.audit_simulated;
export const auditAssign: WebhookBody<'Audit:Assign'> = fixtures.audit_assigned;
export const auditLabelApply: WebhookBody<'Audit:Label:Apply'> = fixtures.audit_label_applied;
export const quoteCreate: WebhookBody<'RequestQuote:Create'> = fixtures.quote_request_created;
export const quoteLabelApply: WebhookBody<'RequestQuote:Label:Apply'> = fixtures.quote_request_label_applied;

// (b) What the types must refuse. Each directive fails the check when its line compiles.

// An event the document does not deliver has no webhook.
// @ts-expect-error 'Audit:Created' is not an event name
export type NoSuchWebhook = WebhookBody<'Audit:Created'>;

// A body naming another event, or a misspelt one, is not a body of this event.
// @ts-expect-error the event name is part of the body's type
export const wrongEventName: WebhookBody<'Audit:Create'> = { ...fixtures.audit_created, event: 'Audit:Created' };
// @ts-expect-error no event of the union is called so
export const unknownEvent: components['schemas']['EventBody'] = { ...fixtures.audit_created, event: 'Audit:Created' };
// @ts-expect-error one event's body is not another's
export const crossedEvents: WebhookBody<'RequestQuote:Create'> = fixtures.audit_created;

// A field of the wrong type is refused, even though bodies allow fields the document does not name.
// @ts-expect-error first_name is a string or null
export const numberForString: WebhookBody<'Audit:Create'> = { ...fixtures.audit_created, first_name: 42 };
// @ts-expect-error occurred_at is an ISO-8601 string, not Unix seconds
export const secondsForTime: WebhookBody<'RequestQuote:Create'> = { ...fixtures.quote_request_created, occurred_at: 1764213300 };

// A required field cannot be left out.
declare const withoutEventId: Omit<Fixtures['audit_assigned'], 'event_id'>;
// @ts-expect-error event_id is required
export const missingEventId: WebhookBody<'Audit:Assign'> = withoutEventId;
