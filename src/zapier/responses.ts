import { z } from 'zod';
import { isPlainObject } from '../core/normalise';

// The shapes of Ecologic's responses (docs/ecologic-api.md section 2). Loaded only when the app
// calls the API, never on the delivery path. Unknown keys are allowed: the platform may add fields.

const id = z.string().trim().min(1);

export const meResponse = z.looseObject({
  organisation_id: id,
  organisation_name: z.string().nullish(),
  email: z.string().nullish(),
});

export const subscriptionResponse = z.looseObject({
  id,
  secret: z.string().startsWith('whsec_').optional(),
});

// Samples are checked to be JSON objects but passed on as received (not copied through z.record,
// which would drop a "__proto__" key), so "Test trigger" maps exactly what a delivery would carry.
export const samplesResponse = z.looseObject({
  data: z.array(
    z.custom<Record<string, unknown>>(isPlainObject, { message: 'each sample must be a JSON object' }),
  ),
});

export const actionsResponse = z.looseObject({
  data: z.array(z.looseObject({ code: id, name: z.string() })),
});

export const labelsResponse = z.looseObject({
  data: z.array(z.looseObject({ id, name: z.string() })),
});

export const errorResponse = z.looseObject({
  error: z.looseObject({ code: z.string().optional(), message: z.string().optional() }),
});

export type ResponseShapes = typeof import('./responses');
