// Starts everything the demo talks to, on 127.0.0.1 with free ports, from
// nothing: fresh keys and a fresh SQLite database in a new temporary folder.
// `close()` stops both servers and removes the folder.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import {
  createActivationHandler,
  createIssuerBackendHandler,
  createIssuerTokenServiceClient,
  createProvisioningRequestBuilder,
  createNotificationHandler as createBankNotificationHandler,
} from '@pushprov/issuer-sdk/server';
import { type JwkPair, type NotificationEvent, type ProvisioningError, generateSigningKey } from '@pushprov/protocol';
import { createNotificationHandler as createWalletNotificationHandler } from '@pushprov/wallet-sdk/notifications';
import { type LogEvent, generateKeySet, loadConfig, migrateStore } from '@pushprov/token-service';
import { type RunningTokenServer, startTokenServer } from '@pushprov/token-service/server';
import {
  ACCOUNT_REF,
  DEMO_USER,
  ISSUER_BIN,
  ISSUER_ID,
  OTHER_USER,
  SANDBOX_BIN,
  SERVICE_ID,
  TOKEN_BIN,
  WALLET_PROVIDER_ID,
  createSandboxCard,
  createTestCard,
} from './test-card.js';

/** The path the issuer backend serves. */
export const BACKEND_PATH = '/api/push-provisioning';
/** The path of the issuer backend's activation endpoint (app-to-app, the `issuer_app` method). */
export const ACTIVATION_PATH = '/api/token-activation';

/** One one-time code the sandbox token service "sent" (`GET /sandbox/inbox`). */
export interface InboxMessage {
  tokenReferenceId: string;
  methodId: string;
  type: string;
  destination?: string;
  code: string;
  sentAt: number;
}

/** The path where the bank's backend receives the token service's signed notifications. */
export const BANK_EVENTS_PATH = '/api/token-events';
/** The path where the wallet provider's backend receives them. */
export const WALLET_EVENTS_PATH = '/wallet/token-events';

/** What {@link startSandbox} started. */
export interface Sandbox {
  /**
   * The notifications each backend verified and processed (once per event
   * id, in arrival order): the bank's (its cards' tokens) and the wallet
   * provider's (its tokens).
   */
  notifications: { bank: NotificationEvent[]; wallet: NotificationEvent[] };
  /** The bank backend's client of the token service's issuer API (issuer assertions by the bank's key). */
  issuerApi: ReturnType<typeof createIssuerTokenServiceClient>;
  /** The temporary folder: key set, configuration, SQLite database. */
  dir: string;
  dbPath: string;
  tokenService: RunningTokenServer;
  /** The token service's public encryption key id (what issuers encrypt to). */
  tokenServiceKid: string;
  /** The issuer backend's endpoint, e.g. `http://127.0.0.1:41235/api/push-provisioning`. */
  backendUrl: string;
  /** The issuer backend's activation endpoint (`createActivationHandler`). */
  activationUrl: string;
  /** Reads the sandbox inbox of a token (`GET /sandbox/inbox?tokenReferenceId=…`): the codes the sandbox sent, oldest first. */
  readInbox(tokenReferenceId: string): Promise<InboxMessage[]>;
  /** The issuer's signing key pair (the public half is trusted by the wallet and the token service). */
  issuerKey: JwkPair;
  /** The wallet provider's signing key pair (client assertions). */
  walletProviderKey: JwkPair;
  /** Every log event of the token service (request lines: method, path, status, code, duration). */
  serviceLog: LogEvent[];
  /** Errors the issuer backend answered with (safe to log: no card data). */
  backendErrors: ProvisioningError[];
  /** Which store the token service runs on. */
  store: 'sqlite' | 'postgres';
  /**
   * Looks for `needle` in the store: the SQLite files as raw bytes, or every
   * row of every table in PostgreSQL as text (the vault must hold the PAN only encrypted).
   */
  databaseContains(needle: string): Promise<boolean>;
  /** Stops both servers, closes the database and removes the folder. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Called with each token service log event as it happens. */
  onServiceLog?: (event: LogEvent) => void;
  /** Called with each request the issuer backend serves and how long it took. */
  onBackendCall?: (call: { type: string; status: number; ms: number; body: string }) => void;
  /**
   * `sqlite` (default): a database file in the folder. `postgres`: a
   * throwaway PostgreSQL cluster from the machine's binaries (or a database
   * on the server of `TEST_DATABASE_URL`), migrated with the token
   * service's migrations, removed at the end.
   */
  store?: 'sqlite' | 'postgres';
  /** The token service's `verification` settings (e.g. a short resend cooldown for tests). */
  verification?: { codeLength?: number; codeTtlSeconds?: number; resendCooldownSeconds?: number; maxAttempts?: number };
}

/** The PostgreSQL tables of the token service, scanned for a needle. */
const PG_TABLES = ['tokens', 'vault', 'replay', 'idempotency', 'idempotency_pending', 'verification_codes', 'token_history', 'events', 'deliveries'];

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
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

