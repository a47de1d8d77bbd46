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
import { signerFor } from '../core/signature';
import { pathSegment } from '../core/net';
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
    const subscription = await callEcologic(z, {
      method: 'POST',
      path: '/notifications',
      json: { type: 'webhook', event: definition.event, uri: bundle.targetUrl, filters: filtersOf(definition, bundle) },
      expect: (shapes) => shapes.subscriptionResponse,
    });
    // Stored as the Zap's subscribeData: the id as a string, the secret only when there is one.
    const { secret, ...rest } = subscription;
    if (secret === undefined || secret === null) return rest;
    if (signerFor(secret)) return { ...rest, secret };
    // A secret no delivery could ever verify: every run of this Zap would halt. Remove the
    // subscription again (best effort) and keep the Zap off, saying what to do.
    z.console.warn(`${definition.triggerKey}: subscribe returned an unusable signing secret; removing the subscription`);
    await deleteOnEcologic(z, `/notifications/${pathSegment(subscription.id)}`).catch(() =>
      z.console.warn(`${definition.triggerKey}: could not remove the subscription again`),
    );
    throw appError(
      'Ecologic returned a signing secret that cannot be used, so this Zap was not turned on. Try turning it on again; if this repeats, contact Ecologic support.',
      'InvalidSecret',
    );
  }) satisfies WebhookTriggerPerformSubscribe;

/** Removes the Zap's subscription; one the platform no longer has (404, 410) is already removed. */
const unsubscribeHook = (async (z, bundle) => {
  const segment = pathSegment((bundle.subscribeData as { id?: unknown } | undefined)?.id);
  if (segment === null) return { removed: false, reason: 'no usable subscription id' };
  const outcome = await deleteOnEcologic(z, `/notifications/${segment}`);
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
    // Only the first `limit` samples are read: the work follows the limit, not what the platform sent.
    const samples = await callEcologic(z, {
      method: 'GET',
      path: '/notifications/samples',
      params: { event: definition.event, limit, ...filtersOf(definition, bundle) },
      expect: (shapes) => shapes.samplesResponse(limit),
    });
    try {
      return normaliseDelivery(definition, samples, { receivedAt: new Date() }, bundle.inputData).items;
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
