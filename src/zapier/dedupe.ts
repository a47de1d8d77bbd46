import { hash, randomUUID } from 'node:crypto';
import type { ZObject } from 'zapier-platform-core';
import { EVENT_MEMORY_SECONDS } from '../contract/schedule';

/** How long a delivered event is remembered (see EVENT_MEMORY_SECONDS). */
export const DEDUPE_TTL_SECONDS = EVENT_MEMORY_SECONDS;

/** Claims made at once for a batch: bounded, so a large batch cannot flood Zapier's cache. */
const CONCURRENT_CLAIMS = 8;

// One-shot hashing: the same digest as a Hash object fed the three parts, at a third of its cost.
const cacheKey = (subscriptionId: string, claim: string): string => `ecologic:delivered:${hash('sha256', `${subscriptionId}\n${claim}`, 'hex')}`;

export type Claim = 'first' | 'duplicate' | 'unknown';

/**
 * Claims (subscription, claim) so that only the first delivery of an event to a Zap produces an
 * item. A stored claim means duplicate (one cache call); otherwise an `nx` set decides, and Zapier's
 * cache makes it atomic (two calls). Only a cache that answers neither true nor false to the `nx`
 * set costs a third call: our own token read back. The app tester's mock ignores `nx`, so under it
 * a duplicate is caught by the first read, not by a race. When the cache fails the answer is
 * 'unknown' and the caller delivers, because a duplicate is better than a lost lead.
 */
const claimOne = async (z: ZObject, subscriptionId: string, claim: string): Promise<Claim> => {
  const key = cacheKey(subscriptionId, claim);
  try {
    if ((await z.cache.get(key)) !== null) return 'duplicate';
    const token = randomUUID();
    const stored = await z.cache.set(key, token, DEDUPE_TTL_SECONDS, undefined, true);
    if (stored === true) return 'first';
    if (stored === false) return 'duplicate';
    return (await z.cache.get(key)) === token ? 'first' : 'duplicate';
  } catch {
    return 'unknown';
  }
};

/** Each distinct claim once, a few at a time: cost linear in the claims, latency in their eighth. */
export const claimDeliveries = async (z: ZObject, subscriptionId: string, claims: readonly string[]): Promise<Map<string, Claim>> => {
  const outcome = new Map<string, Claim>();
  // The common case, one event per delivery, without the pool.
  if (claims.length === 1) return outcome.set(claims[0]!, await claimOne(z, subscriptionId, claims[0]!));
  const pending = [...new Set(claims)];
  const worker = async () => {
    for (let claim = pending.pop(); claim !== undefined; claim = pending.pop()) {
      outcome.set(claim, await claimOne(z, subscriptionId, claim));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_CLAIMS, pending.length) }, worker));
  return outcome;
};
