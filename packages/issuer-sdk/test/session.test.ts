import {
  CardError,
  ExpiryError,
  type ProvisioningError,
  SessionError,
  TransportError,
  isProvisioningError,
} from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { createIssuerClient, type ProvisioningRequestSource, type ProvisioningSession, type SessionState } from '../src/index.js';
import { ACCOUNT, CARD, ISSUER_ID, keys, rejectedCodes, setup, statesOf, whenEvent } from './support/fixtures.js';
import { expectNoPan } from './support/pan-guard.js';

/** The session's failure: its outcome (which never rejects) is not `completed`, and carries the typed error. */
async function rejection(session: ProvisioningSession): Promise<ProvisioningError> {
  const outcome = await session.outcome;
  if (outcome.state === 'completed') throw new Error('the session completed');
  expect(outcome.status).toBe(outcome.state);
  expect(outcome.status).toBe(session.state);
  expect(isProvisioningError(outcome.error)).toBe(true);
  // The session's one account ended the same way (with the session's code, unless the wallet's result gave none).
  expect(outcome.accounts).toHaveLength(1);
  expect(outcome.accounts[0]!.status).toBe(outcome.status);
  if (outcome.accounts[0]!.errorCode !== undefined) expect(outcome.accounts[0]!.errorCode).toBe(outcome.error.code);
  expectNoPan(outcome, session.snapshot());
  return outcome.error;
}

describe('timeouts and expiry', () => {
  it('fails with timeout when the wallet does not answer within identifiersMs', async () => {
    const { issuer, pair, wallet, events } = await setup({ timeouts: { identifiersMs: 40 } });
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    void session.run();
    await wallet.receiveInvocation();
    const error = await rejection(session);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.code).toBe('timeout');
    expect(session.state).toBe('failed');
    expect(statesOf(events)).toEqual(['invoked', 'failed']);
    expect(events.at(-1)).toMatchObject({ type: 'state', state: 'failed', error: { code: 'timeout' } });
  });

  it('expires when the wallet does not answer within the session lifetime', async () => {
    const { issuer, pair, wallet } = await setup({ sessionLifetimeSeconds: 1 });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    const error = await rejection(session);
    expect(error).toBeInstanceOf(ExpiryError);
    expect(error.code).toBe('expired');
    expect(session.state).toBe('expired');
  });

  it('fails with timeout when no result comes within resultMs after delivery', async () => {
    const { issuer, pair, wallet, events } = await setup({ timeouts: { resultMs: 40 } });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    const error = await rejection(session);
    expect(error.code).toBe('timeout');
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'failed']);
  });

  it('fails with timeout when the request source hangs past requestMs, and aborts it', async () => {
    let seen: AbortSignal | undefined;
    const hanging: ProvisioningRequestSource = {
      buildRequest: (_input, { signal }) => {
        seen = signal;
        return new Promise(() => {});
      },
    };
    const { pair, wallet, clock } = await setup();
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: hanging, clock, timeouts: { requestMs: 40 } });
    const session = issuer.startProvisioning({ account: ACCOUNT, accountRef: 'acc_1', wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    const error = await rejection(session);
    expect(error.code).toBe('timeout');
    expect(session.state).toBe('failed');
    expect(seen?.aborted).toBe(true);
  });
});

