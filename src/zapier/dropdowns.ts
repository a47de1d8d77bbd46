import { defineTrigger, type PollingTriggerPerform } from 'zapier-platform-core';
import { callEcologic } from './api';
import { KNOWN_ACTIONS, readableCode } from '../core/derive/codes';
import { guarded } from './errors';
import { ACTIVITIES } from './messages';

/** Hidden triggers that feed the filter dropdowns. */
export const DROPDOWN_TRIGGER_KEYS = {
  actions: 'list_actions',
  auditLabels: 'list_audit_labels',
  quoteRequestLabels: 'list_quote_request_labels',
} as const;

/**
 * Products and services by name, as an installer knows them ("Solar PV"); a name Ecologic left out
 * is the code spelt out. The code is added only where two entries would otherwise read the same.
 */
const listActions = (async (z) => {
  const actions = await callEcologic(z, {
    method: 'GET',
    path: '/actions',
    activity: ACTIVITIES.loadingProducts,
    expect: (shapes) => shapes.actionsResponse,
  });
  const named = actions.map((action) => ({ id: action.code, name: action.name?.trim() || readableCode(action.code, KNOWN_ACTIONS) || action.code }));
  const counts = new Map<string, number>();
  for (const { name } of named) counts.set(name.toLowerCase(), (counts.get(name.toLowerCase()) ?? 0) + 1);
  return named.map((entry) => (counts.get(entry.name.toLowerCase())! > 1 ? { ...entry, name: `${entry.name} (${entry.id})` } : entry));
}) satisfies PollingTriggerPerform;

const listLabels = (type: 'audit' | 'quote_request') =>
  (async (z) => {
    const labels = await callEcologic(z, {
      method: 'GET',
      path: '/labels',
      params: { type },
      activity: ACTIVITIES.loadingLabels,
      expect: (shapes) => shapes.labelsResponse,
    });
    return labels.map((label) => ({ id: label.id, name: label.name?.trim() || label.id }));
  }) satisfies PollingTriggerPerform;

const dropdownTrigger = (key: string, noun: string, label: string, what: string, activity: string, perform: PollingTriggerPerform, sample: { id: string; name: string }) =>
  defineTrigger({
    key,
    noun,
    display: { label, description: `Triggers when Zapier fills a dropdown with ${what}.`, hidden: true },
    operation: {
      type: 'polling',
      perform: guarded(activity, perform),
      canPaginate: false,
      sample,
      outputFields: [
        { key: 'id', label: 'ID' },
        { key: 'name', label: 'Name' },
      ],
    },
  });

export const dropdownTriggers = {
  [DROPDOWN_TRIGGER_KEYS.actions]: dropdownTrigger(
    DROPDOWN_TRIGGER_KEYS.actions,
    'Product or Service',
    'List Products and Services',
    'the products and services a quote request can be for',
    ACTIVITIES.loadingProducts,
    listActions,
    { id: 'solar_pv', name: 'Solar PV' },
  ),
  [DROPDOWN_TRIGGER_KEYS.auditLabels]: dropdownTrigger(
    DROPDOWN_TRIGGER_KEYS.auditLabels,
    'Status Label',
    'List Audit Labels',
    'the status labels of audits',
    ACTIVITIES.loadingLabels,
    listLabels('audit'),
    { id: 'lbl_c5f7', name: 'Report sent' },
  ),
  [DROPDOWN_TRIGGER_KEYS.quoteRequestLabels]: dropdownTrigger(
    DROPDOWN_TRIGGER_KEYS.quoteRequestLabels,
    'Status Label',
    'List Quote Request Labels',
    'the status labels of quote requests',
    ACTIVITIES.loadingLabels,
    listLabels('quote_request'),
    { id: 'lbl_4kd8', name: 'Site visit booked' },
  ),
};
