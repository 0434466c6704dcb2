import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppMessage, ERROR_CATALOG, type Identifiers, ProvisioningError, signInvocation } from '@pushprov/protocol';
import type { WalletEvent, WalletOutcome } from '../src/index.js';
import { type Keys, expectNoSecrets, makeKeys, setupFlow } from './helpers/setup.js';
import type { TokenServiceDouble } from './helpers/token-service-double.js';

let keys: Keys;
const services: TokenServiceDouble[] = [];
beforeAll(async () => {
  keys = await makeKeys();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

type Flow = Awaited<ReturnType<typeof setupFlow>>;

async function flowWith(overrides: Parameters<typeof setupFlow>[1] = {}) {
  const flow = await setupFlow(keys, overrides);
  services.push(flow.service);
  const sent: AppMessage[] = [];
  flow.issuerEnd.subscribe((m) => sent.push(m));
  return { ...flow, sent };
}

/** Asserts an outcome's error is a typed ProvisioningError with a catalog code, and that nothing leaked. */
function expectTyped(flow: Flow, outcome: WalletOutcome, status: WalletOutcome['status'], code: string): ProvisioningError {
  expect(outcome.status).toBe(status);
  if (!('error' in outcome)) throw new Error('expected an error outcome');
  expect(outcome.error).toBeInstanceOf(ProvisioningError);
  expect(outcome.error.code).toBe(code);
  expect(Object.keys(ERROR_CATALOG)).toContain(outcome.error.code);
  for (const event of flow.events) {
    if (event.type === 'error') {
      expect(event.error).toBeInstanceOf(ProvisioningError);
      expect(Object.keys(ERROR_CATALOG)).toContain(event.error.code);
    }
  }
  expectNoSecrets(flow.service, outcome, flow.events, flow.service.log);
  return outcome.error;
}

/** Plays the issuer up to the identifiers, then delivers a sealed request. */
async function identify(flow: Flow, invocationOverrides = {}) {
  const invocation = await flow.issuer.invocation(invocationOverrides);
  const identifiersPromise = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
  await flow.issuerEnd.send(invocation);
  const identifiers = await identifiersPromise;
  return { invocation, identifiers };
}

async function deliver(flow: Flow, identifiers: Identifiers, sessionId = identifiers.sessionId) {
  await flow.issuerEnd.send({ type: 'provisioning-request', version: 1, sessionId, encryptedRequest: await flow.issuer.seal(identifiers) });
}

const errorCodes = (events: WalletEvent[]) => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));

