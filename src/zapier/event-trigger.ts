import {
  defineTrigger,
  type Bundle,
  type WebhookTriggerPerformList,
  type WebhookTriggerPerformSubscribe,
  type WebhookTriggerPerformUnsubscribe,
  type ZObject,
} from 'zapier-platform-core';
import { fieldsOf } from '../core/catalog';
import type { EventDefinition, RegisteredEvent } from '../core/event-registry';
import { normaliseDelivery, PayloadError, type ZapItem } from '../core/normalise';
import { wantedValues } from '../core/filters';
import { guideLink } from '../core/links';
import { signerFor } from '../core/signature';
import { pathSegment } from '../core/net';
import { callEcologic, deleteOnEcologic } from './api';
import { organisationTimeZone } from './authentication';
import { receiveDelivery } from './delivery';
import { DROPDOWN_TRIGGER_KEYS } from './dropdowns';
import { guarded, partnerError } from './errors';
import { ACTIVITIES } from './messages';

/**
 * The partner's filter, as sent to the platform: one value as text (what every platform takes), or
 * several as a list (docs/ecologic-api.md section 2.4); nothing when no value is chosen.
 */
const filtersOf = ({ filter }: EventDefinition, bundle: Bundle): Record<string, string | string[]> => {
  if (!filter) return {};
  const wanted = wantedValues(filter, bundle.inputData?.[filter.key]);
  if (wanted.length === 0) return {};
  return { [filter.key]: wanted.length === 1 ? wanted[0]! : wanted };
};

/**
 * The same filter as query parameters (section 2.7): several action codes separated by commas (a code
 * never holds one); several labels as the parameter repeated (`label=a&label=b`), since a label's
 * name may hold a comma.
 */
const filterParams = (definition: EventDefinition, bundle: Bundle): Record<string, string | string[]> =>
  Object.fromEntries(
    Object.entries(filtersOf(definition, bundle)).map(([key, value]) => [key, Array.isArray(value) && definition.filter?.splitsText ? value.join(',') : value]),
  );

/**
 * The main call's result once a side call that never fails (the time zone) has finished too, even
 * when the main call failed: nothing is left running, or logging, after the operation ends.
 */
const settledWith = async <T>(side: Promise<unknown>, main: Promise<T>): Promise<T> => {
  try {
    return await main;
  } finally {
    await side;
  }
};

const subscribeHook = (definition: RegisteredEvent) =>
  (async (z, bundle) => {
    if (!bundle.targetUrl) throw partnerError('noHookAddress');
    // Asked alongside the subscription, never failing: a Zap turns on without it.
    const timeZone = organisationTimeZone(z, ACTIVITIES.turningOn);
    const subscription = await settledWith(
      timeZone,
      callEcologic(z, {
        method: 'POST',
        path: '/notifications',
        activity: ACTIVITIES.turningOn,
        json: { type: 'webhook', event: definition.event, uri: bundle.targetUrl, filters: filtersOf(definition, bundle) },
        expect: (shapes) => shapes.subscriptionResponse,
      }),
    );
    // Stored as the Zap's subscribeData: the id as a string, the secret only when there is one, and
    // the organisation's time zone when Ecologic said it (for the customer's local time).
    const { secret, ...rest } = subscription;
    const zone = await timeZone;
    const kept = zone === null ? rest : { ...rest, time_zone: zone };
    if (secret === undefined || secret === null) return kept;
    if (signerFor(secret)) return { ...kept, secret };
    // A secret no delivery could ever verify: every run of this Zap would stop. Remove the
    // subscription again (best effort) and keep the Zap off, saying what to do.
    z.console.warn(`${definition.triggerKey}: subscribe returned an unusable signing secret; removing the subscription`);
    await deleteOnEcologic(z, `/notifications/${pathSegment(subscription.id)}`, ACTIVITIES.turningOn).catch(() =>
      z.console.warn(`${definition.triggerKey}: could not remove the subscription again`),
    );
    throw partnerError('unusableSecret');
  }) satisfies WebhookTriggerPerformSubscribe;

/** Removes the Zap's subscription; one the platform no longer has (404, 410) is already removed. */
const unsubscribeHook = (async (z, bundle) => {
  const segment = pathSegment((bundle.subscribeData as { id?: unknown } | undefined)?.id);
  if (segment === null) return { removed: false, reason: 'no usable subscription id' };
  const outcome = await deleteOnEcologic(z, `/notifications/${segment}`, ACTIVITIES.turningOff);
  return { removed: true, alreadyGone: outcome === 'already gone' };
}) satisfies WebhookTriggerPerformUnsubscribe;

/** 3 while the Zap editor loads samples; otherwise Zapier's limit (-1: none) within the API's 1-100. */
const sampleLimit = (bundle: Bundle): number => {
  if (bundle.meta?.isLoadingSample) return 3;
  const limit = bundle.meta?.limit;
  if (typeof limit !== 'number' || limit === 0) return 10;
  return limit < 0 ? 100 : Math.min(limit, 100);
};

