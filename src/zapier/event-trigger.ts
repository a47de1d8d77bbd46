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
import { normaliseDelivery, PayloadError } from '../core/normalise';
import { readableText } from '../core/derive/text';
import { callEcologic, deleteOnEcologic } from './api';
import { receiveDelivery } from './delivery';
import { DROPDOWN_TRIGGER_KEYS } from './dropdowns';
import { appError, guarded } from './errors';

/** The partner's filter values, as sent to the platform at subscribe time. */
const filtersOf = ({ filter }: EventDefinition, bundle: Bundle): Record<string, string> => {
  const wanted = filter ? readableText(bundle.inputData?.[filter.key]) : null;
  return filter && wanted !== null ? { [filter.key]: wanted } : {};
};

const subscribeHook = (definition: RegisteredEvent) =>
  (async (z, bundle) => {
    if (!bundle.targetUrl) throw appError('Zapier did not provide a hook URL to subscribe.', 'MissingTargetUrl');
    return callEcologic(z, {
      method: 'POST',
      path: '/notifications',
      json: { type: 'webhook', event: definition.event, uri: bundle.targetUrl, filters: filtersOf(definition, bundle) },
      expect: (shapes) => shapes.subscriptionResponse,
    });
  }) satisfies WebhookTriggerPerformSubscribe;

/** Removes the Zap's subscription; one the platform no longer has (404, 410) is already removed. */
const unsubscribeHook = (async (z, bundle) => {
  const id = (bundle.subscribeData as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' && typeof id !== 'number') return { removed: false, reason: 'no subscription id' };
  const outcome = await deleteOnEcologic(z, `/notifications/${encodeURIComponent(String(id))}`);
  return { removed: true, alreadyGone: outcome === 'already gone' };
}) satisfies WebhookTriggerPerformUnsubscribe;

/** 3 while the Zap editor loads samples; otherwise Zapier's limit (-1: none) within the API's 1-100. */
const sampleLimit = (bundle: Bundle): number => {
  if (bundle.meta?.isLoadingSample) return 3;
  const limit = bundle.meta?.limit;
  if (typeof limit !== 'number' || limit === 0) return 10;
  return limit < 0 ? 100 : Math.min(limit, 100);
};

/** "Test trigger": the organisation's recent events, through the same mapping as a live delivery. */
const listRecentEvents = (definition: RegisteredEvent) =>
  (async (z: ZObject, bundle: Bundle) => {
    const limit = sampleLimit(bundle);
    const samples = await callEcologic(z, {
      method: 'GET',
      path: '/notifications/samples',
      params: { event: definition.event, limit, ...filtersOf(definition, bundle) },
      expect: (shapes) => shapes.samplesResponse,
    });
    try {
      return normaliseDelivery(definition, samples.data, { receivedAt: new Date() }, bundle.inputData).items.slice(0, limit);
    } catch (error) {
      if (error instanceof PayloadError) {
        throw appError(`Unexpected response from Ecologic for GET /notifications/samples: ${error.message}.`, 'UnexpectedResponse');
      }
      throw error;
    }
  }) satisfies WebhookTriggerPerformList;

const filterInputFields = ({ filter, labelType }: EventDefinition) => {
  if (!filter) return [];
  if (filter.key === 'action') {
    return [
      {
        key: 'action',
        label: 'Action',
        required: false,
        dynamic: `${DROPDOWN_TRIGGER_KEYS.actions}.id.name`,
        helpText:
          'Only quote requests for this product or service start the Zap, for example Solar PV (`solar_pv`). Pick one, or type an action code. Leave empty for every quote request.',
      },
    ];
  }
  const labels = labelType === 'audit' ? DROPDOWN_TRIGGER_KEYS.auditLabels : DROPDOWN_TRIGGER_KEYS.quoteRequestLabels;
  return [
    {
      key: 'label',
      label: 'Label',
      required: false,
      dynamic: `${labels}.id.name`,
      helpText: 'Only this status label starts the Zap. Pick one, or type a label name or id. Leave empty for every label.',
    },
  ];
};

// Zapier deep-copies the whole definition on every invocation (about 0.3 ms for this app, most of it
// output fields), so the default type, string, is left implicit: a quarter less to copy per delivery.
const outputFieldsOf = (definition: RegisteredEvent) =>
  fieldsOf(definition.event).map(({ key, label, type }) => (type === 'string' ? { key, label } : { key, label, type }));

/** One instant (REST hook) trigger per registry entry; nothing in it is written per event. */
export const eventTrigger = (definition: RegisteredEvent) =>
  defineTrigger({
    key: definition.triggerKey,
    noun: definition.noun,
    display: { label: definition.label, description: definition.description },
    operation: {
      type: 'hook',
      inputFields: filterInputFields(definition),
      performSubscribe: guarded(`${definition.label}: subscribe`, subscribeHook(definition)),
      performUnsubscribe: guarded(`${definition.label}: unsubscribe`, unsubscribeHook),
      perform: guarded(definition.label, receiveDelivery(definition)),
      performList: guarded(`${definition.label}: loading samples`, listRecentEvents(definition)),
      sample: definition.sample,
      outputFields: outputFieldsOf(definition),
    },
  });
