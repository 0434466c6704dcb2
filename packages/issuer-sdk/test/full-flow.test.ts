import {
  type AppMessage,
  type ProvisioningError,
  type PublicEcJwk,
  createMemoryChannelPair,
  deviceKeyThumbprint,
  manualClock,
  toPublicJwk,
} from '@pushprov/protocol';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackendRequestSource, createIssuerClient, type ProvisioningSessionEvent } from '../src/index.js';
import { createInvocationSigner } from '../src/local.js';
import { createIssuerBackendHandler, createProvisioningRequestBuilder } from '../src/server.js';
import { ACCOUNT, AUDIENCE, CARD, ISSUER_ID, NOW, keys, setup, statesOf } from './support/fixtures.js';
import { startJwksServer } from './support/jwks-server.js';
import { serveOnLoopback } from './support/node-http-adapter.js';
import { TEST_PAN, expectNoPan } from './support/pan-guard.js';
import { WalletDouble } from './support/wallet-double.js';

const FLOW = ['invoked', 'identified', 'request_built', 'delivered', 'completed'];

/** Records every message crossing a memory channel, as the wire text. */
function tap(channel: { send(m: AppMessage): Promise<void> }): string[] {
  const wire: string[] = [];
  const send = channel.send.bind(channel);
  channel.send = (m) => {
    wire.push(JSON.stringify(m));
    return send(m);
  };
  return wire;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

function spyConsole(): () => unknown[] {
  const calls: unknown[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      calls.push(args);
    });
  }
  return () => calls;
}

