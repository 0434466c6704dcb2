// Issue 17 item 5: the token service's decryption keys behind handles, here non-extractable WebCrypto keys;
// the key set then holds only the public halves it publishes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DecryptionKeyHandle,
  type KeyJwk,
  decryptionKeyFromCryptoKey,
  decryptionKeyFromJwk,
  isProvisioningError,
  toPublicJwk,
} from '@pushprov/protocol';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, type TokenServiceConfigInput, createMemoryStore, createTokenService, loadConfig } from '../src/index.js';
import { type Fixture, NOW, WALLET, buildSubmission, createFixture, publishedSigningKeys } from './helpers.js';

const fxPromise = createFixture();

/** A non-extractable ECDH-ES+A256KW key made in WebCrypto, as a handle. */
async function generatedHandle(kid: string): Promise<{ handle: DecryptionKeyHandle; privateKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
  return { handle: decryptionKeyFromCryptoKey(privateKey, { kid, publicJwk: await exportJWK(publicKey) }), privateKey };
}

/** The fixture's configuration with these public encryption keys in its key set. */
function withPublicKeys(fx: Fixture, keys: KeyJwk[]): TokenServiceConfigInput {
  return { ...fx.config, keys: { ...fx.keySet, encryptionKeys: { keys: keys.map((k) => ({ ...toPublicJwk(k), use: 'enc' as const })) } } } as TokenServiceConfigInput;
}

function configIssues(make: () => unknown): readonly string[] {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(isProvisioningError(error)).toBe(true);
  return (error as { code: string }).code;
}

describe('createTokenService with decryption key handles', () => {
  it('decrypts with a non-extractable ECDH key that nothing can export, and publishes its public half', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const { handle, privateKey } = await generatedHandle('svc-hsm-1');
    expect(privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();

    const service = createTokenService(withPublicKeys(fx, [handle.publicJwk]), createMemoryStore(), {
      clock: fx.clock,
      configOptions: { env: {} },
      decryptionKeys: [handle],
    });
    expect(service.publicJwks()).toEqual({ keys: [{ ...handle.publicJwk, use: 'enc' }, ...publishedSigningKeys(fx.keySet)] });
    const { submission } = await buildSubmission({ ...fx, serviceEncryptionKey: handle.publicJwk });
    const { status, body } = await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k-hsm' });
    expect(status).toBe(201);
    expect(body.tokenReferenceId).toEqual(expect.any(String));
  });

  it('a request to a kid no handle has: unknown_key; to the wrong private key under a known kid: decryption_failed', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const current = await generatedHandle('svc-hsm-1');
    const service = createTokenService(withPublicKeys(fx, [current.handle.publicJwk]), createMemoryStore(), {
      clock: fx.clock,
      configOptions: { env: {} },
      decryptionKeys: [current.handle],
    });
    // sealed to the key set file's key svc-1, which this service no longer holds
    const toFileKey = await buildSubmission(fx);
    expect(await codeOf(service.submit({ submission: toFileKey.submission, walletProviderId: WALLET, idempotencyKey: 'k-1' }))).toBe('unknown_key');
    const other = await generatedHandle('svc-hsm-1');
    const toOther = await buildSubmission({ ...fx, serviceEncryptionKey: other.handle.publicJwk });
    expect(await codeOf(service.submit({ submission: toOther.submission, walletProviderId: WALLET, idempotencyKey: 'k-2' }))).toBe('decryption_failed');
  });

  it('rotation: two handles, both decrypt; the key set order is what is published', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const next = await generatedHandle('svc-2027');
    const previous = await generatedHandle('svc-2026');
    const service = createTokenService(withPublicKeys(fx, [next.handle.publicJwk, previous.handle.publicJwk]), createMemoryStore(), {
      clock: fx.clock,
      configOptions: { env: {} },
      decryptionKeys: [previous.handle, next.handle],
    });
    expect(service.publicJwks().keys.map((k) => k.kid)).toEqual(['svc-2027', 'svc-2026', ...publishedSigningKeys(fx.keySet).map((k) => k.kid)]);
    for (const [i, h] of [next, previous].entries()) {
      const { submission } = await buildSubmission({ ...fx, serviceEncryptionKey: h.handle.publicJwk });
      expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: `rot-${i}` })).status).toBe(201);
    }
  });

  it('a handle of the key set file JWK, or of that JWK imported non-extractable, decrypts what the file key did', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const privateJwk = fx.keySet.encryptionKeys.keys[0]! as KeyJwk;
    const imported = (await importJWK(privateJwk, 'ECDH-ES+A256KW', { extractable: false })) as CryptoKey;
    for (const handle of [decryptionKeyFromJwk(privateJwk), decryptionKeyFromCryptoKey(imported, { kid: 'svc-1', publicJwk: toPublicJwk(privateJwk) })]) {
      const service = createTokenService(withPublicKeys(fx, [privateJwk]), createMemoryStore(), { clock: fx.clock, configOptions: { env: {} }, decryptionKeys: [handle] });
      const { submission } = await buildSubmission(fx);
      expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' })).status).toBe(201);
    }
  });

  it('a handle that gives no key: internal_error, not a client error', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const { handle } = await generatedHandle('svc-hsm-1');
    const down: DecryptionKeyHandle = { ...handle, key: () => Promise.reject(new Error('KMS unreachable')) };
    const service = createTokenService(withPublicKeys(fx, [handle.publicJwk]), createMemoryStore(), { clock: fx.clock, configOptions: { env: {} }, decryptionKeys: [down] });
    const { submission } = await buildSubmission({ ...fx, serviceEncryptionKey: handle.publicJwk });
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' }))).toBe('internal_error');
  });
});

