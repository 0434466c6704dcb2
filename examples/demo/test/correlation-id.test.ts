// One correlation id across the four parties (issue 19; docs/protocol.md
// section 4.12), end to end over real HTTP on 127.0.0.1: the issuer app's
// session (backend request source), the issuer backend (the SDK's Fetch
// handler on Node's http), the wallet (HTTP token service client) and the
// token service (SQLite). One attempt the token service declines: the same
// id in every app message, in the issuer backend's log, in the token
// service's log, in the wallet's error and in the issuer session's error.
// One attempt the issuer backend refuses, with the host's own id: the same
// there too.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { type IssuerBackendLogEvent, createIssuerBackendHandler, createProvisioningRequestBuilder } from '@pushprov/issuer-sdk/server';
import { type AppMessage, type JwkPair, type ProvisioningError, createMemoryChannelPair, generateSigningKey } from '@pushprov/protocol';
import { type LogEvent, generateKeySet } from '@pushprov/token-service';
import { type RunningTokenServer, startTokenServer } from '@pushprov/token-service/server';
import { createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ISSUER = 'bank-a';
const WALLET = 'wallet-co';
const SERVICE = 'ts-correlation';
const USER = { id: 'customer-1', token: 'session-token-customer-1' };
const ACCOUNT = { last4: '1111', network: 'visa' as const, productName: 'Everyday Debit', issuerName: 'Bank A' };

let dir: string;
let tokenService: RunningTokenServer;
let backend: Server;
let backendUrl: string;
let issuerKey: JwkPair;
let walletProviderKey: JwkPair;
const serviceLog: LogEvent[] = [];
const backendLog: IssuerBackendLogEvent[] = [];
const backendErrors: { code: string; correlationId: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushprov-correlation-'));
  const keySet = await generateKeySet();
  issuerKey = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
  walletProviderKey = await generateSigningKey({ alg: 'EdDSA', kid: 'wallet-co-1' });
  const record = (event: LogEvent) => serviceLog.push(event);
  tokenService = await startTokenServer({
    config: {
      serviceId: SERVICE,
      keys: keySet,
      // The issuer declines every card: the attempt fails at the token service (step 15).
      issuers: [{ id: ISSUER, jwks: { keys: [issuerKey.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET], decision: 'decline' }],
      walletProviders: [{ id: WALLET, jwks: { keys: [walletProviderKey.publicJwk] } }],
      tokenRange: { bin: '489537', length: 16 },
    },
    dbPath: join(dir, 'tokens.db'),
    purgeIntervalMs: 0,
    logger: { info: record, error: record },
  });
  const builder = createProvisioningRequestBuilder<{ id: string }>({
    issuerId: ISSUER,
    signingKey: issuerKey.privateJwk,
    tokenService: { audience: SERVICE, jwksUrl: `${tokenService.url}/.well-known/jwks.json` },
    walletProviders: [WALLET],
    lookupCard: (accountRef, user) =>
      user.id === USER.id && accountRef === 'acc_1' ? { pan: '4111111111111111', expiry: { month: 12, year: new Date().getUTCFullYear() + 3 } } : null,
  });
  const handler = createIssuerBackendHandler({
    builder,
    authenticate: (request) => (request.headers.get('authorization') === `Bearer ${USER.token}` ? { id: USER.id } : null),
    log: (event) => backendLog.push(event),
    onError: (error, { correlationId }) => backendErrors.push({ code: error.code, correlationId }),
  });
  backend = createAdaptorServer({ fetch: handler, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/api/push-provisioning`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (backend?.listening ? backend.close(() => resolve()) : resolve()));
  await tokenService?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One attempt: the issuer app's session and the wallet over a memory channel; every message that crossed it. */
async function attempt(options: { accountRef: string; correlationId?: string }) {
  const source = createBackendRequestSource({ url: backendUrl, headers: { authorization: `Bearer ${USER.token}` } });
  const issuer = createIssuerClient({ issuerId: ISSUER, requestSource: source, invocationSigner: source.signInvocation });
  const wallet = createWallet({
    identity: () => ({ walletProviderId: WALLET, walletAccountId: 'wallet-user-1', deviceId: 'device-1' }),
    consent: () => true,
    tokenService: createHttpTokenServiceClient({
      baseUrl: tokenService.url,
      auth: { walletProviderId: WALLET, audience: SERVICE, signingKey: walletProviderKey.privateJwk },
      maxRetries: 0,
    }),
    tokenStore: createMemoryTokenStore(),
    trustedIssuers: { [ISSUER]: { keys: [issuerKey.publicJwk] } },
  });
  const pair = createMemoryChannelPair();
  const wire: AppMessage[] = [];
  for (const end of [pair.issuer, pair.wallet]) {
    const send = end.send.bind(end);
    end.send = (message) => {
      wire.push(message);
      return send(message);
    };
  }
  const session = issuer.createSession({ account: ACCOUNT, accountRef: options.accountRef, wallet: pair.issuer, ...(options.correlationId ? { correlationId: options.correlationId } : {}) });
  const walletOutcome = wallet.handleInvocation(pair.wallet, { timeoutMs: 15_000 });
  const ended = await session.run();
  const sessionError: ProvisioningError | undefined = ended.state === 'completed' ? undefined : ended.error;
  return { session, sessionError, walletOutcome, wire, pair };
}

describe('one correlation id across the issuer app, the issuer backend, the wallet and the token service', () => {
  it('an attempt the token service declines: the session’s id in every message, both servers’ logs, the wallet’s error and the session’s error', async () => {
    const { session, sessionError, walletOutcome, wire } = await attempt({ accountRef: 'acc_1' });
    const id = session.correlationId;
    expect(id).toMatch(/^cor_[A-Za-z0-9_-]{22}$/);
    expect(session.snapshot().correlationId).toBe(id);

    // The issuer session's error.
    expect(sessionError).toMatchObject({ code: 'declined', correlationId: id });
    expect(sessionError!.toJSON().correlationId).toBe(id);
    // The wallet's outcome and error.
    const outcome = await walletOutcome;
    expect(outcome.status).toBe('declined');
    if (outcome.status !== 'declined') throw new Error('unreachable');
    expect(outcome.correlationId).toBe(id);
    expect(outcome.error).toMatchObject({ code: 'declined', correlationId: id });
    expect(outcome.error.requestId).toMatch(/^req_/);

    // Every app message: invocation, identifiers, provisioning request, result.
    expect(wire.map((m) => m.type)).toEqual(['invocation', 'identifiers', 'provisioning-request', 'result']);
    for (const message of wire) expect(message.correlationId, message.type).toBe(id);

    // The issuer backend's log: both calls of the attempt.
    const backendLines = backendLog.filter((e) => e.sessionId === session.id);
    expect(backendLines.map((e) => [e.type, e.status])).toEqual([
      ['sign-invocation', 200],
      ['build-request', 200],
    ]);
    for (const line of backendLines) expect(line.correlationId).toBe(id);

    // The token service's log: the submission, refused by the issuer's decision.
    const submissions = serviceLog.filter((e) => e.msg === 'request' && e.path === '/v1/provisioning-requests');
    expect(submissions.at(-1)).toMatchObject({ status: 403, code: 'declined', correlationId: id });
    // The JWKS read of the issuer backend is not this attempt's: another id (not the session's).
    expect(serviceLog.filter((e) => e.correlationId === id).map((e) => e.path)).toEqual(['/v1/provisioning-requests']);
  });

  it('an attempt the issuer backend refuses, with the host’s own id: in its log, its onError hook, its problem details and the session’s error', async () => {
    const before = serviceLog.length;
    const { session, sessionError, pair } = await attempt({ accountRef: 'acc_unknown', correlationId: 'support-case-1001' });
    pair.wallet.close();
    expect(session.correlationId).toBe('support-case-1001');
    expect(sessionError).toMatchObject({ correlationId: 'support-case-1001' });
    const refused = backendLog.filter((e) => e.correlationId === 'support-case-1001' && e.status >= 400);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: sessionError!.code });
    expect(backendErrors.at(-1)).toEqual({ code: sessionError!.code, correlationId: 'support-case-1001' });
    // Never reached the token service.
    expect(serviceLog.slice(before).filter((e) => e.correlationId === 'support-case-1001')).toEqual([]);

    // The backend's answer itself, as any client sees it: the id in the header and in the problem details.
    const response = await fetch(backendUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${USER.token}`, 'content-type': 'application/json', 'x-correlation-id': 'support-case-1002' },
      body: '{"type":"build-request"',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-correlation-id')).toBe('support-case-1002');
    expect(await response.json()).toMatchObject({ code: 'invalid_json', correlationId: 'support-case-1002' });
    // A malformed id (here a card number) is replaced, never echoed or logged.
    const bad = await fetch(backendUrl, { method: 'POST', headers: { authorization: `Bearer ${USER.token}`, 'x-correlation-id': '4111111111111111' }, body: '{}' });
    expect(bad.headers.get('x-correlation-id')).toMatch(/^cor_/);
    expect(await bad.json()).not.toHaveProperty('correlationId');
    expect(JSON.stringify(backendLog)).not.toContain('4111111111111111');
  });
});
