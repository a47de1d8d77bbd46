import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';
import { readableText } from '../core/derive/text';
import { isPlainObject } from '../core/normalise';
import { callEcologic } from './api';
import { guarded } from './errors';

type Json = Readonly<Record<string, unknown>>;

const firstReadable = (values: readonly unknown[]): string | null => {
  for (const value of values) {
    const text = readableText(value);
    if (text !== null) return text;
  }
  return null;
};

/** What `GET /me` said, read from any JSON object: at the top level or under `data`. */
export const accountOf = (me: Json) => {
  const account: Json = isPlainObject(me.data) ? me.data : me;
  const organisation: Json = [account.organisation, account.organization].find(isPlainObject) ?? {};
  const organisationId = firstReadable([account.organisation_id, account.organization_id, organisation.id]);
  const organisationName = firstReadable([account.organisation_name, account.organization_name, organisation.name]);
  const email = firstReadable([account.email]);
  return {
    organisation_id: organisationId,
    organisation_name: organisationName,
    email,
    // An organisation name, a name, an email or an id, the first present; never the key.
    connection_label: firstReadable([organisationName, account.name, email, organisationId, account.id]),
  };
};

/** `GET /me`: proves the key works, and names the connection. */
const testConnection = async (z: ZObject, _bundle: Bundle) =>
  accountOf(await callEcologic(z, { method: 'GET', path: '/me', expect: (shapes) => shapes.meResponse }));

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
