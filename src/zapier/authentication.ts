import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';
import { callEcologic } from './api';
import { guarded } from './errors';

/** `GET /me`: proves the key works and names the organisation for the connection label. */
const testConnection = async (z: ZObject, _bundle: Bundle) => {
  const me = await callEcologic(z, { method: 'GET', path: '/me', expect: (shapes) => shapes.meResponse });
  return { organisation_id: me.organisation_id, organisation_name: me.organisation_name, email: me.email ?? null };
};

/** The organisation's name, else the key owner's email; never anything from authData. */
export const connectionLabel = async (_z: ZObject, bundle: Bundle): Promise<string> => {
  const me = (bundle.inputData ?? {}) as { organisation_name?: unknown; email?: unknown };
  if (typeof me.organisation_name === 'string' && me.organisation_name.trim()) return me.organisation_name.trim();
  if (typeof me.email === 'string' && me.email.trim()) return me.email.trim();
  return 'Ecologic account';
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
  connectionLabel,
} satisfies Authentication;
