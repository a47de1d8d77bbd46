import { fieldsOf } from '../src/core/catalog';
import { EVENT_REGISTRY } from '../src/core/event-registry';
import { PARTNER_MESSAGES } from '../src/zapier/messages';
import { CRM_MAPPINGS, MESSAGE_ORDER, messageOrder, partnerGuideMarkdown } from '../scripts/partner-guide';
import { ZAP_TEMPLATES } from '../scripts/zap-templates';
import { developerWords, UNPLAIN_WORDS } from './support/partner-text';

// The partner guide as the generator writes it (test/generated-files.test.ts checks that the
// committed docs/partner-guide.md is this text): plain installer words throughout, a first Zap that
// works without a test quote request, CRM mappings that name every step and choice, the messages an
// installer meets most often first, and the suggested Zaps.

const guide = partnerGuideMarkdown();
const label = (key: string) => fieldsOf('RequestQuote:Create').find((field) => field.key === key)!.label;

/** The guide without the example column of its tables: sample values such as "$7,490.00" are data, not words. */
const proseOf = (markdown: string): string => {
  let exampleColumn = -1;
  return markdown
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) {
        exampleColumn = -1;
        return line;
      }
      const cells = line.split(/(?<!\\)\|/);
      if (exampleColumn < 0) exampleColumn = cells.findIndex((cell) => cell.trim() === 'example');
      return exampleColumn < 0 ? line : cells.filter((_, index) => index !== exampleColumn).join('|');
    })
    .join('\n');
};

describe('the words', () => {
  test('no word an installer does not use, anywhere in the guide', () => {
    expect(guide.match(new RegExp(UNPLAIN_WORDS.source, 'gi'))).toBeNull();
    for (const word of ['instant', 'halted', 'signing secret', 'picklists', 'multi-currency portals']) expect(guide.toLowerCase()).not.toContain(word);
  });

  test('the guide\'s prose passes the installer-words rule as a whole', () => {
    expect(developerWords(proseOf(guide))).toEqual([]);
  });

  test('the prose check still sees words outside the example column', () => {
    expect(developerWords(proseOf('| field | example |\n|---|---|\n| Price | $7,490.00 |\n'))).toEqual([]);
    expect(developerWords(proseOf('| field | example |\n|---|---|\n| a halted run | 1 |\n'))).toEqual(['a word an installer does not use']);
  });
});

