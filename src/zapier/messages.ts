import { ECOLOGIC_LINKS, guideLink } from '../core/links';

// Every message a partner can see in the Zap editor or the Zap history, in one place. Each says what
// happened and what to do next, in an installer's words: no HTTP methods, paths, status numbers or
// schema words (test/partner-copy.test.ts). The technical detail goes to the logs instead, for
// Ecologic's developers. docs/partner-guide.md is generated from this list.

/** What the partner was doing when it failed, e.g. "turning on this Zap". */
export type Activity = string;

const SUPPORT = `contact Ecologic support at ${ECOLOGIC_LINKS.support}`;
const RETRY = 'This step can be retried: wait a few minutes and try again';
const RECONNECT = `create a new key in Ecologic (Settings → Partner API: ${ECOLOGIC_LINKS.apiKeys}) and reconnect your Ecologic account in Zapier`;

export interface PartnerMessage {
  /** The error code Zapier records with the message (never shown as the message itself). */
  readonly code: string;
  /** When a partner meets it, for the guide. */
  readonly when: string;
  readonly text: (activity: Activity) => string;
  /**
   * How Zapier should treat it, when not as a plain error: ask the partner to reconnect, retry after
   * a delay, or stop the run without counting towards turning the Zap off.
   */
  readonly raisedAs?: 'expiredAuth' | 'throttled' | 'halted';
}

const message = (
  code: string,
  when: string,
  text: (activity: Activity) => string,
  raisedAs?: PartnerMessage['raisedAs'],
): PartnerMessage => ({ code, when, text, ...(raisedAs ? { raisedAs } : {}) });

export const PARTNER_MESSAGES = {
  keyRejected: message(
    'AuthenticationFailed',
    'Ecologic does not accept the API key: it was pasted incompletely or mistyped when connecting, or it was deleted or replaced since.',
    (activity) =>
      activity === ACTIVITIES.connecting
        ? `Ecologic did not accept your API key while ${activity}. The key may have been pasted incompletely: copy the whole key from Ecologic (it starts with "eco_" and has no spaces), paste it and try again. If it is still not accepted, the key may have been deleted or replaced: create a new key in Ecologic (Settings → Partner API: ${ECOLOGIC_LINKS.apiKeys}) and use that one.`
        : `Ecologic did not accept your API key while ${activity}. The key may have been deleted, replaced or mistyped. To fix it, ${RECONNECT}.`,
    'expiredAuth',
  ),
  keyNotAllowed: message(
    'Forbidden',
    'The API key works, but your organisation has not given it access to notifications.',
    (activity) =>
      `Your Ecologic API key is not allowed to do this (${activity}). Ask your Ecologic organisation administrator for a key with access to notifications, then reconnect your Ecologic account in Zapier.`,
  ),
  optionNoLongerValid: message(
    'OptionNotValid',
    "A choice in the trigger's options (a product or service, or a status label) no longer exists in Ecologic.",
    (activity) =>
      `Ecologic did not accept one of this trigger's options while ${activity}: a product, service or status label may have been renamed or removed. Choose the options again, then try again.`,
  ),
  notAccepted: message(
    'NotAccepted',
    'Ecologic refused the request for a reason the app does not recognise.',
    (activity) =>
      `Ecologic did not accept the request while ${activity}. Check this step's options and try again; if it keeps happening, ${SUPPORT}.`,
  ),
  rateLimited: message(
    'RateLimited',
    'Your organisation sent Ecologic more requests than it allows in a short time.',
    (activity) => `Ecologic is receiving too many requests from your organisation, so it paused ${activity}. Wait a minute, then try again.`,
    'throttled',
  ),
  ecologicUnavailable: message(
    'Unavailable',
    'Ecologic had a problem on its side, or is down for maintenance.',
    (activity) => `Ecologic had a problem on its side while ${activity}. ${RETRY}. If it keeps happening, ${SUPPORT}.`,
  ),
  unreachable: message(
    'NetworkError',
    'The connection to Ecologic failed, or Ecologic took longer than 30 seconds to answer.',
    (activity) =>
      `Zapier could not reach Ecologic while ${activity}: the connection failed or Ecologic took too long to answer. ${RETRY}. If it keeps happening, ${SUPPORT}.`,
  ),
  redirected: message(
    'Redirect',
    "Ecologic's server pointed the request somewhere else. The app never follows that, so your API key is never sent anywhere but Ecologic.",
    (activity) =>
      `Ecologic sent the request to another address while ${activity}. To keep your API key safe, the app does not follow it. Try again later; if it keeps happening, ${SUPPORT}.`,
  ),
  unreadableAnswer: message(
    'UnexpectedResponse',
    'Ecologic answered in a form the app cannot read, usually during a change on Ecologic\'s side.',
    (activity) =>
      `Ecologic sent an answer the app could not read while ${activity}. Try again in a few minutes; if it keeps happening, ${SUPPORT} and say when it happened.`,
  ),
  unusableSecret: message(
    'InvalidSecret',
    "Ecologic gave the Zap a security code that no delivery could be checked with.",
    () => `Ecologic returned a security code that cannot be used, so this Zap was not turned on. Turn it on again; if it keeps happening, ${SUPPORT}.`,
  ),
  noHookAddress: message(
    'MissingTargetUrl',
    'Zapier did not give the app the address Ecologic should send events to.',
    () => 'Zapier did not provide the address for Ecologic to send events to, so this Zap was not turned on. Turn the Zap on again.',
  ),
  unreadableDelivery: message(
    'InvalidPayload',
    'A delivery from Ecologic was not in a form the app can read.',
    (activity) =>
      `Ecologic sent ${activity} in a form the app cannot read, so nothing was passed on from this run. If it keeps happening, ${SUPPORT} and say when it happened.`,
  ),
  deliveryRejected: message(
    'DeliveryRejected',
    'A delivery could not be proven to come from Ecologic (see "When a run says delivery rejected").',
    () =>
      `Delivery rejected: this run's data could not be proven to come from Ecologic, so the run was stopped and nothing was passed on. Once in a while this is harmless. If every run stops like this, turn the Zap off and on again to renew its security code. More: ${guideLink('when-a-run-says-delivery-rejected')}`,
    'halted',
  ),
  somethingWentWrong: message(
    'InternalError',
    'Something unexpected went wrong inside the app.',
    (activity) => `Something went wrong in the Ecologic app while ${activity}. Try again; if it keeps happening, ${SUPPORT} and say when it happened.`,
  ),
} as const satisfies Record<string, PartnerMessage>;

export type PartnerMessageName = keyof typeof PARTNER_MESSAGES;

/** What a partner was doing, in their words, for each operation of the app. */
export const ACTIVITIES = {
  connecting: 'checking your Ecologic connection',
  turningOn: 'turning on this Zap',
  turningOff: 'turning off this Zap',
  loadingSamples: (noun: string) => `loading recent ${plural(noun)} to test this trigger`,
  loadingProducts: 'loading the list of products and services',
  loadingLabels: 'loading the list of status labels',
  receiving: (noun: string) => `this ${noun.toLowerCase()}`,
} as const;

/** "Quote Request" → "quote requests"; "Audit Simulation" → "audit simulations". */
function plural(noun: string): string {
  return `${noun.toLowerCase()}s`;
}
