/**
 * The contract's shapes as zod schemas: what the platform receives and answers on its REST API
 * (docs/ecologic-api.md section 2) and what it sends in a delivery (section 3.2). These generate
 * docs/openapi.yaml, and the sandbox validates fired events with them, so the document, the
 * reference implementation and the app's item schemas cannot drift apart.
 *
 * They describe the preferred form a platform must send. The variants the app also accepts
 * (contract 2.10) are noted in descriptions; the app's tolerant reader lives in src/zapier.
 */
import { z } from 'zod';

import { PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import { EVENT_SCHEMAS } from '../core/schemas';
import type { FieldOrigin } from '../core/schemas/fields';

/** Marks where a rule comes from: published by Ecologic, or assumed by this project. */
export const ORIGIN_KEY = 'x-ecologic-origin';
type ContractOrigin = Exclude<FieldOrigin, 'derived'>;

const origin = <T extends z.ZodType>(schema: T, from: ContractOrigin, description: string): T =>
  schema.meta({ description, origin: from });

const isoUtc = () => z.iso.datetime();

export const eventNameSchema = z.enum(PLATFORM_EVENTS).meta({
  id: 'EventName',
  description: 'One of the six platform events, spelled exactly as Ecologic publishes them.',
  origin: 'published',
});

// ---------------------------------------------------------------------------------------------
// Deliveries (contract 3.2): the common fields, then the event's fields, unknown fields allowed.

const PLATFORM_COMMON_FIELDS = {
  event_id: origin(
    z.string().min(1),
    'assumed',
    'Unique per event, the same on every retry and for every subscription (contract 3.5). Equal to the `webhook-id` header when the body holds one event.',
  ),
  occurred_at: origin(isoUtc(), 'assumed', 'When the event happened, ISO-8601 in UTC with a `Z` suffix.'),
} as const;

/**
 * The body the platform sends for one event: the fields of the app's item schema that the platform
 * itself sends (published or assumed), never the ones the app derives. Every event field may be
 * omitted or null; fields the platform adds later are allowed.
 */
export function platformBodySchema<E extends PlatformEvent>(event: E) {
  const sent: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(EVENT_SCHEMAS[event].shape as Record<string, z.ZodType>)) {
    const meta = schema.meta() ?? {};
    if (meta.origin === 'derived') continue;
    sent[key] = schema.optional().meta({ description: meta.description ?? key, origin: meta.origin ?? 'assumed' });
  }
  return z
    .looseObject({
      ...PLATFORM_COMMON_FIELDS,
      event: z.literal(event).meta({ description: 'The event name.', origin: 'published' }),
      ...sent,
    })
    .meta({
      id: `${event.replace(/:/g, '')}Body`,
      title: `${event} delivery body`,
      description: `What the platform POSTs to a subscription of \`${event}\`: one flat JSON object.`,
    });
}

export const PLATFORM_BODY_SCHEMAS = Object.fromEntries(
  PLATFORM_EVENTS.map((event) => [event, platformBodySchema(event)]),
) as { [E in PlatformEvent]: ReturnType<typeof platformBodySchema<E>> };

/** Any of the six bodies, told apart by `event`. */
export const anyPlatformBodySchema = z
  .discriminatedUnion(
    'event',
    PLATFORM_EVENTS.map((event) => PLATFORM_BODY_SCHEMAS[event]) as unknown as [
      ReturnType<typeof platformBodySchema>,
      ...ReturnType<typeof platformBodySchema>[],
    ],
  )
  .meta({ id: 'EventBody', description: 'A delivery body of any of the six events.' });

// ---------------------------------------------------------------------------------------------
// REST (contract section 2)

export const errorSchema = z
  .looseObject({
    error: z.looseObject({
      code: z.string().min(1).meta({ description: 'A stable, machine-readable code, e.g. `invalid_filter`.' }),
      message: z
        .string()
        .meta({ description: 'For developers; never contains personal data. The app may show it to the partner.' }),
    }),
  })
  .meta({ id: 'Error', description: 'The one error shape, whatever the status (contract 2.1).', origin: 'assumed' });

const nullableText = (description: string) => z.string().nullable().optional().meta({ description });

