import { errors, type ZObject } from 'zapier-platform-core';
import { PARTNER_MESSAGES, type Activity, type PartnerMessage, type PartnerMessageName } from './messages';

// zapier-platform-core appends the whole bundle (delivery body, raw request, subscribeData with its
// secret) to an error's message unless the error carries `doNotContextify`. Every error the app
// raises goes through these constructors so that none carries personal data or secrets.

type Uncontextified<E extends Error> = E & { doNotContextify: true };

const withoutContext = <E extends Error>(error: E): Uncontextified<E> =>
  Object.assign(error, { doNotContextify: true as const });

/** A failure the partner can act on; shown in the Zap history. */
export const appError = (message: string, code: string): Error => withoutContext(new errors.Error(message, code));

/** Stops the run without counting toward Zapier turning the Zap off. */
export const haltedError = (message: string): Error => withoutContext(new errors.HaltedError(message));

/** The API key was rejected: Zapier asks the partner to reconnect. */
export const expiredAuthError = (message: string): Error => withoutContext(new errors.ExpiredAuthError(message));

/** Zapier retries after `delaySeconds`. */
export const throttledError = (message: string, delaySeconds?: number): Error =>
  withoutContext(new errors.ThrottledError(message, delaySeconds));

/** One of the partner messages (src/zapier/messages.ts) as the error Zapier should see. */
export const partnerError = (name: PartnerMessageName, activity: Activity = '', delaySeconds?: number): Error => {
  const { code, text, raisedAs }: PartnerMessage = PARTNER_MESSAGES[name];
  const message = text(activity);
  if (raisedAs === 'expiredAuth') return expiredAuthError(message);
  if (raisedAs === 'throttled') return throttledError(message, delaySeconds);
  if (raisedAs === 'halted') return haltedError(message);
  return appError(message, code);
};

/**
 * Runs a Zapier operation so that every error leaving it is safe to show: the app's own errors pass
 * through; anything else (a bug, a library's error whose message may quote the payload) becomes the
 * partner's "something went wrong" for this activity, and the developers' log gets the error's
 * class, never its message.
 */
export const guarded =
  <Args extends unknown[], R>(activity: Activity, fn: (...args: Args) => R | Promise<R>) =>
  async (...args: Args): Promise<R> => {
    try {
      return await fn(...args);
    } catch (error) {
      if (error instanceof Error && (error as { doNotContextify?: boolean }).doNotContextify) throw error;
      const kind = error instanceof Error && /^\w{1,40}$/.test(error.name) ? error.name : 'unknown error';
      (args[0] as Partial<ZObject> | undefined)?.console?.error?.(`unexpected ${kind} while ${activity}`);
      throw partnerError('somethingWentWrong', activity);
    }
  };
