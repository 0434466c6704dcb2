// The yellow path end to end, through both SDKs, over real HTTP on 127.0.0.1:
// the real token service in sandbox mode (SQLite in a temporary folder, the
// sandbox test cards, GET /sandbox/inbox), the issuer backend (the issuer
// SDK's Fetch handlers on Node's http), the bank's app (issuer SDK client)
// and the wallet (wallet SDK, its HTTP client and its activations). Each
// verification method, a wrong code with the attempts left, the resend
// cooldown, a pending token resumed by a new wallet on the same store, and
// app-to-app activation over an app channel (the activation invocation).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisioningOutcome, createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { createBackendActivationSource, receiveActivationInvocation } from '@pushprov/issuer-sdk/activation';
import { activateToken } from '@pushprov/issuer-sdk/server';
import { type ActivationInvocation, type ProvisioningError, createMemoryChannelPair, createNonce, isProvisioningError } from '@pushprov/protocol';
import { type StoredToken, type TokenStore, type WalletOutcome, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { type ActivationEvent, type IssuerAppOpener, createActivations } from '@pushprov/wallet-sdk/activation';
import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
import { type HttpTokenServiceClient, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { type Sandbox, startSandbox } from '../src/start-sandbox.js';
import { DEMO_USER, DEVICE_ID, ISSUER_ID, OTHER_USER, SERVICE_ID, WALLET_ACCOUNT_ID, WALLET_PROVIDER_ID, sandboxAccountHint } from '../src/test-card.js';

let sandbox: Sandbox;
const scratch = mkdtempSync(join(tmpdir(), 'pushprov-yellow-test-'));
beforeAll(async () => {
  // A 1 s resend cooldown, so the test can wait it out.
  sandbox = await startSandbox({ verification: { resendCooldownSeconds: 1 } });
});
afterAll(async () => {
  await sandbox?.close();
  rmSync(scratch, { recursive: true, force: true });
});
const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

const bankAuth = { authorization: `Bearer ${DEMO_USER.sessionToken}` };

function walletClient(): HttpTokenServiceClient {
  return createHttpTokenServiceClient({
    baseUrl: sandbox.tokenService.url,
    auth: { walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: sandbox.walletProviderKey.privateJwk },
  });
}

/** A token store kept in a JSON file: what survives an app restart. A new instance reads the file again. */
function fileTokenStore(path: string): TokenStore {
  const read = (): StoredToken[] => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as StoredToken[];
    } catch {
      return [];
    }
  };
  const write = (tokens: StoredToken[]) => writeFileSync(path, JSON.stringify(tokens));
  return {
    async save(token) {
      const tokens = read();
      const i = tokens.findIndex((t) => t.accessData.tokenReferenceId === token.accessData.tokenReferenceId);
      if (i >= 0) tokens[i] = token;
      else tokens.push(token);
      write(tokens);
    },
    get: async (id) => read().find((t) => t.accessData.tokenReferenceId === id),
    list: async () => read(),
    async delete(id) {
      const tokens = read();
      const kept = tokens.filter((t) => t.accessData.tokenReferenceId !== id);
      write(kept);
      return kept.length < tokens.length;
    },
  };
}

/**
 * Provisions a sandbox test card: the bank's app (issuer SDK, through its
 * backend) pushes it to the wallet (wallet SDK) over an in-memory app
 * channel. The bank records the token for its customer when its session ends.
 */
async function provision(accountRef: string, tokenStore: TokenStore = createMemoryTokenStore()) {
  const backend = createBackendRequestSource({ url: sandbox.backendUrl, headers: bankAuth });
  const bankActivation = createBackendActivationSource({ url: sandbox.activationUrl, headers: bankAuth });
  const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: backend, invocationSigner: backend.signInvocation, tokenStatusSource: bankActivation });
  const wallet = createWallet({
    identity: () => ({ walletProviderId: WALLET_PROVIDER_ID, walletAccountId: WALLET_ACCOUNT_ID, deviceId: DEVICE_ID }),
    consent: () => true,
    tokenService: walletClient(),
    tokenStore,
    trustedIssuers: { [ISSUER_ID]: { keys: [sandbox.issuerKey.publicJwk] } },
    deviceKey: generatedDeviceKey(),
  });
  const pair = createMemoryChannelPair();
  stops.push(() => pair.issuer.close());
  const walletOutcome = wallet.handleInvocation(pair.wallet);
  const session = issuer.createSession({ account: sandboxAccountHint(accountRef), accountRef, wallet: pair.issuer });
  const issuerOutcome: ProvisioningOutcome = await session.run();
  const outcome: WalletOutcome = await walletOutcome;
  return { outcome, issuerOutcome, tokenStore, bankActivation };
}

