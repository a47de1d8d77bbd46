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
import { contractExamples, DELIVERY_EXAMPLES, errorExample } from './examples';
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

/**
 * The sandbox picks a free port unless started with `--port`; the document's sandbox server offers
 * this one as its default (the port the sandbox README suggests, beside the receiver's 8787).
 */
export const SANDBOX_SUGGESTED_PORT = 8790;

/** The local sandbox, for the sandbox-only operations (and any other, pointed at a sandbox). */
export const SANDBOX_SERVER = {
  url: 'http://127.0.0.1:{port}/v1',
  description: 'The local sandbox (`npm run sandbox`)',
  variables: {
    port: {
      default: String(SANDBOX_SUGGESTED_PORT),
      description: `The port the sandbox printed when it started: it picks a free one unless started with \`--port\` (e.g. \`npm run sandbox -- --port ${SANDBOX_SUGGESTED_PORT}\`).`,
    },
  },
};

/**
 * What any request may get, whatever its path and before an operation is known (contract 2.1): the
 * document's root \`x-ecologic-any-request\` lists them for tools and the introduction shows them.
 */
export const ANY_REQUEST_STATUSES = [
  { status: 400, code: 'invalid_request', when: 'malformed HTTP: no `Host` header, a request target that is not a path or URL, a path with a malformed percent-encoding, a body cut short' },
  { status: 404, code: 'not_found', when: 'a path this document does not have' },
  { status: 405, code: 'method_not_allowed', when: 'a method the path does not have; `Allow` names those it has' },
  { status: 408, code: 'request_timeout', when: 'the request did not arrive in time' },
  { status: 414, code: 'uri_too_long', when: 'the request target is too long (the sandbox: over 8 KiB)' },
  { status: 431, code: 'headers_too_large', when: 'the request headers are too large' },
  { status: 500, code: 'internal_error', when: 'a failure of the server (any `5xx`)' },
] as const;

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

type ErrorExample = { code: string; message: string };

/** An error response in the one shape, with one named example per `error.code` it may carry. */
const errorResponse = (description: string, examples: ErrorExample[], headers?: Record<string, z.ZodType>) => ({
  description,
  content: {
    'application/json': {
      schema: errorSchema,
      examples: Object.fromEntries(
        examples.map(({ code, message }) => [code, { summary: `\`${code}\``, value: errorExample(code, message) }]),
      ),
    },
  },
  ...(headers ? { headers: z.object(headers) } : {}),
});

const UNAUTHORIZED = { code: 'unauthorized', message: 'unknown or revoked API key' };
const FORBIDDEN = { code: 'forbidden', message: 'this API key lacks the notifications:write permission' };
const RATE_LIMITED = { code: 'rate_limited', message: 'too many requests: retry after the time Retry-After gives' };
const UNAVAILABLE = { code: 'internal_error', message: 'the platform failed to handle this request' };
const TOO_LARGE = { code: 'payload_too_large', message: 'the body is larger than 1 MB' };
const NOT_JSON = { code: 'unsupported_media_type', message: 'send the body as JSON with Content-Type: application/json' };

