// What a partner-facing message must not contain: the words of an HTTP client or a schema validator.
// URLs are taken out first: a link to support or the guide is allowed, and its path is not a path
// the partner is asked to understand.

/**
 * Words an installer does not use, with what to say instead: "security code" (the Zap's, from
 * Ecologic) for a signing secret; "the moment something happens" for instant; "stopped" for
 * halted; "dropdown" or "list" for a picklist; "more than one currency" for multi-currency portals.
 */
export const UNPLAIN_WORDS = /\b(signing secrets?|instant|halted|pick-?lists?|multi-currency portals?)\b/i;

const RULES: ReadonlyArray<readonly [string, RegExp]> = [
  ['an HTTP method', /\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b/],
  ['a path', /(^|[\s(:"'`])\/[\w{}.:-]/],
  ['a status number', /\b[1-5]\d\d\b/],
  [
    'a schema or developer word',
    /\b(JSON|schema|objects?|arrays?|null|undefined|payload|endpoint|HTTP|status code|string|boolean|data\.\d|webhook|ECOLOGIC_API_BASE_URL)\b/i,
  ],
  ['a promise that Zapier retries by itself', /Zapier will retry/i],
  ['a word an installer does not use', UNPLAIN_WORDS],
];

const URL = /https?:\/\/[^\s)\]]+/g;

/** The rules a partner-facing text breaks, by name; empty when it reads as an installer's text. */
export const developerWords = (text: string): string[] => {
  const prose = text.replace(URL, '<link>');
  return RULES.filter(([, pattern]) => pattern.test(prose)).map(([name]) => name);
};

/** The message a partner sees: zapier-platform-core's errors carry `{message, code}` as JSON. */
export const shownMessage = (error: unknown): string => {
  const raw = error instanceof Error ? error.message : String(error);
  try {
    const parsed = JSON.parse(raw) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : raw;
  } catch {
    return raw;
  }
};
