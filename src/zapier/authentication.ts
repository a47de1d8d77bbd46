import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';
import { callEcologic } from './api';
import { guarded } from './errors';

/** The organisation's name, else the key owner's email, else the organisation id; never the key. */
export const labelFor = (me: { organisation_id: string; organisation_name?: string | null; email?: string | null }): string =>
  me.organisation_name?.trim() || me.email?.trim() || me.organisation_id;

/** `GET /me`: proves the key works, and names the connection. */
const testConnection = async (z: ZObject, _bundle: Bundle) => {
  const me = await callEcologic(z, { method: 'GET', path: '/me', expect: (shapes) => shapes.meResponse });
  return {
    organisation_id: me.organisation_id,
    organisation_name: me.organisation_name ?? null,
    email: me.email ?? null,
    connection_label: labelFor(me),
  };
};

export const authentication = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'Your organisation\'s Ecologic API key. In Ecologic, open **Settings → Partner API**, create a key and paste it here. It starts with `eco_`. Keep it private: anyone with it can read your leads.',
    },
  ],
  test: guarded('Connection test', testConnection),
  // A template over the test result (not a function), so the CLI's `invoke auth label` shows it too.
  connectionLabel: '{{bundle.inputData.connection_label}}',
} satisfies Authentication;