describe('full flow with the request built in the app (local builder)', () => {
  it('goes created → invoked → identified → request_built → delivered → completed, bound to the wallet', async () => {
    const logs = spyConsole();
    const { issuer, pair, wallet, events } = await setup();
    const issuerWire = tap(pair.issuer);
    const walletWire = tap(pair.wallet);
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    expect(session.state).toBe('created');
    session.subscribe((e) => events.push(e));
    const walletDone = wallet.runHappyPath();
    const outcome = await session.run();
    await walletDone;

    expect(outcome).toEqual({
      sessionId: session.id,
      correlationId: session.correlationId,
      state: 'completed',
      status: 'provisioned',
      tokenReferenceId: 'tok_ref_1',
      accounts: [{ status: 'provisioned', tokenReferenceId: 'tok_ref_1' }],
    });
    expect(statesOf(events)).toEqual(FLOW);
    // One account event, when the result arrived, before the terminal state's.
    expect(events.filter((e) => e.type === 'account')).toEqual([{ type: 'account', sessionId: session.id, status: 'provisioned', tokenReferenceId: 'tok_ref_1', at: NOW }]);
    expect(events.at(-1)).toMatchObject({ type: 'state', state: 'completed' });
    expect(session.state).toBe('completed');
    // The token service double opened the request: it is bound to this session and wallet, and carries the card.
    const claims = wallet.opened!.claims;
    expect(claims.sid).toBe(session.id);
    expect(claims.iss).toBe(ISSUER_ID);
    expect(claims.aud).toBe(AUDIENCE);
    expect(claims.nonce).toBe(wallet.identifiers!.nonce);
    expect(claims.deviceId).toBe('device-7');
    expect(claims.card?.pan).toBe(TEST_PAN);
    // The local builder bound the device key the wallet sent (its RFC 7638 thumbprint is the generated kid).
    expect(claims.cnf).toEqual({ jkt: (await keys()).device.publicJwk.kid });
    expect(wallet.opened!.encryptionKid).toBe('svc-1');
    // The invocation carried only the hint, and the session id and lifetime.
    expect(wallet.invocation).toMatchObject({ sessionId: session.id, issuerId: ISSUER_ID, account: ACCOUNT, iat: NOW / 1000, exp: NOW / 1000 + 300 });
    expect(session.expiresAt).toBe(NOW + 300_000);
    // No PAN anywhere outside the JWE: events, outcome, snapshot, messages on the wire, logs.
    expectNoPan(events, outcome, session.snapshot(), issuerWire, walletWire, logs());
    expect(logs()).toEqual([]);
  });

  it('signs the invocation when a signer is configured, and the wallet verifies it', async () => {
    const k = await keys();
    const { issuer, pair, wallet } = await setup({ invocationSigner: createInvocationSigner(k.issuer.privateJwk, { sandbox: true }) });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await Promise.all([wallet.runHappyPath(), session.outcome]);
    expect(wallet.invocationVerified).toBe(true);
    expect(wallet.invocation!.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('reports pending_activation as completed with that status', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.openRequest();
    await wallet.sendResult('pending_activation', { tokenReferenceId: 'tok_ref_2' });
    await expect(session.outcome).resolves.toMatchObject({ state: 'completed', status: 'pending_activation', tokenReferenceId: 'tok_ref_2' });
    expect(session.snapshot()).toMatchObject({ state: 'completed', resultStatus: 'pending_activation', walletProviderId: 'wallet-co' });
  });
});

describe('full flow through the issuer backend (PAN stays on the backend)', () => {
  async function backend() {
    const k = await keys();
    const jwks = await startJwksServer(k.servicePublic);
    cleanups.push(() => jwks.close());
    const clock = manualClock(NOW);
    const lookups: string[] = [];
    const errors: ProvisioningError[] = [];
    const builder = createProvisioningRequestBuilder<{ id: string }>({
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwksUrl: jwks.url },
      walletProviders: ['wallet-co'],
      lookupCard: (accountRef, user) => {
        lookups.push(`${user.id}:${accountRef}`);
        return user.id === 'alice' && accountRef === 'acc_1' ? CARD : null;
      },
      clock,
    });
    const handler = createIssuerBackendHandler({
      builder,
      authenticate: (request) => (request.headers.get('authorization') === 'Bearer alice-token' ? { id: 'alice' } : null),
      onError: (error) => errors.push(error),
    });
    return { k, clock, handler, lookups, errors };
  }

  async function runThrough(fetchForBackend: Parameters<typeof createBackendRequestSource>[0]['fetch'], url: string, clock: ReturnType<typeof manualClock>) {
    const k = await keys();
    const source = createBackendRequestSource({ url, ...(fetchForBackend ? { fetch: fetchForBackend } : {}), headers: { authorization: 'Bearer alice-token' } });
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation, clock });
    const pair = createMemoryChannelPair();
    const wallet = new WalletDouble({ channel: pair.wallet, decryptionKeys: k.servicePrivate, issuerKeys: k.issuerPublic, audience: AUDIENCE, clock, devicePublicKey: toPublicJwk(k.device.publicJwk) as PublicEcJwk });
    const wire = [...tap(pair.issuer), ...tap(pair.wallet)];
    const events: ProvisioningSessionEvent[] = [];
    const session = issuer.createSession({ account: ACCOUNT, accountRef: 'acc_1', wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    const [outcome] = await Promise.all([session.run(), wallet.runHappyPath()]);
    return { outcome, events, wallet, wire, session };
  }

  it('mounted in Hono: the backend signs the invocation and builds the bound request', async () => {
    const logs = spyConsole();
    const { clock, handler, lookups, errors } = await backend();
    const app = new Hono();
    app.post('/api/push-provisioning', (c) => handler(c.req.raw));
    const responses: string[] = [];
    const viaHono: Parameters<typeof createBackendRequestSource>[0]['fetch'] = async (url, init) => {
      const response = await app.fetch(new Request(url, init));
      responses.push(await response.clone().text());
      return response;
    };
    const { outcome, events, wallet, wire } = await runThrough(viaHono, 'https://bank.example/api/push-provisioning', clock);
    expect(outcome.status).toBe('provisioned');
    expect(statesOf(events)).toEqual(FLOW);
    expect(wallet.invocationVerified).toBe(true);
    expect(wallet.opened!.claims.card?.pan).toBe(TEST_PAN);
    expect(wallet.opened!.claims.cnf).toEqual({ jkt: await deviceKeyThumbprint(wallet.identifiers!.devicePublicKey!) });
    expect(lookups).toEqual(['alice:acc_1', 'alice:acc_1']);
    expect(responses).toHaveLength(2);
    expect(errors).toEqual([]);
    expectNoPan(events, outcome, wire, responses, logs());
  });

  it("mounted in Node's http: the same flow over real loopback HTTP", async () => {
    const { clock, handler } = await backend();
    const server = await serveOnLoopback(handler);
    cleanups.push(() => server.close());
    const { outcome, events, wallet } = await runThrough(undefined, `${server.url}/api/push-provisioning`, clock);
    expect(outcome.status).toBe('provisioned');
    expect(statesOf(events)).toEqual(FLOW);
    expect(wallet.opened!.claims.sid).toBe(outcome.sessionId);
    expectNoPan(events, outcome);
  });
});
