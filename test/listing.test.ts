import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import app from '../index';
import { ECOLOGIC_LINKS } from '../src/core/links';
import { generatedFiles } from '../scripts/generated-files';
import { ZAP_TEMPLATES } from '../scripts/zap-templates';

// The app's Zapier listing (docs/listing.json) against the listing rules Zapier publishes that can be
// checked offline, and docs/publishing.md against the listing and against Zapier's own lists of
// requirements and checks. Sources, as cited in docs/publishing.md:
// - Integration publishing requirements, 6.1 to 6.3:
//   https://docs.zapier.com/integrations/publish/integration-publishing-requirements
// - Integration check reference, M001 to M007:
//   https://docs.zapier.com/integrations/publish/integration-checks-reference
// - Integration branding guidelines (name, description, logo, categories):
//   https://platform.zapier.com/publish/branding-guidelines
// Both pages were read from their Markdown source in github.com/zapier/visual-builder (2024).

const ROOT = join(__dirname, '..');
const LISTING_PATH = join(ROOT, 'docs', 'listing.json');
const PUBLISHING_PATH = join(ROOT, 'docs', 'publishing.md');

type Listing = {
  name: string;
  description: string;
  homepage: string;
  category: string;
  categoryKey: string;
  categoryParent: string;
  audience: string;
  intendedAudience: string;
  launchPlan: string[];
  role: string | null;
  supportUrl: string;
  supportEmail: string | null;
  partnerGuideUrl: string;
  primaryColour: string | null;
  logo: {
    file: string | null;
    format: string;
    colourMode: string;
    square: boolean;
    minSizePx: number;
    transparentBackground: boolean;
    containsAppName: boolean;
  };
  [key: string]: unknown;
};

const listing = JSON.parse(readFileSync(LISTING_PATH, 'utf8')) as Listing;
const publishing = readFileSync(PUBLISHING_PATH, 'utf8');
/** The same text with every run of whitespace made one space, to find phrases that wrap. */
const publishingFlat = publishing.replace(/\s+/g, ' ');

// The CLI's own limit: `zapier-platform register` refuses a longer description (zapier-platform-cli
// 19.1.0, src/constants.js). Read from the installed CLI, so an upgrade that changes it shows here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MAX_DESCRIPTION_LENGTH } = require('zapier-platform-cli/src/constants') as { MAX_DESCRIPTION_LENGTH: number };
// M002: "at least 40 characters and a maximum of 140 characters", "1 - 3 sentences".
const MIN_DESCRIPTION_LENGTH = 40;
const MAX_SENTENCES = 3;

/**
 * Zapier's app-directory categories, parent → { key: name }. Names and grouping from the branding
 * guidelines' "Available Categories"; keys as `zapier-platform register --category` takes them, from
 * the CLI's fixture of Zapier's field choices (github.com/zapier/zapier-platform,
 * packages/cli/src/tests/fixtures/registerFieldChoices.js). "AI Tools" (under Artificial
 * Intelligence) is left out: that fixture has no key for it. The live list comes from Zapier's server
 * at `register` time (`npx zapier-platform register --help`).
 */
