// The pipeline in process (memory store): hooks, time boundaries on an
// injected clock, determinism, and what reaches the vault.
import { describe, expect, it } from 'vitest';
import {
  type Card,
  type RandomSource,
  canonicalJson,
  createNonce,
  createSessionId,
  fingerprintPan,
  isProvisioningError,
  parseSubmission,
  sha256Hex,
} from '@pushprov/protocol';
import {
  type DecisionContext,
  type TokenServiceOptions,
  type TokenServiceStore,
  createMemoryStore,
  createTokenService,
  createVaultCipher,
} from '../src/index.js';
import { CARD, NOW, PAN, WALLET, buildSubmission, createFixture, seededRandom } from './helpers.js';

const fxPromise = createFixture();

async function setup(options: TokenServiceOptions = {}, store: TokenServiceStore = createMemoryStore()) {
  const fx = await fxPromise;
  fx.clock.set(NOW);
  const service = createTokenService({ ...fx.config, limits: { hookTimeoutMs: 50 } }, store, { clock: fx.clock, configOptions: { env: {} }, ...options });
  return { fx, service, store };
}

async function counts(store: TokenServiceStore) {
  return [await store.tokens.count(), await store.vault.count(), await store.replay.count(), await store.idempotency.count()];
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(isProvisioningError(error)).toBe(true);
    return (error as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('createTokenService (in process)', () => {
  it('issues the same ids and numbers for the same injected clock and randomness', async () => {
    const fx = await fxPromise;
    const { submission } = await buildSubmission(fx);
    const run = async (random: RandomSource) => {
      const service = createTokenService(fx.config, createMemoryStore(), { clock: fx.clock, random, configOptions: { env: {} } });
      return (await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' })).body;
    };
    const a = await run(seededRandom('det'));
    const b = await run(seededRandom('det'));
    expect(a).toEqual(b);
    expect((await run(seededRandom('other'))).tokenReferenceId).not.toBe(a.tokenReferenceId);
  });

  it('stores the PAN only sealed, and the token number only sealed and hashed', async () => {
    const { fx, service, store } = await setup();
    const { submission } = await buildSubmission(fx);
    const { body } = await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' });
    const token = (await store.tokens.find(body.tokenReferenceId))!;
    const vault = (await store.vault.find(body.tokenReferenceId))!;
    const idem = (await store.idempotency.find(WALLET, 'k'))!;
    const everything = JSON.stringify({ token, vault, idem });
    expect(everything).not.toContain(PAN);
    expect(everything).not.toContain(body.accessData!.tokenNumber);
    const keys = fx.keySet.vault!;
    const cipher = createVaultCipher({
      keys: keys.keks.map((k) => ({ id: k.id, key: new Uint8Array(Buffer.from(k.key, 'base64url')) })),
      fingerprintKey: new Uint8Array(Buffer.from(keys.fingerprintKey!, 'base64url')),
    });
    expect(JSON.parse(cipher.open(vault.sealedCard, 'card', body.tokenReferenceId))).toEqual({ pan: PAN, expiry: CARD.expiry });
    expect(cipher.open(token.sealedTokenNumber!, 'token-number', body.tokenReferenceId)).toBe(body.accessData!.tokenNumber);
    expect(vault.panFingerprint).toBe(cipher.fingerprintPan(PAN));
    // The stored formats are the protocol's own (hashed natively here; records written before must still match).
    expect(vault.panFingerprint).toBe(fingerprintPan(PAN, new Uint8Array(Buffer.from(keys.fingerprintKey!, 'base64url'))));
    expect(idem.requestHash).toBe(sha256Hex(canonicalJson(parseSubmission(submission))));
    // A vault entry cannot be moved to another token.
    expect(() => cipher.open(vault.sealedCard, 'card', 'tok_other')).toThrow();
  });

  it('gives the decision hook the last four digits and a fingerprint, never the PAN', async () => {
    const contexts: DecisionContext[] = [];
    const { fx, service } = await setup({
      decide: (context) => {
        contexts.push(context);
        return 'approve';
      },
    });
    const { submission } = await buildSubmission(fx);
    await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' });
    expect(contexts).toHaveLength(1);
    const { signal, ...rest } = contexts[0]!;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(rest).toMatchObject({ issuerId: 'bank-a', walletProviderId: WALLET, panLast4: '1111', cardExpiry: CARD.expiry, sessionId: submission.sessionId });
    expect(JSON.stringify(rest)).not.toContain(PAN);
  });

  it('refuses with declined when the hook declines (burning the jti: the decision sticks), and with timeout when it does not answer (storing nothing)', async () => {
    for (const [decide, code, burnt] of [
      [() => 'decline' as const, 'declined', 1],
      [() => new Promise<never>(() => undefined), 'timeout', 0],
      [() => 'maybe' as never, 'internal_error', 0],
      [
        () => {
          throw new Error(`database down for ${PAN}`);
        },
        'internal_error',
        0,
      ],
    ] as const) {
      const { fx, service, store } = await setup({ decide });
      const { submission } = await buildSubmission(fx);
      let error: unknown;
      await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' }).catch((e: unknown) => (error = e));
      expect((error as { code: string }).code).toBe(code);
      expect(String((error as Error).message)).not.toContain(PAN);
      expect(await counts(store)).toEqual([0, 0, burnt, 0]);
      // The same key again: a declined request is refused as used; a retryable failure runs again.
      const again = await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' }).catch((e: unknown) => e as { code: string });
      expect((again as { code?: string }).code).toBe(burnt ? 'replayed' : code);
    }
  });

  it('resolves account references through the resolver hook, then checks the card like an inline one', async () => {
    const cards: Record<string, Card | undefined> = {
      'acct-1': { pan: PAN, expiry: { month: 5, year: 2031 } },
      'acct-out-of-range': { pan: '5555555555554444', expiry: { month: 5, year: 2031 } },
      'acct-bad': { pan: '1234', expiry: { month: 5, year: 2031 } } as Card,
    };
    const seen: string[] = [];
    const { fx, service, store } = await setup({
      resolveAccount: ({ accountRef, issuerId }) => {
        seen.push(`${issuerId}/${accountRef}`);
        return cards[accountRef];
      },
    });
    const ok = await service.submit({ submission: (await buildSubmission(fx, { accountRef: 'acct-1' })).submission, walletProviderId: WALLET, idempotencyKey: 'a' });
    expect(ok.status).toBe(201);
    expect(ok.body.accessData?.panLast4).toBe('1111');
    expect(seen).toEqual(['bank-a/acct-1']);
    const before = await counts(store);
    for (const [ref, code] of [
      ['acct-unknown', 'card_invalid'],
      ['acct-out-of-range', 'card_not_eligible'],
      ['acct-bad', 'card_invalid'],
    ] as const) {
      const { submission } = await buildSubmission(fx, { accountRef: ref });
      expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: ref }))).toBe(code);
      // Card refusals stick: the same request is used up.
      expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: `${ref}-again` }))).toBe('replayed');
    }
    // Only the three jtis were written; no token, vault entry or idempotency record.
    expect(await counts(store)).toEqual([before[0], before[1], before[2]! + 3, before[3]]);
  });

  it('accepts a request until exp + skew, refuses it from that second on, and the purged replay record cannot revive it', async () => {
    const { fx, service, store } = await setup();
    const { submission, claims } = await buildSubmission(fx, { lifetimeSeconds: 300 });
    const edge = (claims.exp + 60) * 1000;
    fx.clock.set(edge - 1000);
    expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'first' })).status).toBe(201);
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'second' }))).toBe('replayed');
    fx.clock.set(edge);
    expect(await store.purgeExpired(edge)).toMatchObject({ replay: 1 });
    expect(await store.replay.count()).toBe(0);
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'third' }))).toBe('expired');
    expect(await store.tokens.count()).toBe(1);
  });

  it('refuses a request whose issuance is cancelled before commit, storing nothing', async () => {
    const { fx, service, store } = await setup();
    const { submission } = await buildSubmission(fx);
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k', signal: AbortSignal.abort() }))).toBe('aborted');
    expect(await counts(store)).toEqual([0, 0, 0, 0]);
    // Not burnt: the same request goes through afterwards.
    expect((await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k' })).status).toBe(201);
  });

  it('refuses unknown wallet providers and malformed idempotency keys in process too', async () => {
    const { fx, service } = await setup();
    const { submission } = await buildSubmission(fx);
    expect(await codeOf(service.submit({ submission, walletProviderId: 'wallet-nope', idempotencyKey: 'k' }))).toBe('unauthenticated');
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: ' padded' }))).toBe('invalid_idempotency_key');
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'é' }))).toBe('invalid_idempotency_key');
  });

  it('replaces the card\'s token on a wallet account and device once it has expired, then answers the new one', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW); // 2026-11-28
    const store = createMemoryStore();
    const service = createTokenService({ ...fx.config, lifetimes: { tokenMonths: 1 } }, store, { clock: fx.clock, configOptions: { env: {} } });
    const first = await buildSubmission(fx);
    // A new request (session, nonce, jti) for the same card, wallet account and device, at the clock's time.
    const again = async (idempotencyKey: string) => {
      const { submission } = await buildSubmission(fx, { identifiers: { ...first.identifiers, sessionId: createSessionId(), nonce: createNonce() } });
      return service.submit({ submission, walletProviderId: WALLET, idempotencyKey });
    };
    const issued = await service.submit({ submission: first.submission, walletProviderId: WALLET, idempotencyKey: 'a' });
    expect(issued.status).toBe(201);
    expect(issued.body.accessData?.tokenExpiry).toEqual({ month: 12, year: 2026 });

    // Valid through its expiry month: the same token.
    fx.clock.set(Date.UTC(2026, 11, 31, 23, 59, 0));
    const same = await again('b');
    expect([same.status, same.body.tokenReferenceId]).toEqual([200, issued.body.tokenReferenceId]);

    // From the next month on, a new token replaces it; the expired one is deleted and its sealed card removed.
    fx.clock.set(Date.UTC(2027, 0, 1, 0, 1, 0));
    const renewed = await again('c');
    expect(renewed.status).toBe(201);
    expect(renewed.body.tokenReferenceId).not.toBe(issued.body.tokenReferenceId);
    expect(renewed.body.accessData?.tokenNumber).not.toBe(issued.body.accessData?.tokenNumber);
    expect(renewed.body.accessData?.tokenExpiry).toEqual({ month: 2, year: 2027 });
    expect((await service.getTokenStatus({ tokenReferenceId: issued.body.tokenReferenceId, walletProviderId: WALLET })).status).toBe('deleted');
    expect(await store.vault.find(issued.body.tokenReferenceId)).toBeUndefined();
    expect(await store.vault.count()).toBe(1);

    const next = await again('d');
    expect([next.status, next.body.tokenReferenceId]).toEqual([200, renewed.body.tokenReferenceId]);
  });

  it('draws another token number when the first is taken', async () => {
    const fx = await fxPromise;
    fx.clock.set(NOW);
    // A random source whose first token-number draw (13 bytes for 9 digits) is always the same.
    const colliding = (seed: string): RandomSource => {
      const base = seededRandom(seed);
      let first = true;
      return {
        bytes(length) {
          if (length === 13 && first) {
            first = false;
            return new Uint8Array(13).fill(3);
          }
          return base.bytes(length);
        },
      };
    };
    const store = createMemoryStore();
    const first = createTokenService(fx.config, store, { clock: fx.clock, random: colliding('one'), configOptions: { env: {} } });
    const a = await first.submit({ submission: (await buildSubmission(fx)).submission, walletProviderId: WALLET, idempotencyKey: 'a' });
    expect(a.body.accessData!.tokenNumber.slice(0, 15)).toBe('489537333333333');
    const second = createTokenService(fx.config, store, { clock: fx.clock, random: colliding('two'), configOptions: { env: {} } });
    const b = await second.submit({ submission: (await buildSubmission(fx)).submission, walletProviderId: WALLET, idempotencyKey: 'b' });
    expect(b.status).toBe(201);
    expect(b.body.accessData!.tokenNumber).not.toBe(a.body.accessData!.tokenNumber);
    expect(await store.tokens.count()).toBe(2);
  });

  it('purges idempotency records after their lifetime', async () => {
    const { fx, service, store } = await setup();
    await service.submit({ submission: (await buildSubmission(fx)).submission, walletProviderId: WALLET, idempotencyKey: 'k' });
    fx.clock.advance(86_400_000 - 1);
    expect(await service.purgeExpired()).toEqual({ replay: 1, idempotency: 0, limits: 0, pendingTokens: 0 });
    fx.clock.advance(1);
    expect(await service.purgeExpired()).toEqual({ replay: 0, idempotency: 1, limits: 0, pendingTokens: 0 });
    expect(await store.tokens.count()).toBe(1);
  });
});