export const meSchema = z
  .looseObject({
    organisation_id: nullableText("The organisation's id, e.g. `org_7Qm2Lx`."),
    organisation_name: nullableText("The organisation's name; labels the connection in Zapier."),
    email: nullableText("The key owner's email address."),
    time_zone: nullableText(
      "The organisation's IANA time zone, e.g. `Australia/Melbourne`; local times of a customer whose state is unknown use it. The app also reads `timezone`, and `time_zone` or `timezone` in a nested `organisation` (or `organization`) object; a zone it does not know is ignored.",
    ),
  })
  .meta({
    id: 'Me',
    description:
      'Who the API key belongs to. Also accepted by the app: any JSON object, the same keys under `data`, American spellings, a nested `organisation` object, numeric ids (contract 2.3). When it names nobody, the connection is labelled with the kind of key and the day it was connected.',
    origin: 'assumed',
  });

/** A subscription id that can be one URL path segment (contract 2.4). */
const subscriptionId = z
  .string()
  .regex(/^(?!\.{1,2}$)\S(.*\S)?$/)
  .meta({
    description:
      'The subscription id, e.g. `ntf_2b7Hc9`: never empty, `.` or `..`, no surrounding spaces. Numbers are also accepted by the app.',
  });

/** The most action codes one `filters.action` list may hold (contract 2.4). */
export const MAX_ACTION_FILTER_CODES = 20;

/** The most labels one `filters.label` list may hold (contract 2.4). */
export const MAX_LABEL_FILTER_VALUES = 20;

const actionCode = z.string().min(1).meta({ description: 'An action code from `GET /actions`, e.g. `solar_pv`.' });

const labelValue = z.string().min(1).meta({ description: 'A label id or name from `GET /labels`, e.g. `lbl_4kd8` or `Site visit booked`.' });

const actionFilter = z
  .union([actionCode, z.array(actionCode).min(1).max(MAX_ACTION_FILTER_CODES)])
  .meta({
    description: `Only for \`RequestQuote:Create\`: one action code from \`GET /actions\`, or an array of 1 to ${MAX_ACTION_FILTER_CODES} of them; an event matches when its \`action\` is any of them. Echoed as sent: a string stays a string, an array an array. An empty array, a code that is not a non-empty string, an unknown code or more than ${MAX_ACTION_FILTER_CODES} codes are a \`400 invalid_filter\`.`,
    example: ['solar_pv', 'battery'],
  });

const labelFilter = z
  .union([labelValue, z.array(labelValue).min(1).max(MAX_LABEL_FILTER_VALUES)])
  .meta({
    description: `Only for the two label events: one label id or name from \`GET /labels\`, or an array of 1 to ${MAX_LABEL_FILTER_VALUES} of them; an event matches when its \`label_id\` or \`label\` is any of them. A name may contain a comma, so a string is always one label. Echoed as sent. An empty array, an element that is not a non-empty string, an unknown label or more than ${MAX_LABEL_FILTER_VALUES} are a \`400 invalid_filter\`.`,
    example: ['lbl_4kd8', 'Quote sent'],
  });

/** The filters of a subscription as echoed and listed, whatever its event (contract 2.4). */
export const filtersSchema = z
  .strictObject({ action: actionFilter.optional(), label: labelFilter.optional() })
  .meta({
    id: 'Filters',
    description:
      'Compared without regard to case or surrounding spaces. `action` applies only to `RequestQuote:Create`, `label` only to the two label events; other keys, or a filter on an event it does not apply to, are a `400 invalid_filter`.',
    origin: 'assumed',
  });

/** Which filter key a subscription to each event may carry (contract 2.4); none for the other events. */
export const FILTER_KEY_FOR_EVENT: { readonly [E in PlatformEvent]: 'action' | 'label' | undefined } = {
  'Audit:Create': undefined,
  'Audit:Simulate': undefined,
  'Audit:Assign': undefined,
  'Audit:Label:Apply': 'label',
  'RequestQuote:Create': 'action',
  'RequestQuote:Label:Apply': 'label',
};

const actionFiltersSchema = z
  .strictObject({ action: actionFilter.optional() })
  .meta({
    id: 'ActionFilters',
    description: 'The filters of a `RequestQuote:Create` subscription: `action` only, or none (`{}`). Any other key is a `400 invalid_filter`.',
    origin: 'assumed',
  });

