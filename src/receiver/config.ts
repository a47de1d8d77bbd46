/**
 * `npm run receiver`'s interface, read from the environment so scripts and operators can rely on it:
 *   ECOLOGIC_WEBHOOK_SECRETS  required: the `whsec_…` secrets, separated by spaces (one per subscription,
 *                             two for one subscription during a rotation)
 *   PORT                      default 8787 (0: any free port)
 *   CONSOLE_PORT              optional: serve the console (what arrived, the outbox, replay) on
 *                             127.0.0.1 at this port, whatever HOST says (0: any free port)
 *   HOST                      default 127.0.0.1; set 0.0.0.0 only behind a TLS-terminating proxy
 *   DATA_DIR                  default ./.receiver-data: the SQLite store and outbox (receiver.db)
 *   FORWARD_URL               optional: deliver each item to this HTTPS endpoint (a CRM webhook)
 *   DEDUPE_STORE              sqlite (default) or dynamodb, with DEDUPE_TABLE and optionally
 *                             DYNAMODB_ENDPOINT (e.g. a local DynamoDB) and AWS_REGION
 *   CLAIM_LEASE_MS            how long an unfinished claim holds off other deliveries of its event
 *                             (default 30000; shorter only where the platform retries faster, as in tests)
 *   STORE_TIMEOUT_MS          DynamoDB only: the most one store call may take, retries included
 *                             (default 5000); keep a delivery's store calls well inside the
 *                             platform's answer timeout (15 s)
 * Errors name the variable and the rule, never a secret's value.
 */
import { resolve } from 'node:path';
import { signerFor } from '../core/signature';
import { CLAIM_LEASE_MS } from './store';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ReceiverConfig {
  readonly secrets: readonly string[];
  readonly host: string;
  readonly port: number;
  /** The console's port on 127.0.0.1, or undefined: no console. */
  readonly consolePort: number | undefined;
  readonly dataDir: string;
  readonly forwardUrl: string | undefined;
  readonly leaseMs: number;
  /** The bound on one call to the DynamoDB store, the SDK's retries included. */
  readonly storeTimeoutMs: number;
  readonly store: { readonly kind: 'sqlite' } | { readonly kind: 'dynamodb'; readonly table: string; readonly endpoint: string | undefined; readonly region: string };
}

export const DEFAULT_PORT = 8787;

/** One store call, the SDK's retries included: a claim and a completion fit well inside 15 s. */
export const DEFAULT_STORE_TIMEOUT_MS = 5_000;

const ordinal = (n: number): string => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/** The secrets in a space-separated list, each checked to be a usable `whsec_` secret. */
export const parseSecrets = (value: string | undefined, variable = 'ECOLOGIC_WEBHOOK_SECRETS'): string[] => {
  const secrets = (value ?? '').split(/\s+/).filter((part) => part !== '');
  if (secrets.length === 0) {
    throw new ConfigError(
      `${variable} is not set. Put the signing secret Ecologic returned when you subscribed (whsec_…) in it; ` +
        'several, separated by spaces, while secrets rotate. `npm run subscribe` prints it.',
    );
  }
  secrets.forEach((secret, index) => {
    if (!signerFor(secret)) {
      throw new ConfigError(`the ${ordinal(index + 1)} secret in ${variable} is not a whsec_ secret (whsec_ followed by base64)`);
    }
  });
  return [...new Set(secrets)];
};

const parsePort = (value: string | undefined, variable = 'PORT'): number => {
  if (value === undefined || value.trim() === '') return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new ConfigError(`${variable} must be a number from 0 to 65535, not "${value}"`);
  return port;
};

/** Unset: no console. Never the delivery port (0, any free port, cannot collide). */
const parseConsolePort = (value: string | undefined, port: number): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const consolePort = parsePort(value, 'CONSOLE_PORT');
  if (consolePort !== 0 && consolePort === port) {
    throw new ConfigError(`CONSOLE_PORT must differ from PORT (both are ${port}): the console is never served on the delivery port`);
  }
  return consolePort;
};

const parseLease = (value: string | undefined): number => {
  if (value === undefined || value.trim() === '') return CLAIM_LEASE_MS;
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || ms < 1000) throw new ConfigError(`CLAIM_LEASE_MS must be a whole number of milliseconds, at least 1000, not "${value}"`);
  return ms;
};

const parseStoreTimeout = (value: string | undefined): number => {
  if (value === undefined || value.trim() === '') return DEFAULT_STORE_TIMEOUT_MS;
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || ms < 100 || ms > 10_000) {
    throw new ConfigError(`STORE_TIMEOUT_MS must be a whole number of milliseconds from 100 to 10000, not "${value}"`);
  }
  return ms;
};

export const readConfig = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ReceiverConfig => {
  const storeKind = (env.DEDUPE_STORE ?? 'sqlite').trim().toLowerCase();
  let store: ReceiverConfig['store'];
  if (storeKind === 'sqlite') store = { kind: 'sqlite' };
  else if (storeKind === 'dynamodb') {
    const table = env.DEDUPE_TABLE?.trim();
    if (!table) throw new ConfigError('DEDUPE_STORE=dynamodb needs DEDUPE_TABLE, the DynamoDB table name');
    store = { kind: 'dynamodb', table, endpoint: env.DYNAMODB_ENDPOINT?.trim() || undefined, region: env.AWS_REGION?.trim() || 'us-east-1' };
  } else throw new ConfigError(`DEDUPE_STORE must be sqlite or dynamodb, not "${storeKind}"`);

  const port = parsePort(env.PORT);
  return {
    secrets: parseSecrets(env.ECOLOGIC_WEBHOOK_SECRETS),
    host: env.HOST?.trim() || '127.0.0.1',
    port,
    consolePort: parseConsolePort(env.CONSOLE_PORT, port),
    dataDir: resolve(cwd, env.DATA_DIR?.trim() || '.receiver-data'),
    forwardUrl: env.FORWARD_URL?.trim() || undefined,
    leaseMs: parseLease(env.CLAIM_LEASE_MS),
    storeTimeoutMs: parseStoreTimeout(env.STORE_TIMEOUT_MS),
    store,
  };
};
