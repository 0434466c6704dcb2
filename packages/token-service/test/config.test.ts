import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwkPair, generateEncryptionKey, generateSigningKey, isProvisioningError, toBase64Url } from '@pushprov/protocol';
import { ConfigError, type KeySet, type TokenServiceConfigInput, createTokenService, generateKeySet, loadConfig, parseConfig } from '../src/index.js';
import { checkIssuerAccepts, issuerAccepts } from '../src/config/issuer-accepts.js';
import { ALLOW_LOOSE_KEY_FILE_ENV } from '../src/config/parse-config.js';
import { API_KEY, createTempDir } from './helpers.js';

let issuer: JwkPair;
let keySet: KeySet;
let temp: ReturnType<typeof createTempDir>;

beforeAll(async () => {
  issuer = await generateSigningKey({ kid: 'issuer-1' });
  keySet = await generateKeySet({ kid: 'svc-1' });
  temp = createTempDir('config-');
});
afterAll(() => temp.remove());

const noEnv = { env: {} };

function baseConfig(): TokenServiceConfigInput {
  return {
    serviceId: 'ts-sandbox',
    keys: keySet,
    issuers: [{ id: 'bank-a', jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '411111', end: '411199' }], walletProviders: ['wallet-co'] }],
    walletProviders: [{ id: 'wallet-co', apiKeys: [API_KEY] }],
    tokenRange: { bin: '489537' },
  };
}

