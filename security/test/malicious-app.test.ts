// A malicious app on the device, against the URL / deep-link channel, where
// any app can open either app's links: it reads the links the apps open, then
// (a) hands the wallet a genuine request captured from another session, as
// soon as the wallet has answered the bank, or (b) answers the bank first,
// posing as the wallet, so that the request is bound to its own identifiers. The real issuer SDK, wallet SDK and token
// service (loopback HTTP, SQLite) run unchanged. The attack can make the
// provisioning fail; it can never make it succeed for the attacker: nothing
// is stored, and the canary PAN shows nowhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppMessage, type Identifiers, createUrlChannel, decodeMessageUrl, encodeMessageUrl } from '@pushprov/protocol';
import { type ProvisioningSessionEvent, createIssuerClient } from '@pushprov/issuer-sdk';
import { createLocalRequestBuilder } from '@pushprov/issuer-sdk/local';
import { type WalletEvent, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { describe as describeValue } from '../src/canary.js';
import { countRows } from '../src/database.js';
import { expectNoCanary } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { API_KEY, CANARY_CARD, ISSUER_ID, SERVICE_ID, type Sandbox, WALLET, buildRequest, createIdentifiers, createSandbox } from '../src/sandbox.js';

const BANK_RETURN = 'https://bank.example/wallet-return';
const WALLET_LINK = 'https://wallet.example/push';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

/**
 * The bank and the wallet on URL channels; every link opened also passes
 * `spy` (the malicious app reading links). `buildDelayMs` slows the bank's
 * request builder, so that its request reaches the wallet after the wallet
 * started waiting for it.
 */
function startApps(spy: (link: string) => void, options: { buildDelayMs?: number } = {}) {
  const later = (fn: () => void) => setTimeout(fn, 0);
  const bankChannel = createUrlChannel({
    openUrl: (link) => {
      spy(link);
      later(() => walletChannel.handleUrl(link));
    },
    peerUrl: WALLET_LINK,
    allowedPeerUrls: [WALLET_LINK],
    ownUrls: [BANK_RETURN],
  });
  const walletChannel = createUrlChannel({
    openUrl: (link) => {
      spy(link);
      later(() => bankChannel.handleUrl(link));
    },
    peerUrl: BANK_RETURN,
    allowedPeerUrls: [BANK_RETURN],
    ownUrls: [WALLET_LINK],
  });
  const tokens = createMemoryTokenStore();
  const walletEvents: WalletEvent[] = [];
  const wallet = createWallet({
    identity: () => ({ walletProviderId: WALLET, walletAccountId: 'user-7', deviceId: 'device-phone-1' }),
    consent: async () => true,
    tokenService: createHttpTokenServiceClient({ baseUrl: h.url, auth: { apiKey: API_KEY }, maxRetries: 0, clock: sb.clock }),
    tokenStore: tokens,
    clock: sb.clock,
  });
  const builder = createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: sb.issuer.privateJwk, tokenService: { audience: SERVICE_ID, jwks: { keys: [sb.serviceKey] } }, clock: sb.clock });
  const client = createIssuerClient({
    issuerId: ISSUER_ID,
    clock: sb.clock,
    replyTo: BANK_RETURN,
    requestSource: {
      buildRequest: async (input, context) => {
        await new Promise((resolve) => setTimeout(resolve, options.buildDelayMs ?? 0));
        return builder.buildRequest(input, context);
      },
    },
  });
  const session = client.createSession({ account: { last4: '8290', network: 'visa' }, card: CANARY_CARD, wallet: bankChannel });
  const issuerEvents: ProvisioningSessionEvent[] = [];
  session.subscribe((e) => issuerEvents.push(e));
  void session.run();
  const walletOutcome = wallet.handleInvocation(walletChannel, { onEvent: (e) => walletEvents.push(e), timeoutMs: 20_000 });
  return { bankChannel, walletChannel, session, issuerEvents, walletEvents, walletOutcome, tokens };
}

const read = (link: string, own: string): AppMessage => decodeMessageUrl(link, { allowedUrls: [own] });

describe('a malicious app that can open both apps’ links', () => {
  it('(a) hands the wallet a genuine request captured from another session: refused (session_mismatch), nothing stored', async () => {
    const captured = await buildRequest(sb, { identifiers: createIdentifiers({ walletAccountId: 'user-7', deviceId: 'device-phone-1' }) });
    let apps: ReturnType<typeof startApps> | undefined;
    const before = countRows(h.dbPath);
    apps = startApps((link) => {
      if (!link.startsWith(BANK_RETURN)) return;
      const message = read(link, BANK_RETURN);
      if (message.type !== 'identifiers') return;
      // As soon as the wallet has answered, and faster than the bank: a request for this session id, sealed for another session.
      const forged: AppMessage = { type: 'provisioning-request', version: 1, sessionId: message.sessionId, encryptedRequest: captured.submission.encryptedRequest };
      setTimeout(() => apps!.walletChannel.handleUrl(encodeMessageUrl(WALLET_LINK, forged, { allowedUrls: [WALLET_LINK] })), 0);
    });
    const outcome = await apps.walletOutcome;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'session_mismatch' } });
    const ended = await apps.session.outcome;
    expect(ended.state === 'completed' ? 'completed' : ended.error.code).toBe('session_mismatch');
    expect(countRows(h.dbPath)).toEqual(before);
    expect(await apps.tokens.list()).toEqual([]);
    expectNoCanary(describeValue([apps.walletEvents, apps.issuerEvents, outcome]), 'the events');
  });

  it('(b) answers the bank first, posing as the wallet: the request is bound to the impostor, so the real wallet’s submission is refused, and the impostor has no credentials to submit it', async () => {
    let apps: ReturnType<typeof startApps> | undefined;
    let impostor: Identifiers | undefined;
    const before = countRows(h.dbPath);
    apps = startApps((link) => {
      if (!link.startsWith(WALLET_LINK)) return;
      const message = read(link, WALLET_LINK);
      if (message.type !== 'invocation') return;
      impostor = createIdentifiers({ sessionId: message.sessionId, walletAccountId: 'attacker-1', deviceId: 'device-attacker' });
      const answer = encodeMessageUrl(BANK_RETURN, impostor, { allowedUrls: [BANK_RETURN] });
      setTimeout(() => apps!.bankChannel.handleUrl(answer), 0);
    }, { buildDelayMs: 150 });
    const outcome = await apps.walletOutcome;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'wallet_account_mismatch' } });
    const rejected = apps.issuerEvents.filter((e) => e.type === 'message_rejected').map((e) => e.error.code);
    expect(rejected).toEqual(['replayed']);
    expect(apps.session.snapshot().walletProviderId).toBe(impostor!.walletProviderId);
    await apps.session.outcome;
    expect(countRows(h.dbPath)).toEqual(before);
    expect(await apps.tokens.list()).toEqual([]);
    expectNoCanary(describeValue([apps.walletEvents, apps.issuerEvents, outcome]), 'the events');
  });
});
