/**
 * The contract every TokenStore must keep. Run it against your implementation:
 *
 *   describeTokenStoreContract('my secure store', async () => createMySecureStore());
 */
import { describe, expect, it } from 'vitest';
import type { StoredToken, TokenStore } from '../../src/index.js';

export function sampleToken(id: string, overrides: Partial<StoredToken['accessData']> = {}): StoredToken {
  return {
    accessData: {
      tokenReferenceId: id,
      tokenNumber: '4900000000000003',
      tokenExpiry: { month: 12, year: 2030 },
      status: 'active',
      panLast4: '1111',
      issuerId: 'bank-a',
      network: 'visa',
      issuedAt: 1_795_000_000,
      ...overrides,
    },
    issuerId: 'bank-a',
    sessionId: 'AAAAAAAAAAAAAAAAAAAAAA',
    storedAt: 1_795_000_000_000,
  };
}

export function describeTokenStoreContract(name: string, create: () => TokenStore | Promise<TokenStore>): void {
  describe(`TokenStore contract: ${name}`, () => {
    it('returns what was saved, by token reference id', async () => {
      const store = await create();
      const token = sampleToken('tok_1');
      await store.save(token);
      expect(await store.get('tok_1')).toEqual(token);
    });

    it('returns undefined for an unknown id and an empty list when empty', async () => {
      const store = await create();
      expect(await store.get('tok_missing')).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it('replaces a token saved again under the same id, keeping one entry', async () => {
      const store = await create();
      await store.save(sampleToken('tok_1'));
      await store.save(sampleToken('tok_1', { status: 'pending_activation' }));
      expect((await store.get('tok_1'))?.accessData.status).toBe('pending_activation');
      expect(await store.list()).toHaveLength(1);
    });

    it('lists tokens in the order they were first stored', async () => {
      const store = await create();
      for (const id of ['tok_b', 'tok_a', 'tok_c']) await store.save(sampleToken(id));
      await store.save(sampleToken('tok_b', { status: 'pending_activation' }));
      expect((await store.list()).map((t) => t.accessData.tokenReferenceId)).toEqual(['tok_b', 'tok_a', 'tok_c']);
    });

    it('deletes, reporting whether there was a token', async () => {
      const store = await create();
      await store.save(sampleToken('tok_1'));
      expect(await store.delete('tok_1')).toBe(true);
      expect(await store.delete('tok_1')).toBe(false);
      expect(await store.get('tok_1')).toBeUndefined();
    });

    it('is not changed by mutating a saved or returned record', async () => {
      const store = await create();
      const token = sampleToken('tok_1');
      await store.save(token);
      (token.accessData as { status: string }).status = 'pending_activation';
      const read = await store.get('tok_1');
      (read!.accessData.tokenExpiry as { year: number }).year = 1999;
      (await store.list())[0]!.accessData.panLast4 = '0000';
      expect(await store.get('tok_1')).toEqual(sampleToken('tok_1'));
    });
  });
}
