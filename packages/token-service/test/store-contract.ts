// The contract every TokenServiceStore must meet. `store.test.ts` runs it
// against the memory store and the SQLite store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommitInput, IdempotencyBeginInput, IdempotencyRecord, TokenRecord, TokenServiceStore, VaultRecord } from '../src/index.js';
import type { SealedValue } from '../src/store/types.js';

let sequence = 0;

/** A live token (its number still sealed in the store). */
export function makeToken(overrides: Partial<TokenRecord> = {}): TokenRecord & { sealedTokenNumber: string } {
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
  } as TokenRecord & { sealedTokenNumber: string };
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

/** An idempotency record as a commit completes it: with the lease of the attempt that began it. */
export function makeIdempotency(overrides: Partial<IdempotencyRecord & { leaseId: string }> = {}): IdempotencyRecord & { leaseId: string } {
  sequence++;
  return {
    leaseId: `lease-${sequence}`,
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

/** The record a commit stores: its idempotency input without the lease. */
export function stored(record: IdempotencyRecord & { leaseId?: string }): IdempotencyRecord {
  const { leaseId: _leaseId, ...rest } = record;
  return rest;
}

/** Input of `idempotency.begin`, for the contract's tests. */
export function makeBegin(overrides: Partial<IdempotencyBeginInput> = {}): IdempotencyBeginInput {
  sequence++;
  return { scope: 'wallet-co', key: `begin-${sequence}`, requestHash: 'b'.repeat(64), leaseId: `lease-${sequence}`, nowMs: 10_000, leaseMs: 30_000, ...overrides };
}

/** A store factory: `open` may be called again after `close` to reopen the same storage (when `durable`). */
export interface StoreHarness {
  open(): TokenServiceStore | Promise<TokenServiceStore>;
  cleanup?(): void | Promise<void>;
}

export function describeStoreContract(name: string, createHarness: () => StoreHarness, options: { durable: boolean }): void {
  describe(`TokenServiceStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: TokenServiceStore;

    beforeEach(async () => {
      harness = createHarness();
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
      await harness.cleanup?.();
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
      expect(await store.idempotency.find(input.idempotency.scope, input.idempotency.key)).toEqual(stored(input.idempotency));
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
      expect(await store.tokens.find(old.tokenReferenceId)).toEqual({ ...old, status: 'deleted', updatedAt: 9_000, sealedTokenNumber: null });
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
      expect(await store.purgeExpired(4_999)).toEqual({ replay: 0, idempotency: 0, limits: 0 });
      expect(await store.purgeExpired(5_000)).toEqual({ replay: 1, idempotency: 1, limits: 0 });
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


    it('begins a request once: started, then in flight for any body while the lease lives', async () => {
      const first = makeBegin();
      expect(await store.idempotency.begin(first)).toEqual({ state: 'started' });
      expect(await store.idempotency.begin({ ...first, leaseId: 'other', nowMs: first.nowMs + 1 })).toEqual({ state: 'in_flight' });
      expect(await store.idempotency.begin({ ...first, leaseId: 'other', requestHash: 'c'.repeat(64) })).toEqual({ state: 'in_flight' });
      // Pending entries are not records.
      expect(await store.idempotency.find(first.scope, first.key)).toBeUndefined();
      expect(await store.idempotency.count()).toBe(0);
      // Another scope is another key.
      expect(await store.idempotency.begin({ ...first, scope: 'wallet-two', leaseId: 'x' })).toEqual({ state: 'started' });
    });

    it('lets another attempt take over a key whose lease ended, and then refuses the first attempt\'s commit', async () => {
      const first = makeBegin({ leaseMs: 1_000 });
      await store.idempotency.begin(first);
      expect(await store.idempotency.begin({ ...first, leaseId: 'second', nowMs: first.nowMs + 999 })).toEqual({ state: 'in_flight' });
      expect(await store.idempotency.begin({ ...first, leaseId: 'second', nowMs: first.nowMs + 1_000 })).toEqual({ state: 'started' });
      const late = makeCommit({ idempotency: makeIdempotency({ scope: first.scope, key: first.key, leaseId: first.leaseId }) });
      expect(await store.commit(late)).toEqual({ ok: false, conflict: 'idempotency' });
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
      const winner = makeCommit({ idempotency: makeIdempotency({ scope: first.scope, key: first.key, leaseId: 'second' }) });
      expect(await store.commit(winner)).toEqual({ ok: true });
    });

    it('completes the pending entry in the commit: the same body is then stored, another body a mismatch', async () => {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      const input = makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId, requestHash: begin.requestHash, expiresAt: 50_000 }) });
      expect(await store.commit(input)).toEqual({ ok: true });
      expect(await store.idempotency.begin({ ...begin, leaseId: 'again', nowMs: 20_000 })).toEqual({ state: 'stored', record: stored(input.idempotency) });
      expect(await store.idempotency.begin({ ...begin, leaseId: 'again', requestHash: 'c'.repeat(64), nowMs: 20_000 })).toEqual({ state: 'mismatch' });
      // Past its expiry the record counts as absent: a new attempt starts.
      expect(await store.idempotency.begin({ ...begin, leaseId: 'later', nowMs: 50_000 })).toEqual({ state: 'started' });
    });

    it('releases a pending entry only for the lease that holds it', async () => {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      await store.idempotency.release(begin.scope, begin.key, 'not-mine');
      expect(await store.idempotency.begin({ ...begin, leaseId: 'other' })).toEqual({ state: 'in_flight' });
      await store.idempotency.release(begin.scope, begin.key, begin.leaseId);
      expect(await store.idempotency.begin({ ...begin, leaseId: 'other' })).toEqual({ state: 'started' });
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
    });

    it('refuses a commit while another lease holds its key, writing nothing', async () => {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      const input = makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: 'not-the-holder' }) });
      expect(await store.commit(input)).toEqual({ ok: false, conflict: 'idempotency' });
      expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
    });

    it('gives exactly one of many concurrent begins of one key the start', async () => {
      const base = makeBegin();
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.idempotency.begin({ ...base, leaseId: `racer-${i}` })));
      expect(outcomes.filter((o) => o.state === 'started')).toHaveLength(1);
      expect(outcomes.filter((o) => o.state === 'in_flight')).toHaveLength(19);
    });

    it('records a refusal that sticks: the jti burnt and the entry released together, existing keys kept', async () => {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      await store.commit(makeCommit({ replay: [{ key: 'already', expiresAt: 7_000 }] }));
      await store.refuse({ idempotency: { scope: begin.scope, key: begin.key, leaseId: begin.leaseId }, replay: [{ key: 'declined-jti', expiresAt: 9_000 }, { key: 'already', expiresAt: 99_000 }] });
      expect(await store.replay.has('declined-jti')).toBe(true);
      expect(await store.replay.count()).toBe(2);
      expect(await store.idempotency.begin({ ...begin, leaseId: 'retry' })).toEqual({ state: 'started' });
      // The burnt key is a replay for any later commit.
      expect(await store.commit(makeCommit({ replay: [{ key: 'declined-jti', expiresAt: 9_000 }] }))).toEqual({ ok: false, conflict: 'replay' });
      // The kept key kept its own expiry: it is purged at 7 000, the burnt one at 9 000.
      expect(await store.purgeExpired(7_000)).toMatchObject({ replay: 1 });
      expect(await store.replay.has('declined-jti')).toBe(true);
    });

    it('claims a key once, also when many claim it at the same time', async () => {
      expect(await store.replay.claim({ key: 'assertion-1', expiresAt: 9_000 })).toBe(true);
      expect(await store.replay.claim({ key: 'assertion-1', expiresAt: 9_000 })).toBe(false);
      expect(await store.replay.has('assertion-1')).toBe(true);
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.replay.claim({ key: 'assertion-2', expiresAt: 9_000 })));
      expect(claims.filter(Boolean)).toHaveLength(1);
      // A claimed key is a replay for a commit too.
      expect(await store.commit(makeCommit({ replay: [{ key: 'assertion-2', expiresAt: 9_000 }] }))).toEqual({ ok: false, conflict: 'replay' });
    });

    it('purges pending entries whose lease ended', async () => {
      await store.idempotency.begin(makeBegin({ nowMs: 1_000, leaseMs: 1_000 }));
      const live = makeBegin({ nowMs: 1_000, leaseMs: 5_000 });
      await store.idempotency.begin(live);
      expect(await store.purgeExpired(2_000)).toEqual({ replay: 0, idempotency: 1, limits: 0 });
      expect(await store.idempotency.begin({ ...live, leaseId: 'other', nowMs: 2_000 })).toEqual({ state: 'in_flight' });
    });

    it('keeps the device key thumbprint a token is bound to', async () => {
      const token = makeToken({ deviceKeyThumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
      await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }));
      expect(await store.tokens.find(token.tokenReferenceId)).toEqual(token);
    });

    it('keeps the account id and the card’s last four digits of a token; a token without them reads without them (schema 6)', async () => {
      const token = makeToken({ accountId: 'acct-7f3a', panLast4: '4242' });
      expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
      expect(await store.tokens.find(token.tokenReferenceId)).toEqual(token);
      const bare = makeToken();
      expect(await store.commit(makeCommit({ issuance: { token: bare, vault: makeVault(bare) } }))).toEqual({ ok: true });
      const found = await store.tokens.find(bare.tokenReferenceId);
      expect(found).toEqual(bare);
      expect(found).not.toHaveProperty('accountId');
      expect(found).not.toHaveProperty('panLast4');
      // A replacement carries its own values; the replaced token keeps its.
      const next = makeToken({ accountId: 'acct-7f3a', panLast4: '4242', createdAt: 2_000, updatedAt: 2_000 });
      expect(await store.commit(makeCommit({ issuance: { token: next, vault: makeVault(next, { panFingerprint: `fp-${token.tokenReferenceId}` }), replaces: token.tokenReferenceId } }))).toEqual({ ok: true });
      expect(await store.tokens.find(next.tokenReferenceId)).toMatchObject({ accountId: 'acct-7f3a', panLast4: '4242' });
      expect(await store.tokens.find(token.tokenReferenceId)).toMatchObject({ status: 'deleted', accountId: 'acct-7f3a', panLast4: '4242' });
    });

    it('answers a ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('fails every call after close', async () => {
      await store.close();
      await expect(store.tokens.count()).rejects.toMatchObject({ code: 'internal_error' });
      await expect(store.commit(makeCommit())).rejects.toMatchObject({ code: 'internal_error' });
      await expect(store.ping()).rejects.toMatchObject({ code: expect.stringMatching(/^(internal_error|store_unavailable)$/) });
      store = await harness.open();
    });

    if (options.durable) it('keeps everything after close and reopen', async () => {
      const input = makeCommit();
      await store.commit(input);
      await store.close();
      store = await harness.open();
      expect(await store.tokens.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.token);
      expect(await store.vault.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.vault);
      expect(await store.replay.has(input.replay[0]!.key)).toBe(true);
      expect(await store.idempotency.find(input.idempotency.scope, input.idempotency.key)).toEqual(stored(input.idempotency));
      expect(await store.commit(makeCommit({ replay: input.replay }))).toEqual({ ok: false, conflict: 'replay' });
    });

    describe('rate limits (limits.hit)', () => {
      const MINUTE = 60_000;
      /** A time inside the window [start, start + MINUTE): 10 s after the minute 1 000 started. */
      const T = 1_000 * MINUTE + 10_000;

      it('allows `limit` hits in a window, then refuses until the window ends; the next window starts again', async () => {
        const hit = (nowMs: number) => store.limits.hit({ key: 'wp:wallet-co', windowMs: MINUTE, limit: 3, nowMs });
        expect(await hit(T)).toEqual({ allowed: true, count: 1, retryAfterMs: 0 });
        expect(await hit(T + 1)).toEqual({ allowed: true, count: 2, retryAfterMs: 0 });
        expect(await hit(T + 2)).toEqual({ allowed: true, count: 3, retryAfterMs: 0 });
        // Refused: 50 s are left of the window (it started 10 s before T).
        expect(await hit(T + 3)).toEqual({ allowed: false, count: 4, retryAfterMs: 50_000 - 3 });
        expect(await hit(T + 49_999)).toEqual({ allowed: false, count: 4, retryAfterMs: 1 });
        // The next minute: counted from 1 again.
        expect(await hit(T + 50_000)).toEqual({ allowed: true, count: 1, retryAfterMs: 0 });
      });

      it('counts each key on its own', async () => {
        expect((await store.limits.hit({ key: 'issuer:bank-a', windowMs: MINUTE, limit: 1, nowMs: T })).allowed).toBe(true);
        expect((await store.limits.hit({ key: 'issuer:bank-a', windowMs: MINUTE, limit: 1, nowMs: T })).allowed).toBe(false);
        expect((await store.limits.hit({ key: 'issuer:bank-b', windowMs: MINUTE, limit: 1, nowMs: T })).allowed).toBe(true);
        expect((await store.limits.hit({ key: 'wp:bank-a', windowMs: MINUTE, limit: 1, nowMs: T })).allowed).toBe(true);
      });

      it('allows exactly `limit` of many concurrent hits on one key', async () => {
        const outcomes = await Promise.all(Array.from({ length: 40 }, () => store.limits.hit({ key: 'race', windowMs: MINUTE, limit: 15, nowMs: T })));
        expect(outcomes.filter((o) => o.allowed)).toHaveLength(15);
        expect(outcomes.filter((o) => !o.allowed).every((o) => o.retryAfterMs === 50_000 && o.count === 16)).toBe(true);
        expect([...outcomes.filter((o) => o.allowed).map((o) => o.count)].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      });

      it('counts a hit from a clock behind the stored window in that window, never starting it again', async () => {
        expect((await store.limits.hit({ key: 'skew', windowMs: MINUTE, limit: 2, nowMs: T + MINUTE })).count).toBe(1);
        expect(await store.limits.hit({ key: 'skew', windowMs: MINUTE, limit: 2, nowMs: T })).toEqual({ allowed: true, count: 2, retryAfterMs: 0 });
        const late = await store.limits.hit({ key: 'skew', windowMs: MINUTE, limit: 2, nowMs: T });
        expect(late).toMatchObject({ allowed: false, count: 3 });
        // Until the end of the stored window, as this clock reads it.
        expect(late.retryAfterMs).toBe(MINUTE + 50_000);
      });

      it('uses day windows that start at 00:00 UTC (per card per day)', async () => {
        const DAY = 86_400_000;
        const noon = Date.UTC(2026, 10, 28, 12, 0, 0);
        const key = 'card:0123456789abcdef';
        expect((await store.limits.hit({ key, windowMs: DAY, limit: 1, nowMs: noon })).allowed).toBe(true);
        expect(await store.limits.hit({ key, windowMs: DAY, limit: 1, nowMs: noon })).toEqual({ allowed: false, count: 2, retryAfterMs: 12 * 3_600_000 });
        expect((await store.limits.hit({ key, windowMs: DAY, limit: 1, nowMs: Date.UTC(2026, 10, 29, 0, 0, 0) })).allowed).toBe(true);
      });

      it('purges counters whose window ended, not before', async () => {
        await store.limits.hit({ key: 'ends-early', windowMs: MINUTE, limit: 5, nowMs: T });
        await store.limits.hit({ key: 'ends-late', windowMs: MINUTE, limit: 5, nowMs: T + MINUTE });
        expect(await store.purgeExpired(T + 49_999)).toEqual({ replay: 0, idempotency: 0, limits: 0 });
        expect(await store.purgeExpired(T + 50_000)).toEqual({ replay: 0, idempotency: 0, limits: 1 });
        // The live counter is kept: its second hit is its count 2.
        expect((await store.limits.hit({ key: 'ends-late', windowMs: MINUTE, limit: 5, nowMs: T + MINUTE })).count).toBe(2);
        expect((await store.limits.hit({ key: 'ends-early', windowMs: MINUTE, limit: 5, nowMs: T + MINUTE })).count).toBe(1);
      });

      it('refuses a malformed hit with a RangeError, counting nothing', async () => {
        for (const bad of [
          { key: '', windowMs: MINUTE, limit: 1, nowMs: T },
          { key: 'has space', windowMs: MINUTE, limit: 1, nowMs: T },
          { key: 'x'.repeat(257), windowMs: MINUTE, limit: 1, nowMs: T },
          { key: 'k', windowMs: 0, limit: 1, nowMs: T },
          { key: 'k', windowMs: 1.5, limit: 1, nowMs: T },
          { key: 'k', windowMs: MINUTE, limit: 0, nowMs: T },
          { key: 'k', windowMs: MINUTE, limit: 1, nowMs: -1 },
        ]) {
          await expect(store.limits.hit(bad)).rejects.toThrow(RangeError);
        }
        expect((await store.limits.hit({ key: 'k', windowMs: MINUTE, limit: 1, nowMs: T })).count).toBe(1);
      });

      it('fails after close', async () => {
        await store.close();
        await expect(store.limits.hit({ key: 'k', windowMs: MINUTE, limit: 1, nowMs: T })).rejects.toMatchObject({ code: 'internal_error' });
        store = await harness.open();
      });
    });

    describe('metadata and sealed values (vault key rotation)', () => {
      /** A value in the vault cipher's format under key id `kid` (not a real ciphertext: stores never open values). */
      const sealedUnder = (kid: string, n: string) => `v1.${kid}.AAAAAAAAAAAAAAAA.${n}.BBBBBBBBBBBBBBBBBBBBBB`;
      /** Commits `n` tokens whose sealed values are under the key ids `kids` (in turn); returns their commits. */
      async function commitUnder(kids: readonly string[], n: number): Promise<CommitInput[]> {
        const inputs: CommitInput[] = [];
        for (let i = 0; i < n; i++) {
          const kid = kids[i % kids.length]!;
          const token = makeToken({ sealedTokenNumber: sealedUnder(kid, `t${i}`) });
          const input = makeCommit({
            idempotency: makeIdempotency({ sealedResponse: sealedUnder(kid, `r${i}`), scope: i % 2 === 0 ? 'wallet-co' : 'wallet-two' }),
            issuance: { token, vault: makeVault(token, { sealedCard: sealedUnder(kid, `c${i}`) }) },
          });
          expect(await store.commit(input)).toEqual({ ok: true });
          inputs.push(input);
        }
        return inputs;
      }

      it('meta: get is undefined until claimed; claim stores once and returns the stored value ever after', async () => {
        expect(await store.meta.get('check')).toBeUndefined();
        expect(await store.meta.claim('check', 'first')).toBe('first');
        expect(await store.meta.claim('check', 'second')).toBe('first');
        expect(await store.meta.claim('check', 'first')).toBe('first');
        expect(await store.meta.get('check')).toBe('first');
        expect(await store.meta.get('other')).toBeUndefined();
      });

      it('meta: concurrent claims of one name all get the one value that was stored', async () => {
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => store.meta.claim('race', `value-${i}`)));
        expect(new Set(answers).size).toBe(1);
        expect(answers[0]).toMatch(/^value-\d$/);
        expect(await store.meta.get('race')).toBe(answers[0]);
      });

      if (options.durable) it('meta: a claimed value survives close and reopen', async () => {
        await store.meta.claim('kept', 'value');
        await store.close();
        store = await harness.open();
        expect(await store.meta.claim('kept', 'other')).toBe('value');
      });

      it('lists every sealed value of each table once, in pages after a cursor, leaving out a key id when asked', async () => {
        const inputs = await commitUnder(['kek-a', 'kek-b'], 7);
        const expected: Record<'vault' | 'tokens' | 'idempotency', SealedValue[]> = {
          vault: inputs.map((c) => ({ key: [c.issuance!.vault.tokenReferenceId], sealed: c.issuance!.vault.sealedCard })),
          tokens: inputs.map((c) => ({ key: [c.issuance!.token.tokenReferenceId], sealed: c.issuance!.token.sealedTokenNumber! })),
          idempotency: inputs.map((c) => ({ key: [c.idempotency.scope, c.idempotency.key], sealed: c.idempotency.sealedResponse })),
        };
        const bySealed = (values: SealedValue[]) => [...values].sort((x, y) => (x.sealed < y.sealed ? -1 : x.sealed > y.sealed ? 1 : 0));
        for (const table of ['vault', 'tokens', 'idempotency'] as const) {
          const seen: SealedValue[] = [];
          let after: string[] | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(10);
            const page = await store.sealed.list(table, { after, limit: 3 });
            expect(page.length).toBeLessThanOrEqual(3);
            seen.push(...page);
            if (page.length < 3) break;
            after = page[page.length - 1]!.key;
          }
          expect(bySealed(seen)).toEqual(bySealed(expected[table]));
          // The pages follow one order: the same as one page of everything.
          expect(seen).toEqual(await store.sealed.list(table, { limit: 100 }));
          const notA = await store.sealed.list(table, { limit: 100, excludeKeyId: 'kek-a' });
          expect(bySealed(notA)).toEqual(bySealed(expected[table].filter((v) => v.sealed.includes('.kek-b.'))));
        }
        await expect(store.sealed.list('vault', { limit: 0 })).rejects.toThrow(RangeError);
        await expect(store.sealed.list('idempotency', { limit: 1, after: ['only-one-column'] })).rejects.toThrow(RangeError);
      });

      it('replaces a sealed value only if the row still holds the value read (compare-and-set), writing nothing else', async () => {
        const [a, b, c] = await commitUnder(['kek-a'], 3);
        const [tokenA, tokenB, tokenC] = [a!, b!, c!].map((x) => x.issuance!.token);
        const written = await store.sealed.replace('tokens', [
          { key: [tokenA!.tokenReferenceId], from: tokenA!.sealedTokenNumber!, to: sealedUnder('kek-b', 'new-a') },
          { key: [tokenB!.tokenReferenceId], from: 'v1.kek-a.stale', to: sealedUnder('kek-b', 'new-b') },
          { key: ['tok_nope'], from: 'x', to: sealedUnder('kek-b', 'new-x') },
        ]);
        expect(written).toBe(1);
        expect(await store.tokens.find(tokenA!.tokenReferenceId)).toEqual({ ...tokenA, sealedTokenNumber: sealedUnder('kek-b', 'new-a') });
        expect(await store.tokens.find(tokenB!.tokenReferenceId)).toEqual(tokenB);
        expect(await store.tokens.find(tokenC!.tokenReferenceId)).toEqual(tokenC);
        expect(await store.tokens.count()).toBe(3);

        const vaultA = a!.issuance!.vault;
        expect(await store.sealed.replace('vault', [{ key: [vaultA.tokenReferenceId], from: vaultA.sealedCard, to: sealedUnder('kek-b', 'card') }])).toBe(1);
        expect(await store.vault.find(vaultA.tokenReferenceId)).toEqual({ ...vaultA, sealedCard: sealedUnder('kek-b', 'card') });
        // The same update again: the row no longer holds its `from`.
        expect(await store.sealed.replace('vault', [{ key: [vaultA.tokenReferenceId], from: vaultA.sealedCard, to: sealedUnder('kek-c', 'card') }])).toBe(0);
        expect((await store.vault.find(vaultA.tokenReferenceId))!.sealedCard).toBe(sealedUnder('kek-b', 'card'));

        const idem = b!.idempotency;
        expect(await store.sealed.replace('idempotency', [{ key: [idem.scope, idem.key], from: idem.sealedResponse, to: sealedUnder('kek-b', 'answer') }])).toBe(1);
        expect(await store.idempotency.find(idem.scope, idem.key)).toEqual({ ...stored(idem), sealedResponse: sealedUnder('kek-b', 'answer') });
        expect(await store.sealed.replace('idempotency', [{ key: ['other-scope', idem.key], from: sealedUnder('kek-b', 'answer'), to: 'v1.x.y' }])).toBe(0);
        expect(await store.sealed.replace('tokens', [])).toBe(0);
      });

      it('counts values per key id and lists the key ids in use (values in no known format under "")', async () => {
        for (const table of ['vault', 'tokens', 'idempotency'] as const) {
          expect(await store.sealed.countByKeyId(table)).toEqual({});
          expect(await store.sealed.keyIds(table)).toEqual([]);
        }
        await commitUnder(['kek-a', 'kek-b', 'kek-a'], 6);
        await store.commit(makeCommit()); // the fixtures' plain "sealed-…" values
        for (const table of ['vault', 'tokens', 'idempotency'] as const) {
          expect(await store.sealed.countByKeyId(table)).toEqual({ 'kek-a': 4, 'kek-b': 2, '': 1 });
          expect((await store.sealed.keyIds(table)).sort()).toEqual(['', 'kek-a', 'kek-b']);
        }
        const [one] = await store.sealed.list('tokens', { limit: 1, excludeKeyId: '' });
        await store.sealed.replace('tokens', [{ key: one!.key, from: one!.sealed, to: sealedUnder('kek-c', 'moved') }]);
        expect(await store.sealed.countByKeyId('tokens')).toEqual({ ...(one!.sealed.includes('.kek-a.') ? { 'kek-a': 3, 'kek-b': 2 } : { 'kek-a': 4, 'kek-b': 1 }), 'kek-c': 1, '': 1 });
        expect((await store.sealed.keyIds('tokens')).sort()).toEqual(['', 'kek-a', 'kek-b', 'kek-c']);
      });
    });

    describe('verification (step-up activation)', () => {
      const METHODS = [
        { id: 'sms', type: 'otp_sms' as const, destination: '•••• 0199' },
        { id: 'app', type: 'issuer_app' as const },
      ];
      /** A pending token with its vault entry, committed; pending until `until`. */
      const pendingToken = async (until = 500_000, overrides: Partial<TokenRecord> = {}) => {
        const token = makeToken({ status: 'pending_activation', verification: { methods: METHODS, expiresAt: until }, ...overrides });
        expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
        return token;
      };
      const issue = (tokenReferenceId: string, overrides: Partial<Parameters<TokenServiceStore['verification']['issue']>[0]> = {}) =>
        store.verification.issue({ tokenReferenceId, methodId: 'sms', codeHash: 'hash-1', codeExpiresAt: 70_000, resendAfter: 40_000, nowMs: 10_000, maxAttempts: 3, ...overrides });
      const attempt = (tokenReferenceId: string, maxAttempts = 3) => store.verification.attempt({ tokenReferenceId, methodId: 'sms', maxAttempts });

      it('stores the verification methods and the pending time with the token', async () => {
        const token = await pendingToken(600_000);
        const found = await store.tokens.find(token.tokenReferenceId);
        expect(found?.verification).toEqual({ methods: METHODS, expiresAt: 600_000 });
        expect(found?.status).toBe('pending_activation');
        const active = makeToken();
        await store.commit(makeCommit({ issuance: { token: active, vault: makeVault(active) } }));
        expect((await store.tokens.find(active.tokenReferenceId))?.verification).toBeUndefined();
      });

      it('issues a code only for a pending, unexpired token; a resend waits for the cooldown and keeps the attempts', async () => {
        const token = await pendingToken();
        expect(await issue(token.tokenReferenceId)).toEqual({ ok: true, attempts: 0 });
        expect(await store.verification.find(token.tokenReferenceId, 'sms')).toEqual({
          tokenReferenceId: token.tokenReferenceId, methodId: 'sms', codeHash: 'hash-1', codeExpiresAt: 70_000, resendAfter: 40_000, attempts: 0,
        });
        expect(await issue(token.tokenReferenceId, { codeHash: 'hash-2', nowMs: 39_999 })).toEqual({ ok: false, reason: 'cooldown', resendAfter: 40_000 });
        expect((await store.verification.find(token.tokenReferenceId, 'sms'))?.codeHash).toBe('hash-1');
        expect(await attempt(token.tokenReferenceId)).toMatchObject({ ok: true, attempts: 1 });
        expect(await issue(token.tokenReferenceId, { codeHash: 'hash-2', nowMs: 40_000, resendAfter: 70_000, codeExpiresAt: 100_000 })).toEqual({ ok: true, attempts: 1 });
        expect(await store.verification.find(token.tokenReferenceId, 'sms')).toMatchObject({ codeHash: 'hash-2', codeExpiresAt: 100_000, resendAfter: 70_000, attempts: 1 });
        // other methods and tokens are counted apart
        expect(await issue(token.tokenReferenceId, { methodId: 'app' })).toEqual({ ok: true, attempts: 0 });
        expect(await store.verification.count()).toBe(2);
        // not pending: unknown, active, or past its pending time
        expect(await issue('tok_none')).toEqual({ ok: false, reason: 'not_pending' });
        const active = makeToken();
        await store.commit(makeCommit({ issuance: { token: active, vault: makeVault(active) } }));
        expect(await issue(active.tokenReferenceId)).toEqual({ ok: false, reason: 'not_pending' });
        const late = await pendingToken(20_000);
        expect(await issue(late.tokenReferenceId, { nowMs: 20_000 })).toEqual({ ok: false, reason: 'not_pending' });
        expect(await issue(late.tokenReferenceId, { nowMs: 19_999 })).toEqual({ ok: true, attempts: 0 });
      });

      it('counts attempts up to the maximum, then refuses them and any new code (locked)', async () => {
        const token = await pendingToken();
        expect(await attempt(token.tokenReferenceId)).toEqual({ ok: false, reason: 'no_code' });
        await issue(token.tokenReferenceId);
        for (const n of [1, 2, 3]) expect(await attempt(token.tokenReferenceId)).toEqual({ ok: true, attempts: n, codeHash: 'hash-1', codeExpiresAt: 70_000 });
        expect(await attempt(token.tokenReferenceId)).toEqual({ ok: false, reason: 'locked' });
        expect((await store.verification.find(token.tokenReferenceId, 'sms'))?.attempts).toBe(3);
        expect(await issue(token.tokenReferenceId, { nowMs: 60_000 })).toEqual({ ok: false, reason: 'locked' });
      });

      it('counts exactly the maximum of many concurrent attempts', async () => {
        const token = await pendingToken();
        await issue(token.tokenReferenceId);
        const outcomes = await Promise.all(Array.from({ length: 40 }, () => attempt(token.tokenReferenceId, 5)));
        expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
        expect(outcomes.filter((o) => !o.ok && o.reason === 'locked')).toHaveLength(35);
        expect(outcomes.flatMap((o) => (o.ok ? [o.attempts] : [])).sort()).toEqual([1, 2, 3, 4, 5]);
        expect((await store.verification.find(token.tokenReferenceId, 'sms'))?.attempts).toBe(5);
      });

      it('activates with the current code once: the token becomes active, its codes go, the answer is stored', async () => {
        const token = await pendingToken();
        await issue(token.tokenReferenceId);
        await issue(token.tokenReferenceId, { methodId: 'app' });
        const begin = makeBegin({ nowMs: 10_000 });
        expect(await store.idempotency.begin(begin)).toEqual({ state: 'started' });
        const idempotency = makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId, status: 200 });
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 12_000, code: { methodId: 'sms', codeHash: 'other' }, idempotency })).toEqual({ ok: false, conflict: 'code' });
        expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('pending_activation');
        expect(await store.idempotency.find(begin.scope, begin.key)).toBeUndefined();
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 12_000, code: { methodId: 'sms', codeHash: 'hash-1' }, idempotency })).toEqual({ ok: true });
        const active = await store.tokens.find(token.tokenReferenceId);
        expect(active).toMatchObject({ status: 'active', updatedAt: 12_000, verification: { methods: METHODS, expiresAt: 500_000 } });
        expect(await store.verification.find(token.tokenReferenceId, 'sms')).toBeUndefined();
        expect(await store.verification.count()).toBe(0);
        expect(await store.idempotency.find(begin.scope, begin.key)).toEqual(stored(idempotency));
        // a second activation: not pending (and the stored answer is not overwritten)
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 13_000, code: { methodId: 'sms', codeHash: 'hash-1' } })).toEqual({ ok: false, conflict: 'not_pending' });
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 13_000, idempotency })).toEqual({ ok: false, conflict: 'idempotency' });
        expect(await attempt(token.tokenReferenceId)).toEqual({ ok: false, reason: 'no_code' });
      });

      it('lets exactly one of concurrent activations win', async () => {
        const token = await pendingToken();
        await issue(token.tokenReferenceId);
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 12_000 + i, code: i % 2 === 0 ? { methodId: 'sms', codeHash: 'hash-1' } : undefined }),
          ),
        );
        expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      });

      it('activates without a code (the issuer), only while pending and unexpired', async () => {
        const token = await pendingToken(50_000);
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 50_000 })).toEqual({ ok: false, conflict: 'not_pending' });
        expect(await store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: 49_999 })).toEqual({ ok: true });
        expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('active');
        expect(await store.verification.activate({ tokenReferenceId: 'tok_none', nowMs: 1 })).toEqual({ ok: false, conflict: 'not_pending' });
      });

      it('deletes pending tokens past their pending time (one or all): status deleted, sealed card and codes gone', async () => {
        const early = await pendingToken(20_000);
        const late = await pendingToken(90_000);
        const other = await pendingToken(20_000);
        await issue(early.tokenReferenceId, { nowMs: 1_000 });
        expect(await store.verification.expirePending({ nowMs: 19_999 })).toBe(0);
        expect(await store.verification.expirePending({ nowMs: 20_000, tokenReferenceId: early.tokenReferenceId })).toBe(1);
        expect(await store.tokens.find(early.tokenReferenceId)).toMatchObject({ status: 'deleted', updatedAt: 20_000 });
        expect(await store.vault.find(early.tokenReferenceId)).toBeUndefined();
        expect(await store.verification.find(early.tokenReferenceId, 'sms')).toBeUndefined();
        expect((await store.tokens.find(other.tokenReferenceId))?.status).toBe('pending_activation');
        expect(await store.verification.expirePending({ nowMs: 30_000 })).toBe(1);
        expect((await store.tokens.find(other.tokenReferenceId))?.status).toBe('deleted');
        expect((await store.tokens.find(late.tokenReferenceId))?.status).toBe('pending_activation');
        // the card is free again for a new token of the same wallet account and device
        const again = makeToken();
        expect(await store.commit(makeCommit({ issuance: { token: again, vault: makeVault(again, { panFingerprint: `fp-${early.tokenReferenceId}` }) } }))).toEqual({ ok: true });
        // an activated token is never deleted by its old pending time
        const activated = await pendingToken(40_000);
        await store.verification.activate({ tokenReferenceId: activated.tokenReferenceId, nowMs: 1_000 });
        expect(await store.verification.expirePending({ nowMs: 100_000 })).toBe(1);
        expect((await store.tokens.find(activated.tokenReferenceId))?.status).toBe('active');
      });

      it('drops the codes of a pending token that a new token replaces', async () => {
        const token = await pendingToken();
        await issue(token.tokenReferenceId);
        const next = makeToken();
        const outcome = await store.commit(makeCommit({ issuance: { token: next, vault: makeVault(next, { panFingerprint: `fp-${token.tokenReferenceId}` }), replaces: token.tokenReferenceId } }));
        expect(outcome).toEqual({ ok: true });
        expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('deleted');
        expect(await store.verification.find(token.tokenReferenceId, 'sms')).toBeUndefined();
      });
    });

    if (options.durable) it('keeps pending entries and claimed keys after close and reopen', async () => {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      await store.replay.claim({ key: 'claimed', expiresAt: 9_000 });
      await store.close();
      store = await harness.open();
      expect(await store.idempotency.begin({ ...begin, leaseId: 'after-restart' })).toEqual({ state: 'in_flight' });
      expect(await store.replay.claim({ key: 'claimed', expiresAt: 9_000 })).toBe(false);
    });
  });
}
