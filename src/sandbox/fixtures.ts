/**
 * Realistic, Australian-flavoured demo data for the sandbox (docs/ecologic-api.md section 4).
 *
 * Everything here is invented. Phone numbers come from the ranges ACMA reserves for fiction
 * (0491 570 xxx mobiles, 02/03/07 5550 xxxx landlines) and email addresses use example domains, so
 * nothing generated here reaches a real person. Strings are sometimes produced "as typed" (stray
 * spaces, lower case, state and country spelt out) because the platform sends them that way and the
 * app is expected to normalise them.
 */
import { randomBytes } from 'node:crypto';

import { KNOWN_ACTIONS } from '../core/derive/codes';
import { type EventName, labelTypeFor } from './events';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** A seeded PRNG (mulberry32) so demo runs and tests can be repeated; unseeded uses crypto. */
export function createRng(seed?: number): Rng {
  if (seed === undefined) {
    return () => randomBytes(4).readUInt32BE(0) / 0x1_0000_0000;
  }
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(rng() * items.length)] as T;
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** An opaque id with a type prefix, e.g. `ntf_2b7Hc9xQ` (contract 2.1). Always crypto-random. */
export function prefixedId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return `${prefix}_${out}`;
}

/** `evt_` + a ULID (48-bit time, 80 random bits, Crockford base32): unique and roughly time-ordered. */
export function newEventId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[(bytes[i] as number) % 32];
  return `evt_${time}${rand}`;
}

