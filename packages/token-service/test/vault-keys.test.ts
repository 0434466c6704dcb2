// The guard between a store and its vault keys (the fingerprint key it was
// built with, the KEKs its values are sealed under), and vault key rotation
// as a library function. The CLI's `vault` commands: cli-vault.test.ts.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '@pushprov/protocol';
import {
  type KeySet,
  type TokenServiceConfigInput,
  type TokenServiceStore,
  createMemoryStore,
  createTokenService,
  createVaultCipher,
  deriveFingerprintKey,
  openSqliteStore,
} from '../src/index.js';
import { countVaultKeys, rotateVault } from '../src/vault/rotate-vault.js';
import { FINGERPRINT_CHECK_META } from '../src/vault/store-keys.js';
import { createVaultCipherFromConfig, sealedKeyId } from '../src/vault/vault-cipher.js';
import { type Fixture, NOW, WALLET, buildSubmission, createFixture, createIdentifiers, createTempDir, seededRandom } from './helpers.js';

const fxPromise = createFixture();
const newKey = (seed: string) => toBase64Url(seededRandom(seed).bytes(32));

/** The fixture's configuration with these vault keys. */
function withVault(fx: Fixture, vault: NonNullable<KeySet['vault']>): TokenServiceConfigInput {
  return { ...fx.config, keys: { ...fx.keySet, vault } };
}

function serviceOf(fx: Fixture, config: TokenServiceConfigInput, store: TokenServiceStore) {
  fx.clock.set(NOW);
  return createTokenService(config, store, { clock: fx.clock, configOptions: { env: {} } });
}

async function provision(fx: Fixture, service: ReturnType<typeof serviceOf>, identifiers = createIdentifiers(), key = `k-${Math.random()}`) {
  const { submission } = await buildSubmission(fx, { identifiers });
  return service.submit({ submission, walletProviderId: WALLET, idempotencyKey: key });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  expect(error, 'expected a refusal').toBeDefined();
  return error!;
}

/** No key of these vault configurations appears in `text`. */
function expectNoKeys(text: string, ...vaults: NonNullable<KeySet['vault']>[]) {
  for (const vault of vaults) {
    for (const k of vault.keks) expect(text).not.toContain(k.key);
    if (vault.fingerprintKey) expect(text).not.toContain(vault.fingerprintKey);
  }
}

