import { readableText } from './text';

// The platform sends some values as codes (`solar_pv`, `home_energy`). A partner's CRM wants words,
// so each code field gets a readable companion. Codes we know are named here (the sandbox serves the
// same names from `GET /actions`); a code we do not know is spelt out from its parts rather than
// dropped, so a new product on the platform still reads sensibly.

/** Products and services a quote request can be for, by action code. */
export const KNOWN_ACTIONS: Readonly<Record<string, string>> = {
  solar_pv: 'Solar PV',
  battery: 'Home Battery',
  solar_battery: 'Solar PV + Battery',
  heat_pump_hot_water: 'Heat Pump Hot Water',
  ev_charger: 'EV Charger',
  reverse_cycle_ac: 'Reverse-Cycle Air Conditioning',
};

/** Kinds of audit, by audit type code. */
export const KNOWN_AUDIT_TYPES: Readonly<Record<string, string>> = {
  home_energy: 'Home Energy Audit',
  business_energy: 'Business Energy Audit',
};

// Parts of a code that read as capitals (a "pv" is "PV", never "Pv").
const ACRONYMS = new Set(['ac', 'ev', 'pv', 'hvac', 'led', 'gst', 'nabers', 'co2', 'diy']);

/** `heat_pump` → "Heat Pump"; `ev-charger` → "EV Charger". */
const spelledOut = (code: string): string =>
  code
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .map((part) => (ACRONYMS.has(part.toLowerCase()) ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1).toLowerCase()))
    .join(' ');

/**
 * A code as words: its known name (codes compare without regard to case), else the code spelt out
 * from its parts; null when there is no code.
 */
export const readableCode = (value: unknown, known: Readonly<Record<string, string>>): string | null => {
  const code = readableText(value);
  if (code === null || code.length > 100) return null;
  return Object.hasOwn(known, code.toLowerCase()) ? known[code.toLowerCase()]! : spelledOut(code) || null;
};
