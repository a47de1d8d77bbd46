/**
 * What the receiver's console shows of an item: every value that can identify a person (names,
 * emails, phones, street addresses, postcodes, free text) masked, so a screen share or a glance
 * over a shoulder gives nothing away. Only an operator's "reveal" of one item shows it as it is.
 *
 * Fields are judged by their names, at any depth; a personal field holding an object or a list is
 * masked throughout. Any other string that looks like an email address is masked too, whatever
 * its field is called. When unsure, a field is masked: a `…_name` is personal unless it is one of
 * the few names of things (an action, an audit type, a supplier).
 */

type Kind = 'name' | 'email' | 'phone' | 'address' | 'text';

/** Field names ending in `name` that name a thing, not a person. */
const NOT_PERSONAL_NAMES = new Set(['action_name', 'audit_type_name', 'supplier_name', 'event_name', 'label_name', 'type_name', 'time_zone_name']);

const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The kind of personal value a field holds, by its name, or undefined when it is not personal. */
export const personalKind = (key: string): Kind | undefined => {
  const name = key.toLowerCase();
  if (/e-?mail/.test(name)) return 'email';
  if (/phone|mobile|fax|(^|_)tel($|_)/.test(name)) return 'phone';
  if (/(^|_)(street|address|suburb|postcode|post_code|zip|zip_code|city|address_line\d*|line\d)($|_)/.test(name) || name === 'address') return 'address';
  if (/(^|_)(comments?|notes?|message|customer|contact|person|owner|recipient)$/.test(name)) return 'text';
  if (/(^|_)name$|^name$|(^|_)(first|last|given|family|middle|full|sur)_?name/.test(name) && !NOT_PERSONAL_NAMES.has(name)) return 'name';
  return undefined;
};

const stars = (text: string): string => (text === '' ? '' : `${text[0]}***`);

/** `Jack Thompson` → `J*** T***`. */
const maskName = (value: string): string =>
  value
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(stars)
    .join(' ');

/** `jack.thompson@example.com` → `j***@example.com`: the domain says which company, not who. */
const maskEmail = (value: string): string => {
  const at = value.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${value[0]}***${value.slice(at)}`;
};

/** `0423 456 789` → `**** *** *89`: the last two digits, to tell numbers apart. */
const maskPhone = (value: string): string => {
  const digits = value.replace(/\D/g, '').length;
  let seen = 0;
  return value.replace(/\d/g, (digit) => {
    seen += 1;
    return seen > digits - 2 ? digit : '*';
  });
};

/** `27 Banksia Street, Brunswick` → `2*** B*** S***, B***`. */
const maskAddress = (value: string): string => value.replace(/[^\s,/]+/g, stars);

const maskText = (value: string): string => (value.trim() === '' ? value : `(${[...value].length} characters hidden)`);

const maskString = (kind: Kind, value: string): string => {
  switch (kind) {
    case 'name':
      return maskName(value);
    case 'email':
      return maskEmail(value);
    case 'phone':
      return maskPhone(value);
    case 'address':
      return maskAddress(value);
    case 'text':
      return maskText(value);
  }
};

/** Every value under a personal field: strings masked by kind, numbers as stars, null and booleans as they are. */
const maskAll = (kind: Kind, value: unknown): unknown => {
  if (typeof value === 'string') return maskString(kind, value);
  if (typeof value === 'number' || typeof value === 'bigint') return '***';
  if (Array.isArray(value)) return value.map((entry) => maskAll(kind, entry));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, maskAll(personalKind(key) ?? kind, entry)]));
  }
  return value;
};

/** The value with every personal field masked, at any depth; the original is left as it was. */
export const maskPersonal = (value: unknown): unknown => {
  if (typeof value === 'string') return EMAIL_LIKE.test(value.trim()) ? maskEmail(value.trim()) : value;
  if (Array.isArray(value)) return value.map(maskPersonal);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => {
        const kind = personalKind(key);
        return [key, kind === undefined ? maskPersonal(entry) : maskAll(kind, entry)];
      }),
    );
  }
  return value;
};

/** A short masked line naming who an item is about (`J*** T***, j***@example.com`), or null. */
export const maskedSummary = (item: unknown): string | null => {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
  const record = item as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' && (record[key] as string).trim() !== '' ? (record[key] as string).trim() : undefined);
  const name = text('full_name') ?? ([text('first_name'), text('last_name')].filter(Boolean).join(' ') || undefined);
  const email = text('email') ?? text('reply_email');
  const parts = [name === undefined ? undefined : maskName(name), email === undefined ? undefined : maskEmail(email)].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? null : parts.join(', ');
};