describe('a first Zap', () => {
  test('Test trigger with nothing to load: Skip test and the app\'s sample, creating one in Ecologic only as an option', () => {
    const flat = guide.replace(/\s+/g, ' ');
    expect(flat).toMatch(/When \*\*Test trigger\*\* finds none, choose \*\*Skip test\*\*: Zapier then uses the app's sample/);
    expect(flat).toMatch(/your first real quote request flows through once the Zap is on/);
    expect(flat).toMatch(/If you can create one in Ecologic .* you can do that instead/);
  });

  test('the Status Label option is described as the filter works: one label or several', () => {
    const several = EVENT_REGISTRY.filter((entry) => entry.filter?.key === 'label').every((entry) => entry.filter!.several);
    expect(guide).toContain(several ? 'choose one or more labels' : 'choose one label');
    expect(guide).toContain(several ? '| Status Label (one or more) |' : '| Status Label (one) |');
  });

  test('one tip sets the customer\'s local time (for calling back) against UTC (for CRMs)', () => {
    const tips = guide.split('\n- ').filter((tip) => tip.includes(`**${label('occurred_at_local')}**`));
    expect(tips).toHaveLength(1);
    expect(tips[0]).toMatch(/call them back/);
    expect(tips[0]).toContain(`**${label('occurred_at')}**`);
    expect(tips[0]).toMatch(/CRM/);
  });
});

describe('the CRM tables', () => {
  const rowsOf = (crm: string) => CRM_MAPPINGS.find((mapping) => mapping.crm === crm)!.rows;

  test('every CRM puts the suburb in a City field, and says what the street line holds', () => {
    for (const mapping of CRM_MAPPINGS) {
      const city = mapping.rows.filter((row) => 'fields' in row.source && row.source.fields.includes('suburb'));
      expect([mapping.crm, city.map((row) => row.crmField).join()]).toEqual([mapping.crm, expect.stringMatching(/City/)]);
      for (const row of mapping.rows.filter((candidate) => 'fields' in candidate.source && candidate.source.fields.includes('street'))) {
        expect(row.note).toMatch(/suburb/);
      }
    }
    expect(guide).toContain(`| Contact: City | **${label('suburb')}** |`);
    expect(guide).toContain(`| City | **${label('suburb')}** |`);
  });

  test('HubSpot: the deal\'s pipeline and stage are the installer\'s choice, and the deal is tied to the contact from the earlier step', () => {
    const hubspot = rowsOf('HubSpot');
    const crmFields = hubspot.map((row) => row.crmField);
    expect(crmFields).toEqual(expect.arrayContaining(['Deal: Pipeline', 'Deal: Deal Stage']));
    for (const name of ['Deal: Pipeline', 'Deal: Deal Stage']) expect('choice' in hubspot.find((row) => row.crmField === name)!.source).toBe(true);
    expect(hubspot.find((row) => row.crmField === 'Deal: Deal Stage')!.source).toEqual({ choice: expect.stringContaining('Appointment scheduled') });
    expect(hubspot.find((row) => 'step' in row.source)?.source).toEqual({ step: 'Create or Update Contact', field: 'ID' });
    expect(guide).toContain('| Deal: associated contact | **ID** from the **Create or Update Contact** step |');
    const intro = guide.slice(guide.indexOf('### HubSpot'), guide.indexOf('| HubSpot field |')).replace(/\s+/g, ' ');
    expect(intro).toMatch(/in the \*\*Create Deal\*\* step: in its field for associated contacts, choose the contact's \*\*ID\*\* from the \*\*Create or Update Contact\*\* step/);
  });

  test('an earlier step a row maps from is one the CRM\'s steps name', () => {
    for (const mapping of CRM_MAPPINGS) {
      for (const row of mapping.rows) if ('step' in row.source) expect(mapping.step).toContain(`**${row.source.step}**`);
    }
  });
});

describe('the messages', () => {
  const tableRows = guide
    .slice(guide.indexOf('| message | when it appears |'))
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| message'));

  test('the three an installer meets most often come first: a rejected key, a rejected delivery, an option no longer valid', () => {
    expect(MESSAGE_ORDER.slice(0, 3)).toEqual(['keyRejected', 'deliveryRejected', 'optionNoLongerValid']);
    expect(tableRows[0]).toMatch(/^\| Ecologic did not accept your API key/);
    expect(tableRows[1]).toMatch(/^\| Delivery rejected:/);
    expect(tableRows[2]).toMatch(/^\| Ecologic did not accept one of this trigger's options/);
  });

  test('every message once, in the listed order', () => {
    expect(tableRows).toHaveLength(Object.keys(PARTNER_MESSAGES).length);
    MESSAGE_ORDER.forEach((name, index) => expect(tableRows[index]).toContain(PARTNER_MESSAGES[name].when.replace(/\|/g, '\\|')));
  });

  test('the order list must name every message exactly once', () => {
    const [first, ...rest] = MESSAGE_ORDER;
    expect(messageOrder()).toEqual(MESSAGE_ORDER);
    expect(() => messageOrder(rest)).toThrow(`missing [${first}]`);
    expect(() => messageOrder([...MESSAGE_ORDER, first!])).toThrow(`repeated [${first}]`);
    expect(() => messageOrder([...MESSAGE_ORDER, 'noSuchMessage'])).toThrow('unknown [noSuchMessage]');
  });
});

test('the guide links the suggested Zaps and names each template', () => {
  expect(guide).toContain('](zap-templates.md)');
  for (const template of ZAP_TEMPLATES) expect(guide).toContain(`**${template.title}**`);
});