describe('the store guard: a fingerprint key or KEK change is refused without a migration', () => {
  it('records a check value of the fingerprint key (never the key) when a service first starts, and starts again with the same keys', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    const first = serviceOf(fx, fx.config, store);
    expect(await store.meta.get(FINGERPRINT_CHECK_META)).toBeUndefined();
    await first.ready();
    const check = await store.meta.get(FINGERPRINT_CHECK_META);
    expect(check).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expectNoKeys(check!, fx.keySet.vault!);
    expect(check).toBe(createVaultCipherFromConfig({ keks: fx.keySet.vault!.keks, fingerprintKey: fx.keySet.vault!.fingerprintKey }).fingerprintKeyCheck);
    const identifiers = createIdentifiers();
    const created = await provision(fx, first, identifiers);
    expect(created.status).toBe(201);
    const again = serviceOf(fx, fx.config, store);
    await again.ready();
    const found = await provision(fx, again, createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }));
    expect(found.status).toBe(200);
    expect(found.body.tokenReferenceId).toBe(created.body.tokenReferenceId);
  });

  it('refuses a changed first KEK when the fingerprint key is derived from it, also without ready(); with the old derived key pinned, a new first KEK starts and finds the cards', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    const kek1 = fx.keySet.vault!.keks[0]!;
    const derived = { keks: [kek1] };
    const before = serviceOf(fx, withVault(fx, derived), store);
    const identifiers = createIdentifiers();
    const created = await provision(fx, before, identifiers);
    expect(created.status).toBe(201);

    // The first KEK replaced, no fingerprint key configured: the derived key changes.
    const kek2 = { id: 'kek-2', key: newKey('kek-2') };
    const changed = serviceOf(fx, withVault(fx, { keks: [kek2] }), store);
    const refused = await refusal(changed.ready());
    expect(refused.code).toBe('configuration_invalid');
    expect(refused.message).toContain('derived from the first vault key (kek-2)');
    expect(refused.message).toContain('token-service vault pin-fingerprint-key');
    expectNoKeys(refused.message, derived, { keks: [kek2] });
    // A library user who never calls ready() is refused too, before anything is read or written.
    const stored = await store.tokens.count();
    expect((await refusal(provision(fx, changed))).code).toBe('configuration_invalid');
    expect((await refusal(changed.authenticate('Bearer x'))).code).toBe('configuration_invalid');
    expect((await refusal(changed.getTokenStatus({ tokenReferenceId: created.body.tokenReferenceId, walletProviderId: WALLET }))).code).toBe('configuration_invalid');
    expect(await store.tokens.count()).toBe(stored);

    // The derived key pinned as keys.vault.fingerprintKey: the new KEK may go first.
    const pinned = { keks: [kek2, kek1], fingerprintKey: toBase64Url(deriveFingerprintKey(Buffer.from(kek1.key, 'base64url'))) };
    const after = serviceOf(fx, withVault(fx, pinned), store);
    await after.ready();
    const found = await provision(fx, after, createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }));
    expect(found.status).toBe(200);
    expect(found.body.tokenReferenceId).toBe(created.body.tokenReferenceId);
    expect((await provision(fx, after)).status).toBe(201);
  });

  it('refuses a changed explicit fingerprint key, saying so', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    await serviceOf(fx, fx.config, store).ready();
    const other = { keks: fx.keySet.vault!.keks, fingerprintKey: newKey('other-fingerprint') };
    const refused = await refusal(serviceOf(fx, withVault(fx, other), store).ready());
    expect(refused.code).toBe('configuration_invalid');
    expect(refused.message).toContain('The fingerprint key (keys.vault.fingerprintKey) differs from the one this store was built with');
    expectNoKeys(refused.message, fx.keySet.vault!, other);
  });

  it('two services starting at once on a new store with different fingerprint keys: one claims it, the other is refused', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    const other = { keks: fx.keySet.vault!.keks, fingerprintKey: newKey('racing-fingerprint') };
    const outcomes = await Promise.allSettled([serviceOf(fx, fx.config, store).ready(), serviceOf(fx, withVault(fx, other), store).ready()]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('verifies a store written before the check existed against one of its tokens before claiming it', async () => {
    const fx = await fxPromise;
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const store = openSqliteStore(path);
    expect((await provision(fx, serviceOf(fx, fx.config, store))).status).toBe(201);
    await store.close();
    // As a store of schema version 2 had it: no check value.
    const db = new Database(path);
    db.prepare('DELETE FROM meta').run();
    db.close();
    const reopened = openSqliteStore(path);
    const other = { keks: fx.keySet.vault!.keks, fingerprintKey: newKey('upgrade-fingerprint') };
    const refused = await refusal(serviceOf(fx, withVault(fx, other), reopened).ready());
    expect(refused.message).toContain('differs from the one this store was built with');
    expect(await reopened.meta.get(FINGERPRINT_CHECK_META)).toBeUndefined();
    await serviceOf(fx, fx.config, reopened).ready();
    expect(await reopened.meta.get(FINGERPRINT_CHECK_META)).toBeDefined();
    await reopened.close();
    temp.remove();
  });

  it('refuses to start while the store holds values sealed under a KEK the configuration lacks; after rotation the KEK may go', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    const kek1 = fx.keySet.vault!.keks[0]!;
    const fingerprintKey = fx.keySet.vault!.fingerprintKey!;
    const identifiers = createIdentifiers();
    const { submission } = await buildSubmission(fx, { identifiers });
    const created = await serviceOf(fx, fx.config, store).submit({ submission, walletProviderId: WALLET, idempotencyKey: 'first' });
    expect(created.status).toBe(201);
    const kek2 = { id: 'kek-2', key: newKey('kek-2b') };
    const without = withVault(fx, { keks: [kek2], fingerprintKey });
    const refused = await refusal(serviceOf(fx, without, store).ready());
    expect(refused.code).toBe('configuration_invalid');
    expect(refused.message).toContain(`${kek1.id} (vault, tokens, idempotency)`);
    expect(refused.message).toContain('token-service vault rotate');
    expectNoKeys(refused.message, fx.keySet.vault!, { keks: [kek2] });

    const both = { keks: [kek2, kek1], fingerprintKey };
    const cipher = createVaultCipherFromConfig(both);
    expect(await countVaultKeys(store)).toEqual({ vault: { [kek1.id]: 1 }, tokens: { [kek1.id]: 1 }, idempotency: { [kek1.id]: 1 } });
    expect(await rotateVault(store, cipher)).toEqual({
      keyId: 'kek-2',
      resealed: { vault: 1, tokens: 1, idempotency: 1 },
      changedMeanwhile: { vault: 0, tokens: 0, idempotency: 0 },
      unreadable: { vault: 0, tokens: 0, idempotency: 0 },
    });
    expect(await countVaultKeys(store)).toEqual({ vault: { 'kek-2': 1 }, tokens: { 'kek-2': 1 }, idempotency: { 'kek-2': 1 } });
    const after = serviceOf(fx, without, store);
    await after.ready();
    // The stored answer opens under the new key (replayed), and the card is still found.
    const replayed = await after.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'first' });
    expect(replayed).toEqual({ ...created, replayed: true });
    const found = await provision(fx, after, createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }));
    expect(found.status).toBe(200);
    expect(found.body.tokenReferenceId).toBe(created.body.tokenReferenceId);
    expect(found.body.accessData?.tokenNumber).toBe(created.body.accessData?.tokenNumber);
  });
});

