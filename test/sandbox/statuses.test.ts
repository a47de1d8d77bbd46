/**
 * Every status the sandbox can answer is in docs/openapi.yaml: per operation in its responses, and
 * the ones any request may get in the document's `x-ecologic-any-request`. The table in ./statuses is
 * checked against the statuses src/sandbox/server.ts writes, so a new status there fails here until
 * the table and the document have it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

import { ANY_REQUEST_STATUSES } from '../../src/contract/openapi';
import { ANY_REQUEST, SANDBOX_STATUSES } from './statuses';

type Json = Record<string, any>;

const root = join(__dirname, '..', '..');
const document = parse(readFileSync(join(root, 'docs', 'openapi.yaml'), 'utf8')) as Json;
const server = readFileSync(join(root, 'src', 'sandbox', 'server.ts'), 'utf8');

const documented = (key: string, status: number): boolean => {
  const [method, path] = key.split(' ') as [string, string];
  const responses = (document.paths[path]?.[method.toLowerCase()]?.responses ?? {}) as Json;
  return [String(status), `${String(status)[0]}XX`, 'default'].some((k) => k in responses);
};

describe('the statuses the sandbox answers', () => {
  test('the table names every operation of the document', () => {
    const operations = Object.entries(document.paths as Json).flatMap(([path, item]) =>
      Object.keys(item as Json)
        .filter((k) => k !== 'servers')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(Object.keys(SANDBOX_STATUSES).sort()).toEqual(operations.sort());
  });

  test.each(Object.entries(SANDBOX_STATUSES))('%s: every status the sandbox gives is a documented response', (key, statuses) => {
    for (const status of statuses) expect([key, status, documented(key, status)]).toEqual([key, status, true]);
  });

  test('what any request may get is in the document, for tools and in words', () => {
    const listed = (document['x-ecologic-any-request'] as Json[]).map((s) => s.status);
    expect(listed).toEqual([...ANY_REQUEST]);
    expect(ANY_REQUEST_STATUSES.map((s) => s.status)).toEqual([...ANY_REQUEST]);
    for (const { status, code } of ANY_REQUEST_STATUSES) expect(document.info.description).toContain(`| \`${status}\` | \`${code}\` |`);
  });

  test('every status written in src/sandbox/server.ts is in the table', () => {
    const written = new Set<number>();
    for (const m of server.matchAll(/new ApiError\(\s*(\d{3})/g)) written.add(Number(m[1]));
    for (const m of server.matchAll(/status: (\d{3})\b/g)) written.add(Number(m[1]));
    // answerClientError's own answers: [431, 'Request Header Fields Too Large', …]
    for (const m of server.matchAll(/\[(\d{3}), '[A-Z][A-Za-z ]+', '[a-z_]+'\]/g)) written.add(Number(m[1]));
    expect(written.size).toBeGreaterThan(10);
    const known = new Set<number>([...Object.values(SANDBOX_STATUSES).flat(), ...ANY_REQUEST]);
    expect([...written].filter((s) => !known.has(s)).sort()).toEqual([]);
    expect(written).toEqual(new Set([...known]));
  });

  test('an unknown event is a 400 invalid_event everywhere the document takes an event', () => {
    const codes = (path: string, method: string) =>
      Object.keys(document.paths[path][method].responses['400'].content['application/json'].examples as Json);
    for (const [path, method] of [
      ['/notifications', 'post'],
      ['/notifications/samples', 'get'],
      ['/sandbox/events', 'post'],
    ] as const) {
      expect([path, codes(path, method)]).toEqual([path, expect.arrayContaining(['invalid_event'])]);
    }
    expect(Object.keys(document.paths['/notifications'].post.responses['422'].content['application/json'].examples)).toEqual(['subscription_limit_reached']);
    const invalidEvent = [...server.matchAll(/new ApiError\((\d{3}), 'invalid_event'/g)].map((m) => m[1]);
    expect(invalidEvent.length).toBeGreaterThanOrEqual(3);
    expect(new Set(invalidEvent)).toEqual(new Set(['400']));
  });
});
