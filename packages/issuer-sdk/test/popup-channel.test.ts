import { type AppMessage, BaseAppChannel, type ProvisioningError, parseAppMessage, toProvisioningError } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { type PopupWalletChannel, type IssuerWindowLike, createPopupWalletChannel } from '../src/browser.js';
import { createIssuerClient } from '../src/index.js';
import { createLocalRequestBuilder, createStatusQuerySigner } from '../src/local.js';
import { ACCOUNT, AUDIENCE, CARD, ISSUER_ID, keys, rejectedCodes, statesOf } from './support/fixtures.js';
import { FakePopup, FakeWindow } from './support/fake-window.js';
import { expectNoPan } from './support/pan-guard.js';
import { WalletDouble } from './support/wallet-double.js';

// The browser's window fits the interface (checked by the type checker).
const windowFits: (w: Window) => IssuerWindowLike = (w) => w;
void windowFits;

const WALLET_URL = 'https://wallet.example/push';
const WALLET_ORIGIN = 'https://wallet.example';

function make(win = new FakeWindow(), overrides: Partial<Parameters<typeof createPopupWalletChannel>[0]> = {}) {
  const channel = createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN], window: win, ...overrides });
  const messages: AppMessage[] = [];
  const errors: ProvisioningError[] = [];
  channel.subscribe(
    (m) => messages.push(m),
    (e) => errors.push(e),
  );
  return { win, channel, messages, errors, popup: win.popup! };
}

function invocationFor(sessionId = 'AAAAAAAAAAAAAAAAAAAAAA'): AppMessage {
  return { type: 'invocation', version: 1, sessionId, issuerId: ISSUER_ID, account: { last4: '1111', network: 'visa' }, iat: 1, exp: 301 };
}

const identifiersText = (sessionId = 'AAAAAAAAAAAAAAAAAAAAAA') =>
  JSON.stringify({ type: 'identifiers', version: 1, sessionId, walletProviderId: 'wallet-co', walletAccountId: 'u-1', deviceId: 'd-1', nonce: 'BBBBBBBBBBBBBBBBBBBBBB' });

async function rejectionOf(promise: Promise<unknown>): Promise<ProvisioningError> {
  return promise.then(
    () => {
      throw new Error('resolved');
    },
    (e: ProvisioningError) => e,
  );
}

