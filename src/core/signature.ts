import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
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

const decodedKeys = new Map<string, KeyObject>();

/**
 * The HMAC key of a usable secret, decoded once per secret: the library that validates it decodes
 * on every call. Kept as a KeyObject, which an HMAC takes without copying the key again. Bounded,
 * since one process may serve many Zaps.
 */
const signingKey = (secret: string): KeyObject | null => {
  let key = decodedKeys.get(secret);
  if (key === undefined) {
    if (!signerFor(secret)) return null;
    if (decodedKeys.size >= 256) decodedKeys.clear();
    key = createSecretKey(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'));
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

/** The headers' verdict: why they can never verify, else what the signing needs from them. */
const readHeaders = (
  delivery: Omit<SignedDelivery<SignedBody>, 'bodies'>,
  now: Date,
  window: { pastSeconds: number; futureSeconds: number },
): { readonly refused: string } | { readonly refused: undefined; readonly timestamp: number; readonly provided: Buffer[] } => {
  const { webhookId, webhookTimestamp, webhookSignature } = delivery;
  if (!webhookId) return { refused: 'the webhook-id header is missing' };
  if (!webhookTimestamp) return { refused: 'the webhook-timestamp header is missing' };
  if (!webhookSignature) return { refused: 'the webhook-signature header is missing' };
  const seconds = webhookTimestamp.trim();
  if (!/^\d{1,12}$/.test(seconds)) return { refused: 'the webhook-timestamp header is not a Unix time' };

  const timestamp = Number(seconds);
  const age = Math.floor(now.getTime() / 1000) - timestamp;
  if (age > window.pastSeconds) return { refused: `the delivery was signed ${age} s ago, outside the ${window.pastSeconds} s window` };
  if (-age > window.futureSeconds) return { refused: `the delivery timestamp is ${-age} s in the future` };
  const provided = v1Signatures(webhookSignature);
  if (provided.length === 0) return { refused: 'the webhook-signature header has no v1 signature' };
  return { refused: undefined, timestamp, provided };
};

/**
 * What the headers alone can tell: why a delivery can never verify (a header missing, a time
 * outside the window, no v1 signature), else undefined. Checked before any body is read.
 */
export const headerRejection = (
  delivery: Omit<SignedDelivery<SignedBody>, 'bodies'>,
  now: Date,
  window: { pastSeconds: number; futureSeconds: number } = SIGNATURE_WINDOW,
): string | undefined => readHeaders(delivery, now, window).refused;

/**
 * Verifies a Standard Webhooks signature: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
 * subscription's secret, compared in constant time; any one matching `v1` entry accepts (rotation).
 * The reason for a rejection never includes the body, the secret or the signatures.
 */
export const verifyDelivery = <B extends SignedBody = string>(
  secret: string,
  delivery: SignedDelivery<B>,
  now: Date,
  window: { pastSeconds: number; futureSeconds: number } = SIGNATURE_WINDOW,
): Verification<B> => {
  // The headers are read once: the signatures decoded for the check are the ones compared.
  const headers = readHeaders(delivery, now, window);
  if (headers.refused !== undefined) return reject(headers.refused);
  const { timestamp, provided } = headers;

  const key = signingKey(secret);
  if (!key) return reject('the subscription secret is not a valid whsec_ secret');
  const signedPrefix = `${delivery.webhookId}.${timestamp}.`;
  for (const body of delivery.bodies) {
    // What Standard Webhooks signs: `{id}.{timestamp}.{body}`, HMAC-SHA256 (test/signature.test.ts
    // checks a published vector and interoperability with the standardwebhooks package). Bytes are
    // signed as received: decoding them first would change any that are not UTF-8. Text is signed
    // in one piece, which is the same UTF-8 as two since the prefix ends in ASCII.
    const hmac = createHmac('sha256', key);
    const expected = (typeof body === 'string' ? hmac.update(signedPrefix + body) : hmac.update(signedPrefix).update(body)).digest();
    if (provided.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { ok: true, body };
    }
  }
  return reject('the signature did not match');
};
