import { z } from 'zod';
import { usableId } from '../core/identity';
import { pathSegment } from '../core/net';
import { isPlainObject } from '../core/normalise';

// The shapes of Ecologic's responses (docs/ecologic-api.md section 2). Loaded only when the app
// calls the API, never on the delivery path. A tolerant reader: unknown keys are allowed (the
// platform may add fields), and every unambiguous variant of a shape is accepted (section 2.10).

/** An id sent as a string or a number, read as the trimmed string. */
const id = z
  .union([z.string(), z.number()])
  .transform((value) => usableId(value) ?? '')
  .refine((value) => value !== '', { message: 'an id must not be empty' });

/** A list: a bare JSON array, or one under `data`, `items` or `results` (the first that is an array). */
const listIn = (body: unknown): unknown[] | undefined => {
  if (Array.isArray(body)) return body;
  if (!isPlainObject(body)) return undefined;
  return [body.data, body.items, body.results].find(Array.isArray);
};

const listOf = <T extends z.ZodType>(element: T, limit = Infinity) =>
  z.preprocess((body) => listIn(body)?.slice(0, limit), z.array(element));

/** `GET /me`: any JSON object; the connection label is read from whatever it holds. */
export const meResponse = z.looseObject({});

/** The subscription, at the top level or under `data`. Its id must be able to name it in a path. */
export const subscriptionResponse = z.preprocess(
  (body) => (isPlainObject(body) && !('id' in body) && isPlainObject(body.data) ? body.data : body),
  z.looseObject({
    id: id.refine((value) => pathSegment(value) !== null, { message: 'the id cannot name the subscription' }),
    // Checked by subscribe itself, which can then remove the subscription before failing.
    secret: z.unknown().optional(),
  }),
);

// Samples are checked to be JSON objects but passed on as received (not copied through z.record,
// which would drop a "__proto__" key), so "Test trigger" maps exactly what a delivery would carry.
// Only the first `limit` are looked at: a platform returning more costs nothing beyond them.
export const samplesResponse = (limit: number) =>
  listOf(z.custom<Record<string, unknown>>(isPlainObject, { message: 'each sample must be a JSON object' }), limit);

export const actionsResponse = listOf(z.looseObject({ code: id, name: z.string().nullish() }));

export const labelsResponse = listOf(z.looseObject({ id, name: z.string().nullish() }));

export const errorResponse = z.looseObject({
  error: z.looseObject({ code: z.string().optional(), message: z.string().optional() }),
});

export type ResponseShapes = typeof import('./responses');
