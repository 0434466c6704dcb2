// The issuer API client's lifecycle and feed calls at their edges (a scripted
// fetch): routes, bodies, idempotency keys, retries, strict answers. The calls
// run over real HTTP against the real token service in
// examples/demo/test/lifecycle.test.ts.
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode, ProvisioningError, generateSigningKey, manualClock } from '@pushprov/protocol';
import { type IssuerApiFetch, createIssuerTokenServiceClient } from '../src/server.js';

const PAN = '4111111111111111';
const EVENT_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const CHANGE = { tokenReferenceId: 'tok_1', status: 'suspended', previousStatus: 'active', changedAt: 1_800_000_000 };
const EVENT = {
  eventId: EVENT_ID,
  type: 'token.suspended',
  tokenReferenceId: 'tok_1',
  issuerId: 'bank-a',
  walletProviderId: 'wallet-co',
  status: 'suspended',
  previousStatus: 'active',
  reason: 'suspected_fraud',
  actor: 'issuer',
  occurredAt: 1_800_000_000,
  sequence: 2,
};
type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'network-error';
const ok = (body: unknown, status = 200): Reply => ({ status, body, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: ErrorCode): Reply => ({
  status,
  body: { type: `https://pushprov.dev/problems/${code}`, title: 'Problem', status, code, retryable: ERROR_CATALOG[code].retryable },
  headers: { 'content-type': 'application/problem+json' },
});

async function setup(replies: Reply[]) {
  const key = await generateSigningKey({ kid: 'bank-a-1' });
  const seen: Array<{ url: string; method: string; headers: Record<string, string>; body?: string }> = [];
  const fetch: IssuerApiFetch = async (url, init) => {
    seen.push({ url, method: init.method, headers: init.headers, ...(init.body !== undefined && { body: init.body }) });
    const reply = replies.shift() ?? 'network-error';
    if (reply === 'network-error') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
  };
  const client = createIssuerTokenServiceClient({
    issuerId: 'bank-a',
    signingKey: key.privateJwk,
    tokenService: { baseUrl: 'https://tokens.example', audience: 'ts' },
    fetch,
    clock: manualClock(Date.UTC(2026, 11, 2)),
    sleep: async () => {},
  });
  return { client, seen };
}

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

describe('createIssuerTokenServiceClient: lifecycle', () => {
  it('changes one token with the contract body, one idempotency key across retries', async () => {
    const { client, seen } = await setup(['network-error', problem(503, 'store_unavailable'), ok(CHANGE)]);
    expect(await client.changeTokenLifecycle('tok_1', { action: 'suspend', reason: 'suspected_fraud' })).toEqual(CHANGE);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(Array(3).fill('POST https://tokens.example/v1/issuer/tokens/tok_1/lifecycle'));
    expect(JSON.parse(seen[0]!.body!)).toEqual({ action: 'suspend', reason: 'suspected_fraud' });
    expect(new Set(seen.map((s) => s.headers['idempotency-key'])).size).toBe(1);
    expect(new Set(seen.map((s) => s.headers.authorization)).size).toBe(3);
  });

  it('does not retry a state conflict, and refuses an answer for another token', async () => {
    const { client, seen } = await setup([problem(409, 'token_state_conflict'), ok({ ...CHANGE, tokenReferenceId: 'tok_2' })]);
    const conflict = await failure(client.changeTokenLifecycle('tok_1', { action: 'resume', reason: 'other' }));
    expect(conflict.status).toBe(409);
    expect(seen).toHaveLength(1);
    expect((await failure(client.changeTokenLifecycle('tok_1', { action: 'suspend', reason: 'other' }))).code).toBe('invalid_message');
  });

  it('searches and changes a card by account id or card number; a bad card number never leaves, and no error holds it', async () => {
    const summary = { tokenReferenceId: 'tok_1', status: 'active', walletProviderId: 'wallet-co', tokenLast4: '0003', panLast4: '1111', createdAt: 1, updatedAt: 2 };
    const { client, seen } = await setup([
      ok({ tokens: [summary] }),
      ok({ tokens: [{ tokenReferenceId: 'tok_1', status: 'suspended', previousStatus: 'active' }] }),
      ok({ tokens: [{ tokenReferenceId: 'tok_1', status: 'active', previousStatus: 'active' }] }),
    ]);
    expect(await client.searchTokens({ pan: PAN })).toEqual({ tokens: [summary] });
    expect(await client.changeCardLifecycle({ accountId: 'acct-1' }, { action: 'suspend', reason: 'card_lost' })).toMatchObject({ tokens: [{ status: 'suspended' }] });
    expect(await client.reportCardEvent({ accountId: 'acct-1', event: 'reissued', expiry: { month: 9, year: 2031 } })).toMatchObject({ tokens: [{ status: 'active' }] });
    expect(seen.map((s) => `${s.method} ${s.url.replace('https://tokens.example', '')} ${s.body}`)).toEqual([
      `POST /v1/issuer/tokens/search {"pan":"${PAN}"}`,
      'POST /v1/issuer/cards/lifecycle {"accountId":"acct-1","action":"suspend","reason":"card_lost"}',
      'POST /v1/issuer/cards/events {"accountId":"acct-1","event":"reissued","expiry":{"month":9,"year":2031}}',
    ]);
    const bad = await failure(client.searchTokens({ pan: '4111111111111112' }));
    expect(bad.code).toBe('card_invalid');
    expect(JSON.stringify(bad.toJSON())).not.toContain('411111111111111');
    expect((await failure(client.changeCardLifecycle({ accountId: 'acct-1' }, { action: 'suspend', reason: 'activation_expired' as 'other' }))).code).toBe('invalid_message');
    expect(seen).toHaveLength(3);
  });

  it('reads history and the event feed, and redelivers', async () => {
    const history = { tokenReferenceId: 'tok_1', status: 'suspended', history: [{ from: null, to: 'active', actor: 'issuer', reason: 'other', at: 1 }] };
    const { client, seen } = await setup([ok(history), ok({ events: [EVENT], cursor: '17' }), ok({ eventId: EVENT_ID, state: 'pending' }, 202), ok({ events: [{ ...EVENT, pan: PAN }], cursor: '18' })]);
    expect(await client.getTokenHistory('tok_1')).toEqual(history);
    expect(await client.listEvents({ after: '12', limit: 50 })).toEqual({ events: [EVENT], cursor: '17' });
    expect(await client.redeliverEvent(EVENT_ID)).toEqual({ eventId: EVENT_ID, state: 'pending' });
    expect((await failure(client.listEvents())).code).toBe('invalid_message');
    expect(seen.map((s) => `${s.method} ${s.url.replace('https://tokens.example', '')}`)).toEqual([
      'GET /v1/issuer/tokens/tok_1/history',
      'GET /v1/events?after=12&limit=50',
      `POST /v1/events/${EVENT_ID}/redeliver`,
      'GET /v1/events',
    ]);
    expect(seen[2]!.headers['idempotency-key']).toMatch(/^idem_/);
    expect((await failure(client.listEvents({ limit: 0 }))).code).toBe('invalid_message');
    expect((await failure(client.listEvents({ after: '../x' }))).code).toBe('invalid_message');
    expect((await failure(client.redeliverEvent('short'))).code).toBe('invalid_message');
    expect(seen).toHaveLength(4);
  });
});
