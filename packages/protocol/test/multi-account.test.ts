// Several accounts per session, status queries and wallet-initiated provisioning (spec 4.1-4.4, 4.22-4.24):
// the boundaries of each limit, the summary and state rules, the status query signature, and room in the size limits.
import { describe, expect, it } from 'vitest';
import {
  type AccountHint,
  type Invocation,
  type LiveTokenState,
  MAX_QUERY_ACCOUNTS,
  MAX_SESSION_ACCOUNTS,
  ProvisioningError,
  type ResultStatus,
  STATUS_QUERY_JWS_TYP,
  STATUS_SUMMARY_ORDER,
  type StatusQuery,
  accountStateOf,
  appMessageLimit,
  generateSigningKey,
  invocationAccounts,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProvisioningRequestMessage,
  parseResult,
  parseStatusQuery,
  parseStatusResponse,
  signInvocation,
  signStatusQuery,
  summarizeStatus,
  verifyInvocationSignature,
  verifyStatusQuerySignature,
  zAccountState,
  zResultStatus,
} from '../src/index.js';
import { NOW, fixedId } from './helpers/fixture.js';
import { SAMPLE_JWE, sampleIdentifiersMessage, sampleInvocation, sampleMultiInvocation, sampleMultiResult, sampleStatusQuery } from './helpers/samples.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

const ids = (n: number, prefix = 'acct-') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const hint = (accountId: string): AccountHint => ({ last4: '1111', network: 'visa', accountId });
const { account: _single, ...invocationBase } = sampleInvocation();
const withAccounts = (accounts: AccountHint[]): Invocation => ({ ...invocationBase, accounts });
const longId = (c: string) => c.repeat(128);

describe('limits, at their boundary', () => {
  it('an invocation carries 1 to 8 accounts', () => {
    expect(parseInvocation(withAccounts(ids(MAX_SESSION_ACCOUNTS).map(hint))).accounts).toHaveLength(8);
    expect(parseInvocation(withAccounts([hint('only')])).accounts).toHaveLength(1);
    expect(codeOf(() => parseInvocation(withAccounts(ids(MAX_SESSION_ACCOUNTS + 1).map(hint))))).toBe('invalid_message');
    expect(codeOf(() => parseInvocation(withAccounts([])))).toBe('invalid_message');
  });

  it('identifiers pick 1 to 8 distinct accounts', () => {
    expect(parseIdentifiers({ ...sampleIdentifiersMessage(), accountIds: ids(8) }).accountIds).toHaveLength(8);
    expect(codeOf(() => parseIdentifiers({ ...sampleIdentifiersMessage(), accountIds: ids(9) }))).toBe('invalid_message');
    expect(codeOf(() => parseIdentifiers({ ...sampleIdentifiersMessage(), accountIds: ['a', 'b', 'a'] }))).toBe('invalid_message');
  });

  it('a request message names at most 8 accounts across requests and refusals', () => {
    const message = (requests: number, refusals: number) => ({
      type: 'provisioning-request',
      version: 1,
      sessionId: fixedId(1),
      requests: ids(requests, 'req-').map((accountId) => ({ accountId, encryptedRequest: SAMPLE_JWE })),
      refusals: ids(refusals, 'ref-').map((accountId) => ({ accountId, errorCode: 'not_found' })),
    });
    expect(parseProvisioningRequestMessage(message(5, 3)).requests).toHaveLength(5);
    expect(parseProvisioningRequestMessage(message(0, 8)).refusals).toHaveLength(8);
    expect(codeOf(() => parseProvisioningRequestMessage(message(5, 4)))).toBe('invalid_message');
    expect(codeOf(() => parseProvisioningRequestMessage(message(9, 0)))).toBe('invalid_message');
    expect(codeOf(() => parseProvisioningRequestMessage({ ...message(1, 0), refusals: [{ accountId: 'x', errorCode: 'teapot' }] }))).toBe('invalid_message');
  });

  it('a result lists 1 to 8 accounts', () => {
    const result = (n: number) => ({ ...sampleMultiResult(), status: 'declined', accounts: ids(n).map((accountId) => ({ accountId, status: 'declined', errorCode: 'declined' })) });
    expect(parseResult(result(8)).accounts).toHaveLength(8);
    expect(codeOf(() => parseResult(result(9)))).toBe('invalid_message');
    expect(codeOf(() => parseResult(result(0)))).toBe('invalid_message');
  });

  it('a status query names 1 to 16 distinct accounts, and its answer as many', () => {
    expect(parseStatusQuery({ ...sampleStatusQuery(), accountIds: ids(MAX_QUERY_ACCOUNTS) }).accountIds).toHaveLength(16);
    expect(codeOf(() => parseStatusQuery({ ...sampleStatusQuery(), accountIds: ids(MAX_QUERY_ACCOUNTS + 1) }))).toBe('invalid_message');
    expect(codeOf(() => parseStatusQuery({ ...sampleStatusQuery(), accountIds: [] }))).toBe('invalid_message');
    const answer = (n: number) => ({ type: 'status-response', version: 1, queryId: fixedId(4), issuerId: 'bank-a', accounts: ids(n).map((accountId) => ({ accountId, thisDevice: 'added', otherDevices: 'not_added' })) });
    expect(parseStatusResponse(answer(16)).accounts).toHaveLength(16);
    expect(codeOf(() => parseStatusResponse(answer(17)))).toBe('invalid_message');
    expect(codeOf(() => parseStatusResponse({ ...answer(1), accounts: [] }))).toBe('invalid_message');
    expect(codeOf(() => parseStatusResponse({ type: 'status-response', version: 1, queryId: fixedId(4), issuerId: 'bank-a' }))).toBe('invalid_message');
  });
});

