// Bad input, app channel layer: the browser popup channels of both SDKs on
// fake windows (security/src/fake-browser.ts: origins and sources cannot be
// forged, as in a browser), driven by hand from the other side and by
// attacker windows. Each hostile message is refused with its typed code and
// changes nothing: the session goes on, nothing is built, sent or stored, and
// no canary PAN shows anywhere. The wallet's side submits to the real token
// service over loopback HTTP (SQLite), so "nothing stored" is checked there.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppMessage,
  type ErrorCode,
  type Identifiers,
  type Invocation,
  canonicalJson,
  generateSigningKey,
  openProvisioningRequest,
  parseInvocation,
  parseProvisioningRequestMessage,
} from '@pushprov/protocol';
import { type ProvisioningSession, type ProvisioningSessionEvent, createIssuerClient } from '@pushprov/issuer-sdk';
import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { createLocalRequestBuilder } from '@pushprov/issuer-sdk/local';
import { type WalletEvent, type WalletSession, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { describe as describeValue } from '../src/canary.js';
import { countRows } from '../src/database.js';
import { expectNoCanary } from '../src/expectations.js';
import { FakeBrowser, type FakeWindow, until } from '../src/fake-browser.js';
import { signCompact } from '../src/jose-craft.js';
import { type Harness, startHarness } from '../src/harness.js';
import {
  API_KEY,
  CANARY_CARD,
  ISSUER_ID,
  NOW,
  NOW_SECONDS,
  SERVICE_ID,
  type Sandbox,
  WALLET,
  buildRequest,
  createIdentifiers,
  createSandbox,
} from '../src/sandbox.js';

const BANK = 'https://bank.example';
const BANK_B = 'https://bank-b.example';
const WALLET_ORIGIN = 'https://wallet.example';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());
beforeEach(() => sb.clock.set(NOW));

// ---------------------------------------------------------------------------
// The issuer page: a live provisioning session on the popup channel.

interface IssuerWorld {
  browser: FakeBrowser;
  bank: FakeWindow;
  popup: FakeWindow;
  session: ProvisioningSession;
  events: ProvisioningSessionEvent[];
  invocation: Invocation;
  builds: () => number;
}

const openWorlds: ProvisioningSession[] = [];
afterEach(() => {
  for (const session of openWorlds.splice(0)) session.cancel();
});

async function startIssuer(): Promise<IssuerWorld> {
  const browser = new FakeBrowser();
  const bank = browser.window(BANK);
  let popup: FakeWindow | undefined;
  bank.onOpen = () => (popup = browser.window(WALLET_ORIGIN));
  const channel = createPopupWalletChannel({ walletUrl: `${WALLET_ORIGIN}/push`, allowedWalletOrigins: [WALLET_ORIGIN], window: bank });
  channel.open();
  const builder = createLocalRequestBuilder({
    sandbox: true,
    issuerId: ISSUER_ID,
    signingKey: sb.issuer.privateJwk,
    tokenService: { audience: SERVICE_ID, jwks: { keys: [sb.serviceKey] } },
    clock: sb.clock,
  });
  let builds = 0;
  const client = createIssuerClient({
    issuerId: ISSUER_ID,
    clock: sb.clock,
    requestSource: {
      buildRequest: (input, context) => {
        builds++;
        return builder.buildRequest(input, context);
      },
    },
  });
  const session = client.createSession({ account: { last4: '8290', network: 'visa' }, card: CANARY_CARD, wallet: channel });
  openWorlds.push(session);
  const events: ProvisioningSessionEvent[] = [];
  session.subscribe((event) => events.push(event));
  void session.run();
  await browser.settle();
  const first = browser.posts.find((p) => p.to === WALLET_ORIGIN);
  return { browser, bank, popup: popup!, session, events, invocation: parseInvocation(first!.data), builds: () => builds };
}

