/**
 * `npm run -s receiver | importer` when the importer goes away: the receiver, as its own process,
 * must not answer 200 for an item whose line never left, must not crash, and must write that line
 * when it next starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../support/bounded-wait';
import { bundleReceiverCli, startReceiverProcess, type ReceiverProcess } from '../support/receiver-process';
import { fixture, SECRET, signed } from '../support/receiver-kit';

let dataDir: string;
let cli: string;
const started: ReceiverProcess[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'receiver-pipe-'));
  cli = bundleReceiverCli('receiver-pipe');
});

afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

const deliver = async (receiver: ReceiverProcess, body: Record<string, unknown>, webhookId: string): Promise<number> => {
  const request = signed(body, { webhookId });
  const response = await fetch(receiver.url, { method: 'POST', headers: request.headers as Record<string, string>, body: request.body as string, signal: AbortSignal.timeout(30_000) });
  await response.arrayBuffer();
  return response.status;
};

const exitOf = (receiver: ReceiverProcess, ms: number): Promise<number | null> =>
  new Promise((resolve, reject) => {
    if (receiver.child.exitCode !== null) return resolve(receiver.child.exitCode);
    const timer = setTimeout(() => reject(new Error(`the receiver did not stop within ${ms} ms:\n${receiver.logs.map((l) => JSON.stringify(l)).join('\n')}`)), ms);
    receiver.child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

it('refuses what it cannot write once the reader left, stops cleanly, and writes it at the next start', async () => {
  const env = { ECOLOGIC_WEBHOOK_SECRETS: SECRET, PORT: '0', DATA_DIR: dataDir };
  const first = await startReceiverProcess({ file: cli }, env);
  started.push(first);
  const before = { ...fixture('audit_created'), event_id: 'evt_pipe_before' };
  const after = { ...fixture('quote_request_created'), event_id: 'evt_pipe_after' };

  expect(await deliver(first, before, 'msg_before')).toBe(200);
  expect(first.items.map((item) => item.id)).toEqual(['evt_pipe_before']);

  // The importer exits: the read end of the pipe closes.
  const pipeClosed = new Promise((resolve) => first.child.stdout!.once('close', resolve));
  first.child.stdout!.destroy();
  await pipeClosed;
  const status = await deliver(first, after, 'msg_after');
  // Not 200: the line did not leave, so the platform must retry.
  expect(status).toBe(503);
  expect(await exitOf(first, 30_000)).toBe(3);
  expect(first.logs).toContainEqual(expect.objectContaining({ message: 'standard output closed: no more items can be handed off; stopping', outcome: 'unavailable' }));
  expect(first.logs.map((line) => line.message)).toContain('stopped');
  expect(first.logs.filter((line) => line.text !== undefined && /Error|EPIPE/.test(String(line.text)))).toEqual([]);

  // Started again with a reader: the line the first reader never got comes first, then the retry is a repeat.
  const second = await startReceiverProcess({ file: cli }, env);
  started.push(second);
  await waitUntil(() => second.items.length > 0, { what: 'the unsent line', timeoutMs: 30_000, state: () => ({ logs: second.logs.map((l) => l.message) }) });
  expect(second.items.map((item) => item.id)).toEqual(['evt_pipe_after']);
  expect(second.logs).toContainEqual(expect.objectContaining({ message: 'items written again: an earlier reader did not get them', items: 1 }));
  expect(await deliver(second, after, 'msg_after')).toBe(200);
  expect(await deliver(second, before, 'msg_before')).toBe(200);
  expect(second.items.map((item) => item.id)).toEqual(['evt_pipe_after']);
}, 120_000);