describe('invocationAccounts', () => {
  it('gives [account] or accounts, in order', () => {
    expect(invocationAccounts(sampleInvocation())).toEqual([sampleInvocation().account]);
    expect(invocationAccounts(sampleMultiInvocation()).map((a) => a.accountId)).toEqual(['acct-1', 'acct-2']);
  });
});

describe('summarizeStatus', () => {
  it('is the first status present in the order provisioned, pending_activation, declined, failed, cancelled, for every combination', () => {
    expect(STATUS_SUMMARY_ORDER).toEqual(['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled']);
    expect([...STATUS_SUMMARY_ORDER].sort()).toEqual([...zResultStatus.options].sort());
    const all = zResultStatus.options as ResultStatus[];
    for (let mask = 1; mask < 1 << all.length; mask++) {
      const present = all.filter((_, i) => mask & (1 << i));
      const expected = STATUS_SUMMARY_ORDER.find((s) => present.includes(s));
      expect(summarizeStatus(present), present.join(',')).toBe(expected);
      expect(summarizeStatus([...present].reverse()), present.join(',')).toBe(expected);
    }
    // partial success is a success
    expect(summarizeStatus(['declined', 'provisioned'])).toBe('provisioned');
  });

  it('is what the result schema demands with accounts', () => {
    const accounts = [
      { accountId: 'a', status: 'pending_activation', tokenReferenceId: 'tok_1' },
      { accountId: 'b', status: 'failed', errorCode: 'timeout' },
    ];
    expect(parseResult({ ...sampleMultiResult(), status: 'pending_activation', accounts }).status).toBe('pending_activation');
    for (const status of zResultStatus.options.filter((s) => s !== 'pending_activation')) {
      expect(codeOf(() => parseResult({ ...sampleMultiResult(), status, accounts })), status).toBe('invalid_message');
    }
  });
});

describe('accountStateOf', () => {
  const kinds: Record<string, LiveTokenState> = {
    active: { status: 'active', activationStarted: false },
    suspended: { status: 'suspended', activationStarted: false },
    pending: { status: 'pending_activation', activationStarted: false },
    started: { status: 'pending_activation', activationStarted: true },
  };
  // the spec's precedence (4.23), highest first
  const precedence: [string, string][] = [
    ['pending', 'needs_activation'],
    ['started', 'activating'],
    ['suspended', 'suspended'],
    ['active', 'added'],
  ];

  it('is not_added without a live token', () => {
    expect(accountStateOf([])).toBe('not_added');
  });

  it('takes the highest state present, whatever the order and number of tokens', () => {
    const names = Object.keys(kinds);
    for (let a = 0; a < names.length; a++) {
      for (let b = 0; b < names.length; b++) {
        for (let c = 0; c < names.length; c++) {
          const picked = [names[a]!, names[b]!, names[c]!];
          const expected = precedence.find(([kind]) => picked.includes(kind))![1];
          expect(accountStateOf(picked.map((n) => kinds[n]!)), picked.join(',')).toBe(expected);
        }
      }
    }
  });

  it('gives only states the answer schema knows', () => {
    for (const [, state] of precedence) expect(zAccountState.options).toContain(state);
  });
});