/** A per-subscription signing secret: `whsec_` + base64 of 24 random bytes (contract 3.3). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** `$4,990.00` */
export function formatAud(amount: number): string {
  return `$${amount.toLocaleString('en-AU', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

// ---------------------------------------------------------------------------------------------
// Reference data the REST API serves (GET /actions, GET /labels)

export interface ActionCode {
  code: string;
  name: string;
}

/** The products and services of `GET /actions`: the app's own list of names, so the two cannot differ. */
export const ACTIONS: readonly ActionCode[] = Object.freeze(
  Object.entries(KNOWN_ACTIONS).map(([code, name]) => Object.freeze({ code, name })),
);

export type LabelType = 'audit' | 'quote_request';

export interface Label {
  id: string;
  name: string;
  type: LabelType;
}

export const LABELS: readonly Label[] = [
  { id: 'lbl_4kd8', name: 'Site visit booked', type: 'quote_request' },
  { id: 'lbl_7pq2', name: 'Quote sent', type: 'quote_request' },
  { id: 'lbl_9xw3', name: 'Won', type: 'quote_request' },
  { id: 'lbl_2mn5', name: 'Lost', type: 'quote_request' },
  { id: 'lbl_a1c6', name: 'Awaiting documents', type: 'audit' },
  { id: 'lbl_b8e3', name: 'Site visit booked', type: 'audit' },
  { id: 'lbl_c5f7', name: 'Report sent', type: 'audit' },
  { id: 'lbl_d2h9', name: 'Completed', type: 'audit' },
];

/** An action by code, ignoring case and surrounding spaces (as the app compares them). */
export function findAction(code: string): ActionCode | undefined {
  const wanted = code.trim().toLowerCase();
  return ACTIONS.find((a) => a.code === wanted);
}

/** Where the record lives in Ecologic's web app (contract 4.1 and 4.3: `quote_request_url`, `audit_url`). */
export const ECOLOGIC_APP_URL = 'https://app.getecologic.com';

/** `https://app.getecologic.com/quote-requests/qr_5Lm3Dw` */
export function quoteRequestUrl(quoteRequestId: string): string {
  return `${ECOLOGIC_APP_URL}/quote-requests/${encodeURIComponent(quoteRequestId)}`;
}

/** `https://app.getecologic.com/audits/aud_8Hq2Xk` */
export function auditUrl(auditId: string): string {
  return `${ECOLOGIC_APP_URL}/audits/${encodeURIComponent(auditId)}`;
}

/** A label of the given type by id or by name, case-insensitive (contract 2.4 `filters.label`). */
export function findLabel(type: LabelType, idOrName: string): Label | undefined {
  const wanted = idOrName.trim().toLowerCase();
  return LABELS.find(
    (l) => l.type === type && (l.id.toLowerCase() === wanted || l.name.toLowerCase() === wanted),
  );
}

// ---------------------------------------------------------------------------------------------
// People and places

const FIRST_NAMES = [
  'Olivia', 'Jack', 'Charlotte', 'William', 'Amelia', 'Noah', 'Isla', 'Oliver', 'Mia', 'Thomas',
  'Chloe', 'Lachlan', 'Zoe', 'Mitchell', 'Priya', 'Wei', 'Minh', 'Aroha', 'Sienna', 'Hamish',
] as const;

const LAST_NAMES = [
  'Smith', 'Jones', 'Williams', 'Brown', 'Wilson', 'Taylor', 'Nguyen', 'Anderson', 'Thompson',
  'Kelly', 'Singh', 'Chen', "O'Brien", 'Papadopoulos', 'McDonald', 'Walker', 'Tran', 'Ryan',
] as const;

const STAFF = [
  { name: 'Emma Fraser', email: 'emma.fraser@sunrise-solar.example' },
  { name: 'Daniel Costa', email: 'daniel.costa@sunrise-solar.example' },
  { name: 'Grace Liu', email: 'grace.liu@sunrise-solar.example' },
  { name: 'Ben Murphy', email: 'ben.murphy@sunrise-solar.example' },
] as const;

interface Locality {
  suburb: string;
  state: 'NSW' | 'VIC' | 'QLD';
  postcode: string;
}

const LOCALITIES: readonly Locality[] = [
  { suburb: 'Parramatta', state: 'NSW', postcode: '2150' },
  { suburb: 'Newtown', state: 'NSW', postcode: '2042' },
  { suburb: 'Penrith', state: 'NSW', postcode: '2750' },
  { suburb: 'Wollongong', state: 'NSW', postcode: '2500' },
  { suburb: 'Newcastle', state: 'NSW', postcode: '2300' },
  { suburb: 'Fitzroy', state: 'VIC', postcode: '3065' },
  { suburb: 'Geelong', state: 'VIC', postcode: '3220' },
  { suburb: 'Ballarat', state: 'VIC', postcode: '3350' },
  { suburb: 'Box Hill', state: 'VIC', postcode: '3128' },
  { suburb: 'Toowong', state: 'QLD', postcode: '4066' },
  { suburb: 'Southport', state: 'QLD', postcode: '4215' },
  { suburb: 'Cairns', state: 'QLD', postcode: '4870' },
  { suburb: 'Toowoomba', state: 'QLD', postcode: '4350' },
];

const STATE_NAMES: Record<Locality['state'], string> = {
  NSW: 'New South Wales',
  VIC: 'Victoria',
  QLD: 'Queensland',
};

const AREA_CODES: Record<Locality['state'], string> = { NSW: '02', VIC: '03', QLD: '07' };

const STREET_NAMES = [
  'Wattle', 'Banksia', 'Jacaranda', 'Bottlebrush', 'Waratah', 'Kookaburra', 'Station', 'Church',
  'George', 'High', 'Victoria', 'Beach', 'Hill',
] as const;

const STREET_TYPES = ['Street', 'St', 'Road', 'Rd', 'Avenue', 'Ave', 'Crescent', 'Parade', 'Close'] as const;

/** ACMA's fictitious mobile numbers (0491 570 xxx …). */
const FICTION_MOBILES = [
  '0491570006', '0491570156', '0491570157', '0491570158', '0491570159', '0491570110',
  '0491570313', '0491570737', '0491571266', '0491571491', '0491571804', '0491572549',
  '0491572665', '0491572983', '0491573770', '0491573087', '0491574118', '0491574632',
] as const;

const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'household.example'] as const;

export interface Person {
  first_name: string;
  last_name: string;
  email: string;
  phone: string;
}