/** Identifiers for the world's session. */
const identifiersFor = (world: IssuerWorld, overrides: Partial<Identifiers> = {}): Identifiers =>
  createIdentifiers({ sessionId: world.invocation.sessionId, ...overrides });

/** The rejection events of a session, as codes. */
const rejected = (world: IssuerWorld): ErrorCode[] => world.events.filter((e) => e.type === 'message_rejected').map((e) => e.error.code);

/** Asserts that the world's session refused exactly `code`, is still waiting for identifiers, built nothing, and leaked nothing. */
function expectIssuerUnmoved(world: IssuerWorld, code: ErrorCode): void {
  expect(rejected(world)).toEqual([code]);
  expect(world.session.state).toBe('invoked');
  expect(world.builds()).toBe(0);
  expect(world.browser.posts.filter((p) => p.from === BANK && p.targetOrigin !== WALLET_ORIGIN)).toEqual([]);
  expectNoCanary(JSON.stringify(world.events), 'the session events');
  expectNoCanary(JSON.stringify(world.browser.posts), 'the posted messages');
}

describe('the issuer popup channel refuses', () => {
  it('identifiers from the popup once it navigated to a lookalike origin: origin_rejected', async () => {
    const world = await startIssuer();
    world.popup.origin = 'https://wallet.example.evil.test';
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'origin_rejected');
  });

  it('identifiers from the popup once it navigated to a sandboxed ("null") origin: origin_rejected', async () => {
    const world = await startIssuer();
    world.popup.origin = 'null';
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'origin_rejected');
  });

  it("identifiers from another window with the wallet's exact origin (not the popup): origin_rejected", async () => {
    const world = await startIssuer();
    const otherTab = world.browser.window(WALLET_ORIGIN);
    otherTab.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'origin_rejected');
  });

  it('identifiers from the popup downgraded to http: origin_rejected', async () => {
    const world = await startIssuer();
    world.popup.origin = 'http://wallet.example';
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'origin_rejected');
  });

  it('identifiers for another session: session_mismatch', async () => {
    const world = await startIssuer();
    world.popup.postTo(world.bank, JSON.stringify(createIdentifiers()));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'session_mismatch');
  });

  it('identifiers larger than a message may be: payload_too_large', async () => {
    const world = await startIssuer();
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)).replace('{', `{${' '.repeat(20_001)}`));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'payload_too_large');
  });

  it('an object carrying an own "__proto__" member (as JSON.parse makes): refused as not JSON text (invalid_message)', async () => {
    const world = await startIssuer();
    world.popup.postTo(world.bank, JSON.parse(JSON.stringify(identifiersFor(world)).replace('{', '{"__proto__":{"polluted":true},')));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'invalid_message');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('identifiers that arrive after the session expired: expired, and nothing is built', async () => {
    const world = await startIssuer();
    sb.clock.set(world.session.expiresAt);
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await world.browser.settle();
    expect(rejected(world)).toEqual(['expired']);
    expect(world.session.state).toBe('expired');
    expect(world.builds()).toBe(0);
  });

  it('repeated identifiers: the repeat is refused (replayed) and the request stays bound to the first', async () => {
    const world = await startIssuer();
    const first = identifiersFor(world, { deviceId: 'device-first' });
    world.popup.postTo(world.bank, JSON.stringify(first));
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world, { deviceId: 'device-second' })));
    await until(() => world.session.state === 'delivered');
    await world.browser.settle();
    expect(rejected(world)).toEqual(['replayed']);
    expect(world.builds()).toBe(1);
    const delivered = world.browser.posts.filter((p) => p.from === BANK && typeof p.data === 'string' && p.data.includes('"provisioning-request"'));
    expect(delivered).toHaveLength(1);
    const { claims } = await openProvisioningRequest(parseProvisioningRequestMessage(delivered[0]!.data).encryptedRequest!, {
      decryptionKeys: sb.keySet.encryptionKeys,
      issuerKeys: () => sb.issuer.publicJwk,
      audience: SERVICE_ID,
      clock: sb.clock,
    });
    expect(claims.deviceId).toBe('device-first');
    expect(claims.nonce).toBe(first.nonce);
  });

  it('a success result before the request was delivered: unexpected_message', async () => {
    const world = await startIssuer();
    const result: AppMessage = { type: 'result', version: 1, sessionId: world.invocation.sessionId, status: 'provisioned', tokenReferenceId: 'tok_forged' };
    world.popup.postTo(world.bank, JSON.stringify(result));
    await world.browser.settle();
    expectIssuerUnmoved(world, 'unexpected_message');
  });

  it('a result repeated after the session completed changes nothing', async () => {
    const world = await startIssuer();
    world.popup.postTo(world.bank, JSON.stringify(identifiersFor(world)));
    await until(() => world.session.state === 'delivered');
    const result = { type: 'result', version: 1, sessionId: world.invocation.sessionId, status: 'provisioned', tokenReferenceId: 'tok_first' };
    world.popup.postTo(world.bank, JSON.stringify(result));
    await world.browser.settle();
    expect(world.session.state).toBe('completed');
    const count = world.events.length;
    world.popup.postTo(world.bank, JSON.stringify({ ...result, status: 'declined', tokenReferenceId: undefined, errorCode: 'declined' }));
    await world.browser.settle();
    expect(world.session.state).toBe('completed');
    expect(world.session.snapshot().tokenReferenceId).toBe('tok_first');
    expect(world.events).toHaveLength(count);
  });
});