describe('a refused invocation starts no session and sends nothing back', () => {
  const base = { type: 'invocation', version: 1, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', issuerId: 'bank-a', iat: 1795867200, exp: 1795867500 };
  const malformed = [
    ['not JSON', 'invalid_json', '{"type":"invocation",'],
    ['duplicate keys', 'invalid_json', '{"type":"invocation","type":"invocation"}'],
    ['__proto__ key', 'invalid_json', JSON.stringify(base).replace('{', '{"__proto__":{"x":1},')],
    ['a full PAN where last4 belongs', 'invalid_message', JSON.stringify({ ...base, account: { last4: '4111111111111111', network: 'visa' } })],
    ['an unknown field', 'invalid_message', JSON.stringify({ ...base, account: { last4: '1111', network: 'visa' }, pan: '4111111111111111' })],
    ['another protocol version', 'unsupported_version', JSON.stringify({ ...base, version: 2, account: { last4: '1111', network: 'visa' } })],
  ] as const;

  // Spec 4.11: refused input is reported as an error event and never ends the session
  // (anyone can open the wallet's link with `#pp=<garbage>`; the genuine invocation must still work).
  it.each(malformed)('malformed invocation (%s) → error event %s; the session keeps waiting and then handles the real one', async (_name, code, wire) => {
    const flow = await flowWith();
    const session = flow.wallet.startSession(flow.walletEnd);
    flow.walletEnd.receiveWire(wire);
    await expect.poll(() => errorCodes(flow.events)).toEqual([code]);
    expect(session.state).toBe('waiting_for_invocation');
    expect(flow.sent).toEqual([]);
    expect(flow.consentPrompts).toEqual([]);
    expect(flow.service.calls).toEqual([]);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    expect(result.status).toBe('provisioned');
    expect((await session.outcome).status).toBe('provisioned');
    expectNoSecrets(flow.service, flow.events, await session.outcome);
  });

  it('malformed input only, then nothing → rejected with timeout; nothing sent', async () => {
    const flow = await flowWith({ wallet: { timeoutMs: 200 } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    for (const [, , wire] of malformed) flow.walletEnd.receiveWire(wire);
    expectTyped(flow, await outcome, 'rejected', 'timeout');
    expect(errorCodes(flow.events)).toEqual(malformed.map(([, code]) => code));
    expect(flow.sent).toEqual([]);
    expect(flow.consentPrompts).toEqual([]);
  });

  it('forged signature (signed by a key the issuer does not hold) → signature_invalid', async () => {
    const flow = await flowWith();
    const forged = await signInvocation(await flow.issuer.invocation({}, false), keys.otherIssuer.privateJwk);
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(forged);
    expectTyped(flow, await outcome, 'rejected', 'signature_invalid');
    expect(flow.sent).toEqual([]);
    expect(flow.consentPrompts).toEqual([]);
  });

  it('a field changed after signing (last4) → signature_invalid', async () => {
    const flow = await flowWith();
    const signed = await flow.issuer.invocation();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send({ ...signed, account: { ...signed.account!, last4: '9999' } });
    expectTyped(flow, await outcome, 'rejected', 'signature_invalid');
    expect(flow.sent).toEqual([]);
  });

  it('an unsigned invocation when signatures are required → signature_invalid; accepted, unverified, when not', async () => {
    const strict = await flowWith();
    const outcome = strict.wallet.handleInvocation(strict.walletEnd);
    await strict.issuerEnd.send(await strict.issuer.invocation({}, false));
    expectTyped(strict, await outcome, 'rejected', 'signature_invalid');

    const lax = await flowWith({ wallet: { requireSignedInvocations: false } });
    const laxOutcome = lax.wallet.handleInvocation(lax.walletEnd);
    const run = await lax.issuer.run(lax.issuerEnd, await lax.issuer.invocation({}, false));
    expect((await laxOutcome).status).toBe('provisioned');
    expect(run.result.status).toBe('provisioned');
    expect(lax.consentPrompts).toEqual([expect.objectContaining({ verified: false })]);
  });

  it('a refused invocation’s error carries its correlation id', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(await flow.issuer.invocation({ issuerId: 'bank-z', correlationId: 'support-case-9' }));
    const ended = await outcome;
    expectTyped(flow, ended, 'rejected', 'unknown_issuer');
    expect(ended.status === 'rejected' && ended.error.correlationId).toBe('support-case-9');
  });

  it('unknown issuer → unknown_issuer, even when validly signed', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(await flow.issuer.invocation({ issuerId: 'bank-z' }));
    expectTyped(flow, await outcome, 'rejected', 'unknown_issuer');
    expect(flow.sent).toEqual([]);
  });

  it('an issuer id that is an Object.prototype member is unknown, not trusted', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(await flow.issuer.invocation({ issuerId: 'constructor' }, false));
    expectTyped(flow, await outcome, 'rejected', 'unknown_issuer');
  });

  it('expired session (by the injected clock, past exp + skew) → expired', async () => {
    const flow = await flowWith();
    const invocation = await flow.issuer.invocation(); // exp = iat + 300
    flow.clock.advance((300 + 60) * 1000);
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expectTyped(flow, await outcome, 'rejected', 'expired');
    expect(flow.sent).toEqual([]);
  });

  it('one second before exp + skew, the same invocation is still accepted', async () => {
    const flow = await flowWith();
    const invocation = await flow.issuer.invocation();
    flow.clock.advance((300 + 59) * 1000);
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuer.run(flow.issuerEnd, invocation);
    expect((await outcome).status).toBe('provisioned');
  });

  it('an invocation issued in the future, or living too long, is refused', async () => {
    const flow = await flowWith();
    const future = flow.wallet.handleInvocation(flow.walletEnd);
    const now = Math.floor(flow.clock.now() / 1000);
    await flow.issuerEnd.send(await flow.issuer.invocation({ iat: now + 120, exp: now + 300 }));
    expectTyped(flow, await future, 'rejected', 'not_yet_valid');
    const long = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(await flow.issuer.invocation({ exp: now + 3600 }));
    expectTyped(flow, await long, 'rejected', 'lifetime_exceeded');
  });

  it('a session seen before → replayed', async () => {
    const flow = await flowWith({ wallet: { consent: () => false } });
    const invocation = await flow.issuer.invocation();
    const first = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expect((await first).status).toBe('cancelled');
    const second = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expectTyped(flow, await second, 'rejected', 'replayed');
  });
});

