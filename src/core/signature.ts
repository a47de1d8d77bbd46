import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * How far a delivery's `webhook-timestamp` may be from the time the trigger runs. Zapier may run
 * `perform` minutes after the delivery arrived, so the past side is wider than the five minutes
 * Standard Webhooks libraries default to; replays inside the window are caught by de-duplication.
 */
export const SIGNATURE_WINDOW = { pastSeconds: 60 * 60, futureSeconds: 5 * 60 } as const;

/** A body as text, or as the bytes received (signed as they are, whatever their encoding). */
export type SignedBody = string | Uint8Array;

export interface SignedDelivery<B extends SignedBody = string> {
  readonly webhookId: string | null | undefined;
  readonly webhookTimestamp: string | null | undefined;
  readonly webhookSignature: string | null | undefined;
  /**
   * The body as received, then further candidates (a re-serialisation); iterated lazily, so a
   * candidate is produced only when the ones before it did not match.
   */
  readonly bodies: Iterable<B>;
}

/** On success, `body` is the candidate that verified: the only bytes a caller may read the delivery from. */
export type Verification<B extends SignedBody = string> = { readonly ok: true; readonly body: B } | { readonly ok: false; readonly reason: string };

const SECRET_PREFIX = 'whsec_';

/**
 * A signer for a `whsec_` secret, or null when the secret can never verify anything: no prefix,
 * not base64, or an empty key. Subscribe checks it so a Zap never turns on with such a secret.
 */
export const signerFor = (secret: unknown): Webhook | null => {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return null;
  try {
    return new Webhook(secret);
  } catch {
    return null;
  }
};

const decodedKeys = new Map<string, Buffer>();

/**
 * The HMAC key of a usable secret, decoded once per secret: the library that validates it decodes
 * on every call. Bounded, since one process may serve many Zaps.
 */
const signingKey = (secret: string): Buffer | null => {
  let key = decodedKeys.get(secret);
  if (key === undefined) {
    if (!signerFor(secret)) return null;
    if (decodedKeys.size >= 256) decodedKeys.clear();
    key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
    decodedKeys.set(secret, key);
  }
  return key;
};

const reject = (reason: string): { readonly ok: false; readonly reason: string } => ({ ok: false, reason });

/** The base64 part of every `v1,<base64>` entry; other versions are ignored. */
const v1Signatures = (header: string): Buffer[] =>
  header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));

/**
 * Verifies a Standard Webhooks signature: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
 * subscription's secret, compared in constant time; any one matching `v1` entry accepts (rotation).
 * The reason for a rejection never includes the body, the secret or the signatures.
 */
/**
 * What the headers alone can tell: why a delivery can never verify (a header missing, a time
 * outside the window, no v1 signature), else undefined. Checked before any body is read.
 */
export const headerRejection = (
  delivery: Omit<SignedDelivery<SignedBody>, 'bodies'>,
  now: Date,
  window: { pastSeconds: number; futureSeconds: number } = SIGNATURE_WINDOW,
): string | undefined => {
  const { webhookId, webhookTimestamp, webhookSignature } = delivery;
  if (!webhookId) return 'the webhook-id header is missing';
  if (!webhookTimestamp) return 'the webhook-timestamp header is missing';
  if (!webhookSignature) return 'the webhook-signature header is missing';
  if (!/^\d{1,12}$/.test(webhookTimestamp.trim())) return 'the webhook-timestamp header is not a Unix time';

  const age = Math.floor(now.getTime() / 1000) - Number(webhookTimestamp.trim());
  if (age > window.pastSeconds) return `the delivery was signed ${age} s ago, outside the ${window.pastSeconds} s window`;
  if (-age > window.futureSeconds) return `the delivery timestamp is ${-age} s in the future`;
  if (v1Signatures(webhookSignature).length === 0) return 'the webhook-signature header has no v1 signature';
  return undefined;
};

export const verifyDelivery = <B extends SignedBody = string>(
  secret: string,
  delivery: SignedDelivery<B>,
  now: Date,
  window: { pastSeconds: number; futureSeconds: number } = SIGNATURE_WINDOW,
): Verification<B> => {
  const refused = headerRejection(delivery, now, window);
  if (refused !== undefined) return reject(refused);
  const { webhookId, webhookTimestamp, webhookSignature } = delivery as { webhookId: string; webhookTimestamp: string; webhookSignature: string };
  const timestamp = Number(webhookTimestamp.trim());
  const provided = v1Signatures(webhookSignature);

  const key = signingKey(secret);
  if (!key) return reject('the subscription secret is not a valid whsec_ secret');
  for (const body of delivery.bodies) {
    // What Standard Webhooks signs: `{id}.{timestamp}.{body}`, HMAC-SHA256 (test/signature.test.ts
    // checks a published vector and interoperability with the standardwebhooks package). Bytes are
    // signed as received: decoding them first would change any that are not UTF-8.
    const expected = createHmac('sha256', key).update(`${webhookId}.${timestamp}.`).update(body).digest();
    if (provided.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { ok: true, body };
    }
  }
  return reject('the signature did not match');
};
