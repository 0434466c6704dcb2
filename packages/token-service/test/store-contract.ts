// The contract every TokenServiceStore must meet. `store.test.ts` runs it
// against the memory store and the SQLite store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommitInput, IdempotencyRecord, TokenRecord, TokenServiceStore, VaultRecord } from '../src/index.js';

let sequence = 0;

export function makeToken(overrides: Partial<TokenRecord> = {}): TokenRecord {
  sequence++;
  return {
    tokenReferenceId: `tok_${sequence}`,
    tokenNumberHash: `hash-${sequence}`,
    sealedTokenNumber: `sealed-token-${sequence}`,
    tokenLast4: '1234',
    tokenExpiry: { month: 11, year: 2029 },
    status: 'active',
    issuerId: 'bank-a',
    walletProviderId: 'wallet-co',
    walletAccountId: 'user-42',
    deviceId: 'device-7',
    network: 'visa',
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

export function makeVault(token: TokenRecord, overrides: Partial<VaultRecord> = {}): VaultRecord {
  return {
    tokenReferenceId: token.tokenReferenceId,
    panFingerprint: `fp-${token.tokenReferenceId}`,
    walletProviderId: token.walletProviderId,
    walletAccountId: token.walletAccountId,
    deviceId: token.deviceId,
    sealedCard: `sealed-card-${token.tokenReferenceId}`,
    panLast4: '1111',
    createdAt: 1_000,
    ...overrides,
  };
}

export function makeIdempotency(overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  sequence++;
  return {
    scope: 'wallet-co',
    key: `idem-${sequence}`,
    requestHash: 'a'.repeat(64),
    status: 201,
    sealedResponse: `sealed-response-${sequence}`,
    createdAt: 1_000,
    expiresAt: 100_000,
    ...overrides,
  };
}

export function makeCommit(overrides: Partial<CommitInput> = {}): CommitInput {
  const token = makeToken();
  return {
    idempotency: makeIdempotency(),
    replay: [{ key: `replay-${sequence}`, expiresAt: 50_000 }],
    issuance: { token, vault: makeVault(token) },
    ...overrides,
  };
}

async function counts(store: TokenServiceStore) {
  return {
    tokens: await store.tokens.count(),
    vault: await store.vault.count(),
    replay: await store.replay.count(),
    idempotency: await store.idempotency.count(),
  };
}

/** A store factory: `open` may be called again after `close` to reopen the same storage (when `durable`). */
export interface StoreHarness {
  open(): TokenServiceStore;
  cleanup?(): void;
}

export function describeStoreContract(name: string, createHarness: () => StoreHarness, options: { durable: boolean }): void {
  describe(`TokenServiceStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: TokenServiceStore;

    beforeEach(() => {
      harness = createHarness();
      store = harness.open();
    });
    afterEach(async () => {
      await store.close();
      harness.cleanup?.();
    });

    it('starts empty', async () => {
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
      expect(await store.tokens.find('tok_nope')).toBeUndefined();
      expect(await store.idempotency.find('wallet-co', 'nope')).toBeUndefined();
      expect(await store.replay.has('nope')).toBe(false);
    });

    it('commits a token, its vault entry, replay keys and the idempotency record together', async () => {
      const input = makeCommit();
      expect(await store.commit(input)).toEqual({ ok: true });
      const { token, vault } = input.issuance!;
      expect(await store.tokens.find(token.tokenReferenceId)).toEqual(token);
      expect(await store.vault.find(token.tokenReferenceId)).toEqual(vault);
      expect(
        await store.vault.findProvisioned({
          panFingerprint: vault.panFingerprint,
          walletProviderId: vault.walletProviderId,
          walletAccountId: vault.walletAccountId,
          deviceId: vault.deviceId,
        }),
      ).toEqual(vault);
      expect(await store.replay.has(input.replay[0]!.key)).toBe(true);
      expect(await store.idempotency.find(input.idempotency.scope, input.idempotency.key)).toEqual(input.idempotency);
      expect(await counts(store)).toEqual({ tokens: 1, vault: 1, replay: 1, idempotency: 1 });
    });

    it('commits without an issuance (an already provisioned card)', async () => {
      const input = makeCommit();
      delete input.issuance;
      expect(await store.commit(input)).toEqual({ ok: true });
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 1, idempotency: 1 });
    });

    it('keeps a token without a network as such', async () => {
      const token = makeToken({ network: undefined });
      delete token.network;
      await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }));
      expect(await store.tokens.find(token.tokenReferenceId)).toEqual(token);
    });

    it('refuses an idempotency key already stored for the same scope, writing nothing', async () => {
      const first = makeCommit();
      await store.commit(first);
      const before = await counts(store);
      const second = makeCommit({ idempotency: makeIdempotency({ key: first.idempotency.key }) });
      expect(await store.commit(second)).toEqual({ ok: false, conflict: 'idempotency' });
      expect(await counts(store)).toEqual(before);
      expect(await store.replay.has(second.replay[0]!.key)).toBe(false);
    });

    it('scopes idempotency keys per wallet provider', async () => {
      const first = makeCommit();
      await store.commit(first);
      const other = makeCommit({ idempotency: makeIdempotency({ key: first.idempotency.key, scope: 'wallet-two' }) });
      expect(await store.commit(other)).toEqual({ ok: true });
      expect((await store.idempotency.find('wallet-two', first.idempotency.key))?.sealedResponse).toBe(other.idempotency.sealedResponse);
      expect((await store.idempotency.find('wallet-co', first.idempotency.key))?.sealedResponse).toBe(first.idempotency.sealedResponse);
    });

    it('refuses a replay key already stored, writing nothing', async () => {
      const first = makeCommit();
      await store.commit(first);
      const before = await counts(store);
      const second = makeCommit({ replay: [{ key: first.replay[0]!.key, expiresAt: 60_000 }] });
      expect(await store.commit(second)).toEqual({ ok: false, conflict: 'replay' });
      expect(await counts(store)).toEqual(before);
      expect(await store.idempotency.find(second.idempotency.scope, second.idempotency.key)).toBeUndefined();
      expect(await store.tokens.find(second.issuance!.token.tokenReferenceId)).toBeUndefined();
    });

    it('refuses the same replay key twice in one commit', async () => {
      const input = makeCommit({ replay: [{ key: 'twice', expiresAt: 1 }, { key: 'twice', expiresAt: 1 }] });
      expect(await store.commit(input)).toEqual({ ok: false, conflict: 'replay' });
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
    });

    it('refuses a token number hash already taken, writing nothing', async () => {
      const first = makeCommit();
      await store.commit(first);
      const before = await counts(store);
      const token = makeToken({ tokenNumberHash: first.issuance!.token.tokenNumberHash });
      const second = makeCommit({ issuance: { token, vault: makeVault(token) } });
      expect(await store.commit(second)).toEqual({ ok: false, conflict: 'token_number' });
      expect(await counts(store)).toEqual(before);
      expect(await store.replay.has(second.replay[0]!.key)).toBe(false);
    });

    it('refuses a second token for a card already provisioned to the same wallet account and device, naming the first', async () => {
      const first = makeCommit();
      await store.commit(first);
      const before = await counts(store);
      const token = makeToken();
      const second = makeCommit({ issuance: { token, vault: makeVault(token, { panFingerprint: first.issuance!.vault.panFingerprint }) } });
      expect(await store.commit(second)).toEqual({
        ok: false,
        conflict: 'already_provisioned',
        tokenReferenceId: first.issuance!.token.tokenReferenceId,
      });
      expect(await counts(store)).toEqual(before);
    });

    it('replaces a card\'s expired token in one commit: the old one deleted, its sealed card removed', async () => {
      const first = makeCommit();
      await store.commit(first);
      const old = first.issuance!.token;
      const token = makeToken({ createdAt: 9_000, updatedAt: 9_000 });
      const vault = makeVault(token, { panFingerprint: first.issuance!.vault.panFingerprint });
      expect(await store.commit(makeCommit({ issuance: { token, vault, replaces: old.tokenReferenceId } }))).toEqual({ ok: true });
      expect(await store.tokens.find(old.tokenReferenceId)).toEqual({ ...old, status: 'deleted', updatedAt: 9_000 });
      expect(await store.vault.find(old.tokenReferenceId)).toBeUndefined();
      const query = { panFingerprint: vault.panFingerprint, walletProviderId: vault.walletProviderId, walletAccountId: vault.walletAccountId, deviceId: vault.deviceId };
      expect(await store.vault.findProvisioned(query)).toEqual(vault);
      expect(await counts(store)).toEqual({ tokens: 2, vault: 1, replay: 2, idempotency: 2 });
    });

    it('refuses to replace a token that no longer holds the card, naming the one that does, and writes nothing', async () => {
      const first = makeCommit();
      await store.commit(first);
      const fp = first.issuance!.vault.panFingerprint;
      const winner = makeToken();
      await store.commit(makeCommit({ issuance: { token: winner, vault: makeVault(winner, { panFingerprint: fp }), replaces: first.issuance!.token.tokenReferenceId } }));
      const before = await counts(store);
      // A second replacement of the same (already replaced) token loses to the first.
      const late = makeToken();
      const outcome = await store.commit(makeCommit({ issuance: { token: late, vault: makeVault(late, { panFingerprint: fp }), replaces: first.issuance!.token.tokenReferenceId } }));
      expect(outcome).toEqual({ ok: false, conflict: 'already_provisioned', tokenReferenceId: winner.tokenReferenceId });
      expect(await counts(store)).toEqual(before);
      expect((await store.tokens.find(winner.tokenReferenceId))?.status).toBe('active');
      expect(await store.tokens.find(late.tokenReferenceId)).toBeUndefined();
    });

    it('allows the same card on another device or wallet account', async () => {
      const first = makeCommit();
      await store.commit(first);
      const fp = first.issuance!.vault.panFingerprint;
      const onOtherDevice = makeToken({ deviceId: 'device-8' });
      expect(await store.commit(makeCommit({ issuance: { token: onOtherDevice, vault: makeVault(onOtherDevice, { panFingerprint: fp }) } }))).toEqual({ ok: true });
      const onOtherAccount = makeToken({ walletAccountId: 'user-43' });
      expect(await store.commit(makeCommit({ issuance: { token: onOtherAccount, vault: makeVault(onOtherAccount, { panFingerprint: fp }) } }))).toEqual({ ok: true });
      expect(await store.tokens.count()).toBe(3);
    });

    it('does not let callers change stored records through the objects they hold', async () => {
      const input = makeCommit();
      await store.commit(input);
      input.issuance!.token.status = 'deleted';
      input.issuance!.token.tokenExpiry.year = 2001;
      input.idempotency.sealedResponse = 'changed';
      const read = await store.tokens.find(input.issuance!.token.tokenReferenceId);
      expect(read?.status).toBe('active');
      expect(read?.tokenExpiry).toEqual({ month: 11, year: 2029 });
      read!.status = 'suspended';
      read!.tokenExpiry.month = 1;
      expect((await store.tokens.find(input.issuance!.token.tokenReferenceId))?.status).toBe('active');
      expect((await store.tokens.find(input.issuance!.token.tokenReferenceId))?.tokenExpiry).toEqual({ month: 11, year: 2029 });
      expect((await store.idempotency.find(input.idempotency.scope, input.idempotency.key))?.sealedResponse).not.toBe('changed');
    });

    it('purges replay and idempotency records at their expiry, not before, and never tokens', async () => {
      await store.commit(makeCommit({ replay: [{ key: 'r-early', expiresAt: 5_000 }], idempotency: makeIdempotency({ expiresAt: 5_000 }) }));
      await store.commit(makeCommit({ replay: [{ key: 'r-late', expiresAt: 9_000 }], idempotency: makeIdempotency({ expiresAt: 9_000 }) }));
      expect(await store.purgeExpired(4_999)).toEqual({ replay: 0, idempotency: 0 });
      expect(await store.purgeExpired(5_000)).toEqual({ replay: 1, idempotency: 1 });
      expect(await store.replay.has('r-early')).toBe(false);
      expect(await store.replay.has('r-late')).toBe(true);
      expect(await counts(store)).toEqual({ tokens: 2, vault: 2, replay: 1, idempotency: 1 });
    });

    it('keeps a replay record that expired but was not purged', async () => {
      await store.commit(makeCommit({ replay: [{ key: 'r-old', expiresAt: 1 }] }));
      expect(await store.replay.has('r-old')).toBe(true);
    });

    it('commits exactly one of many concurrent commits with the same replay key', async () => {
      const inputs = Array.from({ length: 20 }, () => makeCommit({ replay: [{ key: 'shared-jti', expiresAt: 9_000 }] }));
      const outcomes = await Promise.all(inputs.map((input) => store.commit(input)));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok && o.conflict === 'replay')).toHaveLength(19);
      expect(await counts(store)).toEqual({ tokens: 1, vault: 1, replay: 1, idempotency: 1 });
    });

    it('fails every call after close', async () => {
      await store.close();
      await expect(store.tokens.count()).rejects.toMatchObject({ code: 'internal_error' });
      await expect(store.commit(makeCommit())).rejects.toMatchObject({ code: 'internal_error' });
      store = harness.open();
    });

    if (options.durable) it('keeps everything after close and reopen', async () => {
      const input = makeCommit();
      await store.commit(input);
      await store.close();
      store = harness.open();
      expect(await store.tokens.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.token);
      expect(await store.vault.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.vault);
      expect(await store.replay.has(input.replay[0]!.key)).toBe(true);
      expect(await store.idempotency.find(input.idempotency.scope, input.idempotency.key)).toEqual(input.idempotency);
      expect(await store.commit(makeCommit({ replay: input.replay }))).toEqual({ ok: false, conflict: 'replay' });
    });
  });
}