describe('a session that fails after the invocation reports a typed result', () => {
  it('consent refused → cancelled with consent_denied; no identifiers, no submission', async () => {
    const flow = await flowWith({ wallet: { consent: async () => false } });
    const invocation = await flow.issuer.invocation();
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expectTyped(flow, await outcome, 'cancelled', 'consent_denied');
    expect(await resultPromise).toEqual({
      type: 'result',
      version: 1,
      sessionId: invocation.sessionId,
      status: 'cancelled',
      errorCode: 'consent_denied',
      correlationId: expect.stringMatching(/^cor_/),
    });
    expect(flow.sent.map((m) => m.type)).toEqual(['result']);
    expect(flow.service.calls).toEqual([]);
  });

  it('a request for another session is an unexpected_message error event; the session keeps waiting for its own', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { invocation, identifiers } = await identify(flow);
    await deliver(flow, identifiers, 'BBBBBBBBBBBBBBBBBBBBBB');
    await flow.issuerEnd.send(invocation); // the same invocation again (a popup repost) is ignored silently
    await flow.issuerEnd.send(await flow.issuer.invocation()); // another session's invocation is not expected
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers);
    expect((await outcome).status).toBe('provisioned');
    expect((await resultPromise).status).toBe('provisioned');
    expect(errorCodes(flow.events)).toEqual(['unexpected_message', 'unexpected_message']);
    expect(flow.service.calls).toHaveLength(1);
  });

  it('every error event of the attempt carries its correlation id, as the outcome does; before any invocation there is none', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    // Before the invocation: no attempt yet, so no correlation id.
    await flow.issuerEnd.send({ type: 'result', version: 1, sessionId: 'CCCCCCCCCCCCCCCCCCCCCC', status: 'declined', errorCode: 'declined' });
    await expect.poll(() => errorCodes(flow.events)).toEqual(['unexpected_message']);
    const { invocation, identifiers } = await identify(flow, { correlationId: 'support-case-19' });
    // During the attempt: a request for another session, and one that does not parse.
    await deliver(flow, identifiers, 'BBBBBBBBBBBBBBBBBBBBBB');
    flow.walletEnd.receiveWire('{"type":"provisioning-request"');
    await expect.poll(() => errorCodes(flow.events)).toEqual(['unexpected_message', 'unexpected_message', 'invalid_json']);
    await deliver(flow, identifiers);
    const ended = await outcome;
    expect(ended).toMatchObject({ status: 'provisioned', correlationId: 'support-case-19', sessionId: invocation.sessionId });
    const errors = flow.events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
    expect(errors.map((e) => e.correlationId)).toEqual([undefined, 'support-case-19', 'support-case-19']);
    expect(errors[1]!.toJSON()).toMatchObject({ code: 'unexpected_message', correlationId: 'support-case-19' });
  });

  it.each([
    ['right behind the invocation (queued while the wallet checks it)', 'with-invocation'],
    ['while the user is asked', 'during-consent'],
  ] as const)('a request that arrives before the identifiers were sent (%s) is refused (unexpected_message) and never submitted', async (_name, when) => {
    let consent: (yes: boolean) => void = () => {};
    const asked: unknown[] = [];
    const flow = await flowWith({
      wallet: {
        consent: (prompt) => {
          asked.push(prompt);
          return new Promise<boolean>((resolve) => (consent = resolve));
        },
      },
    });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const invocation = await flow.issuer.invocation();
    // Sealed for identifiers the wallet never sent (the nonce cannot be known before they are).
    const guessed: Identifiers = {
      type: 'identifiers',
      version: 1,
      sessionId: invocation.sessionId,
      walletProviderId: 'wallet-co',
      walletAccountId: 'user-42',
      deviceId: 'device-7',
      nonce: 'CCCCCCCCCCCCCCCCCCCCCC',
    };
    const early = { type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, encryptedRequest: await flow.issuer.seal(guessed) } as const;
    const identifiersPromise = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    if (when === 'with-invocation') await flow.issuerEnd.send(early);
    await expect.poll(() => asked.length).toBe(1);
    if (when === 'during-consent') await flow.issuerEnd.send(early);
    await expect.poll(() => errorCodes(flow.events)).toEqual(['unexpected_message']);
    expect(flow.events.find((e) => e.type === 'error')).toMatchObject({ sessionId: invocation.sessionId, error: { message: expect.stringContaining('before the wallet sent its identifiers') } });
    consent(true);
    const identifiers = await identifiersPromise;
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers);
    expect((await outcome).status).toBe('provisioned');
    expect((await resultPromise).status).toBe('provisioned');
    expect(flow.service.calls).toHaveLength(1);
    expect(errorCodes(flow.events)).toEqual(['unexpected_message']);
  });

  it('only a request for another session → the session times out (timeout), and says so to the issuer', async () => {
    const flow = await flowWith({ wallet: { timeoutMs: 300 } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { invocation, identifiers } = await identify(flow);
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers, 'BBBBBBBBBBBBBBBBBBBBBB');
    expectTyped(flow, await outcome, 'failed', 'timeout');
    expect(errorCodes(flow.events)).toEqual(['unexpected_message']);
    expect(await resultPromise).toMatchObject({ status: 'failed', errorCode: 'timeout' });
    expect(flow.service.calls).toEqual([]);
  });

  it('token service down (closed port) → network_error after the retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const flow = await flowWith({ serviceUrl: `http://127.0.0.1:${port}`, client: { maxRetries: 2 } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { invocation, identifiers } = await identify(flow);
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers);
    const error = expectTyped(flow, await outcome, 'failed', 'network_error');
    expect(error.retryable).toBe(true);
    expect(flow.delays).toHaveLength(2);
    expect(await resultPromise).toMatchObject({ status: 'failed', errorCode: 'network_error' });
    expect(await flow.tokenStore.list()).toEqual([]);
  });

  it('5xx after issuing, then success → exactly one token: the retry reuses the idempotency key', async () => {
    const flow = await flowWith();
    flow.service.faults.push({ kind: 'after', status: 503, code: 'server_error' });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    expect((await outcome).status).toBe('provisioned');
    expect(result.status).toBe('provisioned');
    expect(flow.service.calls.map((c) => c.status)).toEqual([503, 201]);
    const [first, second] = flow.service.calls;
    expect(first!.idempotencyKey).toMatch(/^idem_/);
    expect(second!.idempotencyKey).toBe(first!.idempotencyKey);
    expect(flow.service.issued).toHaveLength(1);
    expect(await flow.tokenStore.list()).toHaveLength(1);
    expect(flow.delays).toHaveLength(1);
  });

  it('4xx is not retried: a decline ends declined after one call', async () => {
    const flow = await flowWith();
    flow.service.faults.push({ kind: 'before', status: 403, code: 'declined' });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    const error = expectTyped(flow, await outcome, 'declined', 'declined');
    expect(error).toMatchObject({ status: 403, requestId: 'req_1', retryable: false });
    expect(result).toMatchObject({ status: 'declined', errorCode: 'declined' });
    expect(flow.service.calls).toHaveLength(1);
    expect(flow.delays).toEqual([]);
  });

  it('4xx is not retried: a binding failure from the service keeps its code', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { identifiers } = await identify(flow);
    // The issuer binds the request to another device: the token service refuses it.
    await deliver(flow, { ...identifiers, deviceId: 'device-8' }, identifiers.sessionId);
    expectTyped(flow, await outcome, 'failed', 'device_mismatch');
    expect(flow.service.calls).toHaveLength(1);
    expect(flow.service.issued).toEqual([]);
  });

  it('timeout: a token service that never answers → timeout, per attempt and then overall', async () => {
    const flow = await flowWith({ client: { timeoutMs: 150, maxRetries: 1 } });
    flow.service.faults.push({ kind: 'hang' }, { kind: 'hang' });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { invocation, identifiers } = await identify(flow);
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers);
    expectTyped(flow, await outcome, 'failed', 'timeout');
    expect(flow.service.calls).toHaveLength(2);
    expect(new Set(flow.service.calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(await resultPromise).toMatchObject({ status: 'failed', errorCode: 'timeout' });
  });

  it('timeout: no invocation at all → rejected timeout, nothing sent', async () => {
    const flow = await flowWith({ wallet: { timeoutMs: 100 } });
    expectTyped(flow, await flow.wallet.handleInvocation(flow.walletEnd), 'rejected', 'timeout');
    expect(flow.sent).toEqual([]);
  });

  it('cancellation with cancel() while the user decides → cancelled; the consent dialog is told', async () => {
    let consentSignal: AbortSignal | undefined;
    const flow = await flowWith({
      wallet: {
        consent: (_prompt, { signal }) => {
          consentSignal = signal;
          return new Promise<boolean>(() => {});
        },
      },
    });
    const session = flow.wallet.startSession(flow.walletEnd);
    const invocation = await flow.issuer.invocation();
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    await expect.poll(() => session.state).toBe('awaiting_consent');
    expect(session.sessionId).toBe(invocation.sessionId);
    session.cancel();
    expectTyped(flow, await session.outcome, 'cancelled', 'cancelled');
    expect(consentSignal?.aborted).toBe(true);
    expect(session.state).toBe('cancelled');
    expect(await resultPromise).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    expect(flow.service.calls).toEqual([]);
  });

  it('cancellation with an AbortSignal during the submission → cancelled; the HTTP request is aborted', async () => {
    const flow = await flowWith();
    flow.service.faults.push({ kind: 'hang' });
    const controller = new AbortController();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd, { signal: controller.signal });
    const { invocation, identifiers } = await identify(flow);
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await deliver(flow, identifiers);
    await expect.poll(() => flow.service.calls.length).toBe(1);
    controller.abort();
    expectTyped(flow, await outcome, 'cancelled', 'cancelled');
    expect(await resultPromise).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    expect(flow.delays).toEqual([]);
    expect(flow.service.calls).toHaveLength(1);
  });

  it('an already aborted signal ends the session before anything happens', async () => {
    const flow = await flowWith();
    const outcome = await flow.wallet.handleInvocation(flow.walletEnd, { signal: AbortSignal.abort() });
    expectTyped(flow, outcome, 'rejected', 'cancelled');
    expect(flow.sent).toEqual([]);
  });

  it('the issuer closing the channel ends the session with channel_closed', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await identify(flow);
    flow.issuerEnd.close();
    const result = await outcome;
    expectTyped(flow, result, 'failed', 'channel_closed');
    expect(result).toMatchObject({ resultSent: false });
  });
});
