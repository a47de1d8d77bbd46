// A second, independent check of the OpenAPI document: @seriousme/openapi-schema-validator checks it
// against the official OpenAPI JSON Schema of its version (3.1 here), then checks that every
// internal `$ref` points at something and that the whole document dereferences. Redocly and
// Spectral have their own readings of the specification; this one is the OpenAPI Initiative's
// published schema, run with Ajv.
//
// An ES module run as a plain Node script (`npm run lint:openapi:schema`), never under jest: the
// package is ESM-only, which jest cannot load on Node 22.
//
//   node scripts/validate-openapi.mjs [document]    (default docs/openapi.yaml)
//
// Exit status 0 when the document is valid, 1 when it is not (every error printed), 2 on a usage
// error.
import { Validator } from '@seriousme/openapi-schema-validator';
import { existsSync } from 'node:fs';

const EXPECTED_VERSION = '3.1';
const file = process.argv[2] ?? 'docs/openapi.yaml';
if (process.argv.length > 3) {
  console.error('usage: node scripts/validate-openapi.mjs [document]');
  process.exit(2);
}
if (!existsSync(file)) {
  console.error(`openapi-schema-validator: no such file: ${file}`);
  process.exit(2);
}

/** One Ajv error as one readable line: where, what, and the detail Ajv gives. */
function describe(error) {
  if (typeof error !== 'object' || error === null) return String(error);
  const where = error.instancePath === '' || error.instancePath === undefined ? '(document root)' : error.instancePath;
  const params = error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : '';
  const rule = error.schemaPath ? `  [schema: ${error.schemaPath}]` : '';
  return `${where}: ${error.message ?? 'invalid'}${params}${rule}`;
}

function report(errors) {
  const list = Array.isArray(errors) ? errors : [errors];
  // Ajv reports each failed branch of the schema's oneOf/anyOf; the same line twice says nothing new.
  const lines = [...new Set(list.map(describe))];
  for (const line of lines) console.error(`  ${line}`);
  return lines.length;
}

const started = Date.now();
const validator = new Validator();
const result = await validator.validate(file);
if (!result.valid) {
  console.error(`openapi-schema-validator: ${file} does not match the OpenAPI ${validator.version ?? ''} schema:`.replace('  ', ' '));
  const n = report(result.errors);
  console.error(`openapi-schema-validator: ${n} error(s)`);
  process.exit(1);
}
if (validator.version !== EXPECTED_VERSION) {
  console.error(`openapi-schema-validator: ${file} is OpenAPI ${validator.version}, expected ${EXPECTED_VERSION}.x`);
  process.exit(1);
}
try {
  // Dereferences every internal $ref (the check above already refused dangling ones); throws on a
  // reference it cannot follow.
  validator.resolveRefs();
} catch (error) {
  console.error(`openapi-schema-validator: ${file}: cannot resolve references: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
console.log(
  `openapi-schema-validator: ${file} is valid OpenAPI ${validator.specificationVersion} (official ${EXPECTED_VERSION} schema, references resolved) in ${Date.now() - started} ms`,
);
