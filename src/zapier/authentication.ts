import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';
import { readableText } from '../core/derive/text';
import { isPlainObject } from '../core/normalise';
import { callEcologic, tryEcologic } from './api';
import { guarded } from './errors';
import { ACTIVITIES } from './messages';
import { validTimeZone } from '../core/derive/local-time';
import { ECOLOGIC_LINKS, guideLink } from '../core/links';

type Json = Readonly<Record<string, unknown>>;

const firstReadable = (values: readonly unknown[]): string | null => {
  for (const value of values) {
    const text = readableText(value);
    if (text !== null) return text;
  }
  return null;
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "5 Dec 2026": the day in that zone, written the same way whatever the runtime's locale data. */
const dayIn = (when: Date, timeZone: string): string => {
  const parts = new Intl.DateTimeFormat('en-AU', { timeZone, day: 'numeric', month: 'numeric', year: 'numeric' }).formatToParts(when);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return `${part('day')} ${MONTHS[part('month') - 1]} ${part('year')}`;
};

/** Where most installers are; the day a key was connected is written there when the organisation's zone is unknown. */
const DEFAULT_LABEL_TIME_ZONE = 'Australia/Sydney';

/**
 * A connection label for a `/me` that names nobody: which kind of key it is and when it was
 * connected. Only the key's published prefix is read, never a character after it.
 */
const keyLabel = (apiKey: unknown, connectedAt: Date, timeZone: string | null): string => {
  const key = typeof apiKey === 'string' ? apiKey.trim() : '';
  const kind = key.startsWith('eco_live_') ? 'Live key' : key.startsWith('eco_test_') ? 'Test key' : 'API key';
  return `${kind}, connected ${dayIn(connectedAt, timeZone ?? DEFAULT_LABEL_TIME_ZONE)}`;
};

export interface Connection {
  /** The key being checked: only its prefix is read, to tell a live key from a test key. */
  readonly apiKey?: unknown;
  readonly connectedAt?: Date;
}

/** What `GET /me` said, read from any JSON object: at the top level or under `data`. */
export const accountOf = (me: Json, connection: Connection = {}) => {
  const account: Json = isPlainObject(me.data) ? me.data : me;
  const organisation: Json = [account.organisation, account.organization].find(isPlainObject) ?? {};
  const organisationId = firstReadable([account.organisation_id, account.organization_id, organisation.id]);
  const organisationName = firstReadable([account.organisation_name, account.organization_name, organisation.name]);
  const email = firstReadable([account.email]);
  // The first that is a zone this runtime knows: a misspelt one never hides a good one after it.
  const timeZone =
    [account.time_zone, account.timezone, organisation.time_zone, organisation.timezone].map(validTimeZone).find((zone) => zone !== null) ?? null;
  return {
    organisation_id: organisationId,
    organisation_name: organisationName,
    email,
    time_zone: timeZone,
    // An organisation name, a name, an email or an id, the first present; else the kind of key and
    // the day it was connected. Never the key itself, nor the app's name (Zapier adds that).
    connection_label:
      firstReadable([organisationName, account.name, email, organisationId, account.id]) ??
      keyLabel(connection.apiKey, connection.connectedAt ?? new Date(), timeZone),
  };
};

/** `GET /me`: proves the key works, and names the connection. */
const testConnection = async (z: ZObject, bundle: Bundle) =>
  accountOf(await callEcologic(z, { method: 'GET', path: '/me', activity: ACTIVITIES.connecting, expect: (shapes) => shapes.meResponse }), {
    apiKey: bundle.authData?.api_key,
  });

/** How long turning a Zap on and "Test trigger" wait for the organisation's time zone before going on without it (tests shorten it). */
export const timeZoneSettings = { timeoutMs: 5_000 };

/**
 * The organisation's time zone from `GET /me`, best effort: any failure (or a `/me` without a usable
 * zone) is null, and never stops what the partner is doing. A failed call is logged as missed, with
 * no detail: no status, no values.
 */
export const organisationTimeZone = async (z: ZObject, activity: string): Promise<string | null> => {
  const me = await tryEcologic(z, { method: 'GET', path: '/me', activity, timeoutMs: timeZoneSettings.timeoutMs, expect: (shapes) => shapes.meResponse });
  if (me === undefined) {
    z.console.warn("could not read the organisation's time zone");
    return null;
  }
  return accountOf(me).time_zone;
};

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
