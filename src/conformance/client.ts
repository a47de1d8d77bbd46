/**
 * The kit's REST client: one request, no redirects followed (a redirect is an answer to check, and
 * the key must not travel to another host), bounded in time, every response checked against the
 * document as it arrives.
 */
import { isPlainObject } from '../core/normalise';
import type { ContractValidator } from '../contract/validator';
import type { Report } from './report';

export interface ApiResponse {
  /** The request this answers, for the report: its method and path below the base URL. */
  method: ApiRequest['method'];
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body, or undefined when it was not JSON. */
  json: unknown;
  /** What is wrong with the response according to docs/openapi.yaml. */
  contractProblems: string[];
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below the base URL, e.g. `/notifications/samples?event=Audit%3ACreate`. */
  path: string;
  /** The key to send: the kit's, none (null), or another one. */
  apiKey?: string | null;
  body?: unknown;
}

export class ApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
    private readonly validator: ContractValidator,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const key = request.apiKey === undefined ? this.apiKey : request.apiKey;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (key !== null) headers['Authorization'] = `Bearer ${key}`;
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.url(request.path), {
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const contractProblems = this.validator.checkResponse({
      method: request.method,
      path: request.path,
      status: res.status,
      headers: responseHeaders,
      body: text,
    });
    return { method: request.method, path: request.path, status: res.status, headers: responseHeaders, text, json, contractProblems };
  }
}

/** `error.code`, when it looks like a machine code; `odd` when there is one that does not (it is not shown). */
export function errorCodeOf(res: ApiResponse): string | 'odd' | undefined {
  const error = asObject(asObject(res.json)?.['error']);
  if (!error || !('code' in error)) return undefined;
  const code = error['code'];
  return typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(code) ? code : 'odd';
}

/**
 * What a body was, in a few safe words: its kind and size, or an object's key names. Never a value:
 * the key names of a JSON object are field names of the contract or the server's, not data.
 */
export function bodySummary(res: ApiResponse): string {
  if (res.text === '') return 'an empty body';
  if (Array.isArray(res.json)) return `a JSON array of ${res.json.length} entries`;
  const object = asObject(res.json);
  if (object) {
    const keys = Object.keys(object);
    if (keys.length === 0) return 'an empty JSON object';
    const shown = keys.filter((k) => /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/.test(k)).slice(0, 6);
    const more = keys.length - shown.length;
    return `a JSON object with ${shown.length ? shown.join(', ') : 'keys'}${shown.length && more > 0 ? ` and ${more} more` : ''}`;
  }
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const bytes = Buffer.byteLength(res.text);
  return `${bytes} bytes of ${type && /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) ? type : 'text'}`;
}

/** `POST /notifications`, `DELETE /notifications/ntf_x`: the request, for a report line (long paths cut). */
export function requestLine(res: Pick<ApiResponse, 'method' | 'path'>): string {
  const path = res.path.length > 100 ? `${res.path.slice(0, 99)}…` : res.path;
  return `${res.method} ${path}`;
}

/**
 * The problems of one exchange: the status (and, when one is expected, `error.code`) against what
 * the contract says, then the document's complaints. A wrong answer reads
 * `POST /notifications answered 200, expected 201`, with the server's `error.code` when it sent one
 * and, for an error status without one, a short summary of the body.
 */
export function exchangeProblems(res: ApiResponse, statuses: readonly number[], code?: string): string[] {
  const problems: string[] = [];
  const got = errorCodeOf(res);
  const wrongStatus = !statuses.includes(res.status);
  if (wrongStatus || (code !== undefined && got !== code)) {
    let answer = `${res.status}`;
    if (got === 'odd') answer += ' with an error.code that is not a plain code';
    else if (got !== undefined) answer += ` with error.code ${got}`;
    else if (res.status >= 300) answer += ` (${bodySummary(res)})`;
    else if (!wrongStatus) answer += ' without an error.code';
    problems.push(`${requestLine(res)} answered ${answer}, expected ${statuses.join(' or ')}${code !== undefined ? ` with error.code ${code}` : ''}`);
  }
  // The document's "answered N, which the contract does not list" would only repeat the line above.
  const documented = wrongStatus ? res.contractProblems.filter((p) => !p.includes(`answered ${res.status}, which the contract does not list`)) : res.contractProblems;
  return [...problems, ...documented.map((p) => `${requestLine(res)} answered ${res.status}: ${p}`)];
}

/** The problems of one exchange whose status must be one of `expected`. */
export function expectStatus(res: ApiResponse, ...expected: number[]): string[] {
  return exchangeProblems(res, expected);
}

/** A request that could not be made (refused, timed out) as a problem, naming no data. */
export function networkProblem(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time';
  return `the request failed (${e?.cause?.code ?? e?.name ?? 'network error'})`;
}

/** A JSON object, or undefined for anything else. */
export const asObject = (value: unknown): Record<string, unknown> | undefined => (isPlainObject(value) ? value : undefined);

/** The `data` list of a list response, or an empty list. */
export const listOf = (res: ApiResponse): unknown[] => {
  const data = asObject(res.json)?.['data'];
  return Array.isArray(data) ? data : [];
};

/** Runs one check whose requests may fail on the network; such a failure is the check's problem. */
export async function checked(report: Report, name: string, run: () => Promise<string[]>): Promise<boolean> {
  let problems: string[];
  try {
    problems = await run();
  } catch (err) {
    problems = [networkProblem(err)];
  }
  return report.check(name, problems);
}
