// The HTTP client's queryTokens at its edges (a scripted fetch): the route,
// the body checked before it leaves, the correlation id, retries, and a
// strict answer. It runs over real HTTP against the real token service in
// examples/demo/test/token-query-sdk.test.ts.
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode, ProvisioningError, type TokenQuery } from '@pushprov/protocol';
import { type TokenServiceFetch, createHttpTokenServiceClient } from '../src/http.js';

type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'network-error';
const ok = (body: unknown): Reply => ({ status: 200, body, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: ErrorCode): Reply => ({
  status,
  body: { type: `https://pushprov.dev/problems/${code}`, title: 'Problem', status, code, retryable: ERROR_CATALOG[code].retryable },
  headers: { 'content-type': 'application/problem+json' },
});

function setup(replies: Reply[]) {
  const seen: Array<{ url: string; method: string; headers: Record<string, string>; body: string | undefined }> = [];
  const fetch: TokenServiceFetch = async (url, init) => {
    seen.push({ url, method: init.method, headers: init.headers, body: init.body });
    const reply = replies.shift() ?? 'network-error';
    if (reply === 'network-error') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
  };
  const client = createHttpTokenServiceClient({ baseUrl: 'https://tokens.example', auth: { apiKey: 'key-1' }, fetch, sleep: async () => {} });
  return { client, seen };
}

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

const QUERY: TokenQuery = { type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2'] };
const entry = { tokenReferenceId: 'tok_1', accountId: 'acc-1', deviceId: 'device-7', status: 'pending_activation', activationStarted: true };

describe('createHttpTokenServiceClient: queryTokens', () => {
  it('posts the query, with the correlation id and one idempotency key across its retries, and returns the answer', async () => {
    const { client, seen } = setup(['network-error', problem(503, 'store_unavailable'), ok({ tokens: [entry] })]);
    expect(await client.queryTokens(QUERY, { correlationId: 'status-query-7' })).toEqual({ tokens: [entry] });
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual(Array(3).fill(`POST https://tokens.example/v1/tokens/query ${JSON.stringify(QUERY)}`));
    expect(seen[0]!.headers).toMatchObject({ 'Content-Type': 'application/json', Authorization: 'Bearer key-1', 'X-Correlation-Id': 'status-query-7' });
    expect(new Set(seen.map((s) => s.headers['Idempotency-Key'])).size).toBe(1);
  });

  it('refuses a query with too many, no or duplicate account ids before sending anything', async () => {
    const { client, seen } = setup([]);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `acc-${i}`);
    for (const accountIds of [ids(17), [], ['acc-1', 'acc-1']]) {
      expect((await failure(client.queryTokens({ ...QUERY, accountIds }))).code, JSON.stringify(accountIds)).toBe('invalid_message');
    }
    expect((await failure(client.queryTokens({ ...QUERY, walletProviderId: 'wallet-two' } as TokenQuery))).code).toBe('invalid_message');
    expect(seen).toHaveLength(0);
  });

  it('refuses an answer that is not a token query response or names an account not asked about, and passes on problems with the correlation id', async () => {
    const { client } = setup([
      ok({ tokens: [{ ...entry, tokenLast4: '1234' }] }),
      ok({ tokens: [{ ...entry, status: 'deleted' }] }),
      ok({ tokens: [{ ...entry, accountId: 'acc-9' }] }),
      problem(401, 'unauthenticated'),
      problem(400, 'invalid_message'),
    ]);
    for (let i = 0; i < 3; i++) expect((await failure(client.queryTokens(QUERY))).code).toBe('invalid_message');
    const unauthenticated = await failure(client.queryTokens(QUERY, { correlationId: 'cor-1' }));
    expect([unauthenticated.code, unauthenticated.status, unauthenticated.correlationId]).toEqual(['unauthenticated', 401, 'cor-1']);
    expect((await failure(client.queryTokens(QUERY))).code).toBe('invalid_message');
  });

  it('stops when the signal aborts', async () => {
    const { client } = setup([ok({ tokens: [] })]);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(client.queryTokens(QUERY, { signal: controller.signal }))).code).toBe('aborted');
  });
});