const ERRORS = {
  '401': errorResponse('The API key is missing, unknown or revoked (`unauthorized`). The app asks the partner to reconnect.', [UNAUTHORIZED]),
  '403': errorResponse('The key is valid but lacks the permission for this (`forbidden`).', [FORBIDDEN]),
  '413': errorResponse('The body is too large (`payload_too_large`).', [TOO_LARGE]),
  '415': errorResponse('The body is not `application/json` (`unsupported_media_type`).', [NOT_JSON]),
  '429': errorResponse('Rate limited (`rate_limited`); wait as `Retry-After` says.', [RATE_LIMITED], { 'Retry-After': retryAfter }),
  '5XX': errorResponse('A platform failure. The app reports "Ecologic is unavailable" and the step can be retried.', [UNAVAILABLE]),
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

const seconds = (n: number): string => (n >= 7200 && n % 3600 === 0 ? `${n / 3600} h` : n >= 60 && n % 60 === 0 ? `${n / 60} min` : `${n} s`);
const bytes = (n: number): string =>
  n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB (${n.toLocaleString('en-AU')} bytes)` : `${n.toLocaleString('en-AU')} bytes`;

/**
 * The delivery rules of every webhook as short Markdown (the rendered reference shows it; the
 * `x-ecologic-*` extensions carry the same constants for tools, hidden from the rendering).
 */
export function deliveryRulesMarkdown(): string {
  return [
    '**Signing** (Standard Webhooks, contract 3.3)',
    '',
    '| | |',
    '|---|---|',
    `| scheme | \`${SIGNING.scheme}\`, signature version \`${SIGNING.signature_version}\`, ${SIGNING.algorithm} |`,
    `| signed content | \`${SIGNING.signed_content}\` |`,
    `| secret | \`whsec_\` + the base64 of the key |`,
    `| timestamp accepted | up to ${seconds(SIGNING.timestamp_tolerance_past_seconds)} in the past, ${seconds(SIGNING.timestamp_tolerance_future_seconds)} in the future |`,
    `| also accepted | ${Object.values(SIGNING.header_aliases).map((h) => `\`${h}\``).join(', ')} |`,
    '',
    '**Retries** (contract 3.4)',
    '',
    `- Success: any \`${RETRIES.success}\` within ${seconds(RETRIES.receiver_timeout_seconds)}; \`${RETRIES.remove_subscription_on}\` removes the subscription.`,
    `- Anything else is retried with exponential backoff and full jitter: attempt n waits up to min(${seconds(RETRIES.cap_delay_seconds)}, ${seconds(RETRIES.base_delay_seconds)} · 2^(n-1)).`,
    `- At most ${RETRIES.max_attempts} attempts within ${RETRIES.horizon_hours} hours; \`${RETRIES.retry_after_honoured_on}\` with \`Retry-After\` is honoured.`,
    '- Every attempt has the same `webhook-id`, a fresh `webhook-timestamp` and its own signature.',
    '',
    '**De-duplication** (contract 3.5): the event is identified by the first of',
    '',
    ...DEDUPLICATION.identity.map((rule, i) => `${i + 1}. ${rule}`),
    '',
    `never by ${DEDUPLICATION.never_identity}; a receiver remembers it for ${DEDUPLICATION.receiver_retention_hours} hours.`,
    '',
    '**Limits** (contract 3.6)',
    '',
    '| limit | over it |',
    '|---|---|',
    `| body: ${bytes(LIMITS.max_body_bytes)} | \`413\` |`,
    `| events in one delivery: ${LIMITS.max_events_per_delivery.toLocaleString('en-AU')} | \`413\` |`,
    `| one event's item: ${bytes(LIMITS.max_item_bytes)} | \`413\` |`,
    `| an event id: ${bytes(LIMITS.max_event_id_bytes)} of UTF-8 | \`400\` |`,
    `| nesting: ${LIMITS.max_nesting_depth} deep | \`400\` |`,
    '',
    `A delivery refused with ${LIMITS.refused_for_good.map((s) => `\`${s}\``).join(' or ')} gets the same answer on a retry.`,
  ].join('\n');
}

const webhookOperation = (event: PlatformEvent) => {
  const entry = eventDefinition(event);
  // Contract 3.1 and 3.2 are marked "[published: JSON to the URI; details assumed]" and "[assumed,
  // except the RequestQuote:Create fields]": every webhook is assumed as a whole, and the published
  // parts (the event name, RequestQuote:Create's field set) carry their own mark.
  const fields =
    event === 'RequestQuote:Create'
      ? 'The event and its field set are published by Ecologic (the fields marked **[published]**); the common fields, headers, signing and retries are assumed.'
      : 'The event name is published by Ecologic; its field set, the common fields, headers, signing and retries are assumed.';
  const example = DELIVERY_EXAMPLES[event];
  return operation('assumed', {
    operationId: `deliver${event.replace(/:/g, '')}`,
    summary: `${event}: ${entry.description.replace(/^Triggers when /, '').replace(/\.$/, '')}`,
    tags: ['Webhooks'],
    description: `${fields} One event per request, \`POST\` to the subscription's \`uri\` with \`Content-Type: application/json\` and \`User-Agent: Ecologic-Webhooks/1.0\`. The Zapier trigger \`${entry.triggerKey}\` ("${entry.label}") receives it.\n\n${deliveryRulesMarkdown()}`,
    security: [],
    requestParams: { header: webhookHeaders },
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: PLATFORM_BODY_SCHEMAS[event],
          examples: { [entry.triggerKey]: { summary: `One ${event} event`, value: example } },
        },
      },
    },
    responses: {
      '200': { description: `Accepted. Any \`2xx\` within ${seconds(RETRIES.receiver_timeout_seconds)} is a success; the body is ignored.` },
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

/** The extensions the rendered reference shows; the delivery rules' extensions are for tools only. */
export const RENDERED_EXTENSIONS = [ORIGIN_KEY, 'x-sandbox-only'] as const;

// --- the document ---------------------------------------------------------------------------------

/** The statuses any request may get, as a Markdown table for the introduction. */
const anyRequestMarkdown = (): string =>
  [
    '| status | `error.code` | when |',
    '|---|---|---|',
    ...ANY_REQUEST_STATUSES.map(({ status, code, when }) => `| \`${status}\` | \`${code}\` | ${when} |`),
  ].join('\n');

export function buildOpenApiDocument(contractMarkdown: string = readFileSync(contractDocPath(), 'utf8')) {
  const section = (n: string) => contractSection(contractMarkdown, n);
  /** The one JSON example a contract section shows (its `index`th), as the document's example. */
  const proseExample = (n: string, index = 0): Record<string, unknown> => {
    const found = contractExamples(section(n))[index];
    if (found === undefined || typeof found !== 'object' || found === null) throw new Error(`contract section ${n} has no JSON example ${index + 1}`);
    return found as Record<string, unknown>;
  };
  const example = (summary: string, value: unknown) => ({ summary, value });
  const jsonWith = (schema: z.ZodType, examples: Record<string, { summary: string; value: unknown }>) => ({
    'application/json': { schema, examples },
  });

  const readOp = (spec: Omit<ZodOpenApiOperationObject, 'description'> & { description: string }) =>
    operation('assumed', spec);

  const subscription = proseExample('2.4', 1);
  const { secret: _secret, ...listedSubscription } = subscription;
  const invalidFilter = proseExample('2.1') as { error: ErrorExample };

  const document: ZodOpenApiObject & Record<`x-${string}`, unknown> = {
    openapi: '3.1.0',
    info: {
      title: 'Ecologic Notification API',
      version: '1.0.0',
      summary: 'What the Ecologic for Zapier app and receiver rely on: REST subscriptions and signed webhook deliveries.',
      description: [
        'The machine-readable form of `docs/ecologic-api.md`, generated from the same schemas as the app (`npm run docs`).',
        'Each operation, webhook and field is marked **[published]** (stated in Ecologic\'s public developer documentation) or **[assumed]** (defined by this project: the platform must match it, or this document and the app change together); `x-ecologic-origin` carries the same mark for tools. An operation or webhook that is only partly published (`POST /notifications`, the deliveries) is marked **[assumed]**, and its published fields carry their own mark.',
        'Check a server against it with `npm run -s conformance -- --base-url URL --api-key KEY --webhooks`.',
        `## Answers to any request (contract 2.1)\n\nBesides each operation's own responses, any request may get these, in the error shape, before the server knows which operation was meant (\`x-ecologic-any-request\` lists them for tools):\n\n${anyRequestMarkdown()}`,
        `## Webhook signing (contract 3.3)\n\n${section('3.3')}`,
        `## Responses, retries and removal (contract 3.4)\n\n${section('3.4')}`,
        `## Event identity and de-duplication (contract 3.5)\n\n${section('3.5')}`,
        `## Limits of a delivery (contract 3.6)\n\n${section('3.6')}`,
        `## What the app also accepts (contract 2.10)\n\nThe schemas below describe the preferred form.\n\n${section('2.10')}`,
      ].join('\n\n'),
      contact: { name: 'Ecologic partner integrations', url: 'https://www.getecologic.com', email: 'partners@getecologic.com' },
      license: { name: 'Proprietary', url: 'https://www.getecologic.com/terms' },
    },
    servers: [{ url: PRODUCTION_BASE_URL, description: '[assumed] Production' }, SANDBOX_SERVER],
    security: [{ apiKey: [] }],
    // The rendered reference follows this order: production's paths as they first appear, the webhooks,
    // then the sandbox-only operations last.
    tags: [
      { name: 'Account', description: 'Who the API key belongs to.' },
      { name: 'Notifications', description: 'Webhook subscriptions and recent events (REST hooks).' },
      { name: 'Reference data', description: 'The values the trigger filters offer.' },
      { name: 'Webhooks', description: 'What the platform sends to a subscription.' },
      { name: 'Sandbox', description: 'Only in the local sandbox, never in production: fire events, read counters.' },
    ],
    'x-ecologic-any-request': ANY_REQUEST_STATUSES.map(({ status, code, when }) => ({ status, code, when })),
    paths: {
      '/me': {
        get: readOp({
          operationId: 'getMe',
          summary: 'Who the key belongs to',
          tags: ['Account'],
          description: "Tests the connection and labels it in Zapier; the organisation's time zone, when given, places customers' local times (contract 2.3).",
          responses: {
            '200': { description: 'The organisation and key owner.', content: jsonWith(meSchema, { organisation: example('A key of an organisation', proseExample('2.3')) }) },
            ...errors(...READ_ERRORS),
          },
        }),
      },
      '/notifications': {
        get: readOp({
          operationId: 'listNotifications',
          summary: 'List subscriptions',
          tags: ['Notifications'],
          description: 'Not called by the app; for operators and the conformance kit (contract 2.6). Secrets are never listed.',
          responses: {
            '200': {
              description: "The organisation's subscriptions.",
              content: jsonWith(subscriptionListSchema, { one: example('One subscription, without its secret', { data: [listedSubscription] }) }),
            },
            ...errors(...READ_ERRORS),
          },
        }),
        post: readOp({
          operationId: 'subscribe',
          summary: 'Subscribe a webhook to one event',
          tags: ['Notifications'],
          description:
            'Registers a webhook notification (a REST hook); Zapier calls it when a partner turns a Zap on. Published in principle (a notification of type `webhook` with a URI, the fields marked **[published]**); the shape is assumed (contract 2.4). Subscribing the same `event` and `uri` again returns the existing subscription with `200`.',
          requestBody: {
            required: true,
            content: jsonWith(subscribeRequestSchema, {
              actions: example('New Quote Request for two actions', proseExample('2.4')),
              label: example('A label trigger for one label', { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: 'https://hooks.zapier.com/hooks/standard/123/def/', filters: { label: 'lbl_4kd8' } }),
              unfiltered: example('An event without filters', { type: 'webhook', event: 'Audit:Create', uri: 'https://hooks.zapier.com/hooks/standard/123/ghi/', filters: {} }),
            }),
          },
          responses: {
            '201': { description: 'Created. The only response that shows the `secret`.', content: jsonWith(subscriptionSchema, { created: example('Created, signed', subscription) }) },
            '200': { description: 'Already subscribed: the existing subscription, same `id` and `secret`.', content: jsonWith(subscriptionSchema, { existing: example('The existing subscription', subscription) }) },
            '400': errorResponse('The request is invalid; `error.code` says which part: `invalid_event` (an event that is not one of the six, or none), `invalid_uri`, `invalid_filter` (a filter that is unknown, not valid, or does not apply to the event), `invalid_json`, `invalid_request` (anything else, e.g. `type` is not `webhook`).', [
              { code: 'invalid_event', message: 'event must be one of Audit:Create, Audit:Simulate, Audit:Assign, Audit:Label:Apply, RequestQuote:Create, RequestQuote:Label:Apply' },
              { code: 'invalid_uri', message: 'uri must be an absolute https URL (http only on a loopback host)' },
              invalidFilter.error,
              { code: 'invalid_json', message: 'the body is not valid JSON' },
              { code: 'invalid_request', message: 'type must be "webhook"' },
            ]),
            ...errors('401', '403', '413', '415'),
            '422': errorResponse('The organisation already has as many subscriptions as it may (`subscription_limit_reached`; the sandbox allows 100): delete one first.', [
              { code: 'subscription_limit_reached', message: 'this organisation has 100 subscriptions, the most it may have: delete one first' },
            ]),
            ...errors('429', '5XX'),
          },
        }),
      },
      '/notifications/{id}': {
        delete: readOp({
          operationId: 'unsubscribe',
          summary: 'Remove a subscription',
          tags: ['Notifications'],
          description:
            'Nothing more is delivered to its URI, pending retries included (contract 2.5). The app treats `404` and `410` as already removed. An id of `.` or `..` (however encoded) is never a subscription: `404`.',
          requestParams: {
            path: z.object({
              id: z.string().min(1).meta({ description: 'The subscription id, as one URL-encoded path segment.', example: 'ntf_2b7Hc9' }),
            }),
          },
          responses: {
            '204': { description: 'Removed.' },
            '400': errorResponse('The id is not valid percent-encoding (`invalid_request`).', [
              { code: 'invalid_request', message: 'the request path has a malformed percent-encoding' },
            ]),
            '404': errorResponse('No subscription ever had this id (`not_found`).', [{ code: 'not_found', message: 'no such notification' }]),
            '410': errorResponse('Already deleted, by the partner or after a receiver answered `410` (`gone`).', [
              { code: 'gone', message: 'the notification was already deleted' },
            ]),
            ...errors(...READ_ERRORS),
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
          responses: {
            '200': {
              description: 'The samples.',
              content: jsonWith(samplesSchema, {
                one: example('The newest New Quote Request', { data: [DELIVERY_EXAMPLES['RequestQuote:Create']] }),
                none: example('No such events yet', { data: [] }),
              }),
            },
            '400': errorResponse('`invalid_event` (no `event`, or not one of the six), `invalid_request` (a `limit` that is not 1 to 100) or `invalid_filter` (a filter that is unknown, not valid, or does not apply to the event).', [
              { code: 'invalid_event', message: 'event is required, one of Audit:Create, Audit:Simulate, Audit:Assign, Audit:Label:Apply, RequestQuote:Create, RequestQuote:Label:Apply' },
              { code: 'invalid_request', message: 'limit must be an integer from 1 to 100' },
              { code: 'invalid_filter', message: 'query.action does not apply to Audit:Create' },
            ]),
            ...errors(...READ_ERRORS),
          },
        }),
      },
      '/actions': {
        get: readOp({
          operationId: 'listActions',
          summary: 'Action codes',
          tags: ['Reference data'],
          description: "Feeds New Quote Request's product or service filter (contract 2.8).",
          responses: {
            '200': { description: 'The action codes.', content: jsonWith(actionListSchema, { actions: example('Two action codes', proseExample('2.8')) }) },
            ...errors(...READ_ERRORS),
          },
        }),
      },
      '/labels': {
        get: readOp({
          operationId: 'listLabels',
          summary: 'Status labels',
          tags: ['Reference data'],
          description: 'Feeds the label filter of the two label triggers (contract 2.9).',
          requestParams: {
            query: z.object({
              type: z.enum(labelTypeSchema.options).meta({
                description:
                  'Which labels: `audit` for the audits\' labels (the `Audit:Label:Apply` trigger), `quote_request` for the quote requests\' (`RequestQuote:Label:Apply`). Required; anything else is a `400 invalid_request`.',
                example: 'quote_request',
              }),
            }),
          },
          responses: {
            '200': { description: 'The labels of that type.', content: jsonWith(labelListSchema, { labels: example('A quote request label', proseExample('2.9')) }) },
            '400': errorResponse('`type` is missing or not `audit` or `quote_request` (`invalid_request`).', [
              { code: 'invalid_request', message: 'type is required: audit or quote_request' },
            ]),
            ...errors(...READ_ERRORS),
          },
        }),
      },
      '/sandbox/events': {
        // Only the local sandbox has it: generated clients must not aim it at production.
        servers: [SANDBOX_SERVER],
        post: readOp({
          operationId: 'sandboxFireEvents',
          summary: 'Fire events (sandbox only)',
          tags: ['Sandbox'],
          description:
            'Creates events as if they happened on the platform and queues their deliveries (contract 5). `data` is validated like a real event body; the fire is refused as a whole when the delivery queue is full. The conformance kit uses it where a server has it.',
          'x-sandbox-only': true,
          requestBody: {
            required: true,
            content: jsonWith(fireRequestSchema, { one: example('One quote request for a battery', { event: 'RequestQuote:Create', data: { action: 'battery' }, count: 1 }) }),
          },
          responses: {
            '202': {
              description: 'Fired and queued.',
              content: jsonWith(fireResultSchema, { fired: example('One event, two deliveries queued', { event_ids: ['evt_01JDX2G1Z3B5D7F9H1K3M5P7RS'], deliveries: 2 }) }),
            },
            '400': errorResponse('`invalid_event` (not one of the six), `invalid_event_data` (the fired body would not be a valid event: the fields are named, never their values), `invalid_json`, or `invalid_request` (a `count` that is not 1 to 1000, `data` that is not an object).', [
              { code: 'invalid_event', message: 'event must be one of Audit:Create, Audit:Simulate, Audit:Assign, Audit:Label:Apply, RequestQuote:Create, RequestQuote:Label:Apply' },
              { code: 'invalid_event_data', message: 'the event would not be valid: data.occurred_at: expected an ISO-8601 UTC time' },
              { code: 'invalid_json', message: 'the body is not valid JSON' },
              { code: 'invalid_request', message: 'count must be an integer from 1 to 1000' },
            ]),
            ...errors('401', '403'),
            '409': errorResponse('An `event_id` in `data` is already used, or given with a `count` above 1 (`duplicate_event_id`).', [
              { code: 'duplicate_event_id', message: 'an event with this event_id was already fired: event ids are unique per event' },
            ]),
            '413': errorResponse('The body (over 1 MiB), or one fired event (over 64 KiB), is too large (`payload_too_large`).', [
              { code: 'payload_too_large', message: 'an event may be at most 64 KB: send less data' },
            ]),
            ...errors('415'),
            '429': errorResponse('The delivery queue would overfill (`queue_full`): nothing was fired; retry after `Retry-After`.', [
              { code: 'queue_full', message: 'the delivery queue holds 10000 deliveries (at most 10000): fire fewer events, or retry once deliveries have drained' },
            ], { 'Retry-After': retryAfter }),
            ...errors('5XX'),
          },
        } as ZodOpenApiOperationObject & { description: string }),
      },
      '/sandbox/stats': {
        servers: [SANDBOX_SERVER],
        get: readOp({
          operationId: 'sandboxStats',
          summary: 'Delivery counters (sandbox only)',
          tags: ['Sandbox'],
          description: 'Deliveries queued, attempted, delivered and pending, and how many subscriptions and events are held (contract 5).',
          'x-sandbox-only': true,
          security: [],
          responses: {
            '200': {
              description: 'The counters.',
              content: jsonWith(sandboxStatsSchema, {
                counters: example('After six events to six Zaps, one retried', { enqueued: 6, attempts: 7, delivered: 6, pending: 0, subscriptions: 6, storedEvents: 24 }),
              }),
            },
            '400': errorResponse('A malformed request (`invalid_request`), as for any request.', [
              { code: 'invalid_request', message: 'an HTTP/1.1 request needs a Host header' },
            ]),
            ...errors('5XX'),
          },
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