/**
 * Generates fresh keys, writes a token service configuration into a new
 * temporary folder, starts the token service (SQLite store) and an issuer
 * backend (the issuer SDK's Fetch handler on Node's http), both on
 * 127.0.0.1 port 0.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'pushprov-demo-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch {
          // Best effort: the remaining cleanups still run.
        }
      }
    })());

  try {
    // 1. Fresh keys: the token service's key set, the issuer's and the wallet provider's signing keys.
    const [keySet, issuerKey, walletProviderKey] = await Promise.all([
      generateKeySet(),
      generateSigningKey({ alg: 'ES256', kid: `${ISSUER_ID}-sig-1` }),
      generateSigningKey({ alg: 'EdDSA', kid: `${WALLET_PROVIDER_ID}-sig-1` }),
    ]);
    const tokenServiceKid = keySet.encryptionKeys.keys[0]!.kid;

    // The backends' webhook endpoints listen first (their URLs go into the configuration); their
    // handlers are mounted once the token service, whose key set they verify against, is up.
    const notifications: Sandbox['notifications'] = { bank: [], wallet: [] };
    let bankEvents: ((request: Request) => Promise<Response>) | undefined;
    let walletEvents: ((request: Request) => Promise<Response>) | undefined;
    const notYet = () => new Response('starting', { status: 503 });
    const walletBackend = createAdaptorServer({
      fetch: (request: Request) => (new URL(request.url).pathname === WALLET_EVENTS_PATH ? (walletEvents ?? notYet)(request) : new Response('Not found', { status: 404 })),
      hostname: '127.0.0.1',
    }) as Server;
    const walletBase = await listen(walletBackend);
    cleanups.push(() => closeServer(walletBackend));
    let routeBank: (request: Request) => Promise<Response> = async () => notYet();
    const backend = createAdaptorServer({ fetch: (request: Request) => routeBank(request), hostname: '127.0.0.1' }) as Server;
    const backendBase = await listen(backend);
    cleanups.push(() => closeServer(backend));

    // 2. The token service configuration, as files: a private key set (mode 600), two public JWK sets, the config.
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(keySet, null, 2), { mode: 0o600 });
    writeFileSync(join(dir, `${ISSUER_ID}.jwks.json`), JSON.stringify({ keys: [issuerKey.publicJwk] }, null, 2));
    writeFileSync(join(dir, `${WALLET_PROVIDER_ID}.jwks.json`), JSON.stringify({ keys: [walletProviderKey.publicJwk] }, null, 2));
    const config = {
      serviceId: SERVICE_ID,
      keys: 'keys.json',
      issuers: [
        {
          id: ISSUER_ID,
          jwks: `${ISSUER_ID}.jwks.json`,
          // The bank's own range, and the token service's sandbox test cards (their last four digits pick the path).
          binRanges: [
            { start: ISSUER_BIN, end: ISSUER_BIN },
            { start: SANDBOX_BIN, end: SANDBOX_BIN },
          ],
          walletProviders: [WALLET_PROVIDER_ID],
          network: 'visa',
          decision: 'approve',
          notifications: { endpoint: `${backendBase}${BANK_EVENTS_PATH}` },
        },
      ],
      walletProviders: [{ id: WALLET_PROVIDER_ID, jwks: `${WALLET_PROVIDER_ID}.jwks.json`, notifications: { endpoint: `${walletBase}${WALLET_EVENTS_PATH}` } }],
      // The dispatcher looks for new events every 50 ms: the demo's notifications arrive at once.
      notifications: { pollIntervalMs: 50 },
      tokenRange: { bin: TOKEN_BIN, length: 16 },
      ...(options.verification && { verification: options.verification }),
    };
    writeFileSync(join(dir, 'token-service.json'), JSON.stringify(config, null, 2));

    // 3. The token service over HTTP, with the SQLite store.
    const serviceLog: LogEvent[] = [];
    const record = (event: LogEvent) => {
      serviceLog.push(event);
      options.onServiceLog?.(event);
    };
    const dbPath = join(dir, 'token-service.db');
    const storeKind = options.store ?? 'sqlite';
    let storeUrl = dbPath;
    if (storeKind === 'postgres') {
      const { startPgCluster } = await import('../../../scripts/lib/pg-cluster.mjs');
      const cluster = await startPgCluster();
      cleanups.push(() => cluster.destroy());
      storeUrl = await cluster.createDatabase();
      await migrateStore(storeUrl);
    }
    const tokenService = await startTokenServer({
      config: loadConfig(join(dir, 'token-service.json'), { env: {} }),
      storeUrl,
      logger: { info: record, error: record },
      purgeIntervalMs: 0,
      // Sandbox mode: the test cards pick the path, and the one-time codes wait in GET /sandbox/inbox.
      sandbox: true,
    });
    cleanups.push(() => tokenService.close());

    // 4. The issuer backend: looks the card up by account reference for the signed-in user,
    //    signs invocations, builds and encrypts requests to the token service's key (fetched from its JWKS).
    const card = createTestCard();
    const backendErrors: ProvisioningError[] = [];
    const builder = createProvisioningRequestBuilder<{ id: string }>({
      issuerId: ISSUER_ID,
      signingKey: issuerKey.privateJwk,
      tokenService: { audience: SERVICE_ID, jwksUrl: `${tokenService.url}/.well-known/jwks.json` },
      walletProviders: [WALLET_PROVIDER_ID],
      // The account reference is this bank's stable account id too: it goes into the request as accountId.
      lookupCard: (accountRef, user) => {
        const found = user.id !== DEMO_USER.id ? null : accountRef === ACCOUNT_REF ? card : createSandboxCard(accountRef);
        return found && { ...found, accountId: accountRef };
      },
    });
    // A real backend reads its own session cookie or bearer token here.
    const authenticate = (request: Request) =>
      [DEMO_USER, OTHER_USER].map((u) => (request.headers.get('authorization') === `Bearer ${u.sessionToken}` ? { id: u.id } : null)).find(Boolean) ?? null;
    const handler = createIssuerBackendHandler({ builder, authenticate, onError: (error) => backendErrors.push(error) });
    // App-to-app activation: the bank's app, opened by the wallet and signed in, asks its backend to activate
    // the token; the backend calls the token service's issuer API with an assertion signed by the issuer's key.
    const issuerApi = createIssuerTokenServiceClient({
      issuerId: ISSUER_ID,
      signingKey: issuerKey.privateJwk,
      tokenService: { baseUrl: tokenService.url, audience: SERVICE_ID },
    });
    const activation = createActivationHandler({
      tokenService: issuerApi,
      authenticate,
      // Whose token is it? The token service answers the account id the token was provisioned for
      // (one of this issuer's cards, else `not_found` before this is asked): it must be an account of
      // the signed-in customer. This sandbox bank has one customer holding every card.
      ownsToken: ({ user, token }) =>
        user.id === DEMO_USER.id && token.accountId !== undefined && (token.accountId === ACCOUNT_REF || createSandboxCard(token.accountId) !== null),
      onError: (error) => backendErrors.push(error),
    });
    // The backends' notification receivers: the signature by kid from the token service's key set
    // (fetched from its JWKS URL), the type, a time window, each event processed once.
    const jwksUrl = `${tokenService.url}/.well-known/jwks.json`;
    bankEvents = createBankNotificationHandler({ jwks: jwksUrl, issuer: SERVICE_ID, audience: ISSUER_ID, onEvent: (event) => void notifications.bank.push(event) });
    walletEvents = createWalletNotificationHandler({ jwks: jwksUrl, issuer: SERVICE_ID, audience: WALLET_PROVIDER_ID, onEvent: (event) => void notifications.wallet.push(event) });
    routeBank = async (request: Request) => {
        const path = new URL(request.url).pathname;
        if (path === BANK_EVENTS_PATH) return bankEvents!(request);
        if (path !== BACKEND_PATH && path !== ACTIVATION_PATH) return new Response('Not found', { status: 404 });
        const started = performance.now();
        const type = request.headers.get('content-type')?.startsWith('application/json') ? ((await request.clone().json().catch(() => ({}))) as { type?: string }).type : undefined;
        const response = await (path === BACKEND_PATH ? handler(request) : activation(request));
        options.onBackendCall?.({ type: type ?? 'unknown', status: response.status, ms: performance.now() - started, body: await response.clone().text() });
        return response;
    };

    return {
      notifications,
      issuerApi,
      dir,
      dbPath,
      tokenService,
      tokenServiceKid,
      backendUrl: `${backendBase}${BACKEND_PATH}`,
      activationUrl: `${backendBase}${ACTIVATION_PATH}`,
      async readInbox(tokenReferenceId) {
        const answer = await fetch(`${tokenService.url}/sandbox/inbox?tokenReferenceId=${encodeURIComponent(tokenReferenceId)}`);
        if (!answer.ok) throw new Error(`The sandbox inbox answered ${answer.status}`);
        return ((await answer.json()) as { messages: InboxMessage[] }).messages;
      },
      issuerKey,
      walletProviderKey,
      serviceLog,
      backendErrors,
      store: storeKind,
      async databaseContains(needle) {
        if (storeKind === 'postgres') {
          const { default: pg } = await import('pg');
          const client = new pg.Client({ connectionString: storeUrl });
          await client.connect();
          try {
            for (const table of PG_TABLES) {
              const found = await client.query(`SELECT 1 FROM ${table} t WHERE strpos(row_to_json(t)::text, $1) > 0 LIMIT 1`, [needle]);
              if (found.rowCount) return true;
            }
            return false;
          } finally {
            await client.end();
          }
        }
        const bytes = Buffer.from(needle, 'utf8');
        return ['', '-wal'].some((suffix) => {
          try {
            return readFileSync(`${dbPath}${suffix}`).includes(bytes);
          } catch {
            return false;
          }
        });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