/** An item's time as a number to sort by; one that cannot be read sorts after every readable one. */
const sortTime = (item: ZapItem): number => {
  const time = typeof item.occurred_at === 'string' ? Date.parse(item.occurred_at) : Number.NaN;
  return Number.isNaN(time) ? -Infinity : time;
};

/**
 * Newest first, whatever order the platform sent: Zapier offers the first sample to map fields
 * from. Stable: items of the same time keep the platform's order.
 */
export const newestFirst = (items: ZapItem[]): ZapItem[] =>
  items
    .map((item, index) => ({ item, index, time: sortTime(item) }))
    .sort((a, b) => (a.time === b.time ? a.index - b.index : b.time - a.time))
    .map(({ item }) => item);

/** "Test trigger": the organisation's recent events, through the same mapping as a live delivery. */
const listRecentEvents = (definition: RegisteredEvent) =>
  (async (z: ZObject, bundle: Bundle) => {
    const limit = sampleLimit(bundle);
    // Only the first `limit` samples are read: the work follows the limit, not what the platform sent.
    // Those are then put newest first, so the sort never reaches beyond what was asked for.
    const activity = ACTIVITIES.loadingSamples(definition.noun);
    // Asked alongside the samples, never failing: the samples come without local times if need be.
    const timeZone = organisationTimeZone(z, activity);
    const samples = await settledWith(
      timeZone,
      callEcologic(z, {
        method: 'GET',
        path: '/notifications/samples',
        activity,
        params: { event: definition.event, limit, ...filterParams(definition, bundle) },
        expect: (shapes) => shapes.samplesResponse(limit),
      }),
    );
    const meta = { receivedAt: new Date(), timeZone: await timeZone };
    try {
      return newestFirst(normaliseDelivery(definition, samples, meta, bundle.inputData).items);
    } catch (error) {
      if (error instanceof PayloadError) {
        z.console.warn(`${definition.triggerKey}: unreadable samples, ${error.message}`);
        throw partnerError('unreadableAnswer', activity);
      }
      throw error;
    }
  }) satisfies WebhookTriggerPerformList;

const filterInputFields = ({ filter, labelType }: EventDefinition) => {
  if (!filter) return [];
  if (filter.key === 'action') {
    return [
      {
        // The key stays `action`: live Zaps store their choice under it.
        key: 'action',
        label: 'Product or Service',
        required: false,
        list: true,
        dynamic: `${DROPDOWN_TRIGGER_KEYS.actions}.id.name`,
        helpText: `Only quote requests for these products or services start the Zap, for example Solar PV or Home Battery. Choose one or more, or leave empty for every quote request. [How filters work](${guideLink('choose-a-trigger')}).`,
      },
    ];
  }
  const labels = labelType === 'audit' ? DROPDOWN_TRIGGER_KEYS.auditLabels : DROPDOWN_TRIGGER_KEYS.quoteRequestLabels;
  const example = labelType === 'audit' ? '"Report sent" on an audit' : '"Site visit booked" on a quote request';
  return [
    {
      // The key stays `label`: live Zaps store their choice under it (one label, as text).
      key: 'label',
      label: 'Status Label',
      required: false,
      list: true,
      dynamic: `${labels}.id.name`,
      helpText: `Only these status labels start the Zap, for example ${example}. Choose one or more, or leave empty for every label. [How filters work](${guideLink('choose-a-trigger')}).`,
    },
  ];
};

// Zapier deep-copies the whole definition on every invocation (about 0.3 ms for this app, most of it
// output fields), so the default type, string, is left implicit: a quarter less to copy per delivery.
const outputFieldsOf = (definition: RegisteredEvent) =>
  fieldsOf(definition.event).map(({ key, label, type }) => (type === 'string' ? { key, label } : { key, label, type }));

/** One REST hook trigger per registry entry; nothing in it is written per event. */
export const eventTrigger = (definition: RegisteredEvent) =>
  defineTrigger({
    key: definition.triggerKey,
    noun: definition.noun,
    display: { label: definition.label, description: definition.description },
    operation: {
      type: 'hook',
      inputFields: filterInputFields(definition),
      performSubscribe: guarded(ACTIVITIES.turningOn, subscribeHook(definition)),
      performUnsubscribe: guarded(ACTIVITIES.turningOff, unsubscribeHook),
      perform: guarded(`receiving ${ACTIVITIES.receiving(definition.noun)}`, receiveDelivery(definition)),
      performList: guarded(ACTIVITIES.loadingSamples(definition.noun), listRecentEvents(definition)),
      sample: definition.sample,
      outputFields: outputFieldsOf(definition),
    },
  });