describe('stray replies are typed events that end nothing', () => {
  it('ignores identifiers for another session (session_mismatch), then completes with the right ones', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers({ sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' });
    await wallet.sendResult('failed', { sessionId: 'BBBBBBBBBBBBBBBBBBBBBB', errorCode: 'internal_error' });
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.openRequest();
    await wallet.sendResult('provisioned');
    await expect(session.outcome).resolves.toMatchObject({ status: 'provisioned' });
    expect(rejectedCodes(events)).toEqual(['session_mismatch', 'session_mismatch']);
    expect(events.find((e) => e.type === 'message_rejected')).toMatchObject({ sessionId: session.id, state: 'invoked' });
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'completed']);
  });

  it('accepts identifiers once: a duplicate is `replayed` and the request stays bound to the first', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    const first = await wallet.sendIdentifiers();
    const second = await wallet.sendIdentifiers({ deviceId: 'attacker-device' });
    await wallet.receiveRequest();
    const opened = await wallet.openRequest();
    expect(opened.claims.nonce).toBe(first.nonce);
    expect(opened.claims.nonce).not.toBe(second.nonce);
    expect(opened.claims.deviceId).toBe('device-7');
    await wallet.sendResult('provisioned');
    await session.outcome;
    expect(rejectedCodes(events)).toEqual(['replayed']);
  });

  it('ignores a duplicate result after completion', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.runHappyPath();
    await session.outcome;
    await wallet.sendResult('failed', { errorCode: 'internal_error' });
    await wallet.sendResult('provisioned');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(session.state).toBe('completed');
    expect(statesOf(events).at(-1)).toBe('completed');
    expect(events.filter((e) => e.type === 'state' && e.state === 'completed')).toHaveLength(1);
  });

  it('refuses late identifiers (after the session expired) and ends expired', async () => {
    const { issuer, pair, wallet, events, clock } = await setup({ sessionLifetimeSeconds: 60 });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    clock.advance(60_000);
    await wallet.sendIdentifiers();
    const error = await rejection(session);
    expect(error.code).toBe('expired');
    expect(rejectedCodes(events)).toEqual(['expired']);
    expect(statesOf(events)).toEqual(['invoked', 'expired']);
  });

  it('accepts identifiers 1 ms before expiry, by the injected clock', async () => {
    const { issuer, pair, wallet, clock } = await setup({ sessionLifetimeSeconds: 60 });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    clock.advance(59_999);
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('provisioned');
    await expect(session.outcome).resolves.toMatchObject({ status: 'provisioned' });
  });

  it('ignores a late result after a timeout ended the session', async () => {
    const { issuer, pair, wallet } = await setup({ timeouts: { resultMs: 30 } });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    expect((await rejection(session)).code).toBe('timeout');
    await wallet.sendResult('provisioned');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(session.state).toBe('failed');
  });

  it('refuses a success result before the request was delivered, and messages a wallet never sends', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    const invocation = await wallet.receiveInvocation();
    await wallet.sendResult('provisioned');
    await wallet.channel.send(invocation);
    await wallet.channel.send({ type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, encryptedRequest: 'a.b.c.d.e' });
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('provisioned');
    await session.outcome;
    expect(rejectedCodes(events)).toEqual(['unexpected_message', 'unexpected_message', 'unexpected_message']);
  });

  it('refuses a success result while the request is being built (identified, nothing delivered yet), then completes', async () => {
    const k = await keys();
    const { createLocalRequestBuilder } = await import('../src/local.js');
    const local = createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: 'token-service', jwks: k.servicePublic } });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const requestSource: ProvisioningRequestSource = { buildRequest: (input, context) => gate.then(() => local.buildRequest(input, context)) };
    const { issuer, pair, wallet, events } = await setup({ requestSource });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await expect.poll(() => session.state).toBe('identified');
    await wallet.sendResult('provisioned');
    await expect.poll(() => rejectedCodes(events)).toEqual(['unexpected_message']);
    expect(session.state).toBe('identified');
    release();
    await wallet.receiveRequest();
    await wallet.sendResult('provisioned');
    await expect(session.outcome).resolves.toMatchObject({ status: 'provisioned' });
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'completed']);
  });

  it('reports junk on the channel as typed events, without echoing it', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    const invocation = await wallet.receiveInvocation();
    pair.issuer.receiveWire('{"type":"identifiers","type":"identifiers"}');
    pair.issuer.receiveWire(JSON.stringify({ type: 'result', version: 1, sessionId: invocation.sessionId, status: 'failed', pan: '4111111111111111' }));
    pair.issuer.receiveWire(JSON.stringify({ type: 'result', version: 2, sessionId: invocation.sessionId, status: 'failed' }));
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('provisioned');
    await session.outcome;
    expect(rejectedCodes(events)).toEqual(['invalid_json', 'invalid_message', 'unsupported_version']);
    expectNoPan(events);
  });
});

describe('how the wallet ends a session', () => {
  it('declined with the token service reason: state declined, error of that code', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('declined', { errorCode: 'card_expired' });
    const error = await rejection(session);
    expect(error).toBeInstanceOf(CardError);
    expect(error.code).toBe('card_expired');
    expect(session.state).toBe('declined');
    expect(events.at(-1)).toMatchObject({ state: 'declined', resultStatus: 'declined', error: { code: 'card_expired', details: { reportedBy: 'wallet' } } });
  });

  it('declined without a code: `declined`', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendResult('declined');
    expect((await rejection(session)).code).toBe('declined');
    expect(session.state).toBe('declined');
  });

  it('the user refuses consent in the wallet before identifiers: cancelled', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendResult('cancelled', { errorCode: 'consent_denied' });
    const error = await rejection(session);
    expect(error.code).toBe('consent_denied');
    expect(session.state).toBe('cancelled');
  });

  it('the wallet reports a failure: failed, with its code', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('failed', { errorCode: 'device_mismatch' });
    expect((await rejection(session)).code).toBe('device_mismatch');
    expect(session.state).toBe('failed');
  });

  it('the wallet end closes: failed with channel_closed', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    pair.wallet.close();
    expect((await rejection(session)).code).toBe('channel_closed');
    expect(session.state).toBe('failed');
  });
});

