// The browser example's servers, each on its own origin:
//
// - the bank:          http://127.0.0.1:<issuer port>   issuer page + issuer backend (`/api/push-provisioning`, `/api/token-activation`)
// - the wallet:        http://localhost:<wallet port>   wallet page (`/push`), opened by the bank in a popup
// - the token service: http://127.0.0.1:<token port>    its HTTP API, with CORS for the wallet origin
// - a second bank:     http://127.0.0.1:<bank B port>   Bank B's page, which asks the wallet about Bank A's account ids
//
// Keys are generated at start; the token service keeps its state in memory.
// At start one of the customer's cards is put on another device of the same
// wallet account ("Ada's watch"), through the token service's real API, so the
// bank's status panel has a card that is in the wallet on another device.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import {
  type ProvisioningRequestBuilder,
  createActivationHandler,
  createIssuerBackendHandler,
  createIssuerTokenServiceClient,
  createProvisioningRequestBuilder,
} from '@pushprov/issuer-sdk/server';
import { type AccountHint, type Card, createClientAssertion, createId, createNonce, createSessionId, generateSigningKey } from '@pushprov/protocol';
import { type HttpTokenServiceClient, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { createMemoryStore, createTokenService, createTokenServiceApp, generateKeySet, silentLogger } from '@pushprov/token-service';
import { bundlePages } from './bundle-pages.js';
import { type FetchHandler, withCors } from './with-cors.js';

/** One of the customer's cards, as the bank's page knows it: a reference and the last 4 digits, never the number. */
export interface IssuerPageCard {
  accountRef: string;
  account: AccountHint;
  /** A sandbox note for the developer trying the example, e.g. that the issuer declines this card. */
  testNote?: string;
}

/** What the issuer page gets from `/config.json`: nothing secret, no card number. */
export interface IssuerPageConfig {
  issuerId: string;
  /** The bank's name, as the customer knows it. */
  bankName: string;
  walletUrl: string;
  walletOrigin: string;
  /** The wallet's name, as the customer knows it. */
  walletName: string;
  cards: IssuerPageCard[];
  cardholderName: string;
}

/** What the wallet page gets from `/config.json`. */
export interface WalletPageConfig {
  allowedIssuerOrigins: string[];
  tokenServiceUrl: string;
  serviceId: string;
  walletProviderId: string;
  walletAccountId: string;
  /** The name the wallet greets its user with (the account id is for developers). */
  walletUserName: string;
  /** How long the wallet shows its ending before it closes its window, ms. */
  closeDelayMs: number;
  /**
   * Where the page gets a short-lived client assertion for the token service,
   * minted by the wallet's own server: the wallet provider's signing key never
   * reaches the page.
   */
  assertionPath: string;
  /** Issuers this wallet accepts, with their public keys (from onboarding). */
  trustedIssuers: Record<string, { keys: Record<string, unknown>[] }>;
  /**
   * The banks the wallet's home page can ask for cards (wallet-initiated):
   * the page opens `addCardUrl` in a window and asks it which cards it may add.
   */
  banks: { issuerId: string; name: string; origin: string; addCardUrl: string }[];
  /**
   * The token service's sandbox inbox (`GET /sandbox/inbox`, sandbox mode
   * only): where a developer reads the one-time codes the sandbox "sent".
   * The wallet page shows it in a panel marked for developers.
   */
  sandboxInboxUrl: string;
}

/** Options of {@link startBrowserExample}. */
export interface BrowserExampleOptions {
  /** Ports of the three servers. 0 (default) picks free ones. */
  ports?: { issuer?: number; wallet?: number; tokenService?: number; secondIssuer?: number };
  /** How long the wallet window shows its ending before it closes itself, ms. Default 2500. */
  walletCloseDelayMs?: number;
}

/** The running example. */
export interface BrowserExample {
  /** The bank's page: open it and click "Add to wallet". */
  issuerUrl: string;
  issuerOrigin: string;
  /** The wallet page the bank opens in a popup. */
  walletUrl: string;
  walletOrigin: string;
  /** The wallet's home page: "Add a card from Bank A" (wallet-initiated). */
  walletHomeUrl: string;
  tokenServiceUrl: string;
  /** A second bank's page (Bank B), on its own origin: it asks the wallet about Bank A's account ids and learns nothing. */
  secondIssuerUrl: string;
  secondIssuerOrigin: string;
  /** The wallet account's other device, where one card is in the wallet from the start. */
  otherDeviceId: string;
  /** Stops the three servers. Idempotent. */
  close(): Promise<void>;
}

const ISSUER_ID = 'bank-a';
const SECOND_ISSUER_ID = 'bank-b';
const WALLET_ACCOUNT_ID = 'wallet-user-42';
/** The wallet account's other device, where the card {@link ON_OTHER_DEVICE} is from the start. */
const OTHER_DEVICE_ID = 'ada-watch';
const ON_OTHER_DEVICE = 'acc_rewards_0010';
const SERVICE_ID = 'ts-browser-example';
const WALLET_PROVIDER_ID = 'wallet-co';
const CUSTOMER = 'customer-1001';
const CARDHOLDER = 'Ada Lovelace';
const SESSION_COOKIE = 'bank_session';
/** Bank B's cookie: cookies are per host, not per port, and both banks run on 127.0.0.1. */
const SECOND_SESSION_COOKIE = 'bank_b_session';

/**
 * The customer's cards, which only the bank's backend holds: two test numbers
 * of the issuer's range 411111, which the token service's decision rules
 * (`decision.byLast4`) approve and decline, and four of the token service's
 * sandbox test cards (range 400000): `0010` is approved (the example puts it
 * on the wallet account's other device at start); the others ask for step-up:
 * `0069` offers every verification method, `0028` a code by SMS, `0044` the
 * bank's app (here: the bank's page, app to app).
 */
function testCards(): { accountRef: string; card: Card; productName: string; testNote?: string }[] {
  const expiry = { month: 12, year: new Date().getUTCFullYear() + 3 };
  return [
    { accountRef: 'acc_everyday_1001', productName: 'Everyday Debit', card: { pan: '4111111111111111', expiry, cardholderName: CARDHOLDER } },
    {
      accountRef: 'acc_travel_1002',
      productName: 'Travel Debit',
      card: { pan: '4111111111150002', expiry, cardholderName: CARDHOLDER },
      testNote: 'Test card: the sandbox bank declines it',
    },
    {
      accountRef: ON_OTHER_DEVICE,
      productName: 'Rewards Credit',
      card: { pan: '4000000000000010', expiry, cardholderName: CARDHOLDER },
      testNote: 'Test card: already in the wallet on your watch',
    },
    {
      accountRef: 'acc_sandbox_0069',
      productName: 'Sandbox Debit',
      card: { pan: '4000000000000069', expiry, cardholderName: CARDHOLDER },
      testNote: 'Test card: the bank asks you to confirm it’s you',
    },
    {
      accountRef: 'acc_sandbox_0028',
      productName: 'Sandbox Credit',
      card: { pan: '4000000000000028', expiry, cardholderName: CARDHOLDER },
      testNote: 'Test card: a code by text message',
    },
    {
      accountRef: 'acc_sandbox_0044',
      productName: 'Sandbox Prepaid',
      card: { pan: '4000000000000044', expiry, cardholderName: CARDHOLDER },
      testNote: 'Test card: you confirm it here, at Bank A',
    },
  ];
}

/** The sandbox decision rules of the example's issuer: approve, except the card ending 0002. */
export const DECISION_RULES = { default: 'approve', byLast4: { '0002': 'decline' } } as const;

const PAGES_DIR = new URL('./pages/', import.meta.url);
const readPage = (name: string) => readFileSync(new URL(name, PAGES_DIR), 'utf8');

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function serve(handler: FetchHandler): Server {
  return createAdaptorServer({ fetch: handler, hostname: '127.0.0.1' }) as Server;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function page(html: string, csp: string, extra: Record<string, string> = {}): Response {
  return new Response(html, {
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, ...SECURITY_HEADERS, ...extra },
  });
}

function asset(body: string, type: string): Response {
  return new Response(body, { headers: { 'content-type': `${type}; charset=utf-8`, ...SECURITY_HEADERS } });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json', ...SECURITY_HEADERS } });
}

const notFound = () => new Response('Not found', { status: 404, headers: SECURITY_HEADERS });

function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** What Bank B's page gets from `/config.json`. */
export interface SecondIssuerPageConfig {
  issuerId: string;
  bankName: string;
  walletUrl: string;
  walletOrigin: string;
  walletName: string;
  /** Bank B's accounts: their ids are the same strings as Bank A's. */
  accounts: AccountHint[];
}

/**
 * Puts one of the customer's cards in the wallet on the wallet account's
 * other device, as that device's wallet would: the bank's backend builds the
 * encrypted request for that device's identifiers, the wallet provider submits
 * it to the token service.
 */
async function provisionOnOtherDevice(options: {
  builder: ProvisioningRequestBuilder<{ id: string }>;
  user: { id: string };
  accountRef: string;
  tokenService: HttpTokenServiceClient;
}): Promise<void> {
  const identifiers = {
    type: 'identifiers' as const,
    version: 1 as const,
    sessionId: createSessionId(),
    walletProviderId: WALLET_PROVIDER_ID,
    walletAccountId: WALLET_ACCOUNT_ID,
    deviceId: OTHER_DEVICE_ID,
    nonce: createNonce(),
  };
  const message = await options.builder.buildRequest({ accountRef: options.accountRef, identifiers, user: options.user });
  if (message.encryptedRequest === undefined) throw new Error('The bank built no request for the other device');
  await options.tokenService.submit(
    { type: 'submission', version: 1, sessionId: identifiers.sessionId, walletAccountId: WALLET_ACCOUNT_ID, deviceId: OTHER_DEVICE_ID, nonce: identifiers.nonce, encryptedRequest: message.encryptedRequest },
    { idempotencyKey: createId('idem') },
  );
}

/**
 * Starts the bank, the wallet and the token service on three origins, with
 * fresh keys, and bundles the two pages.
 */
export async function startBrowserExample(options: BrowserExampleOptions = {}): Promise<BrowserExample> {
  const servers: Server[] = [];
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= Promise.all(servers.map(closeServer)).then(() => undefined));
  try {
    const [bundles, keySet, issuerKey, secondIssuerKey, providerKey] = await Promise.all([
      bundlePages(),
      generateKeySet(),
      generateSigningKey({ alg: 'ES256', kid: `${ISSUER_ID}-sig-1` }),
      generateSigningKey({ alg: 'ES256', kid: `${SECOND_ISSUER_ID}-sig-1` }),
      generateSigningKey({ alg: 'ES256', kid: `${WALLET_PROVIDER_ID}-sig-1` }),
    ]);
    const styles = readPage('styles.css');

    // Bind all three first: each needs to know the others' origins.
    const issuerServer = serve((request) => issuerRoutes(request));
    const walletServer = serve((request) => walletRoutes(request));
    const tokenServer = serve((request) => tokenRoutes(request));
    const secondIssuerServer = serve((request) => secondIssuerRoutes(request));
    servers.push(issuerServer, walletServer, tokenServer, secondIssuerServer);
    const ports = options.ports ?? {};
    const [issuerPort, walletPort, tokenPort, secondIssuerPort] = [
      await listen(issuerServer, ports.issuer ?? 0),
      await listen(walletServer, ports.wallet ?? 0),
      await listen(tokenServer, ports.tokenService ?? 0),
      await listen(secondIssuerServer, ports.secondIssuer ?? 0),
    ];
    const secondIssuerOrigin = `http://127.0.0.1:${secondIssuerPort}`;
    const issuerOrigin = `http://127.0.0.1:${issuerPort}`;
    // "localhost" and "127.0.0.1" are different origins to the browser: the bank and the wallet never share one.
    const walletOrigin = `http://localhost:${walletPort}`;
    const tokenServiceUrl = `http://127.0.0.1:${tokenPort}`;

    // ── Token service: its Fetch handler, with CORS for the wallet page.
    const service = createTokenService(
      {
        serviceId: SERVICE_ID,
        keys: keySet,
        issuers: [
          {
            id: ISSUER_ID,
            jwks: { keys: [issuerKey.publicJwk] },
            // The bank's range, and the token service's sandbox test cards.
            binRanges: [
              { start: '411111', end: '411111' },
              { start: '400000', end: '400000' },
            ],
            walletProviders: [WALLET_PROVIDER_ID],
            network: 'visa',
            decision: { default: DECISION_RULES.default, byLast4: { ...DECISION_RULES.byLast4 } },
          },
          {
            // A second bank, onboarded with the same wallet provider: its own key, its own range.
            id: SECOND_ISSUER_ID,
            jwks: { keys: [secondIssuerKey.publicJwk] },
            binRanges: [{ start: '522222', end: '522222' }],
            walletProviders: [WALLET_PROVIDER_ID],
            network: 'mastercard',
          },
        ],
        walletProviders: [{ id: WALLET_PROVIDER_ID, jwks: { keys: [providerKey.publicJwk] } }],
        tokenRange: { bin: '489537', length: 16 },
      },
      createMemoryStore(),
      // Sandbox mode: the sandbox test cards pick their path, and one-time codes wait in GET /sandbox/inbox.
      { configOptions: { env: {} }, sandbox: true },
    );
    const app = createTokenServiceApp(service, { logger: silentLogger });
    const tokenHandler = withCors((request) => app.fetch(request), [walletOrigin]);
    const tokenRoutes = tokenHandler;

    // ── The bank: page, config, and the issuer backend behind a cookie session.
    const sessions = new Set<string>();
    const cards = testCards();
    const builder = createProvisioningRequestBuilder<{ id: string }>({
      issuerId: ISSUER_ID,
      signingKey: issuerKey.privateJwk,
      tokenService: { audience: SERVICE_ID, jwksUrl: `${tokenServiceUrl}/.well-known/jwks.json` },
      walletProviders: [WALLET_PROVIDER_ID],
      // The account reference is the bank's stable account id here too: it goes into the request as accountId.
      lookupCard: (accountRef, user) => {
        const found = user.id === CUSTOMER ? cards.find((c) => c.accountRef === accountRef) : undefined;
        return found ? { ...found.card, accountId: found.accountRef } : null;
      },
      // The customer's accounts: the backend signs a status query only for these ids.
      listAccounts: (user) => (user.id === CUSTOMER ? issuerConfig.cards.map((card) => ({ hint: { ...card.account, accountId: card.accountRef }, accountRef: card.accountRef })) : []),
    });
    function authenticate(request: Request): { id: string } | null {
      // Same-origin calls only (a cross-site form or script is not the bank's app), with a live session cookie.
      if (request.headers.get('origin') !== issuerOrigin) return null;
      const session = readCookie(request, SESSION_COOKIE);
      return session !== undefined && sessions.has(session) ? { id: CUSTOMER } : null;
    }
    const backend = createIssuerBackendHandler({ builder, authenticate });
    // App to app: the bank's page, handed the check by the wallet, asks this endpoint to activate the token.
    // It reads the token from the token service's issuer API (an assertion signed with the bank's key), and
    // activates it only when the account the token was provisioned for is one of the signed-in customer's.
    const activationHandler = createActivationHandler<{ id: string }>({
      tokenService: createIssuerTokenServiceClient({ issuerId: ISSUER_ID, signingKey: issuerKey.privateJwk, tokenService: { baseUrl: tokenServiceUrl, audience: SERVICE_ID } }),
      authenticate,
      ownsToken: ({ user, token }) => user.id === CUSTOMER && cards.some((c) => c.accountRef === token.accountId),
    });
    const issuerConfig: IssuerPageConfig = {
      issuerId: ISSUER_ID,
      bankName: 'Bank A',
      walletUrl: `${walletOrigin}/push`,
      walletOrigin,
      walletName: 'Wallet Co',
      cards: cards.map(({ accountRef, card, productName, testNote }) => ({
        accountRef,
        // The account id is the bank's stable, opaque id of the account: the token service records it with each token.
        account: { last4: card.pan.slice(-4), network: 'visa', productName, issuerName: 'Bank A', accountId: accountRef },
        ...(testNote !== undefined && { testNote }),
      })),
      cardholderName: CARDHOLDER,
    };
    const issuerHtml = readPage('issuer.html');
    const bankShareHtml = readPage('bank-share.html');
    const issuerCsp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    async function issuerRoutes(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url);
      if (request.method === 'POST' && pathname === '/api/push-provisioning') return backend(request);
      if (request.method === 'POST' && pathname === '/api/token-activation') return activationHandler(request);
      if (request.method !== 'GET') return notFound();
      switch (pathname) {
        case '/': {
          // "Signing in": a fresh session cookie for the demo customer.
          const session = createId('sess');
          sessions.add(session);
          return page(issuerHtml, issuerCsp, { 'set-cookie': `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` });
        }
        case '/from-wallet': {
          // Wallet-initiated: the wallet opened this window to ask which cards it may add. The customer signs in here too.
          const session = createId('sess');
          sessions.add(session);
          return page(bankShareHtml, issuerCsp, { 'set-cookie': `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` });
        }
        case '/bank-share-page.js':
          return asset(bundles.get('bank-share-page.js')!, 'text/javascript');
        case '/config.json':
          return json(issuerConfig);
        case '/issuer-page.js':
          return asset(bundles.get('issuer-page.js')!, 'text/javascript');
        case '/styles.css':
          return asset(styles, 'text/css');
        default:
          return notFound();
      }
    }

    // ── The wallet: page and config.
    const walletConfig: WalletPageConfig = {
      allowedIssuerOrigins: [issuerOrigin, secondIssuerOrigin],
      tokenServiceUrl,
      serviceId: SERVICE_ID,
      walletProviderId: WALLET_PROVIDER_ID,
      walletAccountId: WALLET_ACCOUNT_ID,
      walletUserName: 'Ada',
      closeDelayMs: options.walletCloseDelayMs ?? 2500,
      assertionPath: '/api/token-service-assertion',
      trustedIssuers: { [ISSUER_ID]: { keys: [issuerKey.publicJwk] }, [SECOND_ISSUER_ID]: { keys: [secondIssuerKey.publicJwk] } },
      banks: [{ issuerId: ISSUER_ID, name: 'Bank A', origin: issuerOrigin, addCardUrl: `${issuerOrigin}/from-wallet` }],
      sandboxInboxUrl: `${tokenServiceUrl}/sandbox/inbox`,
    };
    const walletHtml = readPage('wallet.html');
    const walletCsp = `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${tokenServiceUrl}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
    async function walletRoutes(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url);
      if (request.method === 'POST' && pathname === walletConfig.assertionPath) {
        // A real wallet server authenticates its user here first.
        const assertion = await createClientAssertion({ walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: providerKey.privateJwk });
        return new Response(assertion, { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });
      }
      if (request.method !== 'GET') return notFound();
      switch (pathname) {
        case '/push':
          return page(walletHtml, walletCsp);
        case '/':
          // The wallet's home: its user starts here to add a card from a bank (wallet-initiated).
          return page(walletHtml, walletCsp);
        case '/config.json':
          return json(walletConfig);
        case '/wallet-page.js':
          return asset(bundles.get('wallet-page.js')!, 'text/javascript');
        case '/styles.css':
          return asset(styles, 'text/css');
        default:
          return notFound();
      }
    }

    // ── Bank B: another issuer of the same wallet. Its account ids happen to be the same strings as Bank A's
    // (account ids are opaque and per issuer, so they may collide, or be copied). Asking the wallet about them,
    // Bank B learns nothing of Bank A's cards: the wallet answers only about Bank B's own tokens.
    const secondIssuerConfig: SecondIssuerPageConfig = {
      issuerId: SECOND_ISSUER_ID,
      bankName: 'Bank B',
      walletUrl: `${walletOrigin}/push`,
      walletOrigin,
      walletName: 'Wallet Co',
      accounts: cards.map(({ accountRef }, i) => ({ last4: `22${String(i + 10).padStart(2, '0')}`, network: 'mastercard', productName: 'Bank B Card', issuerName: 'Bank B', accountId: accountRef })),
    };
    const secondIssuerHtml = readPage('bank-b.html');
    const secondSessions = new Set<string>();
    const secondBackend = createIssuerBackendHandler({
      builder: createProvisioningRequestBuilder<{ id: string }>({
        issuerId: SECOND_ISSUER_ID,
        signingKey: secondIssuerKey.privateJwk,
        tokenService: { audience: SERVICE_ID, jwksUrl: `${tokenServiceUrl}/.well-known/jwks.json` },
        walletProviders: [WALLET_PROVIDER_ID],
        lookupCard: () => null,
        listAccounts: () => secondIssuerConfig.accounts.map((hint) => ({ hint: { ...hint, accountId: hint.accountId! }, accountRef: hint.accountId! })),
      }),
      authenticate: (request) => {
        if (request.headers.get('origin') !== secondIssuerOrigin) return null;
        const session = readCookie(request, SECOND_SESSION_COOKIE);
        return session !== undefined && secondSessions.has(session) ? { id: 'bank-b-customer' } : null;
      },
    });
    async function secondIssuerRoutes(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url);
      if (request.method === 'POST' && pathname === '/api/push-provisioning') return secondBackend(request);
      if (request.method !== 'GET') return notFound();
      switch (pathname) {
        case '/': {
          const session = createId('sess');
          secondSessions.add(session);
          return page(secondIssuerHtml, issuerCsp, { 'set-cookie': `${SECOND_SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` });
        }
        case '/config.json':
          return json(secondIssuerConfig);
        case '/bank-b-page.js':
          return asset(bundles.get('bank-b-page.js')!, 'text/javascript');
        case '/styles.css':
          return asset(styles, 'text/css');
        default:
          return notFound();
      }
    }

    // ── One card is in the wallet on the account's other device from the start (through the real API).
    await provisionOnOtherDevice({
      builder,
      user: { id: CUSTOMER },
      accountRef: ON_OTHER_DEVICE,
      tokenService: createHttpTokenServiceClient({
        baseUrl: tokenServiceUrl,
        auth: { walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: providerKey.privateJwk },
      }),
    });

    return {
      issuerUrl: `${issuerOrigin}/`,
      issuerOrigin,
      walletUrl: `${walletOrigin}/push`,
      walletOrigin,
      walletHomeUrl: `${walletOrigin}/`,
      tokenServiceUrl,
      secondIssuerUrl: `${secondIssuerOrigin}/`,
      secondIssuerOrigin,
      otherDeviceId: OTHER_DEVICE_ID,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