// ---------------------------------------------------------------------------
// The wallet page: a wallet session on the opener channel, submitting to the real token service.

interface WalletWorld {
  browser: FakeBrowser;
  bank: FakeWindow;
  page: FakeWindow;
  session: WalletSession;
  events: WalletEvent[];
  tokens: ReturnType<typeof createMemoryTokenStore>;
}

const openWallets: WalletSession[] = [];
afterEach(() => {
  for (const session of openWallets.splice(0)) session.cancel();
});

function invocation(overrides: Partial<Invocation> = {}): Invocation {
  return {
    type: 'invocation',
    version: 1,
    sessionId: createIdentifiers().sessionId,
    issuerId: ISSUER_ID,
    account: { last4: '8290', network: 'visa' },
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 300,
    ...overrides,
  };
}

const seen = new Map<string, ReturnType<typeof createWallet>>();

function startWallet(options: { seenKey?: string; trusted?: boolean } = {}): WalletWorld {
  const browser = new FakeBrowser();
  const bank = browser.window(BANK);
  const page = browser.window(WALLET_ORIGIN);
  page.opener = browser.handle(bank, page);
  const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK, BANK_B], window: page });
  const tokens = createMemoryTokenStore();
  const make = () =>
    createWallet({
      identity: () => ({ walletProviderId: WALLET, walletAccountId: 'user-7', deviceId: `device-${browser.posts.length}-${Math.random().toString(36).slice(2, 10)}` }),
      consent: async () => true,
      tokenService: createHttpTokenServiceClient({ baseUrl: h.url, auth: { apiKey: API_KEY }, maxRetries: 0 }),
      tokenStore: tokens,
      clock: sb.clock,
      ...(options.trusted ? { trustedIssuers: { [ISSUER_ID]: { keys: [sb.issuer.publicJwk] } } } : {}),
    });
  const w = options.seenKey ? (seen.get(options.seenKey) ?? seen.set(options.seenKey, make()).get(options.seenKey)!) : make();
  const events: WalletEvent[] = [];
  const session = w.startSession(channel, { onEvent: (event) => events.push(event), timeoutMs: 20_000 });
  openWallets.push(session);
  return { browser, bank, page, session, events, tokens };
}

const walletErrors = (world: WalletWorld): ErrorCode[] => world.events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));
const walletPosts = (world: WalletWorld) => world.browser.posts.filter((p) => p.from === WALLET_ORIGIN);

