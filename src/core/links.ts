/**
 * The web addresses partners are sent to from help texts, errors and the guide. Ecologic has
 * published none of them: each is our assumption until Ecologic confirms it, and
 * docs/publishing.md lists them among the things Ecologic must check before the app goes public.
 * One place, so a confirmed address changes everywhere at once.
 */
export const ECOLOGIC_LINKS = {
  /** Ecologic's public site: the app listing's homepage. */
  homepage: 'https://getecologic.com',
  /** Where an organisation administrator creates a Partner API key. */
  apiKeys: 'https://app.getecologic.com/settings/partner-api',
  /** Ecologic's partner support. */
  support: 'https://getecologic.com/support',
  /** docs/partner-guide.md, as published on Ecologic's help site. */
  partnerGuide: 'https://getecologic.com/help/zapier',
} as const;

/** Ecologic's production API (contract section 2.1): the Zapier app's and `npm run subscribe`'s default. */
export const ECOLOGIC_API_BASE_URL = 'https://api.getecologic.com/v1';

/** A section of the partner guide; the anchors are the guide's headings (test/partner-copy.test.ts). */
export const guideLink = (anchor: PartnerGuideAnchor): string => `${ECOLOGIC_LINKS.partnerGuide}#${anchor}`;

export type PartnerGuideAnchor =
  | 'connect-your-ecologic-account'
  | 'choose-a-trigger'
  | 'map-a-quote-request-into-your-crm'
  | 'when-a-run-says-delivery-rejected'
  | 'what-each-message-means';