describe('cancellation at every step', () => {
  async function cancelAt(state: SessionState, how: 'cancel' | 'signal') {
    let sourceSignal: AbortSignal | undefined;
    const k = await keys();
    const ctx = await setup();
    const { createLocalRequestBuilder } = await import('../src/local.js');
    const local = createLocalRequestBuilder({
      sandbox: true,
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: 'token-service', jwks: k.servicePublic },
      clock: ctx.clock,
    });
    // At `identified`, the source hangs until aborted, so cancellation meets it in flight.
    const source: ProvisioningRequestSource = {
      buildRequest: (input, context) => {
        sourceSignal = context.signal;
        if (state === 'identified') return new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)));
        return local.buildRequest(input, context);
      },
    };
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, clock: ctx.clock });
    const controller = new AbortController();
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: ctx.pair.issuer, signal: controller.signal });
    const received: string[] = [];
    ctx.pair.wallet.subscribe((m) => received.push(m.type));
    session.subscribe((e) => ctx.events.push(e));
    const stop = () => (how === 'cancel' ? session.cancel() : controller.abort());
    if (state === 'created') stop();
    // In request_built the host cancels from its listener, as the state is announced: the delivery is never sent.
    else if (state === 'request_built') session.subscribe((e) => e.type === 'state' && e.state === state && stop());
    else void whenEvent(session, (e) => e.type === 'state' && e.state === state).then(stop);
    void session.run();
    if (state !== 'created') {
      await ctx.wallet.receiveInvocation();
      if (state !== 'invoked') await ctx.wallet.sendIdentifiers();
    }
    const error = await rejection(session);
    expect(error).toBeInstanceOf(SessionError);
    expect(error.code).toBe('cancelled');
    expect(session.state).toBe('cancelled');
    expectNoPan(ctx.events);
    return { events: ctx.events, received, sourceSignal };
  }

  it.each(['cancel', 'signal'] as const)('in created (%s): nothing is sent', async (how) => {
    const { events, received } = await cancelAt('created', how);
    expect(statesOf(events)).toEqual(['cancelled']);
    expect(received).toEqual([]);
  });

  it.each(['cancel', 'signal'] as const)('in invoked (%s): waiting for identifiers stops', async (how) => {
    const { events, received } = await cancelAt('invoked', how);
    expect(statesOf(events)).toEqual(['invoked', 'cancelled']);
    expect(received).toEqual(['invocation']);
  });

  it.each(['cancel', 'signal'] as const)('in identified (%s): the request source is aborted', async (how) => {
    const { events, sourceSignal } = await cancelAt('identified', how);
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'cancelled']);
    expect(sourceSignal?.aborted).toBe(true);
    expect((sourceSignal?.reason as ProvisioningError).code).toBe('cancelled');
  });

  it.each(['cancel', 'signal'] as const)('in request_built (%s): the request is never delivered', async (how) => {
    const { events, received } = await cancelAt('request_built', how);
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'cancelled']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(received).toEqual(['invocation']);
  });

  it.each(['cancel', 'signal'] as const)('in delivered (%s): waiting for the result stops', async (how) => {
    const { events, received } = await cancelAt('delivered', how);
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'cancelled']);
    expect(received).toEqual(['invocation', 'provisioning-request']);
  });

  it('with a signal aborted before the session is made', async () => {
    const { issuer, pair } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer, signal: AbortSignal.abort() });
    expect((await rejection(session)).code).toBe('cancelled');
    expect(session.state).toBe('cancelled');
  });

  it('cancel after completion changes nothing', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    await wallet.runHappyPath();
    await session.outcome;
    session.cancel();
    expect(session.state).toBe('completed');
  });
});

