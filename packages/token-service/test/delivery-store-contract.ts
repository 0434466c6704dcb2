// The deliveries part of the store contract (spec section 14): claims with a
// lease, order per (receiver, token), outcomes only by the lease owner,
// dead-lettering, redelivery and the counts. The outbox rows are written by
// real commits and transitions. Run against every store by
// delivery-store.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenServiceStore } from '../src/index.js';
import type { TokenRecord } from '../src/store/types.js';
import { type StoreHarness, makeCommit, makeToken, makeVault } from './store-contract.js';

export function describeDeliveryContract(name: string, createHarness: () => StoreHarness): void {
  describe(`DeliveryStore contract: ${name}`, () => {
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

    /** A token issued at `createdAt` (its token.created: sequence 1, due then). */
    const issued = async (createdAt = 1_000): Promise<TokenRecord> => {
      const token = makeToken({ issuerId: 'bank-a', walletProviderId: 'wallet-co', createdAt, updatedAt: createdAt });
      expect(await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
      return token;
    };
    const suspend = async (token: TokenRecord, nowMs: number) =>
      expect(await store.lifecycle.transition({ tokenReferenceId: token.tokenReferenceId, from: ['active'], to: 'suspended', type: 'token.suspended', actor: 'issuer', reason: 'card_lost', nowMs })).toMatchObject({ ok: true });
    const claim = (owner: string, nowMs: number, limit = 100, leaseMs = 1_000) => store.deliveries.claim({ owner, nowMs, leaseMs, limit });
    const keyOf = (d: { receiver: string; sequence: number }) => `${d.receiver}#${d.sequence}`;

    it('claims due deliveries with a lease and their event; another owner gets them only once the lease ran out', async () => {
      const token = await issued(1_000);
      expect(await claim('a', 999)).toEqual([]);
      const first = await claim('a', 1_000);
      expect(first.map(keyOf).sort()).toEqual(['issuer:bank-a#1', 'wallet:wallet-co#1']);
      for (const d of first) {
        expect(d).toMatchObject({ tokenReferenceId: token.tokenReferenceId, state: 'pending', attempts: 1, leaseOwner: 'a', leaseUntil: 2_000, firstAttemptAt: 1_000 });
        expect(d.event).toMatchObject({ eventId: d.eventId, type: 'token.created', tokenReferenceId: token.tokenReferenceId, sequence: 1, status: 'active' });
      }
      expect(await claim('b', 1_999)).toEqual([]);
      const taken = await claim('b', 2_000, 1);
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatchObject({ attempts: 2, leaseOwner: 'b', leaseUntil: 3_000, firstAttemptAt: 1_000 });
      // a's lease on that one is gone: its outcome no longer counts; b's does.
      expect(await store.deliveries.complete({ eventId: taken[0]!.eventId, receiver: taken[0]!.receiver, owner: 'a', nowMs: 2_001 })).toBe(false);
      expect(await store.deliveries.complete({ eventId: taken[0]!.eventId, receiver: taken[0]!.receiver, owner: 'b', nowMs: 2_001 })).toBe(true);
      expect(await store.deliveries.find(taken[0]!.eventId, taken[0]!.receiver)).toMatchObject({ state: 'delivered', deliveredAt: 2_001, leaseOwner: null, leaseUntil: null });
    });

    it('keeps the order per receiver and token: a later sequence waits until the earlier one is delivered or dead', async () => {
      const token = await issued(1_000);
      await suspend(token, 1_100);
      const first = await claim('a', 1_200);
      expect(first.map(keyOf).sort()).toEqual(['issuer:bank-a#1', 'wallet:wallet-co#1']);
      const bank1 = first.find((d) => d.receiver === 'issuer:bank-a')!;
      const wallet1 = first.find((d) => d.receiver === 'wallet:wallet-co')!;
      expect(await store.deliveries.complete({ eventId: bank1.eventId, receiver: bank1.receiver, owner: 'a', nowMs: 1_300 })).toBe(true);
      // The bank's sequence 2 is free now; the wallet's waits for its sequence 1 (still leased).
      expect((await claim('b', 1_300)).map(keyOf)).toEqual(['issuer:bank-a#2']);
      // The wallet's sequence 1 is dead-lettered: its sequence 2 may go.
      expect(await store.deliveries.fail({ eventId: wallet1.eventId, receiver: wallet1.receiver, owner: 'a', nextAttemptAt: null, error: 'no endpoint' })).toBe(true);
      expect(await store.deliveries.find(wallet1.eventId, wallet1.receiver)).toMatchObject({ state: 'dead', lastError: 'no endpoint', leaseOwner: null });
      const next = await claim('b', 1_400);
      expect(next.map(keyOf)).toEqual(['wallet:wallet-co#2']);
      expect(next[0]!.event).toMatchObject({ type: 'token.suspended', sequence: 2, previousStatus: 'active', status: 'suspended' });
    });

    it('retries at the time a failure names, and only the lease owner records it', async () => {
      await issued(1_000);
      const [d] = await claim('a', 1_000, 1);
      expect(await store.deliveries.fail({ eventId: d!.eventId, receiver: d!.receiver, owner: 'b', nextAttemptAt: 1_500, error: 'http 500' })).toBe(false);
      expect(await store.deliveries.fail({ eventId: d!.eventId, receiver: d!.receiver, owner: 'a', nextAttemptAt: 1_500, error: 'http 500' })).toBe(true);
      const again = await store.deliveries.fail({ eventId: d!.eventId, receiver: d!.receiver, owner: 'a', nextAttemptAt: 1_600, error: 'x' });
      expect(again).toBe(false);
      expect(await store.deliveries.find(d!.eventId, d!.receiver)).toMatchObject({ state: 'pending', nextAttemptAt: 1_500, lastError: 'http 500', attempts: 1, leaseOwner: null });
      // The other receiver's delivery is still due; this one only from 1 500.
      expect((await claim('b', 1_499)).map((x) => x.eventId === d!.eventId && x.receiver === d!.receiver)).toEqual([false]);
      const retried = (await claim('c', 1_500)).find((x) => x.receiver === d!.receiver)!;
      expect(retried).toMatchObject({ attempts: 2, firstAttemptAt: 1_000, leaseOwner: 'c' });
      // A long error is cut to 200 characters.
      expect(await store.deliveries.fail({ eventId: retried.eventId, receiver: retried.receiver, owner: 'c', nextAttemptAt: 2_000, error: 'e'.repeat(500) })).toBe(true);
      expect((await store.deliveries.find(retried.eventId, retried.receiver))!.lastError).toHaveLength(200);
    });

    it('redelivers a dead or delivered delivery (due now, a new retry period), leaves a pending one, and knows no other', async () => {
      await issued(1_000);
      const [dead, done] = await claim('a', 1_000);
      await store.deliveries.fail({ eventId: dead!.eventId, receiver: dead!.receiver, owner: 'a', nextAttemptAt: null, error: 'timeout' });
      await store.deliveries.complete({ eventId: done!.eventId, receiver: done!.receiver, owner: 'a', nowMs: 1_100 });
      expect(await store.deliveries.stats(5_000)).toEqual({ pending: 0, dead: 1, oldestDueAt: null });
      expect(await store.deliveries.redeliver({ eventId: dead!.eventId, receiver: dead!.receiver, nowMs: 5_000 })).toEqual({ found: true, previousState: 'dead' });
      expect(await store.deliveries.find(dead!.eventId, dead!.receiver)).toMatchObject({ state: 'pending', attempts: 0, firstAttemptAt: null, nextAttemptAt: 5_000, lastError: 'timeout' });
      expect(await store.deliveries.redeliver({ eventId: dead!.eventId, receiver: dead!.receiver, nowMs: 6_000 })).toEqual({ found: true, previousState: 'pending' });
      expect((await store.deliveries.find(dead!.eventId, dead!.receiver))!.nextAttemptAt).toBe(5_000);
      expect(await store.deliveries.redeliver({ eventId: done!.eventId, receiver: done!.receiver, nowMs: 6_000 })).toEqual({ found: true, previousState: 'delivered' });
      expect(await store.deliveries.find(done!.eventId, done!.receiver)).toMatchObject({ state: 'pending', deliveredAt: null, nextAttemptAt: 6_000 });
      expect(await store.deliveries.redeliver({ eventId: dead!.eventId, receiver: 'issuer:someone-else', nowMs: 6_000 })).toEqual({ found: false });
      expect(await store.deliveries.stats(7_000)).toEqual({ pending: 2, dead: 0, oldestDueAt: 5_000 });
      const [first] = await claim('b', 7_000, 1);
      expect(first).toMatchObject({ eventId: dead!.eventId, receiver: dead!.receiver, attempts: 1, firstAttemptAt: 7_000 });
    });
  });
}
