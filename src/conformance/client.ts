/**
 * The kit's REST client: one request, no redirects followed (a redirect is an answer to check, and
 * the key must not travel to another host), bounded in time, every response checked against the
 * document as it arrives.
 */
import { isPlainObject } from '../core/normalise';
import type { ContractValidator } from '../contract/validator';
import type { Report } from './report';

export interface ApiResponse {
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
    return { status: res.status, headers: responseHeaders, text, json, contractProblems };
  }
}

/** The problems of one exchange: an unexpected status first, then the document's complaints. */
export function expectStatus(res: ApiResponse, ...expected: number[]): string[] {
  const problems: string[] = [];
  if (!expected.includes(res.status)) problems.push(`answered ${res.status}, expected ${expected.join(' or ')}`);
  return [...problems, ...res.contractProblems];
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