const ZAPIER_CATEGORIES: Record<string, Record<string, string>> = {
  'Business Intelligence': { analytics: 'Analytics', dashboards: 'Dashboards', reviews: 'Reviews' },
  Commerce: {
    tax: 'Taxes',
    accounting: 'Accounting',
    ecommerce: 'eCommerce',
    fundraising: 'Fundraising',
    'payment-processing': 'Payment Processing',
    invoices: 'Proposal & Invoice Management',
  },
  Communication: {
    'call-tracking': 'Call Tracking',
    email: 'Email',
    fax: 'Fax',
    notifications: 'Notifications',
    phone: 'Phone & SMS',
    'team-chat': 'Team Chat',
    'team-collaboration': 'Team Collaboration',
    'video-calls': 'Video Conferencing',
  },
  'Content & Files': {
    documents: 'Documents',
    files: 'File Management & Storage',
    images: 'Images & Design',
    notes: 'Notes',
    transcription: 'Transcription',
    video: 'Video & Audio',
  },
  'Human Resources': { education: 'Education', hr: 'HR Talent & Recruitment' },
  'Internet of Things': { devices: 'Devices', printing: 'Printing' },
  'IT Operations': {
    databases: 'Databases',
    'developer-tools': 'Developer Tools',
    'it-operations-education': 'Online Courses',
    'security-identity': 'Security & Identity Tools',
    'server-monitoring': 'Server Monitoring',
  },
  'Lifestyle & Entertainment': { fitness: 'Fitness', gaming: 'Gaming', news: 'News & Lifestyle' },
  Marketing: {
    'ads-conversion': 'Ads & Conversion',
    'drip-emails': 'Drip Emails',
    'email-newsletters': 'Email Newsletters',
    'event-management': 'Event Management',
    'marketing-automation': 'Marketing Automation',
    social: 'Social Media Accounts',
    'social-marketing': 'Social Media Marketing',
    'transactional-email': 'Transactional Email',
    'url-shorten': 'URL Shortener',
    webinars: 'Webinars',
  },
  Productivity: {
    bookmarks: 'Bookmark Managers',
    calendar: 'Calendar',
    'product-management': 'Product Management',
    'project-management': 'Project Management',
    spreadsheets: 'Spreadsheets',
    'todo-lists': 'Task Management',
    'time-tracking': 'Time Tracking Software',
  },
  'Sales & CRM': {
    contacts: 'Contact Management',
    crm: 'CRM (Customer Relationship Management)',
    forms: 'Forms & Surveys',
    scheduling: 'Scheduling & Booking',
    signatures: 'Signatures',
  },
  Support: { 'customer-appreciation': 'Customer Appreciation', 'customer-support': 'Customer Support' },
  'Website & App Building': { 'app-builder': 'App Builder', cms: 'Website Builders' },
};

/** Every check in Zapier's integration check reference. It has no D019 or D020. */
const ZAPIER_CHECK_IDS = [
  'A001',
  ...['C001', 'C002', 'C003'],
  ...Array.from({ length: 18 }, (_, i) => `D${String(i + 1).padStart(3, '0')}`),
  ...['D021', 'D022', 'D023', 'D024', 'D025', 'D026'],
  ...['L001', 'L002', 'L003', 'L004'],
  ...['M001', 'M002', 'M003', 'M004', 'M005', 'M006', 'M007'],
  ...['S001', 'S002', 'S003'],
  ...['T001', 'T002', 'T003', 'T004', 'T005', 'T006'],
  'U001',
  'Z001',
];

/** The numbered sections of Zapier's integration publishing requirements (October 2024 numbering). */
const PUBLISHING_REQUIREMENT_IDS = Object.entries({ 1: 6, 2: 2, 3: 2, 4: 3, 5: 8, 6: 3, 7: 2, 8: 2 }).flatMap(([section, count]) =>
  Array.from({ length: count }, (_, i) => `${section}.${i + 1}`),
);

/** docs/publishing.md's own IDs for rows from Zapier's build guidelines, which are not numbered. */
const BUILD_GUIDELINE_ID = /^BG-\d{2}$/;

const STATUSES = ['Met', 'Needs Ecologic', 'Needs Zapier', 'Not applicable'];

/** Files `npm run docs` writes: docs/publishing.md may name them before a fresh clone has run it. */
const GENERATED = new Set(Object.keys(generatedFiles()));

/** The repository files a Markdown text names in backticks. */
const filesNamedIn = (text: string): string[] =>
  [...text.matchAll(/`((?:src|test|docs|scripts)\/[\w./-]+\.(?:ts|md|json|yaml))`/g)].map((match) => match[1]!);

// Words of selling rather than describing (requirement 6.2: "Focus less on selling"; branding
// guidelines: "Do not use flowery or overstated language"). This list is this project's reading.
const MARKETING_WORDS =
  /\b(best|leading|ultimate|number one|world[- ]class|revolutionary|easiest|fastest|greatest|powerful|seamless(ly)?|innovative|cutting[- ]edge|award[- ]winning|premier|unrivall?ed|amazing|perfect|smartest)\b|#1\b/i;
// Apps this project names elsewhere (the partner guide's CRMs); the description must not name other apps.
const OTHER_APPS = /\b(hubspot|pipedrive|salesforce|gmail|google|slack|excel)\b/i;

