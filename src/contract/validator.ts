/**
 * Checks HTTP exchanges against docs/openapi.yaml: a REST response against its operation, a
 * webhook delivery against its event. Used by the conformance kit (any server) and by the
 * end-to-end tests (every response and delivery of the sandbox).
 *
 * Problems name where and what (`body/data/0/occurred_at must match format "date-time"`), never the
 * value that was wrong: the kit's output may be shared with others, and bodies hold personal data.
 */
import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

import { isPlatformEvent, type PlatformEvent } from '../core/events';
import { openApiPath } from './paths';

type Json = Record<string, unknown>;

export interface ResponseExchange {
  method: string;
  /** The path below the API base, e.g. `/notifications/ntf_1`; the query string is ignored. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The body as sent; undefined or '' when there was none. */
  body: string | undefined;
}

export interface DeliveryExchange {
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export interface OperationMatch {
  /** `GET /notifications/{id}` */
  key: string;
  template: string;
  operation: Json;
}

/** 408 Request Timeout, 414 URI Too Long, 431 Request Header Fields Too Large. */
const MESSAGE_LEVEL_STATUSES = [408, 414, 431];
const DOC_ID = 'ecologic-openapi';

/** A reference to a place in the document, for validateAt: `documentPointer('components', 'schemas', 'Error')`. */
export const documentPointer = (...parts: string[]): string =>
  `${DOC_ID}#/${parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
const pointer = documentPointer;

const headerValue = (headers: ResponseExchange['headers'], name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return undefined;
};

const isJsonMediaType = (value: string | undefined): boolean =>
  value !== undefined && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(value.trim());

/**
 * Ajv's errors as `where message`, with the data's location but never its value. A nullable field
 * or a union fails in every branch; the branch summaries ("must be null", "must match a schema in
 * anyOf") are dropped where a more specific error at the same place says more.
 */
export const describeErrors = (prefix: string, errors: readonly ErrorObject[] | null | undefined): string[] => {
  const all = errors ?? [];
  const isSummary = (e: ErrorObject) =>
    e.keyword === 'anyOf' || e.keyword === 'oneOf' || (e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null');
  const specific = new Set(all.filter((e) => !isSummary(e)).map((e) => e.instancePath));
  const lines = new Set<string>();
  for (const error of all) {
    if (isSummary(error) && specific.has(error.instancePath)) continue;
    let message = error.message ?? 'is invalid';
    // `propertyNames` reports the name twice (the name's own failure, then the object's): once is enough.
    if (error.keyword === 'not' && error.schemaPath.includes('/propertyNames/')) continue;
    if (error.keyword === 'propertyNames') {
      message = `must not have the property "${String((error.params as { propertyName?: string }).propertyName)}"`;
    }
    if (error.keyword === 'additionalProperties') {
      message = `must not have the property "${String((error.params as { additionalProperty?: string }).additionalProperty)}"`;
    }
    lines.add(`${prefix}${error.instancePath} ${message}`);
  }
  return [...lines];
};

export class ContractValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly exactPaths: string[];
  private readonly templatedPaths: { template: string; pattern: RegExp }[];

  constructor(readonly document: Json) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(document, DOC_ID);
    const paths = Object.keys((document['paths'] ?? {}) as Json);
    // Exact paths win over templated ones: /notifications/samples is not /notifications/{id}.
    this.exactPaths = paths.filter((p) => !p.includes('{'));
    this.templatedPaths = paths
      .filter((p) => p.includes('{'))
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
      }));
  }

  static fromFile(path: string = openApiPath()): ContractValidator {
    return new ContractValidator(parse(readFileSync(path, 'utf8')) as Json);
  }

  /** The path template a concrete path belongs to, exact ones first. */
  pathTemplate(path: string): string | undefined {
    const clean = (path.split(/[?#]/, 1)[0] ?? '').replace(/\/+$/, '') || '/';
    if (this.exactPaths.includes(clean)) return clean;
    return this.templatedPaths.find((t) => t.pattern.test(clean))?.template;
  }

  operationFor(method: string, path: string): OperationMatch | undefined {
    const template = this.pathTemplate(path);
    if (template === undefined) return undefined;
    const item = ((this.document['paths'] as Json)[template] ?? {}) as Json;
    const operation = item[method.toLowerCase()] as Json | undefined;
    return operation ? { key: `${method.toUpperCase()} ${template}`, template, operation } : undefined;
  }

  private validatorAt(ref: string): ValidateFunction {
    let fn = this.compiled.get(ref);
    if (!fn) {
      fn = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, fn);
    }
    return fn;
  }

  /** Validates a value against the schema at a pointer into the document. */
  validateAt(ref: string, value: unknown, prefix: string): string[] {
    const fn = this.validatorAt(ref);
    return fn(value) ? [] : describeErrors(prefix, fn.errors);
  }

  private errorShape(exchange: ResponseExchange): string[] {
    return this.jsonBody(exchange, pointer('components', 'schemas', 'Error'));
  }

  private jsonBody(exchange: ResponseExchange, ref: string): string[] {
    if (!isJsonMediaType(headerValue(exchange.headers, 'content-type'))) {
      return ['Content-Type must be application/json'];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(exchange.body ?? '');
    } catch {
      return ['the body must be JSON'];
    }
    return this.validateAt(ref, parsed, 'body');
  }

  /**
   * Problems with a REST response, or none. An undocumented path may only answer 404 and an
   * undocumented method 405, both in the error shape.
   */
  checkResponse(exchange: ResponseExchange): string[] {
    // Answers about the HTTP message itself (a timeout, a target or headers too long) may come from
    // any path, before the server knows which operation was meant.
    if (MESSAGE_LEVEL_STATUSES.includes(exchange.status)) return this.errorShape(exchange);
    const template = this.pathTemplate(exchange.path);
    if (template === undefined) {
      if (exchange.status !== 404 && exchange.status !== 400) {
        return [`an unknown path answered ${exchange.status}: expected 404 (or 400 for a malformed request)`];
      }
      return this.errorShape(exchange);
    }
    const match = this.operationFor(exchange.method, exchange.path);
    if (!match) {
      if (exchange.status !== 405 && exchange.status !== 404) {
        return [`${exchange.method.toUpperCase()} ${template} is not an operation: expected 405, got ${exchange.status}`];
      }
      return this.errorShape(exchange);
    }
    const responses = (match.operation['responses'] ?? {}) as Json;
    const status = String(exchange.status);
    const key = [status, `${status[0]}XX`, 'default'].find((k) => k in responses);
    if (key === undefined) {
      return [`${match.key} answered ${status}, which the contract does not list (${Object.keys(responses).join(', ')})`];
    }
    const response = responses[key] as Json;
    const problems: string[] = [];
    const headers = (response['headers'] ?? {}) as Record<string, Json>;
    for (const [name, spec] of Object.entries(headers)) {
      const value = headerValue(exchange.headers, name);
      if (value === undefined) {
        if (spec['required'] === true) problems.push(`the ${name} header is missing`);
        continue;
      }
      problems.push(
        ...this.validateAt(
          pointer('paths', match.template, exchange.method.toLowerCase(), 'responses', key, 'headers', name, 'schema'),
          value,
          `header ${name}`,
        ),
      );
    }
    const content = response['content'] as Json | undefined;
    if (content === undefined) {
      if ((exchange.body ?? '') !== '') problems.push(`${match.key} ${status} must have no body`);
      return problems;
    }
    const jsonKey = Object.keys(content).find((type) => isJsonMediaType(type));
    if (jsonKey === undefined) return problems;
    problems.push(
      ...this.jsonBody(
        exchange,
        pointer('paths', match.template, exchange.method.toLowerCase(), 'responses', key, 'content', jsonKey, 'schema'),
      ),
    );
    return problems;
  }

  /**
   * Problems with a webhook delivery: content type, the Standard Webhooks headers' presence and
   * form, and the body against its event's schema. The signature itself is checked by the caller,
   * which holds the secret. `signed`: whether a `webhook-signature` must be present.
   */
  checkDelivery(exchange: DeliveryExchange, options: { signed: boolean; event?: PlatformEvent }): string[] {
    const problems: string[] = [];
    if (!isJsonMediaType(headerValue(exchange.headers, 'content-type'))) problems.push('Content-Type must be application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(exchange.body);
    } catch {
      return [...problems, 'the body must be JSON'];
    }
    const named = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json)['event'] : undefined;
    if (!isPlatformEvent(named)) return [...problems, 'body/event must be one of the six event names'];
    if (options.event !== undefined && named !== options.event) problems.push(`body/event must be ${options.event}`);
    const webhook = ((this.document['webhooks'] ?? {}) as Record<string, Json>)[named];
    const operation = (webhook?.['post'] ?? {}) as Json;
    for (const [index, parameter] of ((operation['parameters'] ?? []) as Json[]).entries()) {
      if (parameter['in'] !== 'header') continue;
      const name = String(parameter['name']);
      const value = headerValue(exchange.headers, name);
      if (value === undefined) {
        if (parameter['required'] === true || (name === 'webhook-signature' && options.signed)) {
          problems.push(`the ${name} header is missing`);
        }
        continue;
      }
      problems.push(...this.validateAt(pointer('webhooks', named, 'post', 'parameters', String(index), 'schema'), value, `header ${name}`));
    }
    problems.push(
      ...this.validateAt(pointer('webhooks', named, 'post', 'requestBody', 'content', 'application/json', 'schema'), parsed, 'body'),
    );
    return problems;
  }
}
