/**
 * Every response a sandbox of the end-to-end tests gives, and every delivery it sends, is checked
 * against docs/openapi.yaml while the tests run. Importing this file registers an `afterEach` that
 * fails the test during which the sandbox broke the document, naming what and where.
 */
import { ContractValidator } from '../../src/contract/validator';
import { type SandboxOptions, type SandboxServer, startSandbox } from '../../src/sandbox/server';

const validator = ContractValidator.fromFile();
const pending: string[] = [];

/** The options that make a sandbox report its traffic to the watch. */
export function watchedOptions(options: SandboxOptions = {}): SandboxOptions {
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  return {
    ...options,
    onExchange: (x) => {
      options.onExchange?.(x);
      let path: string;
      if (x.path === basePath || x.path.startsWith(`${basePath}/`)) path = x.path.slice(basePath.length) || '/';
      else if (x.path.startsWith('/sandbox/')) path = x.path;
      else if (x.path === '') path = '/malformed-request';
      else return; // the sandbox's own pages: its index and /docs
      for (const problem of validator.checkResponse({ ...x, path })) pending.push(`${x.method} ${x.path} -> ${x.status}: ${problem}`);
    },
    onDelivery: (d) => {
      options.onDelivery?.(d);
      const signed = 'webhook-signature' in d.headers;
      for (const problem of validator.checkDelivery(d, { signed })) pending.push(`delivery of ${d.eventId} attempt ${d.attempt}: ${problem}`);
    },
  };
}

/** startSandbox, watched. */
export function startWatchedSandbox(options: SandboxOptions = {}): Promise<SandboxServer> {
  return startSandbox(watchedOptions(options));
}

afterEach(() => {
  const found = pending.splice(0);
  if (found.length > 0) {
    throw new Error(`the sandbox broke docs/openapi.yaml:\n  ${[...new Set(found)].slice(0, 20).join('\n  ')}`);
  }
});
