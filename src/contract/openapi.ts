/**
 * docs/openapi.yaml, built from the contract's zod schemas (./schemas), the event registry and the
 * constants the app and the sandbox run on. `npm run docs` writes it; a test fails when the
 * committed copy is out of date, and `redocly lint` checks it in `npm test`.
 *
 * Every operation, webhook and field says where its rule comes from: `x-ecologic-origin` is
 * `published` (Ecologic's public documentation) or `assumed` (this project's contract), and the
 * description starts with the same word so the rendered reference shows it too.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { createDocument, type ZodOpenApiObject, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';

import { eventDefinition } from '../core/event-registry';
import { PLATFORM_EVENTS, type PlatformEvent } from '../core/events';
import { SIGNATURE_WINDOW } from '../core/signature';
import { DELIVERY_LIMITS } from './limits';
import { EVENT_MEMORY_SECONDS, PRODUCTION_SCHEDULE } from './schedule';
import { contractDocPath } from './paths';
import {
  actionListSchema,
  errorSchema,
  eventNameSchema,
  fireRequestSchema,
  fireResultSchema,
  labelListSchema,
  labelTypeSchema,
  MAX_ACTION_FILTER_CODES,
  MAX_LABEL_FILTER_VALUES,
  meSchema,
  ORIGIN_KEY,
  PLATFORM_BODY_SCHEMAS,
  samplesSchema,
  sandboxStatsSchema,
  subscribeRequestSchema,
  subscriptionListSchema,
  subscriptionSchema,
} from './schemas';

export const PRODUCTION_BASE_URL = 'https://api.getecologic.com/v1';

type Origin = 'published' | 'assumed';

const ORIGIN_LABEL: Record<Origin, string> = { published: '[published]', assumed: '[assumed]' };

/** Prefixes a description with where the rule comes from (visible in the rendered reference). */
const marked = (origin: Origin, description: string): string => `${ORIGIN_LABEL[origin]} ${description}`;

// --- responses shared by the operations -----------------------------------------------------------

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

const retryAfter = z.string().meta({
  description: 'Seconds to wait (an integer), or an HTTP date.',
  example: '30',
});

const errorResponse = (description: string, headers?: Record<string, z.ZodType>) => ({
  description,
  content: json(errorSchema),
  ...(headers ? { headers: z.object(headers) } : {}),
});

const ERRORS = {
  '400': errorResponse('The request is invalid: `error.code` says which part (e.g. `invalid_event`, `invalid_filter`).'),
  '401': errorResponse('The API key is missing, unknown or revoked (`unauthorized`). The app asks the partner to reconnect.'),
  '403': errorResponse('The key is valid but lacks the permission for this (`forbidden`).'),
  '404': errorResponse('No such resource (`not_found`).'),
  '413': errorResponse('The body is too large (`payload_too_large`).'),
  '415': errorResponse('The body is not `application/json` (`unsupported_media_type`).'),
  '422': errorResponse('The request is well-formed but cannot be done (e.g. `subscription_limit_reached`).'),
  '429': errorResponse('Rate limited (`rate_limited`); wait as `Retry-After` says.', { 'Retry-After': retryAfter }),
  '5XX': errorResponse('A platform failure. The app reports "Ecologic is unavailable" and the step can be retried.'),
} as const;

type ErrorStatus = keyof typeof ERRORS;

const errors = (...statuses: ErrorStatus[]): ZodOpenApiResponsesObject =>
  Object.fromEntries(statuses.map((status) => [status, ERRORS[status]]));

const READ_ERRORS: ErrorStatus[] = ['401', '403', '429', '5XX'];

const operation = (
  origin: Origin,
  spec: Omit<ZodOpenApiOperationObject, 'description'> & { description: string },
): ZodOpenApiOperationObject => ({
  ...spec,
  description: marked(origin, spec.description),
  [ORIGIN_KEY]: origin,
});

// --- the contract's prose, quoted where the document needs it ------------------------------------

