/**
 * `npm run receiver`'s environment interface: defaults, and a clear error naming the variable for
 * every value it cannot use.
 */
import { ConfigError, DEFAULT_PORT, DEFAULT_STORE_TIMEOUT_MS, readConfig } from '../../src/receiver/config';
import { CLAIM_LEASE_MS } from '../../src/receiver/store';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const base = { ECOLOGIC_WEBHOOK_SECRETS: SECRET };

describe('readConfig', () => {
  it('has defaults for everything but the secrets', () => {
    const config = readConfig(base, '/srv/receiver');
    expect(config).toMatchObject({ port: DEFAULT_PORT, host: '127.0.0.1', leaseMs: CLAIM_LEASE_MS, storeTimeoutMs: DEFAULT_STORE_TIMEOUT_MS, store: { kind: 'sqlite' } });
    expect(config.dataDir).toBe('/srv/receiver/.receiver-data');
    expect(DEFAULT_STORE_TIMEOUT_MS).toBe(5_000);
  });

  it('takes STORE_TIMEOUT_MS, the bound on one store call, within 100 ms to 10 s', () => {
    expect(readConfig({ ...base, STORE_TIMEOUT_MS: '1000' }).storeTimeoutMs).toBe(1_000);
    expect(readConfig({ ...base, STORE_TIMEOUT_MS: ' 100 ' }).storeTimeoutMs).toBe(100);
    expect(readConfig({ ...base, STORE_TIMEOUT_MS: '10000' }).storeTimeoutMs).toBe(10_000);
    expect(readConfig({ ...base, STORE_TIMEOUT_MS: '' }).storeTimeoutMs).toBe(DEFAULT_STORE_TIMEOUT_MS);
    for (const bad of ['99', '10001', '1.5', '-1', 'soon', '1e3']) {
      expect(() => readConfig({ ...base, STORE_TIMEOUT_MS: bad })).toThrow(ConfigError);
      expect(() => readConfig({ ...base, STORE_TIMEOUT_MS: bad })).toThrow(`STORE_TIMEOUT_MS must be a whole number of milliseconds from 100 to 10000, not "${bad}"`);
    }
  });

  it('names the variable and the rule for a bad port, lease or store', () => {
    expect(() => readConfig({ ...base, PORT: '70000' })).toThrow(/PORT must be a number from 0 to 65535/);
    expect(() => readConfig({ ...base, CLAIM_LEASE_MS: '999' })).toThrow(/CLAIM_LEASE_MS .* at least 1000/);
    expect(() => readConfig({ ...base, DEDUPE_STORE: 'redis' })).toThrow(/DEDUPE_STORE must be sqlite or dynamodb/);
    expect(() => readConfig({ ...base, DEDUPE_STORE: 'dynamodb' })).toThrow(/needs DEDUPE_TABLE/);
  });

  it('refuses to start without a secret and never quotes a bad one', () => {
    expect(() => readConfig({})).toThrow(/ECOLOGIC_WEBHOOK_SECRETS is not set/);
    const bad = 'whsec_%%%%';
    let message = '';
    try {
      readConfig({ ECOLOGIC_WEBHOOK_SECRETS: `${SECRET} ${bad}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/the 2nd secret in ECOLOGIC_WEBHOOK_SECRETS is not a whsec_ secret/);
    expect(message).not.toContain('%%%%');
  });
});
