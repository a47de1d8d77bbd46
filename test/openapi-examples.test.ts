/**
 * Every example docs/openapi.yaml carries is valid against its own schema: media-type examples (a
 * webhook's body, a REST response, an error), parameter and header examples, and the `example` of any
 * schema. A document whose reference shows `"event_id": "string"` or an example its own schema
 * refuses cannot be committed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

import { PLATFORM_EVENTS } from '../src/core/events';
import { DELIVERY_EXAMPLES } from '../src/contract/examples';
import { contractSection } from '../src/contract/openapi';
import { documentPointer, ContractValidator } from '../src/contract/validator';

type Json = Record<string, any>;

const document = parse(readFileSync(join(__dirname, '..', 'docs', 'openapi.yaml'), 'utf8')) as Json;

/** Keys under which a schema holds further schemas (JSON Schema 2020-12). */
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SCHEMA_ONES = ['items', 'additionalProperties', 'not', 'propertyNames', 'if', 'then', 'else', 'contains'];

interface Found {
  where: string;
  /** A pointer to the schema the example must satisfy. */
  schema: string;
  value: unknown;
}

/** Every example in a document, with the pointer of the schema it must satisfy. */
export function examplesOf(doc: Json): Found[] {
  const found: Found[] = [];
  const schemaAt = (node: unknown, path: string[]): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const schema = node as Json;
    if ('example' in schema) found.push({ where: path.join('/'), schema: documentPointer(...path), value: schema['example'] });
    if (Array.isArray(schema['examples'])) {
      schema['examples'].forEach((value: unknown, i: number) => found.push({ where: `${path.join('/')}/examples/${i}`, schema: documentPointer(...path), value }));
    }
    for (const key of SCHEMA_MAPS) for (const [name, sub] of Object.entries((schema[key] ?? {}) as Json)) schemaAt(sub, [...path, key, name]);
    for (const key of SCHEMA_LISTS) ((schema[key] ?? []) as unknown[]).forEach((sub, i) => schemaAt(sub, [...path, key, String(i)]));
    for (const key of SCHEMA_ONES) if (key in schema) schemaAt(schema[key], [...path, key]);
  };
  /** A media type, parameter or header: examples of its `schema`, then the schema itself. */
  const holderAt = (node: Json, path: string[]): void => {
    if (!('schema' in node)) return;
    const schema = documentPointer(...path, 'schema');
    if ('example' in node) found.push({ where: `${path.join('/')}/example`, schema, value: node['example'] });
    for (const [name, ex] of Object.entries((node['examples'] ?? {}) as Json)) {
      if (typeof ex === 'object' && ex !== null && 'value' in ex) found.push({ where: `${path.join('/')}/examples/${name}`, schema, value: ex.value });
    }
    schemaAt(node['schema'], [...path, 'schema']);
  };
  const operationAt = (op: Json, path: string[]): void => {
    ((op['parameters'] ?? []) as Json[]).forEach((p, i) => holderAt(p, [...path, 'parameters', String(i)]));
    for (const [type, media] of Object.entries((op['requestBody']?.content ?? {}) as Json)) holderAt(media, [...path, 'requestBody', 'content', type]);
    for (const [status, response] of Object.entries((op['responses'] ?? {}) as Json)) {
      for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) holderAt(header, [...path, 'responses', status, 'headers', name]);
      for (const [type, media] of Object.entries((response.content ?? {}) as Json)) holderAt(media, [...path, 'responses', status, 'content', type]);
    }
  };
  for (const section of ['paths', 'webhooks']) {
    for (const [name, item] of Object.entries((doc[section] ?? {}) as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method)) operationAt(op as Json, [section, name, method]);
      }
    }
  }
  for (const [name, schema] of Object.entries((doc['components']?.schemas ?? {}) as Json)) schemaAt(schema, ['components', 'schemas', name]);
  return found;
}

const problemsOf = (doc: Json): string[] => {
  const validator = new ContractValidator(doc);
  return examplesOf(doc).flatMap(({ where, schema, value }) => validator.validateAt(schema, value, where));
};

