// The lifecycle part of the store contract (spec section 12): transitions,
// history, the outbox rows every change writes in its own transaction, and
// the feed. Run against every store by lifecycle-store.test.ts and
// lifecycle-store-postgres.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenServiceStore } from '../src/index.js';
import type { LifecycleTransitionInput, TokenRecord } from '../src/store/types.js';
import { type StoreHarness, makeCommit, makeIdempotency, makeToken, makeVault, stored } from './store-contract.js';

const suspend = (token: TokenRecord, overrides: Partial<LifecycleTransitionInput> = {}): LifecycleTransitionInput => ({
  tokenReferenceId: token.tokenReferenceId,
  from: ['active'],
  to: 'suspended',
  type: 'token.suspended',
  actor: 'issuer',
  reason: 'suspected_fraud',
  nowMs: 5_000,
  ...overrides,
});

export function describeLifecycleContract(name: string, createHarness: () => StoreHarness): void {
  describe(`LifecycleStore contract: ${name}`, () => {
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

    /** A committed token with its vault entry. */
    const issued = async (overrides: Partial<TokenRecord> = {}): Promise<TokenRecord> => {
      const token = makeToken(overrides);
      expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
      return token;
    };

    it('records an issuance: history from null, token.created with sequence 1, one delivery per party', async () => {
      const token = await issued({ issuerId: 'bank-a', walletProviderId: 'wallet-co' });
      expect(await store.lifecycle.history(token.tokenReferenceId)).toEqual([
        { tokenReferenceId: token.tokenReferenceId, from: null, to: 'active', actor: 'wallet_provider', reason: 'customer_request', at: token.createdAt },
      ]);
      const [event, ...more] = await store.events.ofToken(token.tokenReferenceId);
      expect(more).toEqual([]);
      expect(event!.type).toBe('token.created');
      expect(event!.sequence).toBe(1);
      expect(event!.eventId).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(event!.body).toEqual({
        eventId: event!.eventId,
        type: 'token.created',
        tokenReferenceId: token.tokenReferenceId,
        issuerId: 'bank-a',
        walletProviderId: 'wallet-co',
        status: 'active',
        reason: 'customer_request',
        actor: 'wallet_provider',
        occurredAt: Math.floor(token.createdAt / 1000),
        sequence: 1,
      });
      const deliveries = await store.events.deliveriesOf(event!.eventId);
      expect(deliveries.map((d) => d.receiver)).toEqual(['issuer:bank-a', 'wallet:wallet-co']);
      for (const d of deliveries) {
        expect(d).toMatchObject({ state: 'pending', attempts: 0, sequence: 1, tokenReferenceId: token.tokenReferenceId, nextAttemptAt: token.createdAt, leaseOwner: null, deliveredAt: null });
      }
    });

    it('suspends, resumes and deletes with one event and two deliveries each, sequence increasing per token', async () => {
      const token = await issued();
      const idempotency = makeIdempotency({ scope: 'issuer:bank-a', status: 200 });
      const suspended = await store.lifecycle.transition(suspend(token, { idempotency }));
      expect(suspended).toMatchObject({ ok: true, previousStatus: 'active', status: 'suspended', sequence: 2 });
      expect(await store.idempotency.find(idempotency.scope, idempotency.key)).toEqual(stored(idempotency));
      expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('suspended');
      expect(await store.lifecycle.transition(suspend(token, { from: ['suspended'], to: 'active', type: 'token.resumed', reason: 'identity_verified', nowMs: 6_000 }))).toMatchObject({
        ok: true,
        previousStatus: 'suspended',
        status: 'active',
        sequence: 3,
      });
      const deleted = await store.lifecycle.transition(
        suspend(token, { from: ['pending_activation', 'active', 'suspended'], to: 'deleted', type: 'token.deleted', actor: 'wallet_provider', reason: 'customer_request', nowMs: 7_000 }),
      );
      expect(deleted).toMatchObject({ ok: true, previousStatus: 'active', status: 'deleted', sequence: 4 });
      const events = await store.events.ofToken(token.tokenReferenceId);
      expect(events.map((e) => [e.type, e.sequence, e.body.previousStatus, e.body.status])).toEqual([
        ['token.created', 1, undefined, 'active'],
        ['token.suspended', 2, 'active', 'suspended'],
        ['token.resumed', 3, 'suspended', 'active'],
        ['token.deleted', 4, 'active', 'deleted'],
      ]);
      for (const e of events) expect((await store.events.deliveriesOf(e.eventId)).length).toBe(2);
      expect((await store.lifecycle.history(token.tokenReferenceId)).map((h) => [h.from, h.to, h.actor, h.reason, h.at])).toEqual([
        [null, 'active', 'wallet_provider', 'customer_request', 1_000],
        ['active', 'suspended', 'issuer', 'suspected_fraud', 5_000],
        ['suspended', 'active', 'issuer', 'identity_verified', 6_000],
        ['active', 'deleted', 'wallet_provider', 'customer_request', 7_000],
      ]);
    });

    it('drops a deleted token\'s number and vault entry, keeps its row', async () => {
      const token = await issued();
      await store.lifecycle.transition(suspend(token, { from: ['active'], to: 'deleted', type: 'token.deleted' }));
      const row = await store.tokens.find(token.tokenReferenceId);
      expect(row).toMatchObject({ status: 'deleted', sealedTokenNumber: null, tokenLast4: token.tokenLast4, updatedAt: 5_000 });
      expect(await store.vault.find(token.tokenReferenceId)).toBeUndefined();
      // Nothing sealed is left to rotate for it.
      expect((await store.sealed.list('tokens', { limit: 100 })).map((v) => v.key[0])).not.toContain(token.tokenReferenceId);
    });

    it('refuses a change the status does not allow, writing nothing', async () => {
      const token = await issued();
      const before = await store.events.count();
      const idempotency = makeIdempotency();
      expect(await store.lifecycle.transition(suspend(token, { from: ['suspended'], to: 'active', type: 'token.resumed', idempotency }))).toEqual({
        ok: false,
        conflict: 'state',
        status: 'active',
      });
      expect(await store.events.count()).toBe(before);
      expect(await store.idempotency.find(idempotency.scope, idempotency.key)).toBeUndefined();
      expect(await store.lifecycle.history(token.tokenReferenceId)).toHaveLength(1);
      expect(await store.lifecycle.transition(suspend(makeToken()))).toEqual({ ok: false, conflict: 'not_found' });
    });

    it('refuses a change whose idempotency key is answered or held by another lease, writing nothing', async () => {
      const token = await issued();
      const first = makeIdempotency();
      await store.commit({ idempotency: first, replay: [] });
      const before = await store.events.count();
      expect(await store.lifecycle.transition(suspend(token, { idempotency: makeIdempotency({ key: first.key }) }))).toEqual({ ok: false, conflict: 'idempotency' });
      expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('active');
      expect(await store.events.count()).toBe(before);
    });

    it('lets exactly one of two racing changes of a token win', async () => {
      const token = await issued();
      const outcomes = await Promise.all([
        store.lifecycle.transition(suspend(token)),
        store.lifecycle.transition(suspend(token, { to: 'deleted', type: 'token.deleted', from: ['active'] })),
      ]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok && o.conflict === 'state')).toHaveLength(1);
      expect(await store.events.ofToken(token.tokenReferenceId)).toHaveLength(2);
    });

    it('updates a card (reissued): the sealed card only if unchanged, the status kept, token.updated recorded', async () => {
      const token = await issued();
      const vault = (await store.vault.find(token.tokenReferenceId))!;
      const update = { from: ['active', 'suspended'] as const, type: 'token.updated' as const, actor: 'issuer' as const, reason: 'card_reissued' as const, nowMs: 8_000 };
      expect(await store.lifecycle.transition({ tokenReferenceId: token.tokenReferenceId, ...update, from: [...update.from], sealedCard: { from: 'not-it', to: 'new' } })).toEqual({
        ok: false,
        conflict: 'card',
      });
      expect((await store.vault.find(token.tokenReferenceId))?.sealedCard).toBe(vault.sealedCard);
      expect(await store.lifecycle.transition({ tokenReferenceId: token.tokenReferenceId, ...update, from: [...update.from], sealedCard: { from: vault.sealedCard, to: 'resealed' } })).toMatchObject({
        ok: true,
        previousStatus: 'active',
        status: 'active',
      });
      expect((await store.vault.find(token.tokenReferenceId))?.sealedCard).toBe('resealed');
      const events = await store.events.ofToken(token.tokenReferenceId);
      expect(events.at(-1)?.body).toMatchObject({ type: 'token.updated', status: 'active', previousStatus: 'active', reason: 'card_reissued' });
    });

    it('records an activation (cardholder with a code, issuer without) and a pending time that ran out', async () => {
      const pending = (expiresAt: number) => issued({ status: 'pending_activation', verification: { methods: [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }], expiresAt } });
      const byIssuer = await pending(50_000);
      expect(await store.verification.activate({ tokenReferenceId: byIssuer.tokenReferenceId, nowMs: 2_000 })).toEqual({ ok: true });
      const byCode = await pending(50_000);
      await store.verification.issue({ tokenReferenceId: byCode.tokenReferenceId, methodId: 'sms', codeHash: 'h', codeExpiresAt: 9_000, resendAfter: 0, nowMs: 1_000, maxAttempts: 3 });
      expect(await store.verification.activate({ tokenReferenceId: byCode.tokenReferenceId, nowMs: 2_000, code: { methodId: 'sms', codeHash: 'h' } })).toEqual({ ok: true });
      const expiring = await pending(3_000);
      expect(await store.verification.expirePending({ nowMs: 4_000 })).toBe(1);
      const last = async (t: TokenRecord) => (await store.lifecycle.history(t.tokenReferenceId)).at(-1);
      expect(await last(byIssuer)).toMatchObject({ from: 'pending_activation', to: 'active', actor: 'issuer', reason: 'identity_verified' });
      expect(await last(byCode)).toMatchObject({ from: 'pending_activation', to: 'active', actor: 'cardholder', reason: 'identity_verified' });
      expect(await last(expiring)).toMatchObject({ from: 'pending_activation', to: 'deleted', actor: 'token_service', reason: 'activation_expired', at: 4_000 });
      expect((await store.tokens.find(expiring.tokenReferenceId))?.sealedTokenNumber).toBeNull();
      const expired = (await store.events.ofToken(expiring.tokenReferenceId)).at(-1)!;
      expect(expired.body).toMatchObject({ type: 'token.deleted', sequence: 2, reason: 'activation_expired', actor: 'token_service' });
      expect(await store.events.deliveriesOf(expired.eventId)).toHaveLength(2);
    });

    it('records a token replaced at issuance as deleted by the token service', async () => {
      const old = await issued();
      const next = makeToken();
      expect(await store.commit(makeCommit({ issuance: { token: next, vault: makeVault(next, { panFingerprint: `fp-${old.tokenReferenceId}` }), replaces: old.tokenReferenceId } }))).toEqual({ ok: true });
      expect((await store.tokens.find(old.tokenReferenceId))?.sealedTokenNumber).toBeNull();
      expect((await store.lifecycle.history(old.tokenReferenceId)).at(-1)).toMatchObject({ from: 'active', to: 'deleted', actor: 'token_service', reason: 'other' });
      expect((await store.events.ofToken(next.tokenReferenceId)).map((e) => e.type)).toEqual(['token.created']);
    });

    it('writes nothing of the outbox for a commit refused by a conflict', async () => {
      const first = makeCommit();
      await store.commit(first);
      const before = await store.events.count();
      const token = makeToken({ tokenNumberHash: first.issuance!.token.tokenNumberHash });
      expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: false, conflict: 'token_number' });
      expect(await store.events.count()).toBe(before);
      expect(await store.lifecycle.history(token.tokenReferenceId)).toEqual([]);
    });

    it('feeds each party its own events in outbox order, after a cursor', async () => {
      const a = await issued({ issuerId: 'bank-a', walletProviderId: 'wallet-co' });
      const b = await issued({ issuerId: 'bank-b', walletProviderId: 'wallet-co' });
      await store.lifecycle.transition(suspend(a));
      const issuerA = await store.events.feed({ party: 'issuer:bank-a', after: 0, limit: 100 });
      expect(issuerA.map((e) => [e.tokenReferenceId, e.type])).toEqual([
        [a.tokenReferenceId, 'token.created'],
        [a.tokenReferenceId, 'token.suspended'],
      ]);
      expect((await store.events.feed({ party: 'issuer:bank-b', after: 0, limit: 100 })).map((e) => e.tokenReferenceId)).toEqual([b.tokenReferenceId]);
      const wallet = await store.events.feed({ party: 'wallet:wallet-co', after: 0, limit: 100 });
      expect(wallet).toHaveLength(3);
      expect(wallet.map((e) => e.seq)).toEqual([...wallet.map((e) => e.seq)].sort((x, y) => x - y));
      const page = await store.events.feed({ party: 'wallet:wallet-co', after: wallet[0]!.seq, limit: 1 });
      expect(page.map((e) => e.eventId)).toEqual([wallet[1]!.eventId]);
      expect(await store.events.feed({ party: 'wallet:other', after: 0, limit: 10 })).toEqual([]);
      await expect(store.events.feed({ party: 'nobody', after: 0, limit: 10 })).rejects.toThrow(RangeError);
    });

    it('finds an issuer\'s tokens of a card by fingerprint, never another issuer\'s', async () => {
      const mine = await issued({ issuerId: 'bank-a' });
      await issued({ issuerId: 'bank-b' });
      const fp = `fp-${mine.tokenReferenceId}`;
      expect((await store.lifecycle.findByCard('bank-a', fp)).map((t) => t.tokenReferenceId)).toEqual([mine.tokenReferenceId]);
      expect(await store.lifecycle.findByCard('bank-b', fp)).toEqual([]);
    });
  });
}
