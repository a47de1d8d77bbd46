import { defineTrigger, type PollingTriggerPerform } from 'zapier-platform-core';
import { callEcologic } from './api';
import { guarded } from './errors';

/** Hidden triggers that feed the filter dropdowns. */
export const DROPDOWN_TRIGGER_KEYS = {
  actions: 'list_actions',
  auditLabels: 'list_audit_labels',
  quoteRequestLabels: 'list_quote_request_labels',
} as const;

const listActions = (async (z) => {
  const actions = await callEcologic(z, { method: 'GET', path: '/actions', expect: (shapes) => shapes.actionsResponse });
  return actions.map((action) => ({ id: action.code, name: action.name?.trim() ? `${action.name.trim()} (${action.code})` : action.code }));
}) satisfies PollingTriggerPerform;

const listLabels = (type: 'audit' | 'quote_request') =>
  (async (z) => {
    const labels = await callEcologic(z, {
      method: 'GET',
      path: '/labels',
      params: { type },
      expect: (shapes) => shapes.labelsResponse,
    });
    return labels.map((label) => ({ id: label.id, name: label.name?.trim() || label.id }));
  }) satisfies PollingTriggerPerform;

const dropdownTrigger = (key: string, noun: string, label: string, what: string, perform: PollingTriggerPerform) =>
  defineTrigger({
    key,
    noun,
    display: { label, description: `Triggers when Zapier loads ${what} for a dropdown.`, hidden: true },
    operation: {
      type: 'polling',
      perform: guarded(label, perform),
      canPaginate: false,
      sample: { id: 'example', name: 'Example' },
      outputFields: [
        { key: 'id', label: 'ID' },
        { key: 'name', label: 'Name' },
      ],
    },
  });

export const dropdownTriggers = {
  [DROPDOWN_TRIGGER_KEYS.actions]: dropdownTrigger(DROPDOWN_TRIGGER_KEYS.actions, 'Action', 'List Actions', 'the action codes', listActions),
  [DROPDOWN_TRIGGER_KEYS.auditLabels]: dropdownTrigger(
    DROPDOWN_TRIGGER_KEYS.auditLabels,
    'Audit Label',
    'List Audit Labels',
    'the audit labels',
    listLabels('audit'),
  ),
  [DROPDOWN_TRIGGER_KEYS.quoteRequestLabels]: dropdownTrigger(
    DROPDOWN_TRIGGER_KEYS.quoteRequestLabels,
    'Quote Request Label',
    'List Quote Request Labels',
    'the quote request labels',
    listLabels('quote_request'),
  ),
};
