import { createHash, randomUUID } from 'node:crypto';
import type { ZObject } from 'zapier-platform-core';

/**
 * How long a delivered event is remembered: the platform retries for up to 24 hours and the
 * signature window is one hour, so two days covers every retry and every replay of a signed delivery.
 */
export const DEDUPE_TTL_SECONDS = 48 * 60 * 60;

const cacheKey = (subscriptionId: string, eventId: string): string =>
  `ecologic:delivered:${createHash('sha256').update(subscriptionId).update('\n').update(eventId).digest('hex')}`;

export type Claim = 'first' | 'duplicate' | 'unknown';

/**
 * Claims (subscription, event) so that only the first delivery of an event to a Zap produces an
 * item. Works with Zapier's cache, whose `nx` set is atomic, and with the app tester's mock, which
 * ignores `nx`: the read-back of our own token settles races either way. When the cache fails the
 * answer is 'unknown' and the caller delivers, because a duplicate is better than a lost lead.
 */
export const claimDelivery = async (z: ZObject, subscriptionId: string, eventId: string): Promise<Claim> => {
  const key = cacheKey(subscriptionId, eventId);
  try {
    if ((await z.cache.get(key)) !== null) return 'duplicate';
    const token = randomUUID();
    const stored = await z.cache.set(key, token, DEDUPE_TTL_SECONDS, undefined, true);
    if (stored === false) return 'duplicate';
    return (await z.cache.get(key)) === token ? 'first' : 'duplicate';
  } catch {
    return 'unknown';
  }
};