/** One `###` section of docs/ecologic-api.md, without its heading, so the two never disagree. */
export const contractSection = (markdown: string, number: string): string => {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`### ${number} `));
  if (start < 0) throw new Error(`docs/ecologic-api.md has no section ${number}`);
  const end = lines.findIndex((line, i) => i > start && /^#{2,3} /.test(line));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
};

// --- webhooks -------------------------------------------------------------------------------------

const schedule = PRODUCTION_SCHEDULE;

const webhookHeaders = z.object({
  'webhook-id': z.string().min(1).meta({
    description:
      "The delivery's id: the same on every retry of it, equal to the body's `event_id` for a single event. `svix-id` is accepted as an equivalent.",
    example: 'evt_01JD8X7Q0M6S9V2K4T3R5Y7W1A',
  }),
  'webhook-timestamp': z
    .string()
    .regex(/^\d{1,12}$/)
    .meta({
      description: `Unix time in seconds when this attempt was signed; fresh on every attempt. Accepted up to ${SIGNATURE_WINDOW.pastSeconds / 60} minutes in the past and ${SIGNATURE_WINDOW.futureSeconds / 60} in the future.`,
      example: '1764213300',
    }),
  'webhook-signature': z
    .string()
    .regex(/^[^\s,]+,[^\s,]+( [^\s,]+,[^\s,]+)*$/)
    .optional()
    .meta({
      description:
        'One or more `v1,<base64 HMAC-SHA256>` separated by single spaces (one per active secret during a rotation); present when the subscription has a `secret`.',
      example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    }),
});

const SIGNING = {
  scheme: 'standard-webhooks',
  signature_version: 'v1',
  algorithm: 'HMAC-SHA256',
  signed_content: '{webhook-id}.{webhook-timestamp}.{raw body}',
  secret_format: 'whsec_ + base64 key',
  timestamp_tolerance_past_seconds: SIGNATURE_WINDOW.pastSeconds,
  timestamp_tolerance_future_seconds: SIGNATURE_WINDOW.futureSeconds,
  header_aliases: { 'webhook-id': 'svix-id', 'webhook-timestamp': 'svix-timestamp', 'webhook-signature': 'svix-signature' },
} as const;

const RETRIES = {
  receiver_timeout_seconds: schedule.timeoutMs / 1000,
  success: '2xx',
  remove_subscription_on: 410,
  backoff: 'exponential with full jitter: attempt n waits up to min(cap, base * 2^(n-1))',
  base_delay_seconds: schedule.baseDelayMs / 1000,
  cap_delay_seconds: schedule.capDelayMs / 1000,
  max_attempts: schedule.maxAttempts,
  horizon_hours: schedule.horizonMs / 3_600_000,
  retry_after_honoured_on: 429,
  same_webhook_id_on_retry: true,
} as const;

const DEDUPLICATION = {
  identity: [
    "the envelope's event_id, then the envelope's id",
    "the record's event_id",
    'the webhook-id (or svix-id) header, with #n per record of a batch',
    'evt_sha256_ and a hash of the event name and the record',
  ],
  never_identity: "a resource's id (a flat body's id, an envelope's data.id)",
  receiver_retention_hours: EVENT_MEMORY_SECONDS / 3600,
} as const;

/** Contract 3.6, for tools: the same numbers the receiver enforces. */
const LIMITS = {
  max_body_bytes: DELIVERY_LIMITS.maxBodyBytes,
  max_events_per_delivery: DELIVERY_LIMITS.maxRecords,
  max_item_bytes: DELIVERY_LIMITS.maxItemBytes,
  max_event_id_bytes: DELIVERY_LIMITS.maxEventIdBytes,
  max_nesting_depth: DELIVERY_LIMITS.maxNestingDepth,
  refused_for_good: [400, 413],
};