describe('status query signatures', () => {
  const unsignedQuery = (): Omit<StatusQuery, 'signature'> => {
    const { signature: _s, ...rest } = sampleStatusQuery();
    return rest;
  };

  it('round-trip with ES256 and EdDSA, and the JWS names the status query typ', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const key = await generateSigningKey({ alg, kid: `bank-a-${alg}` });
      const query = await signStatusQuery(unsignedQuery(), key.privateJwk);
      const header = JSON.parse(Buffer.from(query.signature.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(header).toEqual({ alg, kid: `bank-a-${alg}`, typ: STATUS_QUERY_JWS_TYP });
      await expect(verifyStatusQuerySignature(parseStatusQuery(JSON.stringify(query)), { keys: [key.publicJwk] })).resolves.toBeUndefined();
    }
  });

  it('refuses a change of any signed member', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    const query = await signStatusQuery({ ...unsignedQuery(), replyTo: 'https://bank.example/status', correlationId: 'cor_q-1' }, key.privateJwk);
    const changes: Partial<StatusQuery>[] = [
      { queryId: fixedId(9) },
      { issuerId: 'bank-b' },
      { accountIds: ['acct-2', 'acct-1'] },
      { accountIds: ['acct-1'] },
      { iat: NOW - 1 },
      { exp: NOW + 301 },
      { replyTo: 'https://evil.example/status' },
      { correlationId: 'cor_q-2' },
    ];
    for (const change of changes) {
      expect(await asyncCodeOf(verifyStatusQuerySignature({ ...query, ...change }, { keys: [key.publicJwk] })), JSON.stringify(change)).toBe('signature_invalid');
    }
    const { correlationId: _c, ...dropped } = query;
    expect(await asyncCodeOf(verifyStatusQuerySignature(dropped, { keys: [key.publicJwk] }))).toBe('signature_invalid');
  });

  it('tells another issuer’s key apart: its own kid is unknown_issuer, a borrowed kid signature_invalid', async () => {
    const bankA = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    const bankB = await generateSigningKey({ alg: 'ES256', kid: 'bank-b-1' });
    const impostor = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    expect(await asyncCodeOf(verifyStatusQuerySignature(await signStatusQuery(unsignedQuery(), bankB.privateJwk), { keys: [bankA.publicJwk] }))).toBe('unknown_issuer');
    expect(await asyncCodeOf(verifyStatusQuerySignature(await signStatusQuery(unsignedQuery(), impostor.privateJwk), { keys: [bankA.publicJwk] }))).toBe('signature_invalid');
  });

  it('never passes an invocation signature for a query’s, nor a query’s for an invocation’s', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    const keys = { keys: [key.publicJwk] };
    const asInvocation = await signInvocation(unsignedQuery() as unknown as Invocation, key.privateJwk);
    expect(await asyncCodeOf(verifyStatusQuerySignature({ ...unsignedQuery(), signature: asInvocation.signature! }, keys))).toBe('jws_header_rejected');
    const asQuery = await signStatusQuery(sampleInvocation() as unknown as Omit<StatusQuery, 'signature'>, key.privateJwk);
    expect(await asyncCodeOf(verifyInvocationSignature({ ...sampleInvocation(), signature: asQuery.signature }, keys))).toBe('jws_header_rejected');
  });
});

describe('the size limits leave room for the largest realistic messages', () => {
  it('a signed invocation of 8 accounts with long names, ids and card art', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    const accounts = ids(8).map((id, i) => ({
      last4: '1111',
      network: 'mastercard' as const,
      productName: 'P'.repeat(64),
      issuerName: 'I'.repeat(64),
      cardArtUrl: `https://cdn.bank.example/${'a'.repeat(200)}/${i}.png`,
      accountId: `${id}-${'x'.repeat(120)}`,
    }));
    const invocation = await signInvocation({ ...withAccounts(accounts), sessionId: longId('s'), correlationId: longId('c'), walletNonce: longId('n') }, key.privateJwk);
    const text = JSON.stringify(invocation);
    expect(text.length).toBeLessThanOrEqual(appMessageLimit(invocation));
    expect(parseAppMessage(text)).toEqual(invocation);
  });

  it('a result of 8 accounts with the longest ids', () => {
    const result = {
      type: 'result' as const,
      version: 1 as const,
      sessionId: longId('s'),
      status: 'pending_activation' as const,
      accounts: ids(8).map((id) => ({ accountId: `${id}-${'x'.repeat(120)}`, status: 'pending_activation' as const, tokenReferenceId: `${id}-${'t'.repeat(120)}` })),
      correlationId: longId('c'),
    };
    const text = JSON.stringify(result);
    expect(text.length).toBeLessThanOrEqual(appMessageLimit(result));
    expect(parseAppMessage(text)).toEqual(result);
  });

  it('a signed status query of 16 of the longest ids, and its answer', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
    const accountIds = ids(16).map((id) => `${id}-${'x'.repeat(120)}`);
    const query = await signStatusQuery({ ...sampleStatusQuery(), queryId: longId('q'), accountIds, replyTo: `https://bank.example/${'r'.repeat(200)}`, correlationId: longId('c') }, key.privateJwk);
    expect(JSON.stringify(query).length).toBeLessThanOrEqual(appMessageLimit(query));
    expect(parseAppMessage(JSON.stringify(query))).toEqual(query);
    const answer = {
      type: 'status-response' as const,
      version: 1 as const,
      queryId: query.queryId,
      issuerId: query.issuerId,
      accounts: accountIds.map((accountId) => ({ accountId, thisDevice: 'needs_activation' as const, otherDevices: 'needs_activation' as const })),
      correlationId: longId('c'),
    };
    expect(JSON.stringify(answer).length).toBeLessThanOrEqual(appMessageLimit(answer));
    expect(parseAppMessage(JSON.stringify(answer))).toEqual(answer);
  });
});
