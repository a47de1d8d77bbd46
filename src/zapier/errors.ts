import { errors } from 'zapier-platform-core';

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
