/**
 * Everything the kit subscribes it deletes again, whatever the server answered: a `200` where the
 * contract says `201`, a `201` to a request the contract refuses, an answer without a usable id.
 *
 * - Every subscribe answer that names a subscription id (any 2xx, or any answer with an `id`) is
 *   recorded; the negative checks delete it right away, the rest is deleted at the end.
 * - Every hook URL the kit hands out is remembered; at the end the kit lists the organisation's
 *   subscriptions and deletes those whose `uri` is one of them (nothing else: other subscriptions of
 *   the organisation are never touched).
 * - A delete that fails is a failed check naming the id and the status, never silent.
 */
import { randomBytes } from 'node:crypto';

import { type ApiClient, type ApiResponse, asObject, exchangeProblems, listOf, networkProblem, requestLine } from './client';
import type { Report } from './report';

/** The id a subscribe answer names (top level or under `data`), as a string, or undefined. */
export function subscriptionIdOf(json: unknown): string | undefined {
  const body = asObject(json);
  for (const holder of [body, asObject(body?.['data'])]) {
    const id = holder?.['id'];
    if (typeof id === 'string' && id.trim() !== '') return id;
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  }
  return undefined;
}

/** An id as the report shows it: as it is when it looks like an id, otherwise only its length. */
export function shownId(id: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(id) ? id : `(an id of ${id.length} characters)`;
}

/** Whether an id can be the one path segment of `DELETE /notifications/{id}` (contract 2.5). */
const usableId = (id: string): boolean => id.trim() !== '' && id !== '.' && id !== '..';

type Removal = { outcome: 'removed' | 'not there' } | { outcome: 'failed'; problem: string };

export class Cleanup {
  /** Recorded ids not yet known to be gone, with the check that caused each. */
  private readonly open = new Map<string, string>();
  private readonly uris = new Set<string>();

  constructor(private readonly api: ApiClient) {}

  /** A fresh hook URL no platform can deliver to (`.invalid` is reserved), remembered as the kit's own. */
  hookUrl(scheme: 'https' | 'ftp' = 'https'): string {
    const uri = `${scheme}://conformance.invalid/hooks/${randomBytes(6).toString('hex')}`;
    this.uris.add(uri);
    return uri;
  }

  /** Remembers a hook URL of the kit's own (its listener's). */
  ownUri(uri: string): void {
    this.uris.add(uri);
  }

  /** Records the subscription a subscribe answer names: any 2xx, or any answer carrying an id. */
  record(res: ApiResponse, cause: string): string | undefined {
    const id = subscriptionIdOf(res.json);
    if (id === undefined) return undefined;
    if (!this.open.has(id)) this.open.set(id, cause);
    return id;
  }

  /** Marks a subscription gone after a DELETE that answered 2xx, 404 or 410. */
  gone(id: string, res: ApiResponse): void {
    if (isRemoval(res.status)) this.open.delete(id);
  }

  /**
   * Deletes a recorded subscription now (the negative checks): what to add to the check's problems,
   * none when the server had not kept it. A failed delete stays recorded for the end.
   */
  async removeNow(id: string): Promise<string[]> {
    const removal = await this.remove(id);
    if (removal.outcome === 'removed') return [`subscription ${shownId(id)} removed again`];
    if (removal.outcome === 'failed') return [`subscription ${shownId(id)} could not be removed: ${removal.problem}`];
    return [];
  }

  /**
   * The last check: deletes every recorded subscription still there, then lists the organisation's
   * subscriptions and deletes those with one of the kit's hook URLs. Says what it removed and how.
   */
  async finish(report: Report): Promise<boolean> {
    const removed: string[] = [];
    const problems: string[] = [];
    const failed = new Set<string>();
    for (const [id, cause] of [...this.open]) {
      const removal = await this.remove(id);
      if (removal.outcome === 'removed') removed.push(`${shownId(id)} (from "${cause}") by its id`);
      else if (removal.outcome === 'failed') {
        failed.add(id);
        problems.push(`${removal.problem}; subscription ${shownId(id)} (from "${cause}") is left on the server: delete it by hand`);
      }
    }
    try {
      const list = await this.api.send({ method: 'GET', path: '/notifications' });
      if (list.status !== 200) {
        problems.push(`${statusProblem(list, [200])}: the kit could not look for subscriptions it left`);
      } else {
        for (const entry of listOf(list).map(asObject)) {
          const uri = entry?.['uri'];
          const id = subscriptionIdOf(entry);
          if (typeof uri !== 'string' || !this.uris.has(uri)) continue;
          if (id === undefined) {
            problems.push('GET /notifications lists a subscription with one of the kit\'s hook URLs but no id: delete it by hand');
            continue;
          }
          if (failed.has(id)) continue; // already reported above
          const removal = await this.remove(id);
          if (removal.outcome === 'removed') removed.push(`${shownId(id)} found in GET /notifications by its hook URL`);
          else if (removal.outcome === 'failed') {
            problems.push(`${removal.problem}; subscription ${shownId(id)} (found by its hook URL) is left on the server: delete it by hand`);
          }
        }
      }
    } catch (err) {
      problems.push(`GET /notifications: ${networkProblem(err)}: the kit could not look for subscriptions it left`);
    }
    for (const line of removed) report.info(`cleaned up: subscription ${line}`);
    return report.check(
      'the kit leaves no subscription behind',
      problems,
      removed.length > 0 ? `${removed.length} removed at the end, listed above` : undefined,
    );
  }

  private async remove(id: string): Promise<Removal> {
    if (!usableId(id)) {
      return { outcome: 'failed', problem: `subscription id ${shownId(id)} cannot be a path segment, so DELETE /notifications/{id} cannot remove it` };
    }
    const path = `/notifications/${encodeURIComponent(id)}`;
    try {
      const res = await this.api.send({ method: 'DELETE', path });
      this.gone(id, res);
      if (res.status >= 200 && res.status < 300) return { outcome: 'removed' };
      if (isRemoval(res.status)) return { outcome: 'not there' };
      return { outcome: 'failed', problem: statusProblem(res, [204, 404, 410]) };
    } catch (err) {
      return { outcome: 'failed', problem: `${requestLine({ method: 'DELETE', path })}: ${networkProblem(err)}` };
    }
  }
}

/** The status line of an answer with the wrong status (the document's complaints left out). */
const statusProblem = (res: ApiResponse, expected: number[]): string => exchangeProblems({ ...res, contractProblems: [] }, expected)[0] as string;

const isRemoval = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 410;
