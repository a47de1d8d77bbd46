import type { z } from 'zod';
import { personAtAddress, fullName, countryCodes, phoneInE164, priceParts, type Derivation } from './derivations';
import type { PlatformEvent } from './events';
import { actionFilter, labelFilter, type EventFilter } from './filters';
import type { AuditAssignedItem, AuditCreatedItem, AuditLabelAppliedItem, AuditSimulatedItem } from './schemas/audit';
import type { EVENT_SCHEMAS } from './schemas';
import type { QuoteRequestCreatedItem, QuoteRequestLabelAppliedItem } from './schemas/quote-request';

/**
 * Everything the app knows about one platform event. One entry here, one schema in
 * `schemas/` and one fixture in `test/fixtures/` add a trigger; nothing else is written per event.
 */
export interface EventDefinition<E extends PlatformEvent = PlatformEvent, Item extends object = Record<string, unknown>> {
  readonly event: E;
  /** Zapier trigger key. Live Zaps refer to it forever: never rename (see test/compat-manifest.json). */
  readonly triggerKey: string;
  readonly noun: string;
  /** Title-case label shown in the Zap editor. */
  readonly label: string;
  /** "Triggers when …." */
  readonly description: string;
  readonly filter?: EventFilter;
  /** Which label list feeds the Label filter's dropdown. */
  readonly labelType?: 'audit' | 'quote_request';
  readonly derivations: readonly Derivation[];
  /** Static sample shown before a partner has real events; typed so a drifting sample fails tsc. */
  readonly sample: Item;
}

type ItemOf<E extends PlatformEvent> = z.output<(typeof EVENT_SCHEMAS)[E]>;

const defineEvent = <E extends PlatformEvent>(definition: EventDefinition<E, ItemOf<E>>) => definition;

const AUDIT_OWNER = {
  audit_type: 'home_energy',
  first_name: 'Olivia',
  last_name: 'Nguyen',
  email: 'olivia.nguyen@example.com.au',
  phone: '0412 345 678',
  street: '14 Wattle Grove, Parramatta',
  postcode: '2150',
  state: 'New South Wales',
  country: 'Australia',
  full_name: 'Olivia Nguyen',
  address: '14 Wattle Grove, Parramatta, New South Wales 2150, Australia',
  country_code: 'AU',
  state_code: 'NSW',
  phone_e164: '+61412345678',
} as const;