describe('the examples of docs/openapi.yaml', () => {
  const all = examplesOf(document);

  test('every example is valid against its own schema', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(problemsOf(document)).toEqual([]);
  });

  test('a broken example is caught, wherever it is', () => {
    const broken = (mutate: (doc: Json) => void): string[] => {
      const copy = JSON.parse(JSON.stringify(document)) as Json;
      mutate(copy);
      return problemsOf(copy);
    };
    const body = (doc: Json) => doc.webhooks['RequestQuote:Create'].post.requestBody.content['application/json'].examples.quote_request_created.value;
    expect(broken((doc) => (body(doc).occurred_at = 'yesterday'))).toContainEqual(
      'webhooks/RequestQuote:Create/post/requestBody/content/application/json/examples/quote_request_created/occurred_at must match format "date-time"',
    );
    expect(broken((doc) => (body(doc).event = 'Audit:Create'))).not.toEqual([]);
    const created = (doc: Json) => doc.paths['/notifications'].post.responses['201'].content['application/json'].examples.created.value;
    expect(broken((doc) => (created(doc).secret = 'hunter2'))).toEqual([expect.stringMatching(/examples\/created\/secret must match pattern/)]);
    const error = (doc: Json) => doc.paths['/me'].get.responses['401'].content['application/json'].examples.unauthorized.value;
    expect(broken((doc) => delete error(doc).error.code)).toEqual([expect.stringMatching(/must have required property 'code'/)]);
    expect(broken((doc) => (doc.components.schemas.Filters.properties.action.example = []))).not.toEqual([]);
    expect(broken((doc) => (doc.paths['/labels'].get.parameters[0].schema.example = 'user'))).not.toEqual([]);
    expect(broken((doc) => (doc.paths['/me'].get.responses['429'].headers['Retry-After'].schema.type = 'integer'))).not.toEqual([]);
  });

  test.each(PLATFORM_EVENTS)('the %s webhook shows a realistic body, the contract example', (event) => {
    const examples = document.webhooks[event].post.requestBody.content['application/json'].examples as Json;
    const values = Object.values(examples).map((e: Json) => e.value);
    expect(values).toEqual([DELIVERY_EXAMPLES[event]]);
    expect(values[0]).toMatchObject({ event, event_id: expect.stringMatching(/^evt_/), occurred_at: expect.stringMatching(/Z$/) });
    // No placeholder a generator would show: every field has a real value.
    for (const [key, value] of Object.entries(values[0] as Json)) expect([key, value]).not.toEqual([key, 'string']);
  });

  test('every REST response with a body, and every error, shows at least one example', () => {
    for (const [path, item] of Object.entries(document.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (typeof op !== 'object' || !('responses' in (op as Json))) continue;
        for (const [status, response] of Object.entries((op as Json).responses as Json)) {
          const media = (response as Json).content?.['application/json'];
          if (media === undefined) continue;
          expect([`${method} ${path} ${status}`, Object.keys(media.examples ?? {}).length > 0]).toEqual([`${method} ${path} ${status}`, true]);
        }
      }
    }
  });

  test('the REST examples are the contract prose\'s own (sections 2.3, 2.4, 2.8, 2.9)', () => {
    const markdown = readFileSync(join(__dirname, '..', 'docs', 'ecologic-api.md'), 'utf8');
    const jsonBlocks = (n: string) => [...contractSection(markdown, n).matchAll(/```json\n([\s\S]*?)\n\s*```/g)].map((m) => JSON.parse(m[1]!));
    const example = (path: string, method: string, status: string) =>
      Object.values(document.paths[path][method].responses[status].content['application/json'].examples as Json)[0].value;
    expect(example('/me', 'get', '200')).toEqual(jsonBlocks('2.3')[0]);
    expect(example('/notifications', 'post', '201')).toEqual(jsonBlocks('2.4')[1]);
    expect(document.paths['/notifications'].post.requestBody.content['application/json'].examples.actions.value).toEqual(jsonBlocks('2.4')[0]);
    expect(example('/actions', 'get', '200')).toEqual(jsonBlocks('2.8')[0]);
    expect(example('/labels', 'get', '200')).toEqual(jsonBlocks('2.9')[0]);
    const { secret: _secret, ...listed } = jsonBlocks('2.4')[1];
    expect(example('/notifications', 'get', '200')).toEqual({ data: [listed] });
  });
});
