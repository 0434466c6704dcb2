/**
 * The status responder (`@pushprov/wallet-sdk/status`, spec 4.22 and 4.23):
 * checked against the protocol's status-answer vectors, and over a real
 * memory channel pair with keys made here.
 */
import { readFileSync } from 'node:fs';
import {
  type StatusQuery,
  type StatusResponse,
  type TokenQuery,
  type TokenQueryEntry,
  createError,
  createMemoryChannelPair,
  createSessionId,
  generateSigningKey,
  manualClock,
  signStatusQuery,
  waitForMessage,
} from '@pushprov/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenServiceClient } from '../src/index.js';
import { createStatusResponder } from '../src/status.js';
import { START, jwksOf } from './helpers/setup.js';

interface VectorCase {
  id: string;
  kind: string;
  input: {
    query: unknown;
    now: number;
    clockSkewSeconds: number;
    maxLifetimeSeconds: number;
    trustedIssuers: Record<string, { keys: never[] }>;
    deviceId: string;
    tokens: (Omit<TokenQueryEntry, 'tokenReferenceId'> & { issuerId: string })[];
  };
  expected: { outcome: 'ok'; response: StatusResponse } | { outcome: 'error'; code: string };
}

const vectors = (
  JSON.parse(readFileSync(new URL('../../protocol/vectors/vectors.json', import.meta.url), 'utf8')) as { cases: VectorCase[] }
).cases.filter((c) => c.kind === 'status-answer');

/**
 * A token service that answers the token query as the real one does (spec
 * 4.21): the live tokens of the asked issuer and account ids only. Records
 * every query.
 */
function tokenServiceWith(tokens: (Omit<TokenQueryEntry, 'tokenReferenceId'> & { issuerId: string })[], queries: TokenQuery[] = []): Pick<TokenServiceClient, 'queryTokens'> {
  return {
    queryTokens: async (query) => {
      queries.push(query);
      return {
        tokens: tokens
          .filter((t) => t.issuerId === query.issuerId && query.accountIds.includes(t.accountId))
          .map(({ issuerId: _, ...t }, i) => ({ tokenReferenceId: `tok_${i}`, ...t })),
      };
    },
  };
}

describe('status responder: the protocol vectors', () => {
  it('has the status-answer vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(8);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_, vector) => {
    const { input, expected } = vector;
    const responder = createStatusResponder({
      identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: input.deviceId }),
      tokenService: tokenServiceWith(input.tokens),
      trustedIssuers: input.trustedIssuers,
      clock: manualClock(input.now * 1000),
      clockSkewSeconds: input.clockSkewSeconds,
      maxLifetimeSeconds: input.maxLifetimeSeconds,
    });
    if (expected.outcome === 'error') {
      await expect(responder.respond(input.query)).rejects.toMatchObject({ code: expected.code });
    } else {
      expect(await responder.respond(input.query)).toEqual(expected.response);
    }
  });
});