/** What is wrong with an app description under Zapier's rules; empty when nothing is. */
const descriptionProblems = (name: string, text: string): string[] => {
  const problems: string[] = [];
  if (!text.startsWith(`${name} is `)) problems.push(`does not lead with "${name} is "`);
  if (text.length < MIN_DESCRIPTION_LENGTH) problems.push(`is shorter than ${MIN_DESCRIPTION_LENGTH} characters`);
  if (text.length > MAX_DESCRIPTION_LENGTH) problems.push(`is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  if (/[\r\n]/.test(text)) problems.push('is more than one paragraph');
  const sentences = text.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.trim().length > 0);
  if (sentences.length > MAX_SENTENCES) problems.push(`has more than ${MAX_SENTENCES} sentences`);
  if (!text.endsWith('.')) problems.push('does not end with a full stop');
  if (/\bzap(s|ier)?\b/i.test(text)) problems.push('mentions Zapier');
  if (/\bsync/i.test(text)) problems.push('talks about syncing');
  if (/\bintegrat/i.test(text)) problems.push('talks about the integration');
  if (/https?:|www\.|\]\(|\b[\w-]+\.(com|net|org|io|ai|app|au)\b/i.test(text)) problems.push('contains a link or a domain');
  if (OTHER_APPS.test(text.replaceAll(name, ''))) problems.push('names another app');
  if (MARKETING_WORDS.test(text) || text.includes('!')) problems.push('sells instead of describing');
  return problems;
};

/** Requirement 6.1: the app's name only, no "app" or "integration", no domain, no trademark sign. */
const nameProblems = (name: string): string[] => {
  const problems: string[] = [];
  if (/zapier/i.test(name)) problems.push('uses a Zapier trademark');
  if (/\b(app|integration)\b/i.test(name)) problems.push('adds "app" or "integration"');
  if (/[™®©]|\((tm|r|c)\)/i.test(name)) problems.push('has a trademark or copyright sign');
  if (/\.[a-z]{2,}\b/i.test(name)) problems.push('includes a domain');
  if (name.trim() !== name || name.length < 2) problems.push('is blank, too short or padded');
  return problems;
};

type Table = { header: string[]; rows: string[][] };

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());

/** The pipe tables of a Markdown text: header cells and body rows (the separator line dropped). */
const tablesOf = (markdown: string): Table[] => {
  const tables: Table[] = [];
  let lines: string[] = [];
  for (const line of [...markdown.split('\n'), '']) {
    if (line.trim().startsWith('|')) {
      lines.push(line);
      continue;
    }
    if (lines.length >= 2 && /^\|?\s*:?-{3,}/.test(lines[1]!.trim())) {
      tables.push({ header: cellsOf(lines[0]!), rows: lines.slice(2).map(cellsOf) });
    }
    lines = [];
  }
  return tables;
};

const CHECKLIST_HEADER = ['ID', 'Requirement', 'Status', 'How it is met'];

const checklistRowsOf = (markdown: string): string[][] =>
  tablesOf(markdown)
    .filter((table) => JSON.stringify(table.header) === JSON.stringify(CHECKLIST_HEADER))
    .flatMap((table) => table.rows);

/** What is wrong with checklist rows: missing cells, unknown or repeated IDs, statuses, empty "how". */
const checklistProblems = (rows: string[][]): string[] => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const [id = '', requirement = '', status = '', how = ''] = row;
    if (row.length !== CHECKLIST_HEADER.length) problems.push(`${id || '(no id)'}: has ${row.length} cells`);
    if (!id) problems.push('a row has no ID');
    else if (seen.has(id)) problems.push(`${id}: appears twice`);
    else if (!ZAPIER_CHECK_IDS.includes(id) && !PUBLISHING_REQUIREMENT_IDS.includes(id) && !BUILD_GUIDELINE_ID.test(id)) {
      problems.push(`${id}: is not an ID Zapier publishes`);
    }
    seen.add(id);
    if (!requirement) problems.push(`${id}: no requirement`);
    if (!STATUSES.includes(status)) problems.push(`${id}: status "${status}" is not one of ${STATUSES.join(', ')}`);
    if (how.replace(/[\s—–-]/g, '').length === 0) problems.push(`${id}: does not say how`);
  }
  return problems;
};

/** The text of the "## N. <title>" section, up to the next section of that level. */
const sectionOf = (markdown: string, title: string): string => {
  const start = markdown.search(new RegExp(`^## \\d+\\. ${title}$`, 'm'));
  if (start < 0) return '';
  const next = markdown.slice(start + 1).search(/^## /m);
  return next < 0 ? markdown.slice(start) : markdown.slice(start, start + 1 + next);
};

/** Dotted paths of the null values in an object, nested objects included. */
const nullPathsOf = (value: Record<string, unknown>, prefix = ''): string[] =>
  Object.entries(value).flatMap(([key, inner]) => {
    const path = `${prefix}${key}`;
    if (inner === null) return [path];
    if (typeof inner === 'object' && !Array.isArray(inner)) return nullPathsOf(inner as Record<string, unknown>, `${path}.`);
    return [];
  });

/** Every string value of an object, nested ones included. */
const stringsOf = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value && typeof value === 'object'
      ? Object.values(value as Record<string, unknown>).flatMap(stringsOf)
      : [];

describe('the checkers themselves', () => {
  test('the description check rejects the counter-examples in Zapier\'s own pages and accepts their good one', () => {
    expect(descriptionProblems('Trello', 'Trello is the best project management tool.')).toEqual(['sells instead of describing']);
    expect(descriptionProblems('Google Translate', 'Google Translate enables Zapier users to translate text from one language into another.')).toEqual([
      'does not lead with "Google Translate is "',
      'mentions Zapier',
    ]);
    expect(descriptionProblems('Dropbox', 'A file storage app.')).toEqual([
      'does not lead with "Dropbox is "',
      'is shorter than 40 characters',
    ]);
    expect(descriptionProblems('Trello', 'Trello is a team collaboration tool to organize anything on a kanban board.')).toEqual([]);
    expect(descriptionProblems('Ecologic', `Ecologic is a platform. ${'It does things. '.repeat(3)}`.trim())).toContain('has more than 3 sentences');
    expect(descriptionProblems('Ecologic', 'Ecologic is a platform that keeps your CRM in sync, see getecologic.com.')).toEqual([
      'talks about syncing',
      'contains a link or a domain',
    ]);
  });

  test('the name check rejects what requirement 6.1 forbids', () => {
    expect(nameProblems('Ecologic App')).toEqual(['adds "app" or "integration"']);
    expect(nameProblems('Ecologic™')).toEqual(['has a trademark or copyright sign']);
    expect(nameProblems('getecologic.com')).toEqual(['includes a domain']);
    expect(nameProblems('Ecologic for Zapier')).toEqual(['uses a Zapier trademark']);
  });

  test('the checklist check finds repeated and invented IDs, bad statuses and empty rows', () => {
    const markdown = [
      '| ID | Requirement | Status | How it is met |',
      '|---|---|---|---|',
      '| D002 | Help text links | Met | a test |',
      '| D002 | Help text links | Met | a test |',
      '| D019 | Invented | Met | a test |',
      '| 6.2 | Description | Done | a test |',
      '| BG-01 | Guideline | Needs Ecologic | — |',
      '',
    ].join('\n');
    expect(checklistProblems(checklistRowsOf(markdown))).toEqual([
      'D002: appears twice',
      'D019: is not an ID Zapier publishes',
      '6.2: status "Done" is not one of Met, Needs Ecologic, Needs Zapier, Not applicable',
      'BG-01: does not say how',
    ]);
  });
});

describe('docs/listing.json follows Zapier\'s listing rules', () => {
  test('6.1: the name is the app\'s name and nothing more', () => {
    expect(listing.name).toBe('Ecologic');
    expect(nameProblems(listing.name)).toEqual([]);
  });

  test('6.2 and M002: the description leads with "Ecologic is", is short, plain and about the app', () => {
    expect(descriptionProblems(listing.name, listing.description)).toEqual([]);
  });

  test('6.3 and M006: the homepage is Ecologic\'s marketing site, the address in src/core/links.ts', () => {
    expect(listing.homepage).toBe(ECOLOGIC_LINKS.homepage);
    const homepage = new URL(listing.homepage);
    expect(homepage.protocol).toBe('https:');
    // Not the web app (where the API-key page lives) and not a login page.
    expect(homepage.hostname).not.toBe(new URL(ECOLOGIC_LINKS.apiKeys).hostname);
    expect(homepage.hostname).not.toMatch(/^app\./);
    expect(homepage.pathname).not.toMatch(/log-?in|sign-?in/i);
  });

  test('support and the partner guide are the addresses in src/core/links.ts', () => {
    expect(listing.supportUrl).toBe(ECOLOGIC_LINKS.support);
    expect(listing.partnerGuideUrl).toBe(ECOLOGIC_LINKS.partnerGuide);
  });

  test('4.2: every address in the listing is https', () => {
    const addresses = stringsOf(listing).filter((text) => /^[a-z][a-z0-9+.-]*:\/\//i.test(text));
    expect(addresses.length).toBeGreaterThanOrEqual(3);
    expect(addresses.filter((address) => !address.startsWith('https://'))).toEqual([]);
  });

  test('M001: one category from Zapier\'s list, a child category under its parent', () => {
    const parent = Object.entries(ZAPIER_CATEGORIES).find(([, children]) => Object.hasOwn(children, listing.categoryKey));
    expect(parent?.[0]).toBe(listing.categoryParent);
    expect(parent?.[1][listing.categoryKey]).toBe(listing.category);
    // "Currently, we only allow 1 category per integration" (branding guidelines).
    expect(listing).not.toHaveProperty('secondaryCategory');
  });

  test('intended audience is one of Zapier\'s two values, and every integration starts private', () => {
    expect(['global', 'private']).toContain(listing.intendedAudience);
    expect(listing.launchPlan[0]).toBe('private');
    if (listing.intendedAudience === 'global') expect(listing.launchPlan).toEqual(['private', 'beta', 'public']);
    expect(listing.audience).toMatch(/Australia/);
  });

  test('M003: the role, once set, is one that can go public', () => {
    expect([null, 'employee', 'contractor']).toContain(listing.role);
  });

  test('M004: the logo requirements are Zapier\'s', () => {
    expect(listing.logo).toMatchObject({
      format: 'PNG',
      colourMode: 'RGBA',
      square: true,
      transparentBackground: true,
      containsAppName: false,
    });
    expect(listing.logo.minSizePx).toBeGreaterThanOrEqual(256);
    if (listing.logo.file !== null) expect(listing.logo.file).toMatch(/\.png$/i);
  });

  test('the primary colour and support email, once set, are usable', () => {
    if (listing.primaryColour !== null) {
      expect(listing.primaryColour).toMatch(/^#[0-9a-f]{6}$/i);
      expect(listing.primaryColour.toLowerCase()).not.toBe('#ffffff');
    }
    if (listing.supportEmail !== null) expect(listing.supportEmail).toMatch(/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i);
  });
});

describe('docs/publishing.md', () => {
  const listingTable = tablesOf(publishing).find((table) => table.header.join('|') === 'Field|Value');
  const value = (field: string) => listingTable?.rows.find(([name]) => name === field)?.[1];

  test('its listing table shows the values of docs/listing.json', () => {
    expect(listingTable).toBeDefined();
    expect(value('Name')).toBe(listing.name);
    expect(value('Description')).toBe(listing.description);
    expect(value('Homepage')).toBe(listing.homepage);
    expect(value('Support')).toBe(listing.supportUrl);
    expect(value('Partner guide')).toBe(listing.partnerGuideUrl);
    expect(value('Who it is for')).toBe(listing.audience);
    expect(value('Category')).toBe(`${listing.category} (\`${listing.categoryKey}\`), under ${listing.categoryParent}`);
    expect(value('Intended audience')).toContain(`(\`${listing.intendedAudience}\`)`);
    expect(publishingFlat).toContain(`The description is ${listing.description.length} characters`);
  });

  test('its register command registers the listing\'s values', () => {
    const command = /npx zapier-platform register "([^"]+)" \\\n\s+--desc "([^"]+)" \\\n\s+--url (\S+) --audience (\S+) --role \S+ --category (\S+)/.exec(publishing);
    expect(command?.slice(1)).toEqual([listing.name, listing.description, listing.homepage, listing.intendedAudience, listing.categoryKey]);
  });

  const rows = checklistRowsOf(publishing);

  test('every checklist row has a unique ID Zapier publishes, a status and how it is met', () => {
    expect(rows.length).toBeGreaterThan(ZAPIER_CHECK_IDS.length + PUBLISHING_REQUIREMENT_IDS.length);
    expect(checklistProblems(rows)).toEqual([]);
  });

  test('every publishing requirement and every integration check has a row', () => {
    const ids = new Set(rows.map(([id]) => id));
    expect(PUBLISHING_REQUIREMENT_IDS.filter((id) => !ids.has(id))).toEqual([]);
    expect(ZAPIER_CHECK_IDS.filter((id) => !ids.has(id))).toEqual([]);
  });

  test('"Not applicable" for searches, creates and domain fields holds: the app has none', () => {
    const statusOf = (id: string) => rows.find(([rowId]) => rowId === id)?.[2];
    expect(Object.keys(app.searches ?? {})).toEqual([]);
    expect(Object.keys(app.creates ?? {})).toEqual([]);
    expect(Object.keys(app.searchOrCreates ?? {})).toEqual([]);
    const fields = (app.authentication?.fields ?? []) as Array<{ key: string; inputFormat?: string }>;
    expect(fields.map((field) => field.key)).toEqual(['api_key']);
    expect(fields.filter((field) => field.inputFormat !== undefined)).toEqual([]);
    for (const id of ['D009', 'D013', 'D014', 'D015', 'D022', 'D026']) expect([id, statusOf(id)]).toEqual([id, 'Not applicable']);
    // The status legend says "six instant triggers and three hidden dropdown triggers".
    const triggers = Object.values(app.triggers ?? {}) as Array<{ display: { hidden?: boolean }; operation: { type?: string } }>;
    expect(triggers.filter((t) => !t.display.hidden && t.operation.type === 'hook')).toHaveLength(6);
    expect(triggers.filter((t) => t.display.hidden)).toHaveLength(3);
    expect(publishingFlat).toContain('six instant triggers and three hidden dropdown triggers');
  });

  test('every value docs/listing.json leaves null is listed under "What needs Ecologic"', () => {
    const needsEcologic = sectionOf(publishing, 'What needs Ecologic');
    expect(needsEcologic.length).toBeGreaterThan(0);
    const missing = nullPathsOf(listing).filter((path) => !needsEcologic.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });

  test('every address of src/core/links.ts is listed under "What needs Ecologic" for confirmation', () => {
    const needsEcologic = sectionOf(publishing, 'What needs Ecologic');
    for (const [key, address] of Object.entries(ECOLOGIC_LINKS)) {
      expect(needsEcologic).toContain(`\`${key}\`, ${address}`);
    }
  });

  test('every file it names exists, or is one `npm run docs` writes', () => {
    const named = filesNamedIn(publishing);
    expect(named.length).toBeGreaterThan(10);
    expect([...new Set(named)].filter((path) => !existsSync(join(ROOT, path)) && !GENERATED.has(path))).toEqual([]);
  });

  test('every file a checklist row names as how it is met is a file of the repository', () => {
    const missing = rows.flatMap(([id = '', , , how = '']) =>
      filesNamedIn(how)
        .filter((path) => !existsSync(join(ROOT, path)) && !GENERATED.has(path))
        .map((path) => `${id}: ${path}`),
    );
    expect(rows.filter(([, , , how = '']) => filesNamedIn(how).length > 0).length).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  test('BG-05 holds: every filter of a visible trigger takes several values', () => {
    const triggers = Object.values(app.triggers ?? {}) as Array<{ display: { hidden?: boolean }; operation: { inputFields?: Array<{ key: string; list?: boolean }> } }>;
    const filters = triggers.filter((t) => !t.display.hidden).flatMap((t) => t.operation.inputFields ?? []);
    expect(filters.map((field) => field.key).sort()).toEqual(['action', 'label', 'label']);
    expect(filters.filter((field) => field.list !== true)).toEqual([]);
    expect(rows.find(([id]) => id === 'BG-05')?.[3]).toMatch(/Product or Service and Status Label are both multi-select/);
  });

  test('release step 11 points to the committed Zap templates, and the older numbering is called older', () => {
    const release = sectionOf(publishing, 'Release steps').replace(/\s+/g, ' ');
    expect(release).toMatch(/11\. During beta: .*`docs\/zap-templates\.md` \(generated from `scripts\/zap-templates\.ts`, checked by `test\/zap-templates\.test\.ts`\)/);
    expect(ZAP_TEMPLATES.length).toBeGreaterThanOrEqual(3);
    expect(GENERATED).toContain('docs/zap-templates.md');
    // Requirement 3.1, 4.1 and 4.6.5 are the January 2024 numbering, replaced in July 2024.
    expect(publishingFlat).toContain('older numbering (January 2024)');
    expect(publishingFlat).not.toMatch(/newer numbering/);
  });
});
