// The contract's prose (docs/ecologic-api.md section 4) names every field the app expects the
// platform to send, so a field added to an event's schema cannot be left out of what Ecologic reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsOf } from '../src/core/catalog';
import { PLATFORM_EVENTS, type PlatformEvent } from '../src/core/events';

const contract = readFileSync(join(__dirname, '..', 'docs', 'ecologic-api.md'), 'utf8');
const section4 = contract.slice(contract.indexOf('## 4. Event field sets'), contract.indexOf('\n## 5.'));

/** The backticked names in the subsection whose heading names `title`. */
const namesIn = (title: string): Set<string> => {
  const start = section4.indexOf(title);
  if (start < 0) return new Set();
  const end = section4.indexOf('\n### ', start + 1);
  const text = section4.slice(start, end < 0 ? undefined : end);
  return new Set([...text.matchAll(/`([a-z_0-9]+)`/g)].map((match) => match[1]!));
};

const namedFor = (event: PlatformEvent): Set<string> => {
  const own = namesIn(`\`${event}\``);
  return event.startsWith('Audit:') ? new Set([...own, ...namesIn('Audit events: common fields')]) : own;
};

test('section 4 has a subsection for every event', () => {
  for (const event of PLATFORM_EVENTS) expect(namesIn(`\`${event}\``).size).toBeGreaterThan(0);
});

test.each(PLATFORM_EVENTS.map((event) => [event]))('%s: every field the platform sends is in the contract', (event) => {
  const sent = fieldsOf(event).filter((field) => field.origin !== 'derived').map((field) => field.key);
  const named = namedFor(event);
  expect(sent.filter((key) => !named.has(key))).toEqual([]);
});
