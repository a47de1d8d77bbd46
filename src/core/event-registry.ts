import type { z } from 'zod';
import {
  actionName,
  auditTypeName,
  countryCodes,
  fullName,
  localEventTime,
  personAtAddress,
  phoneInE164,
  priceParts,
  recordIdAs,
  type Derivation,
} from './derivations';
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

// The samples a partner sees before their first real event: one Australian household and one
// quote request, invented (phone numbers from the range ACMA reserves for fiction, emails on the
// domains reserved for examples: example.com for customers, sunrise-solar.example for the
// installer's staff), in the order the item carries them. Every field has a value, of its type.
const AUDIT_OWNER = {
  first_name: 'Olivia',
  last_name: 'Nguyen',
  full_name: 'Olivia Nguyen',
  email: 'olivia.nguyen@example.com',
  phone: '0491 570 156',
  phone_e164: '+61491570156',
  street: '14 Wattle Grove, Parramatta',
  suburb: 'Parramatta',
  state: 'New South Wales',
  postcode: '2150',
  country: 'Australia',
  state_code: 'NSW',
  country_code: 'AU',
  address: '14 Wattle Grove, Parramatta, New South Wales 2150, Australia',
  audit_type_name: 'Home Energy Audit',
  audit_type: 'home_energy',
} as const;

const AUDIT_LINK = {
  audit_url: 'https://app.getecologic.com/audits/aud_8Hq2Xk',
  audit_id: 'aud_8Hq2Xk',
} as const;

const QUOTE_LINK = {
  quote_request_url: 'https://app.getecologic.com/quote-requests/qr_5Lm3Dw',
  quote_request_id: 'qr_5Lm3Dw',
} as const;

/**
 * The organisation's time zone the samples assume (the installer is in Melbourne): the local time
 * of an event whose record has no address of its own is in it.
 */
export const SAMPLE_ORGANISATION_TIME_ZONE = 'Australia/Melbourne';

/**
 * The event's bookkeeping fields of a sample: its `id` is the event ID the platform would send, the
 * record's ID is the quote request's or audit's, the delivery's ID the `webhook-id` header's.
 */
const bookkeeping = <E extends PlatformEvent>(
  event: E,
  id: `evt_${string}`,
  recordId: string,
  time: { readonly utc: string; readonly local: string; readonly zone: string },
) =>
  ({
    event,
    occurred_at: time.utc,
    occurred_at_local: time.local,
    time_zone: time.zone,
    id,
    record_id: recordId,
    delivery_id: id.replace(/^evt_/, 'msg_'),
  }) as const;

