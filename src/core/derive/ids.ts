import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal data always serialises the same way. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/** A deterministic id for a delivery that carries none: the same event and body give the same id. */
export const contentId = (event: string, body: unknown): string =>
  `evt_sha256_${createHash('sha256').update(event).update('\n').update(canonicalJson(body)).digest('hex').slice(0, 32)}`;