describe('the configuration with decryption key handles', () => {
  it('refuses private keys in the key set when handles hold them, naming where, never the key', async () => {
    const fx = await fxPromise;
    const privateJwk = fx.keySet.encryptionKeys.keys[0]! as KeyJwk;
    const issues = configIssues(() => createTokenService(fx.config, createMemoryStore(), { configOptions: { env: {} }, decryptionKeys: [decryptionKeyFromJwk(privateJwk)] }));
    expect(issues).toEqual([expect.stringMatching(/^keys\.encryptionKeys\.keys\[0\]\.d: must not be in the configuration/)]);
    expect(issues.join('\n')).not.toContain(privateJwk.d);
  });

  it('without handles, a key set of public keys is refused as before (the d of each key)', async () => {
    const fx = await fxPromise;
    const { handle } = await generatedHandle('svc-hsm-1');
    const issues = configIssues(() => createTokenService(withPublicKeys(fx, [handle.publicJwk]), createMemoryStore(), { configOptions: { env: {} } }));
    expect(issues).toEqual([expect.stringMatching(/^keys\.encryptionKeys\.keys\[0\]\.d: is required: the private key \(d\)/)]);
  });

  it('every configured key needs exactly one handle of the same public key, and every handle a configured key', async () => {
    const fx = await fxPromise;
    const a = await generatedHandle('svc-a');
    const b = await generatedHandle('svc-b');
    const impostor = await generatedHandle('svc-a');
    const config = withPublicKeys(fx, [a.handle.publicJwk, b.handle.publicJwk]);
    const make = (decryptionKeys: readonly DecryptionKeyHandle[]) => () =>
      createTokenService(config, createMemoryStore(), { configOptions: { env: {} }, decryptionKeys });
    expect(configIssues(make([a.handle]))).toEqual(['decryptionKeys: no handle for the configured encryption key "svc-b"']);
    expect(configIssues(make([impostor.handle, b.handle]))).toEqual(['decryptionKeys[0]: its public key is not the configured key "svc-a"']);
    const stray = await generatedHandle('svc-c');
    expect(configIssues(make([a.handle, b.handle, stray.handle]))).toEqual([
      'decryptionKeys[2]: kid "svc-c" is not an encryption key of the configuration (keys.encryptionKeys)',
    ]);
    expect(configIssues(make([a.handle, b.handle, a.handle]))).toEqual(['decryptionKeys[2]: kid "svc-a" is given twice']);
    expect(configIssues(make([]))).toEqual(['decryptionKeys: must hold at least one decryption key handle']);
    const broken = { ...a.handle, alg: 'ECDH-ES' } as unknown as DecryptionKeyHandle;
    expect(configIssues(make([broken, b.handle]))[0]).toMatch(/^decryptionKeys\[0\]: must be a decryption key handle/);
    expect(() => make([a.handle, b.handle])()).not.toThrow();
  });

  it('a key set file of public keys loads with loadConfig({ publicEncryptionKeys: true }) and serves with handles', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const { handle } = await generatedHandle('svc-file');
    const dir = mkdtempSync(join(tmpdir(), 'pushprov-custody-'));
    try {
      const keysFile = join(dir, 'keys.json');
      writeFileSync(keysFile, JSON.stringify({ ...fx.keySet, encryptionKeys: { keys: [handle.publicJwk] } }), { mode: 0o600 });
      const configFile = join(dir, 'token-service.json');
      writeFileSync(configFile, JSON.stringify({ ...fx.config, keys: 'keys.json' }), { mode: 0o600 });
      const refused = configIssues(() => loadConfig(configFile, { env: {} }));
      expect(refused).toEqual([expect.stringMatching(/^keys \(file "keys\.json"\)\.encryptionKeys\.keys\[0\]\.d: is required/)]);
      const config = loadConfig(configFile, { env: {}, publicEncryptionKeys: true });
      const service = createTokenService(config, createMemoryStore(), { clock: fx.clock, configOptions: { env: {} }, decryptionKeys: [handle] });
      const { submission } = await buildSubmission({ ...fx, serviceEncryptionKey: handle.publicJwk });
      expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' })).status).toBe(201);
      // nothing private shows in the service's public view
      expect(service.config.keys.encryptionKeys.keys.every((k) => !('d' in k))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the JWK key set file stays the default: private keys, no handles', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    const service = createTokenService(fx.config, createMemoryStore(), { clock: fx.clock, configOptions: { env: {} } });
    const { submission } = await buildSubmission(fx);
    expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' })).status).toBe(201);
    expect(service.publicJwks()).toEqual({ keys: [fx.serviceEncryptionKey, ...publishedSigningKeys(fx.keySet)] });
  });
});