export interface Address {
  street: string;
  postcode: string;
  state: string;
  country: string;
}

/** Sometimes return the value "as typed": surrounding spaces or lower case. */
function asTyped(rng: Rng, value: string, messy: number): string {
  if (!chance(rng, messy)) return value;
  return pick(rng, [` ${value}`, `${value} `, value.toLowerCase(), `  ${value}  `]);
}

function phoneFor(rng: Rng, state: Locality['state']): string {
  if (chance(rng, 0.75)) {
    const digits = pick(rng, FICTION_MOBILES);
    const spaced = `${digits.slice(0, 4)} ${digits.slice(4, 7)} ${digits.slice(7)}`;
    return pick(rng, [spaced, spaced, digits, `+61 ${digits.slice(1, 4)} ${digits.slice(4, 7)} ${digits.slice(7)}`]);
  }
  const local = `5550 ${String(intBetween(rng, 0, 9999)).padStart(4, '0')}`;
  return pick(rng, [`(${AREA_CODES[state]}) ${local}`, `${AREA_CODES[state]} ${local}`]);
}

export function person(rng: Rng, messy = 0.15, state: Locality['state'] = 'NSW'): Person {
  const first = pick(rng, FIRST_NAMES);
  const last = pick(rng, LAST_NAMES);
  const local = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
  const email = `${local}${chance(rng, 0.3) ? intBetween(rng, 1, 99) : ''}@${pick(rng, EMAIL_DOMAINS)}`;
  return {
    first_name: asTyped(rng, first, messy),
    last_name: asTyped(rng, last, messy),
    email: chance(rng, messy) ? ` ${email.replace(/^./, (c) => c.toUpperCase())}` : email,
    phone: phoneFor(rng, state),
  };
}

export function address(rng: Rng, messy = 0.15): Address & { locality: Locality } {
  const locality = pick(rng, LOCALITIES);
  const unit = chance(rng, 0.2) ? `${intBetween(rng, 1, 12)}/` : '';
  const street = `${unit}${intBetween(rng, 1, 240)} ${pick(rng, STREET_NAMES)} ${pick(rng, STREET_TYPES)}, ${locality.suburb}`;
  const state = chance(rng, messy * 2) ? pick(rng, [STATE_NAMES[locality.state], locality.state.toLowerCase()]) : locality.state;
  const country = chance(rng, messy * 2) ? pick(rng, ['AU', 'australia', 'Australia ']) : 'Australia';
  return { street: asTyped(rng, street, messy / 2), postcode: locality.postcode, state, country, locality };
}

// ---------------------------------------------------------------------------------------------
// Offers (RequestQuote:Create)

interface Offer {
  title: string;
  description: string;
  price: string | number;
}

const OFFERS: Record<string, readonly Offer[]> = {
  solar_pv: [
    { title: '3 kW Standard Solar Package', description: 'Eight tier-1 panels, string inverter, standard installation on a single-storey tin roof.', price: '$4,990.00' },
    { title: '6.6 kW Premium Solar Package', description: 'Fifteen 440 W panels with a 5 kW hybrid-ready inverter and monitoring app.', price: '$7,490.00' },
    { title: '10 kW Solar Package', description: 'Twenty-three panels, 8.2 kW three-phase inverter.', price: 10990 },
  ],
  battery: [
    { title: '10 kWh Home Battery', description: 'Wall-mounted lithium battery with backup circuit.', price: '$9,900.00' },
    { title: '13.5 kWh Premium Home Battery', description: 'Whole-of-home backup, installed outdoors.', price: 'POA' },
  ],
  solar_battery: [
    { title: '6.6 kW Solar + 10 kWh Battery Bundle', description: 'Panels, hybrid inverter and battery in one installation.', price: '$15,490.00' },
  ],
  heat_pump_hot_water: [
    { title: '270 L Heat Pump Hot Water System', description: 'Replaces an electric storage tank; includes removal of the old unit.', price: 3290 },
  ],
  ev_charger: [
    { title: '7 kW Smart EV Charger', description: 'Single-phase wall charger with solar-surplus mode.', price: '$1,850.00' },
  ],
  reverse_cycle_ac: [
    { title: '7.1 kW Split System', description: 'Reverse-cycle inverter air conditioner, back-to-back install.', price: '$2,690.00' },
  ],
};

