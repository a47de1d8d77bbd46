import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

// The three independent checks of docs/openapi.yaml that `npm test` runs besides Redocly —
// Spectral (`npm run lint:openapi:spectral`), the official OpenAPI 3.1 JSON Schema
// (`npm run lint:openapi:schema`) and the TypeScript types generated from the document
// (`npm run check:openapi-types`) — each run here on a copy of the document: the copy as it is
// passes, and a copy with one deliberate error fails, naming the error. So a tool that stopped
// looking (a ruleset that lost its rules, a validator that accepts anything, types that accept
// any body) fails this suite.
//
// Each tool runs as its own process, as `npm test` runs it (the schema validator is ESM-only,
// which jest cannot load), with a bound that holds on a busy two-core machine.

const ROOT = join(__dirname, '..');
const TOOL_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 4 * TOOL_TIMEOUT_MS;

// The parsed document: YAML of any shape, changed in place by the cases below.
type Doc = Record<string, any>;

interface Outcome {
  status: number | null;
  output: string;
}

const run = (args: string[]): Outcome => {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: TOOL_TIMEOUT_MS });
  if (result.error) throw result.error; // did not start, or ran out of time
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
};

const spectral = (doc: string): Outcome =>
  run([
    join(ROOT, 'node_modules', '@stoplight', 'spectral-cli', 'dist', 'index.js'),
    'lint',
    doc,
    '--ruleset',
    join(ROOT, '.spectral.yaml'),
    '--fail-severity=error',
  ]);
const schema = (doc: string): Outcome => run([join(ROOT, 'scripts', 'validate-openapi.mjs'), doc]);
const types = (doc: string, out: string): Outcome =>
  run([join(ROOT, 'scripts', 'openapi-types.mjs'), '--doc', doc, '--out', out]);

let dir: string;
let copies = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'openapi-tools-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const document = (): Doc => parse(readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8')) as Doc;

/** The document, changed by `change` (nothing when absent), as a file of its own. */
const copyOf = (change?: (doc: Doc) => void): string => {
  const doc = document();
  change?.(doc);
  copies += 1;
  const file = join(dir, `openapi-${copies}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
};

/** A body schema of the document; fails the test when the document no longer has it. */
const bodySchema = (doc: Doc, name: string): Doc => {
  const found = doc.components?.schemas?.[name];
  if (found === undefined) throw new Error(`docs/openapi.yaml has no components.schemas.${name}`);
  return found as Doc;
};

const unknownTopLevelField = (doc: Doc): void => {
  doc['delivery-rules'] = 'not a field of an OpenAPI document';
};
const danglingRef = (doc: Doc): void => {
  const body = doc.webhooks?.['Audit:Create']?.post?.requestBody?.content?.['application/json'];
  if (body === undefined) throw new Error('docs/openapi.yaml has no Audit:Create webhook body');
  body.schema = { $ref: '#/components/schemas/AuditCreatedBody' };
};
const licenseIdentifierAndUrl = (doc: Doc): void => {
  // OpenAPI 3.1: a license names its `identifier` or its `url`, never both.
  doc.info.license = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary', url: 'https://example.com/license' };
};

describe('Spectral (spectral:oas, .spectral.yaml)', () => {
  test(
    'passes the document as it is, fails on an unknown field and on a reference to nothing',
    () => {
      const asItIs = spectral(copyOf());
      // A finding is a `line:column  severity  rule  message  path` line; a clean document prints none.
      expect({ status: asItIs.status, errors: asItIs.output.match(/^\s*\d+:\d+\s+error\s.*$/gm) }).toEqual({ status: 0, errors: null });

      const unknown = spectral(copyOf(unknownTopLevelField));
      expect(unknown.status).not.toBe(0);
      expect(unknown.output).toMatch(/error\s+oas3-schema\s+.*unevaluated properties/);

      const dangling = spectral(copyOf(danglingRef));
      expect(dangling.status).not.toBe(0);
      expect(dangling.output).toMatch(/error\s+invalid-ref\s+'#\/components\/schemas\/AuditCreatedBody' does not exist/);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the official OpenAPI 3.1 schema (scripts/validate-openapi.mjs)', () => {
  test(
    'passes the document as it is, fails on a license with both identifier and url and on a reference to nothing',
    () => {
      const asItIs = schema(copyOf());
      expect(asItIs).toEqual({ status: 0, output: expect.stringMatching(/is valid OpenAPI 3\.1\.\d/) });

      const license = schema(copyOf(licenseIdentifierAndUrl));
      expect(license.status).toBe(1);
      expect(license.output).toMatch(/\/info\/license: must NOT be valid/);

      const dangling = schema(copyOf(danglingRef));
      expect(dangling.status).toBe(1);
      expect(dangling.output).toContain("Can't resolve #/components/schemas/AuditCreatedBody");
    },
    TEST_TIMEOUT_MS,
  );
});

describe('types generated by openapi-typescript (scripts/openapi-types.mjs)', () => {
  test(
    'fit the fixtures as the document is; fail when a fixture no longer fits, and when the types stop refusing a wrong field type',
    () => {
      const asItIs = types(copyOf(), join(dir, 'types-as-it-is'));
      expect(asItIs).toEqual({ status: 0, output: expect.stringMatching(/6 fixtures fit their webhook body types/) });

      // Every fixture sends postcode as text: a document saying integer no longer fits them.
      const integerPostcode = types(
        copyOf((doc) => {
          bodySchema(doc, 'AuditCreateBody').properties.postcode = { type: 'integer' };
        }),
        join(dir, 'types-integer-postcode'),
      );
      expect(integerPostcode.status).toBe(1);
      expect(integerPostcode.output).toMatch(/Types of property 'postcode' are incompatible/);

      // first_name of any type: the check's `@ts-expect-error` for a number there meets no error.
      const anyFirstName = types(
        copyOf((doc) => {
          bodySchema(doc, 'AuditCreateBody').properties.first_name = { description: 'anything' };
        }),
        join(dir, 'types-any-first-name'),
      );
      expect(anyFirstName.status).toBe(1);
      expect(anyFirstName.output).toMatch(/webhook-bodies\.check\.mts\(\d+,\d+\): error TS2578: Unused '@ts-expect-error' directive/);
    },
    TEST_TIMEOUT_MS,
  );
});