describe('the wallet opener channel refuses', () => {
  it('an invocation from the opener once it navigated to a lookalike origin: origin_rejected, nothing sent', async () => {
    const world = startWallet();
    world.bank.origin = 'https://bank.example.evil.test';
    world.bank.postTo(world.page, JSON.stringify(invocation()));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['origin_rejected']);
    expect(world.session.state).toBe('waiting_for_invocation');
    expect(walletPosts(world)).toEqual([]);
  });

  it('an invocation from a sandboxed ("null") opener: origin_rejected, nothing sent', async () => {
    const world = startWallet();
    world.bank.origin = 'null';
    world.bank.postTo(world.page, JSON.stringify(invocation()));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['origin_rejected']);
    expect(walletPosts(world)).toEqual([]);
  });

  it("an invocation from a frame with the bank's origin that is not the opener: origin_rejected", async () => {
    const world = startWallet();
    const frame = world.browser.window(BANK);
    frame.postTo(world.page, JSON.stringify(invocation()));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['origin_rejected']);
    expect(walletPosts(world)).toEqual([]);
  });

  it('an invocation whose issuer name hides a right-to-left override: refused (invalid_message), nothing sent, the session keeps waiting', async () => {
    const world = startWallet();
    world.bank.postTo(world.page, JSON.stringify(invocation({ account: { last4: '8290', network: 'visa', issuerName: 'Bank \u202eknab' } })));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['invalid_message']);
    expect(world.session.state).toBe('waiting_for_invocation');
    expect(walletPosts(world)).toEqual([]);
    world.session.cancel();
  });

  it('the same invocation a second time (a replayed session): rejected with replayed, nothing sent', async () => {
    const replayedInvocation = invocation();
    const first = startWallet({ seenKey: 'replay' });
    first.bank.postTo(first.page, JSON.stringify(replayedInvocation));
    await first.browser.settle();
    expect(walletPosts(first).map((p) => JSON.parse(p.data as string).type)).toEqual(['identifiers']);
    first.session.cancel();
    const second = startWallet({ seenKey: 'replay' });
    second.bank.postTo(second.page, JSON.stringify(replayedInvocation));
    const outcome = await second.session.outcome;
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'replayed' } });
    expect(walletPosts(second)).toEqual([]);
  });

  it('once pinned to the bank, a provisioning request from another allow-listed bank: origin_rejected, nothing submitted', async () => {
    const world = startWallet();
    const inv = invocation();
    world.bank.postTo(world.page, JSON.stringify(inv));
    await world.browser.settle();
    const identifiers = JSON.parse(walletPosts(world)[0]!.data as string) as Identifiers;
    const { submission } = await buildRequest(sb, { identifiers });
    const before = countRows(h.dbPath);
    world.bank.origin = BANK_B;
    world.bank.postTo(world.page, JSON.stringify({ type: 'provisioning-request', version: 1, sessionId: inv.sessionId, encryptedRequest: submission.encryptedRequest }));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['origin_rejected']);
    expect(world.session.state).toBe('waiting_for_request');
    expect(countRows(h.dbPath)).toEqual(before);
    expect(await world.tokens.list()).toEqual([]);
  });

  it('a provisioning request for another session is ignored (unexpected_message); the real one then provisions exactly once', async () => {
    const world = startWallet();
    const inv = invocation();
    world.bank.postTo(world.page, JSON.stringify(inv));
    await world.browser.settle();
    const identifiers = JSON.parse(walletPosts(world)[0]!.data as string) as Identifiers;
    const stray = await buildRequest(sb);
    const before = countRows(h.dbPath);
    world.bank.postTo(world.page, JSON.stringify({ type: 'provisioning-request', version: 1, sessionId: stray.submission.sessionId, encryptedRequest: stray.submission.encryptedRequest }));
    await world.browser.settle();
    expect(walletErrors(world)).toEqual(['unexpected_message']);
    expect(countRows(h.dbPath)).toEqual(before);
    const real = await buildRequest(sb, { identifiers });
    world.bank.postTo(world.page, JSON.stringify({ type: 'provisioning-request', version: 1, sessionId: inv.sessionId, encryptedRequest: real.submission.encryptedRequest }));
    const outcome = await world.session.outcome;
    expect(outcome.status).toBe('provisioned');
    expect(countRows(h.dbPath).tokens).toBe(before.tokens! + 1);
    expect(await world.tokens.list()).toHaveLength(1);
    expectNoCanary(describeValue(world.events), 'the wallet events');
    expectNoCanary(JSON.stringify(world.browser.posts), 'the posted messages');
    expect(walletPosts(world).every((p) => p.targetOrigin === BANK)).toBe(true);
  });
});

