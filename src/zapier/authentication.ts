import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';
import { readableText } from '../core/derive/text';
import { isPlainObject } from '../core/normalise';
import { callEcologic } from './api';
import { guarded } from './errors';
import { ACTIVITIES } from './messages';
import { ECOLOGIC_LINKS, guideLink } from '../core/links';

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
  accountOf(await callEcologic(z, { method: 'GET', path: '/me', activity: ACTIVITIES.connecting, expect: (shapes) => shapes.meResponse }));

export const authentication = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      placeholder: 'eco_live_…',
      helpText: `Your organisation's Ecologic API key. In Ecologic, open [Settings → Partner API](${ECOLOGIC_LINKS.apiKeys}), create a key and paste it here; it starts with \`eco_\`. Only an administrator of your Ecologic organisation can create keys, so ask yours if you do not see that page. Keep the key private: anyone with it can read your leads. [Step-by-step guide](${guideLink('connect-your-ecologic-account')}).`,
    },
  ],
  test: guarded(ACTIVITIES.connecting, testConnection),
  // A template over the test result (not a function), so the CLI's `invoke auth label` shows it too.
  connectionLabel: '{{bundle.inputData.connection_label}}',
} satisfies Authentication;
