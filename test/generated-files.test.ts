import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles } from '../scripts/generated-files';

// The field catalog, docs/triggers.md and docs/schemas/ are generated from the zod schemas and
// checked in. When a schema changes, run `npm run docs`; until then this test fails.
test.each(Object.entries(generatedFiles()))('%s is current (run `npm run docs` if not)', (path, content) => {
  expect(readFileSync(join(__dirname, '..', path), 'utf8')).toBe(content);
});