describe('robustness', () => {
  it('a listener that throws does not break the session', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe(() => {
      throw new Error('host bug');
    });
    await Promise.all([session.run(), wallet.runHappyPath()]);
    expect(session.state).toBe('completed');
  });

  it('refuses a signer that changes the invocation (invalid_message)', async () => {
    const { issuer, pair } = await setup({
      invocationSigner: async (invocation) => ({ ...invocation, account: { ...invocation.account!, last4: '9999' }, signature: 'a.b.c' }),
    });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    expect((await rejection(session)).code).toBe('invalid_message');
    expect(session.state).toBe('failed');
  });

  it('run() twice runs once', async () => {
    const { issuer, pair, wallet } = await setup();
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    const first = session.run();
    expect(session.run()).toBe(first);
    await Promise.all([first, wallet.runHappyPath()]);
  });

  it('unsubscribed listeners get nothing more', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    const off = session.subscribe((e) => {
      events.push(e);
      if (e.type === 'state' && e.state === 'identified') off();
    });
    await Promise.all([session.run(), wallet.runHappyPath()]);
    expect(statesOf(events)).toEqual(['invoked', 'identified']);
  });

  it.each([
    ['an issuer id that is not a slug', { issuerId: 'Bank A' }],
    ['a lifetime over 900 s', { sessionLifetimeSeconds: 901 }],
    ['a zero timeout', { timeouts: { resultMs: 0 } }],
    ['an http replyTo', { replyTo: 'http://bank.example/return' }],
  ])('refuses %s (configuration_invalid)', async (_name, bad) => {
    const { issuer: _unused, ...ctx } = await setup();
    const { createLocalRequestBuilder } = await import('../src/local.js');
    const k = ctx.keys;
    const requestSource = createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: 'ts', jwks: k.servicePublic } });
    expect(() => createIssuerClient({ issuerId: ISSUER_ID, requestSource, ...bad })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });

  it.each([
    ['no accountRef and no card', { account: ACCOUNT }],
    ['a hint whose last4 is not the card’s', { account: { ...ACCOUNT, last4: '4242' }, card: CARD }],
    ['more than the last 4 digits in the hint', { account: { ...ACCOUNT, last4: '4111111111111111' }, card: CARD }],
    ['an unknown hint member', { account: { ...ACCOUNT, pan: '4111111111111111' }, card: CARD }],
  ])('refuses a session with %s, without echoing it', async (_name, input) => {
    const { issuer, pair } = await setup();
    let thrown: unknown;
    try {
      issuer.createSession({ ...(input as { account: typeof ACCOUNT }), wallet: pair.issuer });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'configuration_invalid' });
    expectNoPan(thrown);
  });
});

describe('one outcome model', () => {
  it('onEvent sees every event from the start, and the outcome resolves (never rejects) for a failure', async () => {
    const { issuer, pair, wallet } = await setup();
    const seen: string[] = [];
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer, onEvent: (e) => seen.push(e.type === 'state' ? e.state : e.type) });
    await wallet.receiveInvocation();
    await wallet.sendResult('declined', { errorCode: 'card_expired' });
    const outcome = await session.outcome;
    expect(outcome).toMatchObject({ sessionId: session.id, correlationId: session.correlationId, state: 'declined', status: 'declined', accounts: [{ status: 'declined', errorCode: 'card_expired' }] });
    expect(outcome.state !== 'completed' && outcome.error.code).toBe('card_expired');
    expect(await session.run()).toBe(outcome);
    expect(seen).toEqual(['invoked', 'account', 'declined']);
  });

  it('leaves the channel open when the session ends (closeChannelOnEnd defaults to false), and closes it with true', async () => {
    const open = await setup();
    const first = open.issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: open.pair.issuer });
    await open.wallet.runHappyPath();
    expect((await first.outcome).status).toBe('provisioned');
    expect(open.pair.issuer.closed).toBe(false);

    const closing = await setup({ closeChannelOnEnd: true });
    const second = closing.issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: closing.pair.issuer });
    await closing.wallet.runHappyPath();
    expect((await second.outcome).status).toBe('provisioned');
    expect(closing.pair.issuer.closed).toBe(true);
  });

  it('an expired session resolves with status expired and the expired error', async () => {
    const { issuer, pair, wallet } = await setup({ sessionLifetimeSeconds: 1 });
    const session = issuer.startProvisioning({ account: { ...ACCOUNT, accountId: 'acct_1' }, card: CARD, wallet: pair.issuer });
    await wallet.receiveInvocation();
    const outcome = await session.outcome;
    expect(outcome).toMatchObject({ state: 'expired', status: 'expired', error: { code: 'expired' }, accounts: [{ accountId: 'acct_1', status: 'expired', errorCode: 'expired' }] });
  });
});