describe('a wallet that requires signed invocations refuses', () => {
  /** The invocation with a signature made over its canonical JSON under `header` by `key`. */
  async function signedWith(header: Record<string, unknown>, key: Parameters<typeof signCompact>[2], hmacSecret?: Uint8Array): Promise<Invocation> {
    const unsigned = invocation({ account: { last4: '8290', network: 'visa', issuerName: 'Bank Sec' } });
    return { ...unsigned, signature: await signCompact(header, canonicalJson(unsigned), key, hmacSecret ? { hmacSecret } : { signature: (s) => (s.length === 0 ? new Uint8Array([0]) : s) }) };
  }

  async function expectRejected(signed: Invocation, code: ErrorCode) {
    const world = startWallet({ trusted: true });
    world.bank.postTo(world.page, JSON.stringify(signed));
    const outcome = await world.session.outcome;
    expect(outcome).toMatchObject({ status: 'rejected', error: { code } });
    expect(walletPosts(world)).toEqual([]);
  }

  it('(the baseline) the same invocation signed correctly by hand is accepted: identifiers are sent', async () => {
    const world = startWallet({ trusted: true });
    world.bank.postTo(world.page, JSON.stringify(await signedWith({ alg: 'ES256', kid: sb.issuer.publicJwk.kid, typ: 'pushprov-invocation+jwt' }, sb.issuer.privateJwk)));
    await until(() => walletPosts(world).length > 0);
    expect(walletPosts(world).map((p) => JSON.parse(p.data as string).type)).toEqual(['identifiers']);
  });

  it('an invocation signature with alg none: jws_header_rejected, nothing sent', async () => {
    await expectRejected(await signedWith({ alg: 'none', kid: sb.issuer.publicJwk.kid, typ: 'pushprov-invocation+jwt' }, undefined), 'jws_header_rejected');
  });

  it('an invocation signed by an attacker key carried in the header (jwk): jws_header_rejected, nothing sent', async () => {
    const attacker = await generateSigningKey({ alg: 'ES256', kid: sb.issuer.publicJwk.kid });
    await expectRejected(await signedWith({ alg: 'ES256', kid: attacker.publicJwk.kid, typ: 'pushprov-invocation+jwt', jwk: attacker.publicJwk }, attacker.privateJwk), 'jws_header_rejected');
  });

  it('an invocation HS256-signed with the issuer public key as secret: jws_header_rejected, nothing sent', async () => {
    await expectRejected(
      await signedWith({ alg: 'HS256', kid: sb.issuer.publicJwk.kid, typ: 'pushprov-invocation+jwt' }, undefined, Buffer.from(JSON.stringify(sb.issuer.publicJwk))),
      'jws_header_rejected',
    );
  });

  it('an invocation signed with the request typ (cross-message confusion): jws_header_rejected, nothing sent', async () => {
    await expectRejected(await signedWith({ alg: 'ES256', kid: sb.issuer.publicJwk.kid, typ: 'pushprov-request+jwt' }, sb.issuer.privateJwk), 'jws_header_rejected');
  });
});
