// The HTTP client's lifecycle calls at their edges (a scripted fetch):
// routes, bodies, idempotency keys, retries, strict answers. The calls run over
// real HTTP against the real token service in examples/demo/test/lifecycle.test.ts.
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode, ProvisioningError } from '@pushprov/protocol';
import { type FetchLike, createHttpTokenServiceClient } from '../src/http.js';

type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'network-error';
const ok = (body: unknown): Reply => ({ status: 200, body, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: ErrorCode): Reply => ({
  status,
  body: { type: `https://pushprov.dev/problems/${code}`, title: 'Problem', status, code, retryable: ERROR_CATALOG[code].retryable },
  headers: { 'content-type': 'application/problem+json' },
});

function setup(replies: Reply[]) {
  const seen: Array<{ url: string; method: string; headers: Record<string, string>; body: string | undefined }> = [];
  const fetch: FetchLike = async (url, init) => {
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

const change = (status: string, previousStatus: string) => ({ tokenReferenceId: 'tok_1', status, previousStatus, changedAt: 1_800_000_000 });

describe('createHttpTokenServiceClient: lifecycle', () => {
  it('suspends, resumes and deletes with the contract bodies, one idempotency key across the retries of a call', async () => {
    const { client, seen } = setup(['network-error', problem(503, 'store_unavailable'), ok(change('suspended', 'active')), ok(change('active', 'suspended')), ok(change('deleted', 'active'))]);
    expect(await client.suspendToken('tok_1', { reason: 'card_lost', actor: 'cardholder' })).toEqual(change('suspended', 'active'));
    expect(await client.resumeToken('tok_1', { reason: 'other', idempotencyKey: 'found-device-1' })).toEqual(change('active', 'suspended'));
    expect(await client.deleteToken('tok_1', { reason: 'customer_request' })).toEqual(change('deleted', 'active'));
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      ...Array(3).fill('POST https://tokens.example/v1/tokens/tok_1/lifecycle {"action":"suspend","reason":"card_lost","actor":"cardholder"}'),
      'POST https://tokens.example/v1/tokens/tok_1/lifecycle {"action":"resume","reason":"other"}',
      'POST https://tokens.example/v1/tokens/tok_1/lifecycle {"action":"delete","reason":"customer_request"}',
    ]);
    const keys = seen.map((s) => s.headers['Idempotency-Key']);
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).toBe('found-device-1');
    expect(new Set(keys).size).toBe(3);
  });

  it('does not retry a state conflict or not_found, refuses bad input before sending and an answer for another token', async () => {
    const { client, seen } = setup([problem(409, 'token_state_conflict'), problem(404, 'not_found'), ok(change('suspended', 'active'))]);
    expect((await failure(client.resumeToken('tok_1', { reason: 'other' }))).code).toBe('token_state_conflict');
    expect((await failure(client.deleteToken('tok_1', { reason: 'other' }))).code).toBe('not_found');
    expect(seen).toHaveLength(2);
    expect((await failure(client.suspendToken('tok_1', { reason: 'activation_expired' as 'other' }))).code).toBe('invalid_message');
    expect((await failure(client.suspendToken('../admin', { reason: 'other' }))).code).toBe('invalid_message');
    expect(seen).toHaveLength(2);
    const other = setup([ok({ ...change('suspended', 'active'), tokenReferenceId: 'tok_2' })]);
    expect((await failure(other.client.suspendToken('tok_1', { reason: 'card_lost' }))).code).toBe('invalid_message');
  });

  it('reads the history', async () => {
    const history = {
      tokenReferenceId: 'tok_1',
      status: 'expired',
      history: [
        { from: null, to: 'active', actor: 'issuer', reason: 'other', at: 1 },
        { from: 'active', to: 'suspended', actor: 'cardholder', reason: 'card_lost', at: 2 },
      ],
    };
    const { client, seen } = setup([ok(history), ok({ ...history, extra: true })]);
    expect(await client.getTokenHistory('tok_1')).toEqual(history);
    expect(seen[0]).toMatchObject({ method: 'GET', url: 'https://tokens.example/v1/tokens/tok_1/history' });
    expect((await failure(client.getTokenHistory('tok_1'))).code).toBe('invalid_message');
  });
});
