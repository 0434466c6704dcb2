// The token query part of the store contract (TokenRecordStore.findLive,
// spec section 7.14): only the live tokens of one wallet provider, wallet
// account and issuer for the asked account ids, in order, with whether a
// verification code was sent. Run against every store by
// token-query-store.test.ts and token-query-store-postgres.test.ts.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenServiceStore } from '../src/index.js';
import type { LiveTokenQuery, TokenRecord } from '../src/store/types.js';
import { type StoreHarness, makeCommit, makeToken, makeVault } from './store-contract.js';

/** 15 June 2027, 12:00 UTC. */
const NOW = Date.UTC(2027, 5, 15, 12);
const METHODS = [{ id: 'sms', type: 'otp_sms' as const, destination: '•••• 0199' }];

export function describeTokenQueryContract(name: string, createHarness: () => StoreHarness): void {
  describe(`TokenRecordStore.findLive contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: TokenServiceStore;
    /** A wallet account of this test alone (the PostgreSQL harness keeps one database for the file). */
    let account: string;

    beforeEach(async () => {
      harness = createHarness();
      store = await harness.open();
      account = `user-${randomUUID()}`;
    });
    afterEach(async () => {
      await store.close();
      await harness.cleanup?.();
    });

    const issued = async (overrides: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const token = makeToken({ walletAccountId: account, accountId: 'acc-1', tokenExpiry: { month: 12, year: 2030 }, createdAt: 1_000, ...overrides });
      expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
      return token;
    };
    const query = (overrides: Partial<LiveTokenQuery> = {}): LiveTokenQuery => ({
      walletProviderId: 'wallet-co',
      walletAccountId: account,
      issuerId: 'bank-a',
      accountIds: ['acc-1', 'acc-2'],
      nowMs: NOW,
      limit: 128,
      ...overrides,
    });
    const refs = async (q: LiveTokenQuery = query()) => (await store.tokens.findLive(q)).map((t) => t.tokenReferenceId);

    it('answers a live token with its account, device, status and expiry only', async () => {
      const token = await issued({ deviceId: 'device-9', status: 'suspended' });
      expect(await store.tokens.findLive(query())).toEqual([
        { tokenReferenceId: token.tokenReferenceId, accountId: 'acc-1', deviceId: 'device-9', status: 'suspended', tokenExpiry: { month: 12, year: 2030 }, createdAt: 1_000, activationStarted: false },
      ]);
    });

    it('never answers another wallet provider\'s, wallet account\'s or issuer\'s token, a token of another account id, or one without an account id', async () => {
      const mine = await issued();
      await issued({ walletProviderId: 'wallet-two' });
      await issued({ walletAccountId: `${account}-other` });
      await issued({ issuerId: 'bank-b' });
      await issued({ accountId: 'acc-3' });
      await issued({ accountId: undefined });
      expect(await refs()).toEqual([mine.tokenReferenceId]);
      expect(await refs(query({ walletProviderId: 'wallet-two', issuerId: 'bank-b' }))).toEqual([]);
      expect(await refs(query({ accountIds: ['acc-3'] }))).toHaveLength(1);
    });

    it('leaves out deleted tokens, tokens past their expiry month, and pending tokens past their pending time', async () => {
      const deleted = await issued();
      expect(await store.lifecycle.transition({ tokenReferenceId: deleted.tokenReferenceId, from: ['active'], to: 'deleted', type: 'token.deleted', actor: 'issuer', reason: 'card_closed', nowMs: 2_000 })).toMatchObject({ ok: true });
      // Valid through June 2027 (now), expired since May 2027 ended.
      const lastMonth = await issued({ tokenExpiry: { month: 6, year: 2027 } });
      await issued({ tokenExpiry: { month: 5, year: 2027 } });
      await issued({ tokenExpiry: { month: 12, year: 2026 } });
      const pendingLive = await issued({ status: 'pending_activation', verification: { methods: METHODS, expiresAt: NOW + 1 } });
      await issued({ status: 'pending_activation', verification: { methods: METHODS, expiresAt: NOW } });
      expect((await refs()).sort()).toEqual([lastMonth.tokenReferenceId, pendingLive.tokenReferenceId].sort());
      // The first instant of July 2027: the June token is expired too.
      expect(await refs(query({ nowMs: Date.UTC(2027, 6, 1) }))).toEqual([]);
    });

    it('says activationStarted for a pending token a code was sent for, and no longer once it is active', async () => {
      const waiting = await issued({ status: 'pending_activation', verification: { methods: METHODS, expiresAt: NOW + 600_000 }, accountId: 'acc-1' });
      const started = await issued({ status: 'pending_activation', verification: { methods: METHODS, expiresAt: NOW + 600_000 }, accountId: 'acc-2' });
      expect(await store.verification.issue({ tokenReferenceId: started.tokenReferenceId, methodId: 'sms', codeHash: 'h', codeExpiresAt: NOW + 300_000, resendAfter: NOW + 30_000, nowMs: NOW, maxAttempts: 3 })).toEqual({ ok: true, attempts: 0 });
      expect((await store.tokens.findLive(query())).map((t) => [t.tokenReferenceId, t.status, t.activationStarted])).toEqual([
        [waiting.tokenReferenceId, 'pending_activation', false],
        [started.tokenReferenceId, 'pending_activation', true],
      ]);
      expect(await store.verification.activate({ tokenReferenceId: started.tokenReferenceId, nowMs: NOW })).toEqual({ ok: true });
      expect((await store.tokens.findLive(query({ accountIds: ['acc-2'] }))).map((t) => [t.status, t.activationStarted])).toEqual([['active', false]]);
    });

    it('orders by account id in code unit order, then oldest first, and stops at the limit', async () => {
      const b2 = await issued({ accountId: 'b', createdAt: 3_000 });
      const upper = await issued({ accountId: 'B', createdAt: 9_000 });
      const b1 = await issued({ accountId: 'b', createdAt: 2_000 });
      const a = await issued({ accountId: 'a-1', createdAt: 5_000 });
      const ids = ['b', 'a-1', 'B'];
      expect(await refs(query({ accountIds: ids }))).toEqual([upper.tokenReferenceId, a.tokenReferenceId, b1.tokenReferenceId, b2.tokenReferenceId]);
      expect(await refs(query({ accountIds: ids, limit: 2 }))).toEqual([upper.tokenReferenceId, a.tokenReferenceId]);
    });

    it('refuses a query without account ids, with more than 16, or with a limit out of range', async () => {
      await expect(store.tokens.findLive(query({ accountIds: [] }))).rejects.toThrow();
      await expect(store.tokens.findLive(query({ accountIds: Array.from({ length: 17 }, (_, i) => `a${i}`) }))).rejects.toThrow();
      await expect(store.tokens.findLive(query({ limit: 0 }))).rejects.toThrow();
      await expect(store.tokens.findLive(query({ walletProviderId: '' }))).rejects.toThrow();
    });
  });
}
