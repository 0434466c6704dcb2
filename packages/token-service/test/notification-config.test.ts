// The notification configuration: party endpoints (https, http only on
// loopback), the dispatcher's settings and their defaults, and the signing
// key a notification endpoint needs.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createMemoryStore, createTokenService, parseConfig, type TokenServiceConfigInput } from '../src/index.js';
import { type Fixture, createFixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});

const noEnv = { env: {} };
const withEndpoints = (issuerEndpoint: string, walletEndpoint?: string): TokenServiceConfigInput => ({
  ...fx.config,
  issuers: fx.config.issuers.map((i) => ({ ...i, notifications: { endpoint: issuerEndpoint } })),
  walletProviders: fx.config.walletProviders.map((p, n) => (n === 0 && walletEndpoint !== undefined ? { ...p, notifications: { endpoint: walletEndpoint } } : p)),
});
const issuesOf = (config: unknown): string[] => {
  try {
    parseConfig(config, noEnv);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
};

describe('notification configuration', () => {
  it('defaults: poll 1 s, lease 60 s, timeout 10 s, batches of 50, retries from 1 s up to 1 h for 24 h', () => {
    expect(parseConfig(fx.config, noEnv).notifications).toEqual({
      pollIntervalMs: 1_000,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      batchSize: 50,
      retry: { initialDelayMs: 1_000, maxDelayMs: 3_600_000, giveUpAfterSeconds: 86_400 },
    });
  });

  it('accepts https endpoints, and http on a loopback host only', () => {
    const config = parseConfig(withEndpoints('https://bank.example/pushprov/events', 'http://127.0.0.1:9000/hook'), noEnv);
    expect(config.issuers[0]!.notifications).toEqual({ endpoint: 'https://bank.example/pushprov/events' });
    expect(config.walletProviders[0]!.notifications).toEqual({ endpoint: 'http://127.0.0.1:9000/hook' });
    expect(config.walletProviders[1]!.notifications).toBeUndefined();
    for (const ok of ['http://localhost:1/x', 'http://[::1]:8/x']) expect(issuesOf(withEndpoints(ok))).toEqual([]);
  });

  it('refuses http off loopback, other schemes, credentials in the URL and fragments', () => {
    expect(issuesOf(withEndpoints('http://bank.example/events'))).toEqual([
      'issuers[0].notifications.endpoint: must be an https URL (http only on a loopback host: 127.0.0.1, [::1], localhost)',
    ]);
    expect(issuesOf(withEndpoints('ftp://127.0.0.1/x'))[0]).toContain('must be an https URL');
    expect(issuesOf(withEndpoints('not a url'))[0]).toBe('issuers[0].notifications.endpoint: must be an absolute https URL');
    const withPassword = issuesOf(withEndpoints('https://user:s3cret-pass@bank.example/x'));
    expect(withPassword).toEqual(['issuers[0].notifications.endpoint: must not carry a user name or password']);
    expect(withPassword.join()).not.toContain('s3cret-pass');
    expect(issuesOf(withEndpoints('https://bank.example/x#frag'))).toEqual(['issuers[0].notifications.endpoint: must not have a fragment']);
  });

  it('checks the settings: bounds, max delay at least the initial one, a lease longer than the timeout', () => {
    expect(issuesOf({ ...fx.config, notifications: { retry: { initialDelayMs: 5_000, maxDelayMs: 1_000 } } })).toEqual([
      'notifications.retry.maxDelayMs: must be at least initialDelayMs',
    ]);
    expect(issuesOf({ ...fx.config, notifications: { leaseMs: 5_000, timeoutMs: 5_000 } })).toEqual([
      'notifications.leaseMs: must be longer than timeoutMs (a delivery is held while it is sent)',
    ]);
    expect(issuesOf({ ...fx.config, notifications: { pollIntervalMs: 0 } })[0]).toMatch(/^notifications\.pollIntervalMs: /);
    expect(issuesOf({ ...fx.config, notifications: { retry: { giveUpAfterSeconds: 60 }, surprise: 1 } })[0]).toMatch(/^notifications: /);
  });

  it('needs a signing key once an endpoint is configured; publishes it after the encryption keys with use sig', () => {
    const { signingKeys: _none, ...keysWithout } = fx.keySet;
    expect(issuesOf({ ...withEndpoints('https://bank.example/x'), keys: keysWithout })).toEqual([
      'keys.signingKeys: is required when a notification endpoint is configured (token-service keys generate writes one)',
    ]);
    // Without an endpoint an older key set (no signing key) is still fine: nothing is signed, nothing extra published.
    const old = createTokenService({ ...fx.config, keys: keysWithout }, createMemoryStore(), { configOptions: noEnv });
    expect(old.notificationSigningKey).toBeUndefined();
    expect(old.publicJwks().keys.map((k) => k.use)).toEqual(['enc']);

    const service = createTokenService(withEndpoints('https://bank.example/x'), createMemoryStore(), { configOptions: noEnv });
    const signing = fx.keySet.signingKeys!.keys[0]!;
    expect(service.notificationSigningKey?.kid).toBe(signing.kid);
    const published = service.publicJwks().keys;
    expect(published.map((k) => [k.alg, k.use])).toEqual([
      ['ECDH-ES+A256KW', 'enc'],
      ['ES256', 'sig'],
    ]);
    expect(published[1]).toEqual({ kty: 'EC', crv: 'P-256', x: signing.x, y: signing.y, kid: signing.kid, alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(service.config)).not.toContain(signing.d);
    expect(service.config.keys.signingKeyIds).toEqual([signing.kid]);
  });

  it('is what docs/protocol.md section 14 states: every default named with its value', () => {
    const spec = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const section = spec.slice(spec.indexOf('## 14. Delivering notifications'));
    const { notifications } = parseConfig(fx.config, noEnv);
    const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
    const defaults: [string, number][] = [
      ['pollIntervalMs', notifications.pollIntervalMs],
      ['batchSize', notifications.batchSize],
      ['leaseMs', notifications.leaseMs],
      ['timeoutMs', notifications.timeoutMs],
      ['initialDelayMs', notifications.retry.initialDelayMs],
      ['maxDelayMs', notifications.retry.maxDelayMs],
      ['giveUpAfterSeconds', notifications.retry.giveUpAfterSeconds],
    ];
    for (const [name, value] of defaults) expect(section, name).toMatch(new RegExp(`${name}\`[^\`]{0,20}default\\s+${grouped(value).replaceAll(' ', '\\s')}\\b`));
  });
});