const webhookOperation = (event: PlatformEvent) => {
  const entry = eventDefinition(event);
  const origin: Origin = event === 'RequestQuote:Create' ? 'published' : 'assumed';
  const fields =
    origin === 'published'
      ? 'The event and its field set are published by Ecologic; the common fields, headers, signing and retries are assumed.'
      : 'The event name is published by Ecologic; its field set, the common fields, headers, signing and retries are assumed.';
  return operation(origin, {
    operationId: `deliver${event.replace(/:/g, '')}`,
    summary: `${event}: ${entry.description.replace(/^Triggers when /, '').replace(/\.$/, '')}`,
    tags: ['Webhooks'],
    description: `${fields} One event per request, \`POST\` to the subscription's \`uri\` with \`Content-Type: application/json\` and \`User-Agent: Ecologic-Webhooks/1.0\`. The Zapier trigger \`${entry.triggerKey}\` ("${entry.label}") receives it. Signed, retried, de-duplicated and limited as the introduction says (contract 3.3 to 3.6); \`x-ecologic-signing\`, \`x-ecologic-retries\`, \`x-ecologic-deduplication\` and \`x-ecologic-limits\` give the same rules for tools.`,
    security: [],
    requestParams: { header: webhookHeaders },
    requestBody: { required: true, content: json(PLATFORM_BODY_SCHEMAS[event]) },
    responses: {
      '200': { description: 'Accepted. Any `2xx` within 15 s is a success; the body is ignored.' },
      '410': { description: 'Gone: the platform deletes the subscription and sends nothing more to it.' },
      '413': {
        description: `Refused for good: the body is over ${DELIVERY_LIMITS.maxBodyBytes} bytes, it holds more than ${DELIVERY_LIMITS.maxRecords} events, or an event's item is over ${DELIVERY_LIMITS.maxItemBytes} bytes (contract 3.6). A retry gets the same answer.`,
      },
      '429': {
        description: 'The receiver is busy: the platform retries, after `Retry-After` when that is longer than the next backoff step.',
      },
      default: {
        description: 'Any other status (`3xx`, `4xx`, `5xx`), a timeout or a dropped connection is a failure: the platform retries.',
      },
    },
    'x-ecologic-signing': SIGNING,
    'x-ecologic-retries': RETRIES,
    'x-ecologic-deduplication': DEDUPLICATION,
    'x-ecologic-limits': LIMITS,
  } as ZodOpenApiOperationObject & { description: string });
};

// --- the document ---------------------------------------------------------------------------------

