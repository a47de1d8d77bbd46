type Headers = Readonly<Record<string, unknown>>;

/**
 * A delivery header by its lowercase name, e.g. `webhook-id`. Zapier renames incoming headers to
 * `Http-Webhook-Id`; other hosts keep them as sent. Both forms are accepted, in any case.
 */
export const deliveryHeader = (headers: Headers | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    if ((lower === wanted || lower === `http-${wanted}`) && typeof value === 'string') return value;
  }
  return undefined;
};

type Field = 'webhookId' | 'webhookTimestamp' | 'webhookSignature' | 'svixId' | 'svixTimestamp' | 'svixSignature';

// The header names webhookHeaders reads, each to the field it fills.
const WEBHOOK_HEADERS = new Map<string, Field>([
  ['webhook-id', 'webhookId'],
  ['webhook-timestamp', 'webhookTimestamp'],
  ['webhook-signature', 'webhookSignature'],
  ['svix-id', 'svixId'],
  ['svix-timestamp', 'svixTimestamp'],
  ['svix-signature', 'svixSignature'],
]);

/**
 * The Standard Webhooks headers, each also accepted under its Svix name (a platform sending via
 * Svix). What `deliveryHeader` gives for each name, read in one pass over the headers.
 */
export const webhookHeaders = (headers: Headers | undefined) => {
  const found: Partial<Record<Field, string>> = {};
  if (headers) {
    for (const key of Object.keys(headers)) {
      const value = headers[key];
      if (typeof value !== 'string') continue;
      const lower = key.toLowerCase();
      const field = WEBHOOK_HEADERS.get(lower.startsWith('http-') ? lower.slice(5) : lower);
      if (field !== undefined && found[field] === undefined) found[field] = value;
    }
  }
  return {
    webhookId: found.webhookId ?? found.svixId,
    webhookTimestamp: found.webhookTimestamp ?? found.svixTimestamp,
    webhookSignature: found.webhookSignature ?? found.svixSignature,
  };
};