export const EVENT_REGISTRY = [
  defineEvent({
    event: 'Audit:Create',
    triggerKey: 'audit_created',
    noun: 'Audit',
    label: 'New Audit',
    description: 'Triggers when a new energy audit is created in Ecologic.',
    derivations: [...personAtAddress, phoneInE164('phone')],
    sample: {
      id: 'evt_01JDAUDITCREATE0000000001',
      event: 'Audit:Create',
      occurred_at: '2026-11-20T23:41:07.000Z',
      audit_id: 'aud_8Hq2Xk',
      ...AUDIT_OWNER,
      created_by_email: 'assessor@sunrisesolar.com.au',
      record_id: null,
      delivery_id: 'evt_01JDAUDITCREATE0000000001',
    },
  }),
  defineEvent({
    event: 'Audit:Simulate',
    triggerKey: 'audit_simulated',
    noun: 'Audit Simulation',
    label: 'Audit Simulated',
    description: 'Triggers when an audit is simulated and its savings estimate is ready.',
    derivations: [
      ...personAtAddress,
      phoneInE164('phone'),
      priceParts('current_annual_cost'),
      priceParts('estimated_annual_savings'),
    ],
    sample: {
      id: 'evt_01JDAUDITSIMULATE00000001',
      event: 'Audit:Simulate',
      occurred_at: '2026-11-21T02:05:44.000Z',
      audit_id: 'aud_8Hq2Xk',
      ...AUDIT_OWNER,
      simulation_id: 'sim_3Rt7Pa',
      scenario: '6.6 kW solar + 10 kWh battery',
      current_annual_cost: '$2,480.00',
      estimated_annual_savings: '$1,150.00',
      estimated_payback_years: 7.8,
      estimated_co2_reduction_kg: 5400,
      energy_rating_before: 4.5,
      energy_rating_after: 7.5,
      current_annual_cost_amount: 2480,
      current_annual_cost_currency: null,
      estimated_annual_savings_amount: 1150,
      estimated_annual_savings_currency: null,
      record_id: null,
      delivery_id: 'evt_01JDAUDITSIMULATE00000001',
    },
  }),
  defineEvent({
    event: 'Audit:Assign',
    triggerKey: 'audit_assigned',
    noun: 'Audit Assignment',
    label: 'Audit Assigned',
    description: 'Triggers when an audit is assigned to a different user.',
    derivations: [...personAtAddress, phoneInE164('phone')],
    sample: {
      id: 'evt_01JDAUDITASSIGN0000000001',
      event: 'Audit:Assign',
      occurred_at: '2026-11-21T04:12:30.000Z',
      audit_id: 'aud_8Hq2Xk',
      ...AUDIT_OWNER,
      assignee_name: 'Priya Sharma',
      assignee_email: 'priya.sharma@sunrisesolar.com.au',
      previous_assignee_email: 'assessor@sunrisesolar.com.au',
      assigned_by_email: 'ops@sunrisesolar.com.au',
      record_id: null,
      delivery_id: 'evt_01JDAUDITASSIGN0000000001',
    },
  }),
  defineEvent({
    event: 'Audit:Label:Apply',
    triggerKey: 'audit_label_applied',
    noun: 'Audit Label',
    label: 'Audit Label Applied',
    description: 'Triggers when a status label is applied to an audit.',
    filter: labelFilter,
    labelType: 'audit',
    derivations: [...personAtAddress, phoneInE164('phone')],
    sample: {
      id: 'evt_01JDAUDITLABEL00000000001',
      event: 'Audit:Label:Apply',
      occurred_at: '2026-11-22T01:00:00.000Z',
      audit_id: 'aud_8Hq2Xk',
      ...AUDIT_OWNER,
      label_id: 'lbl_2Vn8Qe',
      label: 'Report sent',
      applied_by_email: 'priya.sharma@sunrisesolar.com.au',
      record_id: null,
      delivery_id: 'evt_01JDAUDITLABEL00000000001',
    },
  }),
  defineEvent({
    event: 'RequestQuote:Create',
    triggerKey: 'quote_request_created',
    noun: 'Quote Request',
    label: 'New Quote Request',
    description: 'Triggers when a customer requests a quote, for example for solar panels or a battery.',
    filter: actionFilter,
    derivations: [...personAtAddress, priceParts('offer_price'), phoneInE164('reply_phone')],
    sample: {
      id: 'evt_01JDQUOTECREATE0000000001',
      event: 'RequestQuote:Create',
      occurred_at: '2026-11-23T00:18:52.000Z',
      quote_request_id: 'qr_5Lm3Dw',
      action: 'solar_pv',
      supplier_name: 'ACME products',
      offer_title: '3 kW Standard Solar Package',
      offer_description: 'Eight 375 W panels, a 3 kW inverter and standard installation.',
      offer_price: '$4,990.00',
      first_name: 'Jack',
      last_name: 'Thompson',
      street: '27 Banksia Street, Brunswick',
      postcode: '3056',
      state: 'VIC',
      country: 'Australia',
      reply_email: 'jack.thompson@example.com.au',
      reply_phone: '0423 456 789',
      comments: 'North-facing tiled roof. Best to call after 5pm.',
      full_name: 'Jack Thompson',
      address: '27 Banksia Street, Brunswick, VIC 3056, Australia',
      country_code: 'AU',
      state_code: 'VIC',
      offer_price_amount: 4990,
      offer_price_currency: null,
      reply_phone_e164: '+61423456789',
      record_id: null,
      delivery_id: 'evt_01JDQUOTECREATE0000000001',
    },
  }),
  defineEvent({
    event: 'RequestQuote:Label:Apply',
    triggerKey: 'quote_request_label_applied',
    noun: 'Quote Request Label',
    label: 'Quote Request Label Applied',
    description: 'Triggers when a status label is applied to a quote request.',
    filter: labelFilter,
    labelType: 'quote_request',
    derivations: [fullName, countryCodes, phoneInE164('reply_phone')],
    sample: {
      id: 'evt_01JDQUOTELABEL00000000001',
      event: 'RequestQuote:Label:Apply',
      occurred_at: '2026-11-24T05:30:00.000Z',
      quote_request_id: 'qr_5Lm3Dw',
      label_id: 'lbl_7Kp4Ts',
      label: 'Site visit booked',
      applied_by_email: 'ops@sunrisesolar.com.au',
      action: 'solar_pv',
      offer_title: '3 kW Standard Solar Package',
      first_name: 'Jack',
      last_name: 'Thompson',
      reply_email: 'jack.thompson@example.com.au',
      reply_phone: '0423 456 789',
      country: 'Australia',
      full_name: 'Jack Thompson',
      country_code: 'AU',
      reply_phone_e164: '+61423456789',
      record_id: null,
      delivery_id: 'evt_01JDQUOTELABEL00000000001',
    },
  }),
] as const satisfies readonly EventDefinition<PlatformEvent, object>[];

export type RegisteredEvent = (typeof EVENT_REGISTRY)[number];

const BY_EVENT = new Map<string, RegisteredEvent>(EVENT_REGISTRY.map((entry) => [entry.event, entry]));
const BY_TRIGGER = new Map<string, RegisteredEvent>(EVENT_REGISTRY.map((entry) => [entry.triggerKey, entry]));

export const eventDefinition = (event: PlatformEvent): RegisteredEvent => BY_EVENT.get(event)!;
export const definitionForTrigger = (triggerKey: string): RegisteredEvent | undefined => BY_TRIGGER.get(triggerKey);

/**
 * The zod schema of an event's Zap item. Loaded on demand: zod costs about 40 ms to load, a fifth of
 * zapier-platform-core's own cold start, and the live path needs only the generated field catalog.
 */
export const schemaFor = <E extends PlatformEvent>(event: E): (typeof EVENT_SCHEMAS)[E] =>
  (require('./schemas') as typeof import('./schemas')).EVENT_SCHEMAS[event];