export function buildOpenApiDocument(contractMarkdown: string = readFileSync(contractDocPath(), 'utf8')) {
  const section = (n: string) => contractSection(contractMarkdown, n);


  const readOp = (spec: Omit<ZodOpenApiOperationObject, 'description'> & { description: string }) =>
    operation('assumed', spec);

  const document: ZodOpenApiObject = {
    openapi: '3.1.0',
    info: {
      title: 'Ecologic Notification API',
      version: '1.0.0',
      summary: 'What the Ecologic for Zapier app and receiver rely on: REST subscriptions and signed webhook deliveries.',
      description: [
        'The machine-readable form of `docs/ecologic-api.md`, generated from the same schemas as the app (`npm run docs`).',
        'Each operation, webhook and field is marked **[published]** (stated in Ecologic\'s public developer documentation) or **[assumed]** (defined by this project: the platform must match it, or this document and the app change together); `x-ecologic-origin` carries the same mark for tools.',
        'Check a server against it with `npm run -s conformance -- --base-url URL --api-key KEY --webhooks`.',
        `## Webhook signing (contract 3.3)\n\n${section('3.3')}`,
        `## Responses, retries and removal (contract 3.4)\n\n${section('3.4')}`,
        `## Event identity and de-duplication (contract 3.5)\n\n${section('3.5')}`,
        `## Limits of a delivery (contract 3.6)\n\n${section('3.6')}`,
        `## What the app also accepts (contract 2.10)\n\nThe schemas below describe the preferred form.\n\n${section('2.10')}`,
      ].join('\n\n'),
      contact: { name: 'Ecologic partner integrations', url: 'https://www.getecologic.com' },
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [
      { url: PRODUCTION_BASE_URL, description: '[assumed] Production' },
      {
        url: 'http://127.0.0.1:{port}/v1',
        description: 'The local sandbox (`npm run sandbox`)',
        variables: { port: { default: '8787', description: 'The port the sandbox printed.' } },
      },
    ],
    security: [{ apiKey: [] }],
    tags: [
      { name: 'Account', description: 'Who the API key belongs to.' },
      { name: 'Notifications', description: 'Webhook subscriptions and recent events (REST hooks).' },
      { name: 'Reference data', description: 'The values the trigger filters offer.' },
      { name: 'Webhooks', description: 'What the platform sends to a subscription.' },
      { name: 'Sandbox', description: 'Only in the local sandbox, never in production: fire events, read counters.' },
    ],
    paths: {
      '/me': {
        get: readOp({
          operationId: 'getMe',
          summary: 'Who the key belongs to',
          tags: ['Account'],
          description: "Tests the connection and labels it in Zapier; the organisation's time zone, when given, places customers' local times (contract 2.3).",
          responses: { '200': { description: 'The organisation and key owner.', content: json(meSchema) }, ...errors(...READ_ERRORS) },
        }),
      },
      '/notifications': {
        get: readOp({
          operationId: 'listNotifications',
          summary: 'List subscriptions',
          tags: ['Notifications'],
          description: 'Not called by the app; for operators and the conformance kit (contract 2.6). Secrets are never listed.',
          responses: {
            '200': { description: "The organisation's subscriptions.", content: json(subscriptionListSchema) },
            ...errors(...READ_ERRORS),
          },
        }),
        post: operation('published', {
          operationId: 'subscribe',
          summary: 'Subscribe a webhook to one event',
          tags: ['Notifications'],
          description:
            'Registers a webhook notification (a REST hook); Zapier calls it when a partner turns a Zap on. Published in principle (a notification of type `webhook` with a URI); the shape is assumed (contract 2.4). Subscribing the same `event` and `uri` again returns the existing subscription with `200`.',
          requestBody: { required: true, content: json(subscribeRequestSchema) },
          responses: {
            '201': { description: 'Created. The only response that shows the `secret`.', content: json(subscriptionSchema) },
            '200': { description: 'Already subscribed: the existing subscription, same `id` and `secret`.', content: json(subscriptionSchema) },
            ...errors('400', '401', '403', '413', '415', '422', '429', '5XX'),
          },
        }),
      },
      '/notifications/{id}': {
        delete: readOp({
          operationId: 'unsubscribe',
          summary: 'Remove a subscription',
          tags: ['Notifications'],
          description:
            'Nothing more is delivered to its URI, pending retries included (contract 2.5). The app treats `404` and `410` as already removed.',
          requestParams: {
            path: z.object({
              id: z.string().min(1).meta({ description: 'The subscription id, as one URL-encoded path segment.', example: 'ntf_2b7Hc9' }),
            }),
          },
          responses: {
            '204': { description: 'Removed.' },
            '404': ERRORS['404'],
            '410': errorResponse('Already deleted, by the partner or after a receiver answered `410` (`gone`).'),
            ...errors('400', ...READ_ERRORS),
          },
        }),
      },
      '/notifications/samples': {
        get: readOp({
          operationId: 'listSamples',
          summary: 'Recent events for "Test trigger"',
          tags: ['Notifications'],
          description:
            "The organisation's most recent events of one type, newest first, each exactly as a delivery's body, so the app maps them like live deliveries (contract 2.7). None yet: an empty list.",
          requestParams: {
            query: z.object({
              event: eventNameSchema,
              limit: z.int().min(1).max(100).default(10).optional().meta({ description: 'How many, 1 to 100 (default 10).' }),
              action: z
                .string()
                .min(1)
                .optional()
                .meta({
                  description: `Only these action codes (RequestQuote:Create): one code, or up to ${MAX_ACTION_FILTER_CODES} separated by commas (\`solar_pv,battery\`); a sample matches when its \`action\` is any of them. The sandbox also accepts the parameter repeated.`,
                  example: 'solar_pv,battery',
                }),
              label: z
                .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(MAX_LABEL_FILTER_VALUES)])
                .optional()
                .meta({
                  description: `Only these label ids or names (label events): one, or up to ${MAX_LABEL_FILTER_VALUES} with the parameter repeated (\`label=lbl_4kd8&label=Quote%20sent\`), never separated by commas, since a name may contain one; a sample matches when its \`label_id\` or \`label\` is any of them.`,
                  example: ['lbl_4kd8', 'Quote sent'],
                }),
            }),
          },
          responses: { '200': { description: 'The samples.', content: json(samplesSchema) }, ...errors('400', ...READ_ERRORS) },
        }),
      },
      '/actions': {
        get: readOp({
          operationId: 'listActions',
          summary: 'Action codes',
          tags: ['Reference data'],
          description: "Feeds New Quote Request's product or service filter (contract 2.8).",
          responses: { '200': { description: 'The action codes.', content: json(actionListSchema) }, ...errors(...READ_ERRORS) },
        }),
      },
      '/labels': {
        get: readOp({
          operationId: 'listLabels',
          summary: 'Status labels',
          tags: ['Reference data'],
          description: "Feeds the label filter of the two label triggers (contract 2.9).",
          requestParams: { query: z.object({ type: labelTypeSchema }) },
          responses: { '200': { description: 'The labels of that type.', content: json(labelListSchema) }, ...errors('400', ...READ_ERRORS) },
        }),
      },
      '/sandbox/events': {
        post: readOp({
          operationId: 'sandboxFireEvents',
          summary: 'Fire events (sandbox only)',
          tags: ['Sandbox'],
          description:
            'Creates events as if they happened on the platform and queues their deliveries. `data` is validated like a real event body; the fire is refused as a whole when the delivery queue is full. The conformance kit uses it where a server has it.',
          'x-sandbox-only': true,
          requestBody: { required: true, content: json(fireRequestSchema) },
          responses: {
            '202': { description: 'Fired and queued.', content: json(fireResultSchema) },
            '409': errorResponse('An `event_id` in `data` is already used (`duplicate_event_id`).'),
            ...errors('400', '401', '403', '413', '415', '429', '5XX'),
          },
        } as ZodOpenApiOperationObject & { description: string }),
      },
      '/sandbox/stats': {
        get: readOp({
          operationId: 'sandboxStats',
          summary: 'Delivery counters (sandbox only)',
          tags: ['Sandbox'],
          description: 'Deliveries queued, attempted, delivered and pending, and how many subscriptions and events are held.',
          'x-sandbox-only': true,
          security: [],
          responses: { '200': { description: 'The counters.', content: json(sandboxStatsSchema) }, ...errors('400', '5XX') },
        } as ZodOpenApiOperationObject & { description: string }),
      },
    },
    webhooks: Object.fromEntries(
      PLATFORM_EVENTS.map((event) => [event, { post: webhookOperation(event) }]),
    ),
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            "[assumed] `Authorization: Bearer <api key>`. Keys are opaque strings issued per organisation in Ecologic's partner settings.",
        },
      },
    },
  };

  return createDocument(document, {
    override: ({ jsonSchema }) => {
      // The schemas' `origin` metadata becomes a vendor extension and a visible mark.
      const schema = jsonSchema as Record<string, unknown>;
      const from = schema['origin'];
      if (from === undefined) return;
      delete schema['origin'];
      if (from !== 'published' && from !== 'assumed') return;
      schema[ORIGIN_KEY] = from;
      if (typeof schema['description'] === 'string') schema['description'] = marked(from, schema['description']);
    },
  });
}