const labelFiltersSchema = z
  .strictObject({ label: labelFilter.optional() })
  .meta({
    id: 'LabelFilters',
    description:
      'The filters of an `Audit:Label:Apply` or `RequestQuote:Label:Apply` subscription: `label` only, or none (`{}`). Any other key is a `400 invalid_filter`.',
    origin: 'assumed',
  });

const noFiltersSchema = z
  .strictObject({})
  .meta({
    id: 'NoFilters',
    description:
      'No filter applies to `Audit:Create`, `Audit:Simulate` or `Audit:Assign`: always `{}`. Any key is a `400 invalid_filter`.',
    origin: 'assumed',
  });

/** The filters schema a subscription to one event takes (contract 2.4). */
export const filtersSchemaFor = (event: PlatformEvent) => {
  const key = FILTER_KEY_FOR_EVENT[event];
  return key === 'action' ? actionFiltersSchema : key === 'label' ? labelFiltersSchema : noFiltersSchema;
};

// A subscription's `uri` (contract 2.4), built from named parts so it stays readable: `https` to a
// host name, an IPv4 address or [::1], or plain `http` to a loopback host only; an optional port;
// no user name or password (an `@` cannot appear before the path); then anything without spaces.
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
/** A host name: dot-separated labels, the last starting with a letter (so never an IPv4 look-alike). */
const HOST_NAME = `(?:${LABEL}\\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?`;
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const LOOPBACK_HOST = `(?:localhost|127(?:\\.${OCTET}){3}|\\[::1\\])`;
const PORT = '(?::(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|\\d{1,4}))?';
const REST = '(?:[/?#]\\S*)?';

/**
 * The rule for a subscription's `uri`, as the document's `pattern` and the sandbox's check: https to
 * any host, http only to a loopback host (127.0.0.0/8, localhost, [::1]), lower-case scheme, no
 * credentials, no spaces.
 */
export const SUBSCRIPTION_URI_PATTERN_SOURCE = `^(?:https://(?:${HOST_NAME}|${IPV4}|\\[::1\\])|http://${LOOPBACK_HOST})${PORT}${REST}$`;
export const SUBSCRIPTION_URI_PATTERN = new RegExp(SUBSCRIPTION_URI_PATTERN_SOURCE);

/** A subscription's `uri` at most (contract 2.4). */
export const MAX_SUBSCRIPTION_URI_LENGTH = 2048;

const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
  .meta({ description: '`whsec_` and the base64 of the signing key (contract 3.3). Shown only in this response.' });

const subscriptionFields = {
  id: subscriptionId,
  type: z.literal('webhook').meta({ origin: 'published', description: 'Always `webhook`.' }),
  event: eventNameSchema,
  uri: z.string().meta({ description: 'Where deliveries are POSTed.', origin: 'published' }),
  filters: filtersSchema,
  created_at: isoUtc().meta({ description: 'When the subscription was made.' }),
};

export const subscriptionSchema = z
  .looseObject({
    ...subscriptionFields,
    secret: webhookSecret
      .nullable()
      .optional()
      .meta({ description: 'Present when the platform signs deliveries; `null` or absent means unsigned.' }),
  })
  .meta({ id: 'Subscription', origin: 'assumed' });

/**
 * A listed subscription has no `secret` property at all: `propertyNames` refuses the name while
 * other unknown keys stay allowed, so generated types have no `secret` field to fill.
 */
export const listedSubscriptionSchema = z
  .looseObject(subscriptionFields)
  .refine((value) => !Object.prototype.hasOwnProperty.call(value, 'secret'), {
    message: 'a listed subscription never has a secret',
    path: ['secret'],
  })
  .meta({
    id: 'ListedSubscription',
    description: 'A subscription as listed: never with its `secret`, which is shown only once, when subscribing.',
    origin: 'assumed',
    propertyNames: { not: { const: 'secret' } },
  });

const subscriptionUri = z
  .string()
  .max(MAX_SUBSCRIPTION_URI_LENGTH)
  .regex(SUBSCRIPTION_URI_PATTERN)
  .meta({
    origin: 'published',
    // As written, without the `\/` a RegExp's source adds.
    pattern: SUBSCRIPTION_URI_PATTERN_SOURCE,
    description: `An absolute \`https\` URL, or \`http\` only to a loopback host (\`127.0.0.0/8\`, \`localhost\`, \`[::1]\`, in a sandbox); lower-case scheme, no user name or password, no spaces, at most ${MAX_SUBSCRIPTION_URI_LENGTH} characters. Anything else is a \`400 invalid_uri\`.`,
    example: 'https://hooks.zapier.com/hooks/standard/123/abc/',
  });