function pending(outcome: WalletOutcome) {
  if (outcome.status !== 'pending_activation') throw new Error(`expected pending_activation, got ${outcome.status}`);
  return outcome;
}

async function latestCode(tokenReferenceId: string, methodId: string): Promise<string> {
  const messages = (await sandbox.readInbox(tokenReferenceId)).filter((m) => m.methodId === methodId);
  const last = messages.at(-1);
  if (!last) throw new Error('no code in the sandbox inbox');
  return last.code;
}

async function refusal(promise: Promise<unknown>): Promise<ProvisioningError> {
  try {
    await promise;
  } catch (error) {
    if (isProvisioningError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** A code of the right form that is not `code`. */
const wrong = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10));

describe('the yellow path, end to end over HTTP, through both SDKs', () => {
  it('otp_sms: the outcomes carry the method, a code goes to the masked phone, the typed code activates the token', async () => {
    const { outcome, issuerOutcome, tokenStore } = await provision('acc_sandbox_0028');
    const out = pending(outcome);
    const id = out.token.tokenReferenceId;
    expect(out.verification.methods).toEqual([{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }]);
    // The bank's app shows the same methods (read through its backend and the issuer API).
    expect(issuerOutcome.state === 'completed' && issuerOutcome.verificationError).toBeUndefined();
    expect(issuerOutcome).toMatchObject({ status: 'pending_activation', tokenReferenceId: id, verification: { methods: out.verification.methods } });
    expect((await tokenStore.get(id))?.activation?.verification).toEqual(out.verification);

    const events: ActivationEvent[] = [];
    const activations = createActivations({ tokenService: walletClient(), tokenStore, onEvent: (e) => events.push(e) });
    const activation = await activations.resume(id);
    expect(activation.state).toBe('choosing_method');
    const sent = await activation.chooseMethod('sms');
    expect(sent).toMatchObject({ state: 'awaiting_code', methodId: 'sms', code: { length: 6, attemptsLeft: 5 } });
    expect(sent.code!.resendAfter).toBeGreaterThan(Math.floor(Date.now() / 1000) - 1);
    const inbox = await sandbox.readInbox(id);
    expect(inbox).toEqual([expect.objectContaining({ methodId: 'sms', type: 'otp_sms', destination: '•••• 0199', code: expect.stringMatching(/^[0-9]{6}$/) })]);

    const status = await activation.submitCode(inbox[0]!.code);
    expect(status).toMatchObject({ tokenReferenceId: id, status: 'active' });
    expect(status).not.toHaveProperty('verification');
    expect(activation.state).toBe('active');
    // The wallet's store follows: active, no activation left.
    const stored = await tokenStore.get(id);
    expect(stored?.accessData.status).toBe('active');
    expect(stored?.activation).toBeUndefined();
    expect((await walletClient().getTokenStatus(id)).status).toBe('active');
    // Every step observed, in order; no event ever holds the code.
    expect(events.map((e) => `${e.step}:${e.snapshot.state}`)).toEqual([
      'state:requesting_code',
      'code_sent:awaiting_code',
      'state:checking_code',
      'state:active',
    ]);
    expect(JSON.stringify(events)).not.toContain(inbox[0]!.code);
    // A code works once: the token is no longer pending.
    expect((await refusal(walletClient().activateToken(id, { methodId: 'sms', code: inbox[0]!.code }))).code).toBe('token_not_pending');
  });

  it('otp_email: the code goes to the masked address, read from the sandbox inbox', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0036');
    const out = pending(outcome);
    expect(out.verification.methods).toEqual([{ id: 'email', type: 'otp_email', destination: 'a•••@example.com' }]);
    const activation = await createActivations({ tokenService: walletClient(), tokenStore }).resume(out.token.tokenReferenceId);
    await activation.chooseMethod('email');
    const code = await latestCode(out.token.tokenReferenceId, 'email');
    expect(await activation.submitCode(code)).toMatchObject({ status: 'active' });
  });

  it('a wrong code is refused with the attempts left, kept in the store, and the right one still works', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0028');
    const id = pending(outcome).token.tokenReferenceId;
    const events: ActivationEvent[] = [];
    const activation = await createActivations({ tokenService: walletClient(), tokenStore, onEvent: (e) => events.push(e) }).resume(id);
    await activation.chooseMethod('sms');
    const code = await latestCode(id, 'sms');

    const first = await refusal(activation.submitCode(wrong(code)));
    expect(first).toMatchObject({ code: 'verification_code_invalid', status: 422, retryable: false, details: { attemptsLeft: 4 } });
    expect(activation.state).toBe('awaiting_code');
    expect(activation.snapshot().code?.attemptsLeft).toBe(4);
    expect((await tokenStore.get(id))?.activation?.code?.attemptsLeft).toBe(4);
    expect(events.at(-1)).toMatchObject({ step: 'failed', error: { code: 'verification_code_invalid' }, snapshot: { state: 'awaiting_code' } });
    expect((await refusal(activation.submitCode(wrong(wrong(code))))).details?.attemptsLeft).toBe(3);
    // Not a code at all: refused on the device, no attempt counted.
    expect((await refusal(activation.submitCode('12 34 56'))).code).toBe('invalid_message');
    expect(activation.snapshot().code?.attemptsLeft).toBe(3);

    expect(await activation.submitCode(code)).toMatchObject({ status: 'active' });
  });

  it('a code that is always wrong locks the method after the last attempt', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0077');
    const out = pending(outcome);
    const methodId = out.verification.methods[0]!.id;
    const activation = await createActivations({ tokenService: walletClient(), tokenStore }).resume(out.token.tokenReferenceId);
    await activation.chooseMethod(methodId);
    const delivered = await latestCode(out.token.tokenReferenceId, methodId);
    const lefts: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const error = await refusal(activation.submitCode(delivered));
      lefts.push(error.code === 'verification_code_invalid' ? error.details?.attemptsLeft : error.code);
    }
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    expect((await refusal(activation.submitCode(delivered))).code).toBe('verification_attempts_exhausted');
    expect(activation.snapshot()).toMatchObject({ state: 'choosing_method', lockedMethodIds: [methodId] });
    expect((await refusal(activation.chooseMethod(methodId))).code).toBe('verification_attempts_exhausted');
  });

  it('a resend waits for the cooldown (on the device and at the token service), then replaces the code', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0028');
    const id = pending(outcome).token.tokenReferenceId;
    const activation = await createActivations({ tokenService: walletClient(), tokenStore }).resume(id);
    await activation.chooseMethod('sms');
    const firstCode = await latestCode(id, 'sms');

    // Too soon: refused on the device, with how long to wait, and nothing sent.
    const early = await refusal(activation.resendCode());
    expect(early).toMatchObject({ code: 'verification_cooldown', retryable: true });
    expect(early.details?.retryAfterMs).toBeGreaterThan(0);
    // NumericDate seconds: at most the 1 s cooldown plus the rounding of the second it was sent in.
    expect(early.details?.retryAfterMs).toBeLessThanOrEqual(2000);
    expect(await sandbox.readInbox(id)).toHaveLength(1);
    // The token service refuses it too, with Retry-After, which the client hands back at once instead of waiting.
    const started = Date.now();
    const server = await refusal(walletClient().startVerification(id, { methodId: 'sms' }));
    expect(server).toMatchObject({ code: 'verification_cooldown', status: 429, retryable: true });
    expect([1000, 2000]).toContain(server.details?.retryAfterMs);
    expect(Date.now() - started).toBeLessThan(900);

    // Wait as long as the device says (resendAfter is in whole seconds, so up to about 2 s), asking again if a busy
    // machine got here early; at most three waits.
    let resent: Awaited<ReturnType<typeof activation.resendCode>> | undefined;
    for (let attempt = 0; attempt < 3 && resent === undefined; attempt += 1) {
      try {
        resent = await activation.resendCode();
      } catch (error) {
        const wait = (error as { code?: string; details?: { retryAfterMs?: number } }).code === 'verification_cooldown' ? (error as { details?: { retryAfterMs?: number } }).details?.retryAfterMs : undefined;
        if (wait === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait + 50));
      }
    }
    expect(resent).toMatchObject({ state: 'awaiting_code', code: { attemptsLeft: 5 } });
    const secondCode = await latestCode(id, 'sms');
    expect(await sandbox.readInbox(id)).toHaveLength(2);
    if (secondCode !== firstCode) {
      // The earlier code no longer works (and costs an attempt).
      expect((await refusal(activation.submitCode(firstCode))).code).toBe('verification_code_invalid');
    }
    expect(await activation.submitCode(secondCode)).toMatchObject({ status: 'active' });
  });

  it('issuer_app: the wallet opens the bank app with the token reference, the bank backend activates, the wallet learns it', async () => {
    const { outcome, tokenStore, bankActivation } = await provision('acc_sandbox_0044');
    const out = pending(outcome);
    expect(out.verification.methods).toEqual([{ id: 'app', type: 'issuer_app' }]);
    const opened: Array<Parameters<IssuerAppOpener>[0]> = [];
    let bankApp: Promise<unknown> | undefined;
    // The host opens the bank's app (an app link in a real app); the bank's app, with its customer signed in, calls its backend.
    const openIssuerApp: IssuerAppOpener = (request) => {
      opened.push(request);
      bankApp = bankActivation.activateToken(request.tokenReferenceId, { signal: AbortSignal.timeout(10_000) });
    };
    const events: ActivationEvent[] = [];
    const activation = await createActivations({ tokenService: walletClient(), tokenStore, openIssuerApp, onEvent: (e) => events.push(e) }).resume(out.token.tokenReferenceId);
    expect(await activation.chooseMethod('app')).toMatchObject({ state: 'awaiting_issuer', methodId: 'app' });
    expect(opened).toEqual([{ issuerId: ISSUER_ID, tokenReferenceId: out.token.tokenReferenceId, methodId: 'app' }]);
    const status = await activation.waitUntilActive({ initialIntervalMs: 50, maxIntervalMs: 200, signal: AbortSignal.timeout(10_000) });
    expect(status).toMatchObject({ tokenReferenceId: out.token.tokenReferenceId, status: 'active' });
    expect(await bankApp).toMatchObject({ status: 'active' });
    expect((await tokenStore.get(out.token.tokenReferenceId))?.accessData.status).toBe('active');
    expect(events.map((e) => e.snapshot.state)).toContain('active');
  });

  it('issuer_app over an app channel: the wallet sends the activation invocation, the bank app confirms and its backend activates, the wallet learns it', async () => {
    const { outcome, tokenStore, bankActivation } = await provision('acc_sandbox_0069');
    const out = pending(outcome);
    const id = out.token.tokenReferenceId;
    // The channel between the wallet and the bank's app (in-memory here; the popup or an app link in an app).
    const link = createMemoryChannelPair();
    stops.push(() => link.issuer.close());
    const refused: string[] = [];
    const asked: ActivationInvocation[] = [];
    const bankApp = receiveActivationInvocation(link.issuer, {
      issuerId: ISSUER_ID,
      activation: bankActivation, // the signed-in customer's credentials
      confirm: (invocation) => {
        asked.push(invocation);
        return true;
      },
      onRejected: (error) => refused.push(error.code),
      timeoutMs: 10_000,
    });
    // Something else on the channel first: another issuer's invocation, which the bank app refuses and waits on.
    await link.wallet.send({ type: 'activation-invocation', version: 1, tokenReferenceId: id, methodId: 'app', issuerId: 'bank-z', walletProviderId: WALLET_PROVIDER_ID, nonce: createNonce() });
    const activation = await createActivations({ tokenService: walletClient(), tokenStore, walletProviderId: WALLET_PROVIDER_ID, issuerChannel: link.wallet }).resume(id);
    expect(await activation.chooseMethod('app', { correlationId: 'cor_app-to-app-1' })).toMatchObject({ state: 'awaiting_issuer', methodId: 'app' });
    const { invocation, status } = await bankApp;
    expect(invocation).toEqual({
      type: 'activation-invocation',
      version: 1,
      tokenReferenceId: id,
      methodId: 'app',
      issuerId: ISSUER_ID,
      walletProviderId: WALLET_PROVIDER_ID,
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      correlationId: 'cor_app-to-app-1',
    });
    expect(asked).toEqual([invocation]);
    expect(refused).toEqual(['invalid_message']);
    expect(status).toMatchObject({ tokenReferenceId: id, status: 'active' });
    expect(await activation.waitUntilActive({ initialIntervalMs: 50, maxIntervalMs: 200, signal: AbortSignal.timeout(10_000) })).toMatchObject({ status: 'active' });
    expect((await tokenStore.get(id))?.accessData.status).toBe('active');
  });

  it('issuer_app over an app channel: a customer who does not confirm activates nothing, and another customer cannot activate the token', async () => {
    const { outcome, tokenStore, bankActivation } = await provision('acc_sandbox_0044');
    const id = pending(outcome).token.tokenReferenceId;
    const link = createMemoryChannelPair();
    stops.push(() => link.issuer.close());
    const activation = await createActivations({ tokenService: walletClient(), tokenStore, walletProviderId: WALLET_PROVIDER_ID, issuerChannel: () => link.wallet }).resume(id);
    const declined = receiveActivationInvocation(link.issuer, { issuerId: ISSUER_ID, activation: bankActivation, confirm: () => false });
    await activation.chooseMethod('app');
    expect(await refusal(declined)).toMatchObject({ code: 'consent_denied' });
    // Another signed-in customer of the bank receives it (a second invocation: openIssuerApp sends a fresh one).
    const other = createBackendActivationSource({ url: sandbox.activationUrl, headers: { authorization: `Bearer ${OTHER_USER.sessionToken}` } });
    const stranger = receiveActivationInvocation(link.issuer, { issuerId: ISSUER_ID, activation: other });
    await activation.openIssuerApp();
    expect(await refusal(stranger)).toMatchObject({ code: 'not_found', status: 404 });
    expect((await walletClient().getTokenStatus(id)).status).toBe('pending_activation');
    expect((await activation.refresh()).state).toBe('awaiting_issuer');
  });

  it('the activation endpoint takes the customer from authentication and activates only their tokens', async () => {
    const { outcome } = await provision('acc_sandbox_0044');
    const id = pending(outcome).token.tokenReferenceId;
    const anonymous = createBackendActivationSource({ url: sandbox.activationUrl });
    expect(await refusal(anonymous.activateToken(id, { signal: AbortSignal.timeout(5_000) }))).toMatchObject({ code: 'unauthenticated', status: 401 });
    const bank = createBackendActivationSource({ url: sandbox.activationUrl, headers: bankAuth });
    // Another signed-in customer: not their token, so not found (as for a token that does not exist).
    const other = createBackendActivationSource({ url: sandbox.activationUrl, headers: { authorization: `Bearer ${OTHER_USER.sessionToken}` } });
    expect(await refusal(other.activateToken(id, { signal: AbortSignal.timeout(5_000) }))).toMatchObject({ code: 'not_found', status: 404 });
    expect(await refusal(other.getTokenStatus(id, { signal: AbortSignal.timeout(5_000) }))).toMatchObject({ code: 'not_found', status: 404 });
    expect(await refusal(bank.activateToken('tok_no_such_token', { signal: AbortSignal.timeout(5_000) }))).toMatchObject({ code: 'not_found', status: 404 });
    expect((await walletClient().getTokenStatus(id)).status).toBe('pending_activation');
    // A body naming a user is refused by the schema: the user is never taken from the body.
    const smuggled = await fetch(sandbox.activationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'activate-token', version: 1, tokenReferenceId: id, user: DEMO_USER.id }),
    });
    expect(smuggled.status).toBe(401);
    const withAuth = await fetch(sandbox.activationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bankAuth },
      body: JSON.stringify({ type: 'activate-token', version: 1, tokenReferenceId: id, user: 'someone-else' }),
    });
    expect(withAuth.status).toBe(400);
    expect(((await withAuth.json()) as { code: string }).code).toBe('invalid_message');
  });

  it('customer_service: the wallet shows the number, the agent activates with activateToken, the wallet learns it', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0051');
    const out = pending(outcome);
    expect(out.verification.methods).toEqual([{ id: 'call', type: 'customer_service', phoneNumber: '+44 20 7946 0000' }]);
    const activation = await createActivations({ tokenService: walletClient(), tokenStore }).resume(out.token.tokenReferenceId);
    const chosen = await activation.chooseMethod('call');
    expect(chosen).toMatchObject({ state: 'awaiting_issuer', methodId: 'call' });
    const waiting = activation.waitUntilActive({ initialIntervalMs: 50, maxIntervalMs: 200, signal: AbortSignal.timeout(10_000) });
    // The bank's agent, after verifying the caller: the issuer API, with an assertion signed by the issuer's key.
    const agent = await activateToken({
      issuerId: ISSUER_ID,
      signingKey: sandbox.issuerKey.privateJwk,
      tokenService: { baseUrl: sandbox.tokenService.url, audience: SERVICE_ID },
      tokenReferenceId: out.token.tokenReferenceId,
      method: 'customer_service',
    });
    expect(agent).toMatchObject({ status: 'active' });
    expect(await waiting).toMatchObject({ status: 'active' });
    expect(activation.state).toBe('active');
    // Twice: the token is no longer pending.
    const again = await refusal(
      activateToken({
        issuerId: ISSUER_ID,
        signingKey: sandbox.issuerKey.privateJwk,
        tokenService: { baseUrl: sandbox.tokenService.url, audience: SERVICE_ID },
        tokenReferenceId: out.token.tokenReferenceId,
        method: 'customer_service',
      }),
    );
    expect(again.code).toBe('token_not_pending');
  });

  it('waitUntilActive stops with aborted when its signal aborts', async () => {
    const { outcome, tokenStore } = await provision('acc_sandbox_0051');
    const activation = await createActivations({ tokenService: walletClient(), tokenStore }).resume(pending(outcome).token.tokenReferenceId);
    await activation.chooseMethod('call');
    const controller = new AbortController();
    const waiting = refusal(activation.waitUntilActive({ initialIntervalMs: 50, signal: controller.signal }));
    setTimeout(() => controller.abort(), 150);
    expect((await waiting).code).toBe('aborted');
    expect(activation.state).toBe('awaiting_issuer');
  });

  it('a pending token survives an app restart: a new wallet on the same token store resumes it where it was', async () => {
    const path = join(scratch, `tokens-${Date.now()}.json`);
    const { outcome } = await provision('acc_sandbox_0069', fileTokenStore(path));
    const out = pending(outcome);
    expect(out.verification.methods.map((m) => m.type)).toEqual(['otp_sms', 'otp_email', 'issuer_app', 'customer_service']);
    const before = await createActivations({ tokenService: walletClient(), tokenStore: fileTokenStore(path) }).resume(out.token.tokenReferenceId);
    await before.chooseMethod('email');

    // The app restarts: new store instance (reads the file), new client, new activations.
    const after = createActivations({ tokenService: walletClient(), tokenStore: fileTokenStore(path) });
    const [resumed, ...others] = await after.pending();
    expect(others).toEqual([]);
    expect(resumed!.snapshot()).toMatchObject({ tokenReferenceId: out.token.tokenReferenceId, state: 'awaiting_code', methodId: 'email', code: { length: 6, attemptsLeft: 5 } });
    expect(resumed!.snapshot().expiresAt).toBe(out.verification.expiresAt);
    expect(await resumed!.submitCode(await latestCode(out.token.tokenReferenceId, 'email'))).toMatchObject({ status: 'active' });
    expect(await after.pending()).toEqual([]);
    // The file never holds a one-time code.
    const file = readFileSync(path, 'utf8');
    expect(file).not.toContain(`"${await latestCode(out.token.tokenReferenceId, 'email')}"`);
  });
});
