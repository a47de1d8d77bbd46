/**
 * The examples docs/openapi.yaml shows, in one place.
 *
 * - Delivery bodies: one realistic body per event, in the preferred form a platform sends (section
 *   3.2 and 4 of the contract), with reserved example domains. They are the document's only source;
 *   the app's test fixtures (test/fixtures) stay what they are for: deliberately untidy inputs
 *   (stray spaces, odd casing, an unknown nested field) that exercise the app's normalisation.
 * - REST responses: the JSON examples of the contract's sections 2.x, read from the prose itself
 *   (`contractExample`), so the prose and the document cannot show different answers.
 * - Errors: one per status, with the `error.code` that status carries (contract 2.1 and each section).
 *
 * test/openapi-examples.test.ts validates every example of the document against its own schema.
 */
import type { PlatformEvent } from '../core/events';

type Json = Record<string, unknown>;

// Two audits, each seen by two events (created then simulated; assigned then labelled): the audit
// and its owner are the same in both, as the platform would send them.
const HOME_AUDIT = {
  audit_id: 'aud_3Fh7Kq',
  audit_url: 'https://app.getecologic.com/audits/aud_3Fh7Kq',
  audit_type: 'home_energy',
  first_name: 'Mei',
  last_name: 'Chen',
  email: 'mei.chen@example.com',
  phone: '(02) 5550 4000',
  street: '8/42 Bondi Road',
  suburb: 'Bondi',
  postcode: '2026',
  state: 'NSW',
  country: 'Australia',
};

const BUSINESS_AUDIT = {
  audit_id: 'aud_6Jm1Rt',
  audit_url: 'https://app.getecologic.com/audits/aud_6Jm1Rt',
  audit_type: 'business_energy',
  first_name: 'Liam',
  last_name: "O'Brien",
  email: 'liam@obrien-bakery.example',
  phone: '07 5550 5555',
  street: '115 Brunswick Street',
  suburb: 'Fortitude Valley',
  postcode: '4006',
  state: 'QLD',
  country: 'Australia',
};

export const DELIVERY_EXAMPLES: { readonly [E in PlatformEvent]: Json } = {
  'Audit:Create': {
    event_id: 'evt_01JDX2A7Q4K8M3N5P6R7S8T9AC',
    event: 'Audit:Create',
    occurred_at: '2026-11-26T22:14:05Z',
    ...HOME_AUDIT,
    created_by_email: 'assessor@sunrise-solar.example',
  },
  'Audit:Simulate': {
    event_id: 'evt_01JDX2B9R2T4V6X8Z0B2D4F6SI',
    event: 'Audit:Simulate',
    occurred_at: '2026-11-26T23:02:41Z',
    ...HOME_AUDIT,
    simulation_id: 'sim_9Wd2Lp',
    scenario: '6.6 kW solar + 13.5 kWh battery',
    current_annual_cost: '$2,940.00',
    estimated_annual_savings: '$1,385.50',
    estimated_payback_years: 8.1,
    estimated_co2_reduction_kg: 6120,
    energy_rating_before: 4,
    energy_rating_after: 7.5,
  },
  'Audit:Assign': {
    event_id: 'evt_01JDX2C3S5U7W9Y1A3C5E7G9AS',
    event: 'Audit:Assign',
    occurred_at: '2026-11-27T00:30:00Z',
    ...BUSINESS_AUDIT,
    assignee_name: 'Priya Sharma',
    assignee_email: 'priya.sharma@sunrise-solar.example',
    previous_assignee_email: null,
    assigned_by_email: 'ops@sunrise-solar.example',
  },
  'Audit:Label:Apply': {
    event_id: 'evt_01JDX2D5T7V9X1Z3B5D7F9H1AL',
    event: 'Audit:Label:Apply',
    occurred_at: '2026-11-27T01:45:12Z',
    ...BUSINESS_AUDIT,
    label_id: 'lbl_c5f7',
    label: 'Report sent',
    applied_by_email: 'priya.sharma@sunrise-solar.example',
  },
  'RequestQuote:Create': {
    event_id: 'evt_01JDX2E7V9X1Z3B5D7F9H1K3QC',
    event: 'RequestQuote:Create',
    occurred_at: '2026-11-27T02:08:33Z',
    quote_request_id: 'qr_4Tn6Bv',
    quote_request_url: 'https://app.getecologic.com/quote-requests/qr_4Tn6Bv',
    action: 'solar_pv',
    supplier_name: 'Sunrise Solar & Batteries',
    offer_title: '3 kW Standard Solar Package',
    offer_description: 'Eight 375 W panels, a 3 kW inverter and standard installation.',
    offer_price: '$4,990.00',
    first_name: 'Jack',
    last_name: 'Thompson',
    street: '27 Banksia Street',
    suburb: 'Brunswick',
    postcode: '3056',
    state: 'VIC',
    country: 'Australia',
    reply_email: 'jack.thompson@example.com',
    reply_phone: '0491 572 665',
    comments: 'North-facing roof, single storey. Weekday mornings suit best for a site visit.',
  },
  'RequestQuote:Label:Apply': {
    event_id: 'evt_01JDX2F9X1Z3B5D7F9H1K3M5QL',
    event: 'RequestQuote:Label:Apply',
    occurred_at: '2026-11-27T03:20:00Z',
    quote_request_id: 'qr_4Tn6Bv',
    quote_request_url: 'https://app.getecologic.com/quote-requests/qr_4Tn6Bv',
    label_id: 'lbl_4kd8',
    label: 'Site visit booked',
    applied_by_email: 'ops@sunrise-solar.example',
    action: 'solar_pv',
    offer_title: '3 kW Standard Solar Package',
    first_name: 'Jack',
    last_name: 'Thompson',
    reply_email: 'jack.thompson@example.com',
    reply_phone: '0491 572 665',
    country: 'Australia',
  },
};

/**
 * The JSON examples (```json blocks) of one `###` section of the contract's prose, parsed, in order.
 * A block that is not JSON (an illustration with `…`) throws: a section used for examples must hold
 * real ones.
 */
export function contractExamples(sectionText: string): unknown[] {
  const blocks = [...sectionText.matchAll(/```json\n([\s\S]*?)\n\s*```/g)].map((m) => (m[1] ?? '').replace(/^ {2}/gm, ''));
  return blocks.map((block, i) => {
    try {
      return JSON.parse(block) as unknown;
    } catch {
      throw new Error(`JSON example ${i + 1} of this contract section is not JSON`);
    }
  });
}

/** An error body in the one shape (contract 2.1). */
export const errorExample = (code: string, message: string): Json => ({ error: { code, message } });