function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(isProvisioningError(error, 'configuration_invalid')).toBe(true);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults, hashes API keys, and parses its own output to the same value', () => {
    const config = parseConfig(baseConfig(), noEnv);
    expect(config.lifetimes).toEqual({ clockSkewSeconds: 60, maxRequestSeconds: 900, tokenMonths: 36, idempotencySeconds: 86_400, idempotencyLeaseSeconds: 30, keyGraceSeconds: 900, pendingActivationSeconds: 604_800 });
    expect(config.verification).toEqual({ codeLength: 6, codeTtlSeconds: 600, resendCooldownSeconds: 30, maxAttempts: 5 });
    expect(config.issuers[0]!.verificationMethods).toEqual([{ id: 'issuer-app', type: 'issuer_app' }, { id: 'customer-service', type: 'customer_service' }]);
    expect(config.limits).toEqual({ maxBodyBytes: 32_768, hookTimeoutMs: 5_000 });
    expect(config.tokenRange).toEqual({ bin: '489537', length: 16, capacity: 1_000_000 });
    expect(config.issuers[0]!.walletProviders).toEqual(['wallet-co']);
    expect(config.issuers[0]!.decision).toEqual({ default: 'approve', byLast4: {} });
    expect(config.walletProviders[0]!.apiKeys).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
    expect(JSON.stringify(config)).not.toContain(API_KEY);
    expect(parseConfig(config, noEnv)).toEqual(config);
  });

  it('reads the key set and JWK sets from files relative to the configuration file', () => {
    writeFileSync(join(temp.dir, 'keys.json'), JSON.stringify(keySet), { mode: 0o600 });
    writeFileSync(join(temp.dir, 'bank-a.jwks.json'), JSON.stringify({ keys: [issuer.publicJwk] }));
    writeFileSync(
      join(temp.dir, 'config.json'),
      JSON.stringify({ ...baseConfig(), keys: './keys.json', issuers: [{ ...baseConfig().issuers[0]!, jwks: 'bank-a.jwks.json' }] }),
    );
    const config = loadConfig(join(temp.dir, 'config.json'), noEnv);
    expect(config.keys.encryptionKeys.keys[0]!.kid).toBe('svc-1');
    expect(config.issuers[0]!.jwks.keys[0]!.kid).toBe('issuer-1');
  });

  it('lists every mistake at once, each with its path', () => {
    const bad = {
      ...baseConfig(),
      serviceId: 'TS Sandbox',
      extra: true,
      issuers: [{ id: 'bank-a', jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '411199', end: '411111' }] }],
      walletProviders: [{ id: 'wallet-co' }],
      tokenRange: { bin: '48953x' },
      lifetimes: { maxRequestSeconds: 3600 },
    };
    const issues = issuesOf(() => parseConfig(bad, noEnv));
    const paths = issues.map((i) => i.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['serviceId', '(root)', 'issuers[0].binRanges[0].end', 'walletProviders[0].apiKeys', 'tokenRange.bin', 'lifetimes.maxRequestSeconds']),
    );
    expect(issues.find((i) => i.startsWith('issuers[0].binRanges[0].end'))).toContain('start must not be greater than end');
    expect(issues.find((i) => i.startsWith('walletProviders[0].apiKeys'))).toContain('needs apiKeys or jwks');
  });

  it('reports the mistake inside the branch that matches the input of a union (inline key set, decision rules)', () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          ...baseConfig(),
          keys: { encryptionKeys: { keys: [{ ...keySet.encryptionKeys.keys[0]!, d: undefined }] } },
          issuers: [{ ...baseConfig().issuers[0]!, decision: { default: 'maybe' } }],
        },
        noEnv,
      ),
    );
    expect(issues.some((i) => i.startsWith('keys.encryptionKeys.keys[0].d:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('issuers[0].decision.default:'))).toBe(true);
    const other = issuesOf(() => parseConfig({ ...baseConfig(), keys: 42 }, noEnv));
    expect(other).toEqual(['keys: must be the path of a key set file or the key set itself']);
  });

  it('names unreadable and malformed files', () => {
    writeFileSync(join(temp.dir, 'broken.json'), '{"keys": [');
    const issues = issuesOf(() =>
      parseConfig({ ...baseConfig(), keys: './nope.json', issuers: [{ ...baseConfig().issuers[0]!, jwks: './broken.json' }] }, { ...noEnv, baseDir: temp.dir }),
    );
    expect(issues).toContain('keys: cannot read file "./nope.json" (ENOENT)');
    expect(issues).toContain('issuers[0].jwks: file "./broken.json" is not strict JSON');
  });

  it('refuses private or encryption keys as issuer keys', async () => {
    const enc = await generateEncryptionKey({ kid: 'enc-1' });
    const issues = issuesOf(() =>
      parseConfig(
        {
          ...baseConfig(),
          issuers: [
            { ...baseConfig().issuers[0]!, jwks: { keys: [issuer.privateJwk] } },
            { id: 'bank-b', jwks: { keys: [enc.publicJwk] }, binRanges: [{ start: '511111', end: '511111' }], walletProviders: ['wallet-co'] },
          ],
        },
        noEnv,
      ),
    );
    expect(issues.some((i) => i.startsWith('issuers[0].jwks'))).toBe(true);
    expect(issues.some((i) => i.startsWith('issuers[1].jwks') && i.includes('signing key'))).toBe(true);
    expect(issues.join('\n')).not.toContain(issuer.privateJwk.d!);
  });

  it('refuses short API keys, JWS-shaped API keys, and the same key on two providers', () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          ...baseConfig(),
          walletProviders: [
            { id: 'wallet-co', apiKeys: ['short', 'aaaaaaaaaaaa.bbbbbbbbbbbbbbbbbb.cccccccccccccccccccc'] },
            { id: 'wallet-two', apiKeys: [API_KEY] },
            { id: 'wallet-three', apiKeys: [API_KEY] },
          ],
        },
        noEnv,
      ),
    );
    expect(issues.some((i) => i.startsWith('walletProviders[0].apiKeys[0]'))).toBe(true);
    expect(issues.some((i) => i.startsWith('walletProviders[0].apiKeys[1]'))).toBe(true);
    expect(issues.join('\n')).not.toContain('short');
    const dup = issuesOf(() => parseConfig({ ...baseConfig(), walletProviders: [{ id: 'wallet-co', apiKeys: [API_KEY] }, { id: 'wallet-two', apiKeys: [API_KEY] }] }, noEnv));
    expect(dup).toEqual(['walletProviders[1].apiKeys[0]: the same API key is configured twice']);
  });

  it('refuses duplicate ids and a token range inside an issuer range', () => {
    const issues = issuesOf(() =>
      parseConfig({ ...baseConfig(), issuers: [baseConfig().issuers[0]!, baseConfig().issuers[0]!], tokenRange: { bin: '4111150' } }, noEnv),
    );
    expect(issues).toContain('issuers: the id "bank-a" is listed twice');
    expect(issues.filter((i) => i.includes('overlaps the token range'))).toHaveLength(2);
  });

  it('takes the KEK from TOKEN_SERVICE_KEK, and requires one somewhere', () => {
    const { vault: _, ...withoutVault } = keySet;
    const missing = issuesOf(() => parseConfig({ ...baseConfig(), keys: withoutVault }, noEnv));
    expect(missing[0]).toContain('TOKEN_SERVICE_KEK');
    const kek = toBase64Url(new Uint8Array(32).fill(9));
    const fromEnv = parseConfig({ ...baseConfig(), keys: withoutVault }, { env: { TOKEN_SERVICE_KEK: kek } });
    expect(fromEnv.keys.vault.keks).toEqual([{ id: 'env', key: kek }]);
    const rotated = parseConfig(baseConfig(), { env: { TOKEN_SERVICE_KEK: `new:${kek},old:${toBase64Url(new Uint8Array(32).fill(1))}` } });
    expect(rotated.keys.vault.keks.map((k) => k.id)).toEqual(['new', 'old']);
    expect(rotated.keys.vault.fingerprintKey).toBe(keySet.vault!.fingerprintKey);
  });

  it('refuses a malformed TOKEN_SERVICE_KEK without repeating it, and several KEKs without a fingerprint key', () => {
    const { vault: _, ...withoutVault } = keySet;
    const issues = issuesOf(() => parseConfig({ ...baseConfig(), keys: withoutVault }, { env: { TOKEN_SERVICE_KEK: 'secret-value-xyz' } }));
    expect(issues.some((i) => i.startsWith('TOKEN_SERVICE_KEK[0].key'))).toBe(true);
    expect(issues.join('\n')).not.toContain('secret-value-xyz');
    const kek = toBase64Url(new Uint8Array(32).fill(9));
    const two = issuesOf(() => parseConfig({ ...baseConfig(), keys: withoutVault }, { env: { TOKEN_SERVICE_KEK: `a:${kek},b:${kek}` } }));
    expect(two).toContain('keys.vault.fingerprintKey: is required when several key-encryption keys are configured');
  });

  it('requires each issuer to list the wallet providers it accepts, all registered, each once', () => {
    const { walletProviders: _, ...withoutList } = baseConfig().issuers[0]!;
    const missing = issuesOf(() => parseConfig({ ...baseConfig(), issuers: [withoutList as never] }, noEnv));
    expect(missing).toEqual(['issuers[0].walletProviders: is required: list the ids of the wallet providers this issuer accepts (from walletProviders[])']);
    const empty = issuesOf(() => parseConfig({ ...baseConfig(), issuers: [{ ...baseConfig().issuers[0]!, walletProviders: [] }] }, noEnv));
    expect(empty).toEqual(['issuers[0].walletProviders: must list at least one wallet provider this issuer accepts']);
    const unknown = issuesOf(() =>
      parseConfig({ ...baseConfig(), issuers: [{ ...baseConfig().issuers[0]!, walletProviders: ['wallet-co', 'wallet-x', 'wallet-co'] }] }, noEnv),
    );
    expect(unknown).toEqual([
      'issuers[0].walletProviders[1]: "wallet-x" is not a registered wallet provider (an id of walletProviders[])',
      'issuers[0].walletProviders[2]: "wallet-co" is listed twice',
    ]);
    const two = parseConfig(
      {
        ...baseConfig(),
        issuers: [{ ...baseConfig().issuers[0]!, walletProviders: ['wallet-two', 'wallet-co'] }],
        walletProviders: [{ id: 'wallet-co', apiKeys: [API_KEY] }, { id: 'wallet-two', apiKeys: [`${API_KEY}-2`] }],
      },
      noEnv,
    );
    expect(two.issuers[0]!.walletProviders).toEqual(['wallet-two', 'wallet-co']);
  });

  it('tells whether an issuer accepts a wallet provider, and refuses one it does not with wallet_provider_not_allowed (403)', () => {
    const config = parseConfig(
      { ...baseConfig(), walletProviders: [{ id: 'wallet-co', apiKeys: [API_KEY] }, { id: 'wallet-two', apiKeys: [`${API_KEY}-2`] }] },
      noEnv,
    );
    const bank = config.issuers[0]!;
    expect(issuerAccepts(bank, 'wallet-co')).toBe(true);
    expect(issuerAccepts(bank, 'wallet-two')).toBe(false);
    expect(() => checkIssuerAccepts(bank, 'wallet-co')).not.toThrow();
    let thrown: unknown;
    try {
      checkIssuerAccepts(bank, 'wallet-two');
    } catch (error) {
      thrown = error;
    }
    expect(isProvisioningError(thrown, 'wallet_provider_not_allowed')).toBe(true);
    expect(thrown).toMatchObject({ family: 'auth', status: 403, retryable: false });
    expect(String((thrown as Error).message)).not.toContain('wallet-two');
  });

  it('refuses a key set file that group or others may read or write, unless TOKEN_SERVICE_ALLOW_LOOSE_KEY_FILE=1', () => {
    const file = join(temp.dir, 'loose-keys.json');
    writeFileSync(file, JSON.stringify(keySet), { mode: 0o600 });
    const input = { ...baseConfig(), keys: './loose-keys.json' };
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o660]) {
      chmodSync(file, mode);
      const issues = issuesOf(() => parseConfig(input, { ...noEnv, baseDir: temp.dir }));
      expect(issues).toEqual([
        `keys: the key file "./loose-keys.json" is readable or writable by group or others (mode ${mode.toString(8)}); restrict it with \`chmod 600 ./loose-keys.json\` (or, for a mounted secret that cannot be restricted, set ${ALLOW_LOOSE_KEY_FILE_ENV}=1)`,
      ]);
      expect(issues.join('\n')).not.toContain(keySet.vault!.keks[0]!.key);
      expect(parseConfig(input, { env: { [ALLOW_LOOSE_KEY_FILE_ENV]: '1' }, baseDir: temp.dir }).keys.encryptionKeys.keys[0]!.kid).toBe('svc-1');
    }
    // Only "1" opens the escape hatch: "0" or "false" must not.
    chmodSync(file, 0o644);
    expect(issuesOf(() => parseConfig(input, { env: { [ALLOW_LOOSE_KEY_FILE_ENV]: 'false' }, baseDir: temp.dir }))).toContain(
      `${ALLOW_LOOSE_KEY_FILE_ENV}: must be 1 or unset`,
    );
    for (const mode of [0o600, 0o400]) {
      chmodSync(file, mode);
      expect(parseConfig(input, { ...noEnv, baseDir: temp.dir }).keys.encryptionKeys.keys[0]!.kid).toBe('svc-1');
    }
    // Through loadConfig too (what `token-service start` and `config check` use).
    chmodSync(file, 0o644);
    writeFileSync(join(temp.dir, 'loose-config.json'), JSON.stringify(input));
    expect(() => loadConfig(join(temp.dir, 'loose-config.json'), noEnv)).toThrow(/chmod 600/);
  });

  it('refuses a token range without room for its capacity, saying how many digits it needs', () => {
    // 16 digits after a 6-digit bin leave 9 random digits: 10^9 numbers, room for the default capacity of 10^6.
    expect(parseConfig({ ...baseConfig(), tokenRange: { bin: '489537', length: 16 } }, noEnv).tokenRange.capacity).toBe(1_000_000);
    const ten = issuesOf(() => parseConfig({ ...baseConfig(), tokenRange: { bin: '489537', length: 16, capacity: 10_000_000 } }, noEnv));
    expect(ten).toEqual([
      'tokenRange: leaves 9 random digits (10^9 numbers), but a capacity of 10000000 tokens needs at least 10 (1000 × the capacity, so random token numbers stay unique within the issuance\'s retries): make length at least 17 with this bin, or lower capacity',
    ]);
    expect(parseConfig({ ...baseConfig(), tokenRange: { bin: '489537', length: 17, capacity: 10_000_000 } }, noEnv).tokenRange.length).toBe(17);
    // The issue's range: a 12-digit bin in 16 digits leaves 3 random digits.
    const three = issuesOf(() => parseConfig({ ...baseConfig(), tokenRange: { bin: '489537000000', length: 16 } }, noEnv));
    expect(three).toEqual([expect.stringContaining('tokenRange: leaves 3 random digits (10^3 numbers), but a capacity of 1000000 tokens needs at least 9')]);
    expect(three[0]).toContain('use a shorter bin (length is at most 19), or lower capacity');
    expect(parseConfig({ ...baseConfig(), tokenRange: { bin: '489537000000', length: 16, capacity: 1 } }, noEnv).tokenRange.capacity).toBe(1);
    expect(issuesOf(() => parseConfig({ ...baseConfig(), tokenRange: { bin: '489537000000', length: 16, capacity: 2 } }, noEnv))[0]).toContain('needs at least 4');
    expect(issuesOf(() => parseConfig({ ...baseConfig(), tokenRange: { bin: '489537', capacity: 0 } }, noEnv))[0]).toMatch(/^tokenRange\.capacity:/);
  });

  it('makes createTokenService refuse an invalid configuration', () => {
    expect(() => createTokenService({ ...baseConfig(), serviceId: '' }, undefined, { configOptions: noEnv })).toThrow(ConfigError);
  });
});
