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

/** The Standard Webhooks headers, each also accepted under its Svix name (a platform sending via Svix). */
export const webhookHeaders = (headers: Headers | undefined) => {
  const either = (part: 'id' | 'timestamp' | 'signature') =>
    deliveryHeader(headers, `webhook-${part}`) ?? deliveryHeader(headers, `svix-${part}`);
  return { webhookId: either('id'), webhookTimestamp: either('timestamp'), webhookSignature: either('signature') };
};