describe('createPopupWalletChannel: opening and posting', () => {
  it('opens the wallet URL in a popup and posts to its exact origin, never "*"', async () => {
    const { win, channel, popup } = make();
    await channel.send(invocationFor());
    expect(win.opened).toEqual([{ url: WALLET_URL, target: 'pushprov-wallet', features: 'popup,width=480,height=720' }]);
    expect(popup.posted).toHaveLength(1);
    expect(popup.posted[0]!.targetOrigin).toBe(WALLET_ORIGIN);
    expect(parseAppMessage(popup.posted[0]!.message)).toEqual(invocationFor());
    expect(channel.walletOrigin).toBe(WALLET_ORIGIN);
  });

  it('open() in the click handler, then send: one window', async () => {
    const { win, channel } = make();
    channel.open();
    channel.open();
    await channel.send(invocationFor());
    expect(win.opened).toHaveLength(1);
  });

  it('popup blocked (window.open returns null): popup_blocked', async () => {
    const win = new FakeWindow();
    win.popup = null;
    const { channel } = make(win);
    expect(() => channel.open()).toThrow(expect.objectContaining({ code: 'popup_blocked' }));
    expect((await rejectionOf(channel.send(invocationFor()))).code).toBe('popup_blocked');
  });

  it('popup blocked (window.open throws): popup_blocked', async () => {
    const win = new FakeWindow();
    win.openThrows = true;
    const { channel } = make(win);
    expect((await rejectionOf(channel.send(invocationFor()))).code).toBe('popup_blocked');
  });

  it('a session whose popup is blocked fails with popup_blocked', async () => {
    const k = await keys();
    const win = new FakeWindow();
    win.popup = null;
    const wallet = createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN], window: win });
    const issuer = createIssuerClient({
      issuerId: ISSUER_ID,
      requestSource: createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: AUDIENCE, jwks: k.servicePublic } }),
    });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet });
    expect(await session.outcome).toMatchObject({ status: 'failed', error: { code: 'popup_blocked' } });
    expect(session.state).toBe('failed');
  });

  it('posts the invocation again, with growing gaps, until the wallet first answers', async () => {
    const { win, channel, popup, messages } = make();
    await channel.send(invocationFor());
    win.tick(8);
    // Posted at send, then on ticks 1, 2, 4 and 8.
    expect(popup.posted).toHaveLength(5);
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data: identifiersText() });
    expect(messages).toHaveLength(1);
    win.tick(40);
    expect(popup.posted).toHaveLength(5);
  });

  it('a status query is reposted too until the wallet first answers (it opens a flow, as an invocation does)', async () => {
    const { win, channel, popup } = make();
    const signer = createStatusQuerySigner((await keys()).issuer.privateJwk, { sandbox: true });
    const query = await signer({ type: 'status-query', version: 1, queryId: 'QQQQQQQQQQQQQQQQQQQQQQ', issuerId: 'bank-a', accountIds: ['acct_1'], iat: 1, exp: 100 }, { signal: new AbortController().signal });
    await channel.send(query);
    win.tick(8);
    expect(popup.posted).toHaveLength(5);
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data: JSON.stringify({ type: 'status-response', version: 1, queryId: query.queryId, issuerId: 'bank-a', errorCode: 'consent_denied' }) });
    win.tick(40);
    expect(popup.posted).toHaveLength(5);
  });

  it('only invocations and status queries are reposted', async () => {
    const { win, channel, popup } = make();
    channel.open();
    await channel.send({ type: 'result', version: 1, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', status: 'cancelled' });
    win.tick(10);
    expect(popup.posted).toHaveLength(1);
  });
});

describe('createPopupWalletChannel: what it accepts', () => {
  it('accepts a JSON text from the popup at the allowed origin', async () => {
    const { win, channel, popup, messages, errors } = make();
    await channel.send(invocationFor());
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data: identifiersText() });
    expect(messages.map((m) => m.type)).toEqual(['identifiers']);
    expect(errors).toEqual([]);
  });

  // Spec 4.11: each message is posted as its JSON text, never as a structured-clone object.
  it.each<[string, () => unknown]>([
    ['a structured-clone object', () => JSON.parse(identifiersText())],
    ['an array', () => [identifiersText()]],
    ['a String object', () => new String(identifiersText())],
    ['a number', () => 42],
    ['undefined', () => undefined],
    ['null', () => null],
  ])('refuses %s from the popup (invalid_message), and keeps reposting the invocation', async (_name, data) => {
    const { win, channel, popup, messages, errors } = make();
    await channel.send(invocationFor());
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data: data() });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_message']);
    const posted = popup.posted.length;
    win.tick(1);
    expect(popup.posted.length).toBeGreaterThan(posted);
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['a lookalike origin', 'https://wallet.example.evil.com'],
    ['a lookalike with a port', 'https://wallet.example:8443'],
    ['the http origin', 'http://wallet.example'],
    ['the "null" origin', 'null'],
    ['an empty origin', ''],
    ['the origin with a trailing slash', 'https://wallet.example/'],
    ['an upper-case origin', 'https://WALLET.example'],
  ])('refuses a message from %s (origin_rejected), even from the popup', async (_name, origin) => {
    const { win, channel, popup, messages, errors } = make();
    await channel.send(invocationFor());
    win.dispatch({ origin, source: popup, data: identifiersText() });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected']);
    expect(errors[0]!.details).toEqual({ reason: 'origin' });
  });

  it.each([
    ['another window', () => new FakePopup()],
    ['no source', () => null],
    ['the page itself', (win: FakeWindow) => win],
  ])('refuses a message at the right origin from %s (origin_rejected)', async (_name, source) => {
    const { win, channel, messages, errors } = make();
    await channel.send(invocationFor());
    win.dispatch({ origin: WALLET_ORIGIN, source: source(win), data: identifiersText() });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected']);
    expect(errors[0]!.details).toEqual({ reason: 'source' });
  });

  it('refuses messages before any popup was opened', () => {
    const { win, messages, errors } = make();
    win.dispatch({ origin: WALLET_ORIGIN, source: null, data: identifiersText() });
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });

  it.each([
    ['not JSON', 'hello', 'invalid_json'],
    ['duplicate keys', '{"type":"result","type":"result"}', 'invalid_json'],
    ['an own __proto__ member', '{"__proto__":{"x":1},"type":"result"}', 'invalid_json'],
    ['an object with an own __proto__ member', JSON.parse('{"__proto__":{"x":1},"type":"result"}') as unknown, 'invalid_message'],
    ['a number', 42, 'invalid_message'],
    ['undefined', undefined, 'invalid_message'],
    ['an unknown field carrying a PAN', { ...JSON.parse(identifiersText()), pan: '4111111111111111' }, 'invalid_message'],
    ['oversize text', `"${'x'.repeat(70_000)}"`, 'payload_too_large'],
    ['a cyclic object', (() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    })(), 'invalid_message'],
  ])('refuses data that is %s (%s), without echoing it', async (_name, data, code) => {
    const { win, channel, popup, messages, errors } = make();
    await channel.send(invocationFor());
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual([code]);
    expectNoPan(errors);
  });
});