describe('rotateVault', () => {
  it('re-seals under the active or a named key, skips what is done, leaves rows changed meanwhile (compare-and-set) and counts what it cannot open', async () => {
    const fx = await fxPromise;
    const store = createMemoryStore();
    const kek1 = fx.keySet.vault!.keks[0]!;
    const fingerprintKey = fx.keySet.vault!.fingerprintKey!;
    const service = serviceOf(fx, fx.config, store);
    for (let i = 0; i < 5; i++) expect((await provision(fx, service)).status).toBe(201);
    const kek2 = { id: 'kek-2', key: newKey('kek-2c') };
    const cipher = createVaultCipherFromConfig({ keks: [kek2, kek1], fingerprintKey });
    const hashesBefore = (await store.sealed.list('tokens', { limit: 100 })).map((v) => v.key[0]!);

    // A page is read; before it is written, the service changes one of its rows.
    let raced = false;
    const racing: TokenServiceStore = {
      ...store,
      sealed: {
        ...store.sealed,
        async replace(table, updates) {
          if (table === 'vault' && !raced) {
            raced = true;
            const u = updates[0]!;
            await store.sealed.replace('vault', [{ key: u.key, from: u.from, to: cipher.reseal(u.from, 'card', u.key[0]!, kek1.id) }]);
          }
          return store.sealed.replace(table, updates);
        },
      },
    };
    const first = await rotateVault(racing, cipher, { batchSize: 2 });
    expect(first.resealed).toEqual({ vault: 4, tokens: 5, idempotency: 5 });
    expect(first.changedMeanwhile).toEqual({ vault: 1, tokens: 0, idempotency: 0 });
    expect(await countVaultKeys(store)).toEqual({ vault: { 'kek-2': 4, [kek1.id]: 1 }, tokens: { 'kek-2': 5 }, idempotency: { 'kek-2': 5 } });
    // Resumable: the second run does only what is left.
    const second = await rotateVault(store, cipher, { batchSize: 2 });
    expect(second.resealed).toEqual({ vault: 1, tokens: 0, idempotency: 0 });
    const third = await rotateVault(store, cipher);
    expect(third.resealed).toEqual({ vault: 0, tokens: 0, idempotency: 0 });
    // Every value opens, with the same context, under the new configuration; token hashes are untouched.
    for (const v of await store.sealed.list('vault', { limit: 100 })) {
      expect(sealedKeyId(v.sealed)).toBe('kek-2');
      expect(JSON.parse(cipher.open(v.sealed, 'card', v.key[0]!)).pan).toMatch(/^4111/);
    }
    for (const id of hashesBefore) {
      const token = (await store.tokens.find(id))!;
      expect(cipher.hashTokenNumber(cipher.open(token.sealedTokenNumber!, 'token-number', id))).toBe(token.tokenNumberHash);
    }
    // Back under the named key.
    const back = await rotateVault(store, cipher, { toKeyId: kek1.id });
    expect(back.resealed).toEqual({ vault: 5, tokens: 5, idempotency: 5 });
    await expect(rotateVault(store, cipher, { toKeyId: 'nope' })).rejects.toMatchObject({ code: 'configuration_invalid' });
    // A configuration without the key the values are under cannot open them: counted, left as they are.
    const onlyNew = createVaultCipherFromConfig({ keks: [kek2], fingerprintKey });
    const blind = await rotateVault(store, onlyNew);
    expect(blind.unreadable).toEqual({ vault: 5, tokens: 5, idempotency: 5 });
    expect(await countVaultKeys(store)).toEqual({ vault: { [kek1.id]: 5 }, tokens: { [kek1.id]: 5 }, idempotency: { [kek1.id]: 5 } });
  });

  it('the cipher re-seals under another key, bound to the same purpose and context, and reads key ids from the format', () => {
    const keys = [
      { id: 'kek-a', key: seededRandom('a').bytes(32) },
      { id: 'kek-b', key: seededRandom('b').bytes(32) },
    ];
    const cipher = createVaultCipher({ keys, fingerprintKey: seededRandom('f').bytes(32) });
    const sealed = cipher.seal('secret', 'card', 'tok_1');
    expect(sealedKeyId(sealed)).toBe('kek-a');
    const moved = cipher.reseal(sealed, 'card', 'tok_1', 'kek-b');
    expect(sealedKeyId(moved)).toBe('kek-b');
    expect(cipher.open(moved, 'card', 'tok_1')).toBe('secret');
    expect(() => cipher.open(moved, 'card', 'tok_2')).toThrow();
    expect(() => cipher.reseal(sealed, 'card', 'tok_2', 'kek-b')).toThrow();
    expect(sealedKeyId('sealed-card-1')).toBe('');
    expect(sealedKeyId('v1.kek-a')).toBe('kek-a');
    expect(cipher.fingerprintKeyCheck).not.toBe(createVaultCipher({ keys, fingerprintKey: seededRandom('g').bytes(32) }).fingerprintKeyCheck);
  });
});