export const EVENT_REGISTRY = [
  defineEvent({
    event: 'Audit:Create',
    triggerKey: 'audit_created',
    noun: 'Audit',
    label: 'New Audit',
    description: 'Triggers when a new energy audit is created.',
    derivations: [...personAtAddress, phoneInE164('phone'), auditTypeName, recordIdAs('audit_id'), localEventTime],
    sample: {
      ...AUDIT_OWNER,
      created_by_email: 'assessor@sunrise-solar.example',
      ...AUDIT_LINK,
      ...bookkeeping('Audit:Create', 'evt_01JDAUDITCREATE0000000001', AUDIT_LINK.audit_id, {
        utc: '2026-11-20T23:41:07.000Z',
        local: '2026-11-21T10:41:07+11:00',
        zone: 'Australia/Sydney',
      }),
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
      auditTypeName,
      priceParts('current_annual_cost'),
      priceParts('estimated_annual_savings'),
      recordIdAs('audit_id'),
      localEventTime,
    ],
    sample: {
      ...AUDIT_OWNER,
      scenario: '6.6 kW solar + 10 kWh battery',
      current_annual_cost: '$2,480.00',
      current_annual_cost_amount: 2480,
      current_annual_cost_currency: 'AUD',
      estimated_annual_savings: '$1,150.00',
      estimated_annual_savings_amount: 1150,
      estimated_annual_savings_currency: 'AUD',
      estimated_payback_years: 7.8,
      estimated_co2_reduction_kg: 5400,
      energy_rating_before: 4.5,
      energy_rating_after: 7.5,
      simulation_id: 'sim_3Rt7Pa',
      ...AUDIT_LINK,
      ...bookkeeping('Audit:Simulate', 'evt_01JDAUDITSIMULATE00000001', AUDIT_LINK.audit_id, {
        utc: '2026-11-21T02:05:44.000Z',
        local: '2026-11-21T13:05:44+11:00',
        zone: 'Australia/Sydney',
      }),
    },
  }),
  defineEvent({
    event: 'Audit:Assign',
    triggerKey: 'audit_assigned',
    noun: 'Audit',
    label: 'Audit Assigned',
    description: 'Triggers when an audit is assigned to a different user.',
    derivations: [...personAtAddress, phoneInE164('phone'), auditTypeName, recordIdAs('audit_id'), localEventTime],
    sample: {
      ...AUDIT_OWNER,
      assignee_name: 'Priya Sharma',
      assignee_email: 'priya.sharma@sunrise-solar.example',
      previous_assignee_email: 'assessor@sunrise-solar.example',
      assigned_by_email: 'ops@sunrise-solar.example',
      ...AUDIT_LINK,
      ...bookkeeping('Audit:Assign', 'evt_01JDAUDITASSIGN0000000001', AUDIT_LINK.audit_id, {
        utc: '2026-11-21T04:12:30.000Z',
        local: '2026-11-21T15:12:30+11:00',
        zone: 'Australia/Sydney',
      }),
    },
  }),
  defineEvent({
    event: 'Audit:Label:Apply',
    triggerKey: 'audit_label_applied',
    noun: 'Audit',
    label: 'Audit Label Applied',
    description: 'Triggers when a status label is applied to an audit.',
    filter: labelFilter,
    labelType: 'audit',
    derivations: [...personAtAddress, phoneInE164('phone'), auditTypeName, recordIdAs('audit_id'), localEventTime],
    sample: {
      label: 'Report sent',
      ...AUDIT_OWNER,
      applied_by_email: 'priya.sharma@sunrise-solar.example',
      label_id: 'lbl_2Vn8Qe',
      ...AUDIT_LINK,
      ...bookkeeping('Audit:Label:Apply', 'evt_01JDAUDITLABEL00000000001', AUDIT_LINK.audit_id, {
        utc: '2026-11-22T01:00:00.000Z',
        local: '2026-11-22T12:00:00+11:00',
        zone: 'Australia/Sydney',
      }),
    },
  }),
  defineEvent({
    event: 'RequestQuote:Create',
    triggerKey: 'quote_request_created',
    noun: 'Quote Request',
    label: 'New Quote Request',
    description: 'Triggers when a customer requests a quote, for example for solar panels or a battery.',
    filter: actionFilter,
    derivations: [...personAtAddress, phoneInE164('reply_phone'), actionName, priceParts('offer_price'), recordIdAs('quote_request_id'), localEventTime],
    sample: {
      first_name: 'Jack',
      last_name: 'Thompson',
      full_name: 'Jack Thompson',
      reply_email: 'jack.thompson@example.com',
      reply_phone: '0491 570 159',
      reply_phone_e164: '+61491570159',
      street: '27 Banksia Street, Brunswick',
      suburb: 'Brunswick',
      state: 'VIC',
      postcode: '3056',
      country: 'Australia',
      state_code: 'VIC',
      country_code: 'AU',
      address: '27 Banksia Street, Brunswick, VIC 3056, Australia',
      action_name: 'Solar PV',
      action: 'solar_pv',
      comments: 'North-facing tiled roof, single storey. Best to call after 5pm.',
      offer_title: '6.6 kW Solar Package',
      offer_description: 'Fifteen 440 W panels, a 5 kW inverter and standard installation on a single-storey roof.',
      offer_price: '$7,490.00',
      offer_price_amount: 7490,
      offer_price_currency: 'AUD',
      supplier_name: 'Sunrise Solar & Batteries',
      ...QUOTE_LINK,
      ...bookkeeping('RequestQuote:Create', 'evt_01JDQUOTECREATE0000000001', QUOTE_LINK.quote_request_id, {
        utc: '2026-11-23T00:18:52.000Z',
        local: '2026-11-23T11:18:52+11:00',
        zone: 'Australia/Melbourne',
      }),
    },
  }),
  defineEvent({
    event: 'RequestQuote:Label:Apply',
    triggerKey: 'quote_request_label_applied',
    noun: 'Quote Request',
    label: 'Quote Request Label Applied',
    description: 'Triggers when a status label is applied to a quote request.',
    filter: labelFilter,
    labelType: 'quote_request',
    derivations: [fullName, countryCodes, phoneInE164('reply_phone'), actionName, recordIdAs('quote_request_id'), localEventTime],
    sample: {
      label: 'Site visit booked',
      first_name: 'Jack',
      last_name: 'Thompson',
      full_name: 'Jack Thompson',
      reply_email: 'jack.thompson@example.com',
      reply_phone: '0491 570 159',
      reply_phone_e164: '+61491570159',
      country: 'Australia',
      country_code: 'AU',
      action_name: 'Solar PV',
      action: 'solar_pv',
      offer_title: '6.6 kW Solar Package',
      applied_by_email: 'ops@sunrise-solar.example',
      label_id: 'lbl_7Kp4Ts',
      ...QUOTE_LINK,
      ...bookkeeping('RequestQuote:Label:Apply', 'evt_01JDQUOTELABEL00000000001', QUOTE_LINK.quote_request_id, {
        utc: '2026-11-24T05:30:00.000Z',
        local: '2026-11-24T16:30:00+11:00',
        zone: SAMPLE_ORGANISATION_TIME_ZONE,
      }),
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