describe('createPopupWalletChannel: closing', () => {
  it('detects the user closing the popup: channel_closed', async () => {
    const { win, channel, popup } = make();
    const reasons: ProvisioningError[] = [];
    channel.onClose((r) => reasons.push(r));
    await channel.send(invocationFor());
    win.tick();
    expect(channel.closed).toBe(false);
    popup.closed = true;
    win.tick();
    expect(channel.closed).toBe(true);
    expect(reasons.map((r) => r.code)).toEqual(['channel_closed']);
    expect(win.intervals.size).toBe(0);
    expect(win.listeners.size).toBe(0);
  });

  it('sending to a closed popup: channel_closed', async () => {
    const { channel, popup } = make();
    channel.open();
    popup.closed = true;
    expect((await rejectionOf(channel.send(invocationFor()))).code).toBe('channel_closed');
    expect(channel.closed).toBe(true);
  });

  it('close() closes the popup and stops listening', async () => {
    const { win, channel, popup, messages } = make();
    await channel.send(invocationFor());
    channel.close();
    expect(popup.closed).toBe(true);
    win.dispatch({ origin: WALLET_ORIGIN, source: popup, data: identifiersText() });
    expect(messages).toEqual([]);
    expect((await rejectionOf(channel.send(invocationFor()))).code).toBe('channel_closed');
  });

  it('a session waiting on a popup the user closes fails with channel_closed, and the window is released', async () => {
    const k = await keys();
    const win = new FakeWindow();
    const wallet = createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN], window: win });
    const issuer = createIssuerClient({
      issuerId: ISSUER_ID,
      requestSource: createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: AUDIENCE, jwks: k.servicePublic } }),
    });
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet });
    while (win.popup!.posted.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    win.popup!.closed = true;
    win.tick();
    expect(await session.outcome).toMatchObject({ status: 'failed', error: { code: 'channel_closed' } });
    expect(session.state).toBe('failed');
  });
});