const subscribeRequestFor = <E extends PlatformEvent>(event: E) =>
  z
    .looseObject({
      type: z.literal('webhook').meta({ origin: 'published', description: 'Always `webhook`.' }),
      event: z.literal(event).meta({ origin: 'published', description: `\`${event}\`.` }),
      uri: subscriptionUri,
      filters: filtersSchemaFor(event),
    })
    .meta({
      id: `Subscribe${event.replace(/:/g, '')}`,
      title: `Subscribe to ${event}`,
      origin: 'assumed',
    });

/**
 * A `POST /notifications` body: one schema per event, told apart by `event`, so a filter on an event
 * it does not apply to (`Audit:Create` with `action`) fails the schema as it fails the platform.
 */
export const subscribeRequestSchema = z
  .discriminatedUnion(
    'event',
    PLATFORM_EVENTS.map((event) => subscribeRequestFor(event)) as unknown as [
      ReturnType<typeof subscribeRequestFor>,
      ...ReturnType<typeof subscribeRequestFor>[],
    ],
  )
  .meta({
    id: 'SubscribeRequest',
    description:
      'One of the six events with the filters it takes: `action` for `RequestQuote:Create`, `label` for the two label events, none for the other three.',
    origin: 'assumed',
  });

const listOf = <T extends z.ZodType>(item: T, id: string, description: string) =>
  z.looseObject({ data: z.array(item) }).meta({ id, description, origin: 'assumed' });

export const subscriptionListSchema = listOf(listedSubscriptionSchema, 'SubscriptionList', "The organisation's subscriptions.");

export const samplesSchema = z
  .looseObject({ data: z.array(anyPlatformBodySchema).max(100) })
  .meta({
    id: 'Samples',
    description:
      "The organisation's most recent events of the asked type, newest first, each exactly as a delivery's body. Also accepted by the app: a bare array, or the list under `items` or `results`.",
    origin: 'assumed',
  });

export const actionSchema = z
  .looseObject({
    code: z.string().min(1).meta({ description: 'The action code, e.g. `solar_pv`.' }),
    name: z.string().nullable().optional().meta({ description: 'Its readable name, e.g. `Solar PV`.' }),
  })
  .meta({ id: 'Action' });
export const actionListSchema = listOf(actionSchema, 'ActionList', 'The action codes a quote request can carry.');

export const labelTypeSchema = z.enum(['audit', 'quote_request']).meta({ id: 'LabelType' });
export const labelSchema = z
  .looseObject({
    id: z.string().min(1).meta({ description: 'The label id, e.g. `lbl_4kd8`.' }),
    name: z.string().nullable().optional().meta({ description: "The label's name, e.g. `Site visit booked`." }),
    type: labelTypeSchema,
  })
  .meta({ id: 'Label' });
export const labelListSchema = listOf(labelSchema, 'LabelList', "The organisation's status labels of one type.");

// ---------------------------------------------------------------------------------------------
// Sandbox control plane (not part of the production contract)

export const MAX_EVENTS_PER_FIRE = 1000;

export const fireRequestSchema = z
  .strictObject({
    event: eventNameSchema,
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Fields to set on every fired body; validated like a real event body.' }),
    count: z.int().min(1).max(MAX_EVENTS_PER_FIRE).optional().meta({ description: 'How many events (default 1).' }),
  })
  .meta({ id: 'FireRequest' });

export const fireResultSchema = z
  .looseObject({
    event_ids: z.array(z.string().min(1)),
    deliveries: z.int().min(0).meta({ description: 'Deliveries queued: one per event per matching subscription.' }),
  })
  .meta({ id: 'FireResult' });

export const sandboxStatsSchema = z
  .looseObject({
    enqueued: z.int().min(0),
    attempts: z.int().min(0),
    delivered: z.int().min(0),
    pending: z.int().min(0),
    subscriptions: z.int().min(0),
    storedEvents: z.int().min(0),
  })
  .meta({ id: 'SandboxStats' });