const SUPPLIERS = ['Sunrise Solar Pty Ltd', 'Bright Sky Energy', 'Harbourside Electrical', 'GreenVolt Installations'] as const;

const COMMENTS = [
  'Please call after 3pm on weekdays.',
  'Two-storey house, north-facing roof. Interested in a battery later.',
  'We already have 2 kW of old panels, can they stay?',
  'Renting at the moment, landlord has approved the install.',
  'Is there a rebate for this in our state?',
  '',
] as const;

/** What was simulated, with plausible yearly savings and installed cost (AUD). */
const SCENARIOS = [
  { scenario: '6.6 kW solar + 10 kWh battery', savings: [1200, 1900], cost: [12000, 18000] },
  { scenario: '10 kW solar', savings: [900, 1600], cost: [8000, 12000] },
  { scenario: 'Heat pump hot water', savings: [350, 700], cost: [2500, 4500] },
  { scenario: 'Reverse-cycle heating and cooling upgrade', savings: [400, 900], cost: [3000, 6000] },
] as const;

// ---------------------------------------------------------------------------------------------
// Event bodies (contract 3.2 and section 4)

export type EventBody = Record<string, unknown> & { event_id: string; event: EventName; occurred_at: string };

export interface GenerateOptions {
  rng?: Rng;
  /** Fields to set; they override generated values (the common fields `event` stays as named). */
  data?: Record<string, unknown>;
  occurredAt?: Date;
  /** Probability that a free-text field is sent untidily "as typed" (default 0.15). */
  messy?: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function auditFields(rng: Rng, messy: number): Record<string, unknown> {
  const place = address(rng, messy);
  const owner = person(rng, messy, place.locality.state);
  const auditId = prefixedId('aud', 8);
  return {
    audit_id: auditId,
    audit_url: auditUrl(auditId),
    audit_type: chance(rng, 0.8) ? 'home_energy' : 'business_energy',
    first_name: owner.first_name,
    last_name: owner.last_name,
    email: owner.email,
    phone: owner.phone,
    street: place.street,
    suburb: place.locality.suburb,
    postcode: place.postcode,
    state: place.state,
    country: place.country,
  };
}

function labelFields(rng: Rng, event: EventName, data: Record<string, unknown>): Record<string, unknown> {
  const type = labelTypeFor(event);
  if (!type) return {};
  const hint = str(data['label_id']) ?? str(data['label']);
  const label = (hint && findLabel(type, hint)) || pick(rng, LABELS.filter((l) => l.type === type));
  return { label_id: label.id, label: label.name, applied_by_email: pick(rng, STAFF).email };
}

/** Each record's id field, its address field, and how the one makes the other. */
const RECORD_LINKS = [
  ['quote_request_id', 'quote_request_url', quoteRequestUrl],
  ['audit_id', 'audit_url', auditUrl],
] as const;

/** A realistic body for any of the six events, in exactly the format of a delivery. */
export function generateEventBody(event: EventName, options: GenerateOptions = {}): EventBody {
  const rng = options.rng ?? createRng();
  const messy = options.messy ?? 0.15;
  const data = options.data ?? {};
  const occurredAt = options.occurredAt ?? new Date();
  const common = {
    event_id: newEventId(occurredAt.getTime()),
    event,
    occurred_at: occurredAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };

  let fields: Record<string, unknown>;
  switch (event) {
    case 'RequestQuote:Create':
    case 'RequestQuote:Label:Apply': {
      const actionHint = str(data['action']);
      const action = (actionHint && findAction(actionHint)) || pick(rng, ACTIONS);
      const offer = pick(rng, OFFERS[action.code] ?? []);
      const place = address(rng, messy);
      const customer = person(rng, messy, place.locality.state);
      const quoteRequestId = prefixedId('qr', 8);
      const quote = {
        quote_request_id: quoteRequestId,
        quote_request_url: quoteRequestUrl(quoteRequestId),
        action: action.code,
        offer_title: offer.title,
        first_name: customer.first_name,
        last_name: customer.last_name,
        reply_email: customer.email,
        reply_phone: customer.phone,
        country: place.country,
      };
      if (event === 'RequestQuote:Create') {
        fields = {
          action: quote.action,
          supplier_name: pick(rng, SUPPLIERS),
          offer_title: offer.title,
          offer_description: offer.description,
          offer_price: offer.price,
          first_name: quote.first_name,
          last_name: quote.last_name,
          street: place.street,
          suburb: place.locality.suburb,
          postcode: place.postcode,
          state: place.state,
          country: place.country,
          reply_email: quote.reply_email,
          reply_phone: quote.reply_phone,
          comments: pick(rng, COMMENTS),
          quote_request_id: quote.quote_request_id,
          quote_request_url: quote.quote_request_url,
        };
      } else {
        const { quote_request_id, quote_request_url, ...snapshot } = quote;
        fields = { quote_request_id, quote_request_url, ...labelFields(rng, event, data), ...snapshot };
      }
      break;
    }
    case 'Audit:Create':
      fields = { ...auditFields(rng, messy), created_by_email: pick(rng, STAFF).email };
      break;
    case 'Audit:Simulate': {
      const s = pick(rng, SCENARIOS);
      const currentCost = intBetween(rng, 1600, 4200);
      const savings = intBetween(rng, s.savings[0], s.savings[1]);
      const before = intBetween(rng, 2, 5);
      fields = {
        ...auditFields(rng, messy),
        simulation_id: prefixedId('sim', 8),
        scenario: s.scenario,
        current_annual_cost: formatAud(currentCost),
        estimated_annual_savings: chance(rng, 0.7) ? formatAud(savings) : savings,
        estimated_payback_years: Math.round((intBetween(rng, s.cost[0], s.cost[1]) / savings) * 10) / 10,
        estimated_co2_reduction_kg: intBetween(rng, 800, 6500),
        energy_rating_before: before,
        energy_rating_after: Math.min(10, before + intBetween(rng, 1, 4) + (chance(rng, 0.5) ? 0.5 : 0)),
      };
      break;
    }
    case 'Audit:Assign': {
      const assignee = pick(rng, STAFF);
      const previous = pick(rng, STAFF.filter((s) => s !== assignee));
      fields = {
        ...auditFields(rng, messy),
        assignee_name: assignee.name,
        assignee_email: assignee.email,
        previous_assignee_email: chance(rng, 0.3) ? null : previous.email,
        assigned_by_email: pick(rng, STAFF).email,
      };
      break;
    }
    case 'Audit:Label:Apply':
      fields = { ...auditFields(rng, messy), ...labelFields(rng, event, data) };
      break;
  }

  // Hints that were resolved to a known action or label are already in `fields`, spelled properly.
  const overrides: Record<string, unknown> = { ...data };
  delete overrides['event'];
  const type = labelTypeFor(event);
  const labelHint = str(data['label_id']) ?? str(data['label']);
  if (type && labelHint && findLabel(type, labelHint)) {
    delete overrides['label'];
    delete overrides['label_id'];
  }
  // A record named in `data` (a label applied to a quote request fired earlier) keeps its address:
  // the URL follows the id unless `data` sets the URL too.
  for (const [idKey, urlKey, urlOf] of RECORD_LINKS) {
    if (Object.hasOwn(fields, idKey) && Object.hasOwn(overrides, idKey) && !Object.hasOwn(overrides, urlKey)) {
      const id = overrides[idKey];
      const text = typeof id === 'number' ? String(id) : typeof id === 'string' ? id.trim() : '';
      overrides[urlKey] = text !== '' ? urlOf(text) : null;
    }
  }
  return { ...common, ...fields, ...overrides, event } as EventBody;
}