describe('createPopupWalletChannel: configuration', () => {
  it.each([
    ['a walletUrl origin outside the allow-list', { allowedWalletOrigins: ['https://other.example'] }],
    ['an empty allow-list', { allowedWalletOrigins: [] }],
    ['"*" in the allow-list', { allowedWalletOrigins: [WALLET_ORIGIN, '*'] }],
    ['"null" in the allow-list', { allowedWalletOrigins: [WALLET_ORIGIN, 'null'] }],
    ['an origin with a path', { allowedWalletOrigins: [WALLET_ORIGIN, 'https://x.example/path'] }],
    ['an origin with a trailing slash', { allowedWalletOrigins: [`${WALLET_ORIGIN}/`] }],
    ['an http origin', { walletUrl: 'http://wallet.example/push', allowedWalletOrigins: ['http://wallet.example'] }],
    ['a relative walletUrl', { walletUrl: '/push' }],
    ['a walletUrl with a fragment', { walletUrl: `${WALLET_URL}#x` }],
    ['noopener', { features: 'popup,noopener' }],
    ['noreferrer', { features: 'noreferrer' }],
    ['a poll interval under 50 ms', { pollIntervalMs: 10 }],
    ['a poll interval over 2 s', { pollIntervalMs: 60_000 }],
  ])('refuses %s (configuration_invalid)', (_name, bad) => {
    expect(() => createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN], window: new FakeWindow(), ...bad })).toThrow(
      expect.objectContaining({ code: 'configuration_invalid' }),
    );
  });

  it('refuses to run without a window (configuration_invalid)', () => {
    expect(() => createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN] })).toThrow(
      expect.objectContaining({ code: 'configuration_invalid' }),
    );
  });

  it('allows http on loopback for local demos', () => {
    expect(() =>
      createPopupWalletChannel({ walletUrl: 'http://127.0.0.1:5173/push', allowedWalletOrigins: ['http://127.0.0.1:5173'], window: new FakeWindow() }),
    ).not.toThrow();
  });
});

/** The wallet page's side of the popup, over the fake window: what it posts arrives as message events at the issuer page. */
class WalletPageChannel extends BaseAppChannel {
  constructor(
    private readonly win: FakeWindow,
    private readonly popup: FakePopup,
  ) {
    super();
    popup.onPost = (message, targetOrigin) => {
      if (targetOrigin !== WALLET_ORIGIN) return;
      queueMicrotask(() => {
        try {
          this.deliver(parseAppMessage(message));
        } catch (error) {
          this.reject(toProvisioningError(error, 'invalid_message'));
        }
      });
    };
  }

  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    const data = JSON.stringify(message);
    queueMicrotask(() => this.win.dispatch({ origin: WALLET_ORIGIN, source: this.popup, data }));
  }
}

describe('full flow over the popup channel', () => {
  it('completes with the wallet double, refusing an injected reply from another origin on the way', async () => {
    const k = await keys();
    const win = new FakeWindow();
    const popup = win.popup!;
    const wallet: PopupWalletChannel = createPopupWalletChannel({ walletUrl: WALLET_URL, allowedWalletOrigins: [WALLET_ORIGIN], window: win });
    const issuer = createIssuerClient({
      issuerId: ISSUER_ID,
      requestSource: createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: AUDIENCE, jwks: k.servicePublic } }),
      closeChannelOnEnd: true,
    });
    const double = new WalletDouble({ channel: new WalletPageChannel(win, popup), decryptionKeys: k.servicePrivate, issuerKeys: k.issuerPublic, audience: AUDIENCE });
    const events: Parameters<Parameters<ReturnType<typeof issuer.createSession>['subscribe']>[0]>[0][] = [];
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet });
    session.subscribe((e) => events.push(e));
    void session.run();
    const invocation = await double.receiveInvocation();
    // An attacker page at another origin races the wallet with its own identifiers.
    win.dispatch({ origin: 'https://evil.example', source: popup, data: identifiersText(invocation.sessionId) });
    await double.sendIdentifiers();
    await double.receiveRequest();
    await double.openRequest();
    await double.sendResult('provisioned', { tokenReferenceId: 'tok_ref_9' });
    await expect(session.outcome).resolves.toMatchObject({ status: 'provisioned', tokenReferenceId: 'tok_ref_9' });
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'completed']);
    expect(rejectedCodes(events)).toEqual(['origin_rejected']);
    expect(double.opened!.claims.sid).toBe(session.id);
    // The session closed the popup when it ended (closeChannelOnEnd: true); every post went to the exact wallet origin.
    expect(popup.closed).toBe(true);
    expect(new Set(popup.posted.map((p) => p.targetOrigin))).toEqual(new Set([WALLET_ORIGIN]));
    expectNoPan(events, popup.posted.map((p) => p.message));
  });
});