describe('status responder: keys made here, over a channel', () => {
  let bankA: Awaited<ReturnType<typeof generateSigningKey>>;
  let bankB: Awaited<ReturnType<typeof generateSigningKey>>;
  beforeAll(async () => {
    [bankA, bankB] = await Promise.all([generateSigningKey({ kid: 'bank-a-1' }), generateSigningKey({ kid: 'bank-b-1' })]);
  });

  const TOKENS = [
    { issuerId: 'bank-a', accountId: 'acc-1', deviceId: 'device-7', status: 'active', activationStarted: false },
    { issuerId: 'bank-a', accountId: 'acc-1', deviceId: 'watch-1', status: 'pending_activation', activationStarted: false },
    { issuerId: 'bank-a', accountId: 'acc-2', deviceId: 'device-7', status: 'suspended', activationStarted: false },
    { issuerId: 'bank-a', accountId: 'acc-2', deviceId: 'device-7', status: 'pending_activation', activationStarted: true },
    { issuerId: 'bank-a', accountId: 'acc-2', deviceId: 'watch-1', status: 'active', activationStarted: false },
  ] as const;

  const make = (overrides: { tokenService?: Pick<TokenServiceClient, 'queryTokens'>; queries?: TokenQuery[] } = {}) =>
    createStatusResponder({
      identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: 'device-7' }),
      tokenService: overrides.tokenService ?? tokenServiceWith([...TOKENS], overrides.queries),
      trustedIssuers: { 'bank-a': jwksOf(bankA), 'bank-b': jwksOf(bankB) },
      clock: manualClock(START),
    });

  const query = (fields: Partial<StatusQuery> = {}, key = bankA) => {
    const iat = Math.floor(START / 1000);
    return signStatusQuery(
      { type: 'status-query', version: 1, queryId: createSessionId(), issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2', 'acc-3'], iat, exp: iat + 300, correlationId: 'cor_status-test', ...fields },
      key.privateJwk,
    );
  };

  it('answers per account, split by device, by the precedence of accountStateOf, with the verified issuer only', async () => {
    const queries: TokenQuery[] = [];
    const q = await query();
    expect(await make({ queries }).respond(q)).toEqual({
      type: 'status-response',
      version: 1,
      queryId: q.queryId,
      issuerId: 'bank-a',
      accounts: [
        { accountId: 'acc-1', thisDevice: 'added', otherDevices: 'needs_activation' },
        // activating (a code was sent) wins over suspended on this device.
        { accountId: 'acc-2', thisDevice: 'activating', otherDevices: 'added' },
        { accountId: 'acc-3', thisDevice: 'not_added', otherDevices: 'not_added' },
      ],
      correlationId: 'cor_status-test',
    });
    expect(queries).toEqual([{ type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2', 'acc-3'] }]);
  });

  it("a query signed by bank B naming bank A's account ids learns nothing: every one not_added", async () => {
    const queries: TokenQuery[] = [];
    const q = await query({ issuerId: 'bank-b' }, bankB);
    const response = await make({ queries }).respond(q);
    expect(response.accounts?.map((a) => [a.thisDevice, a.otherDevices])).toEqual([
      ['not_added', 'not_added'],
      ['not_added', 'not_added'],
      ['not_added', 'not_added'],
    ]);
    // The token service was asked about bank B's accounts, the verified signer, never bank A's.
    expect(queries.map((x) => x.issuerId)).toEqual(['bank-b']);
  });

  it("a query claiming bank A but signed with bank B's key is refused, and nothing is looked up", async () => {
    const queries: TokenQuery[] = [];
    const forged = await query({}, bankB);
    const response = await make({ queries }).respond(forged);
    expect(response).toEqual({ type: 'status-response', version: 1, queryId: forged.queryId, issuerId: 'bank-a', errorCode: 'unknown_issuer', correlationId: 'cor_status-test' });
    // The same kid as bank A's but another key: signature_invalid.
    const sameKid = await generateSigningKey({ kid: 'bank-a-1' });
    expect((await make({ queries }).respond(await query({}, sameKid))).errorCode).toBe('signature_invalid');
    expect(queries).toEqual([]);
  });

  it('refuses an expired query, a too long one, one from the future, and an untrusted issuer', async () => {
    const iat = Math.floor(START / 1000);
    const responder = make();
    expect((await responder.respond(await query({ iat: iat - 600, exp: iat - 120 }))).errorCode).toBe('expired');
    expect((await responder.respond(await query({ exp: iat + 3600 }))).errorCode).toBe('lifetime_exceeded');
    expect((await responder.respond(await query({ iat: iat + 600, exp: iat + 800 }))).errorCode).toBe('not_yet_valid');
    const bankC = await generateSigningKey({ kid: 'bank-c-1' });
    expect((await responder.respond(await query({ issuerId: 'bank-c' }, bankC))).errorCode).toBe('unknown_issuer');
  });

  it("answers the token service's failure with its code, never not_added", async () => {
    const failing: Pick<TokenServiceClient, 'queryTokens'> = {
      queryTokens: async () => {
        throw createError('network_error', 'The token service could not be reached');
      },
    };
    const q = await query();
    expect(await make({ tokenService: failing }).respond(q)).toEqual({
      type: 'status-response',
      version: 1,
      queryId: q.queryId,
      issuerId: 'bank-a',
      errorCode: 'network_error',
      correlationId: 'cor_status-test',
    });
  });

  it('serves a channel: a signed query is answered on it; an unsigned one is refused input with no answer', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const errors: string[] = [];
    const responder = createStatusResponder({
      identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: 'device-7' }),
      tokenService: tokenServiceWith([...TOKENS]),
      trustedIssuers: { 'bank-a': jwksOf(bankA) },
      clock: manualClock(START),
      onError: (error) => errors.push(error.code),
    });
    const stop = responder.serve(wallet);
    const answers: StatusResponse[] = [];
    issuer.subscribe((m) => m.type === 'status-response' && answers.push(m));

    const { signature: _, ...unsigned } = await query();
    wallet.receiveWire(JSON.stringify(unsigned));
    const q = await query();
    const answered = waitForMessage(issuer, (m): m is StatusResponse => m.type === 'status-response' && m.queryId === q.queryId, { timeoutMs: 5_000 });
    await issuer.send(q);
    expect((await answered).accounts?.[0]).toEqual({ accountId: 'acc-1', thisDevice: 'added', otherDevices: 'needs_activation' });
    expect(answers).toHaveLength(1);
    expect(errors).toEqual(['invalid_message']);
    stop();
  });

  it('refuses a token service without queryTokens at creation', () => {
    expect(() =>
      createStatusResponder({
        identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: 'device-7' }),
        tokenService: {},
        trustedIssuers: {},
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});
