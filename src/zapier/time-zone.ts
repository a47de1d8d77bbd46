import { readableText } from '../core/derive/text';

/**
 * An IANA time zone name (`Australia/Melbourne`, `UTC`) this runtime knows, in its canonical
 * spelling; anything else (an offset such as `+10:00`, an unknown or misspelt zone) is null.
 */
export const ianaTimeZone = (value: unknown): string | null => {
  const text = readableText(value);
  if (text === null || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(text)) return null;
  try {
    return new Intl.DateTimeFormat('en-AU', { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
};

