// The demo's story: a bank app (issuer SDK) pushes a card into a wallet app
// (wallet SDK) over an in-memory app channel, with a real issuer backend and
// a real token service on loopback HTTP. Then an attacker tries the two
// classic misuses of a captured request and is refused.
//
// The SDKs do all the work. The demo only wraps a few seams (the channel's
// `send`, the token service client, the token store, the servers' logs) to
// narrate each step as it happens; none of it changes behaviour.
import {
  type AppMessage,
  type Identifiers,
  type ProvisioningError,
  type Submission,
  createNonce,
  createMemoryChannelPair,
  createSessionId,
  fromBase64Url,
  isProvisioningError,
  maskPan,
  redactPans,
} from '@pushprov/protocol';
import { type ProvisioningOutcome, createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { createBackendActivationSource } from '@pushprov/issuer-sdk/activation';
import { createActivations } from '@pushprov/wallet-sdk/activation';
import { type TokenServiceClient, type TokenStore, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { networkName } from './format-text.js';
import { type Sandbox, startSandbox } from './start-sandbox.js';
import {
  ACCOUNT_HINT,
  ACCOUNT_REF,
  DEMO_USER,
  DEVICE_ID,
  ISSUER_ID,
  OTHER_DEVICE_ID,
  SERVICE_ID,
  WALLET_ACCOUNT_ID,
  WALLET_PROVIDER_ID,
  createSandboxCard,
  createTestCard,
  sandboxAccountHint,
} from './test-card.js';

/** The steps the demo reports, in the order they happen. */
export const STEP_IDS = [
  'setup',
  'invocation',
  'consent',
  'identifiers',
  'request_built',
  'delivered',
  'submitted',
  'validated',
  'token_issued',
  'stored',
  'result',
  'completed',
  'replay_refused',
  'device_move_refused',
  'step_up',
  'code_sent',
  'code_read',
  'activated',
  'suspended',
  'resumed',
  'deleted',
  'notified',
  'vault_checked',
] as const;
export type StepId = (typeof STEP_IDS)[number];

/** One reported step. Safe to print: ids, last four digits, codes, sizes, times. */
export interface DemoStep {
  id: StepId;
  /** Who acts, e.g. `issuer app → wallet`. */
  actor: string;
  title: string;
  /** Facts about the step, one per line. */
  lines: string[];
  /** Milliseconds since the demo started. */
  elapsedMs: number;
  /** Milliseconds since the previous step. */
  stepMs: number;
}

/** A refused attack and the code the token service answered with. */
export interface Refusal {
  attack: 'replay' | 'device_move';
  description: string;
  code: string;
  status: number | undefined;
  retryable: boolean;
}

/** The machine-readable summary (`--json`). Holds no card or token number. */
export interface DemoSummary {
  ok: true;
  durationMs: number;
  card: { network: string; last4: string; productName: string | undefined; issuerId: string };
  sessionId: string;
  wallet: { walletProviderId: string; walletAccountId: string; deviceId: string };
  request: { length: number; alg: string; enc: string; kid: string; cty: string };
  token: { tokenReferenceId: string; tokenLast4: string; status: string; expiry: string; encryptedToDevice: boolean };
  issuerOutcome: { state: string; status: string };
  refusals: Refusal[];
  /** The yellow path: a sandbox card whose issuer asks to confirm the cardholder, confirmed with a one-time code. */
  yellow: { last4: string; tokenReferenceId: string; method: string; destination: string; codeLength: number; attemptsLeft: number; status: string };
  /** The token's life: the wallet suspends it, the bank resumes it, the wallet deletes it; the signed notifications each backend processed for it. */
  lifecycle: {
    tokenReferenceId: string;
    changes: { by: 'wallet' | 'bank'; action: 'suspend' | 'resume' | 'delete'; previousStatus: string; status: string }[];
    bank: { type: string; sequence: number; actor: string; reason: string }[];
    wallet: { type: string; sequence: number; actor: string; reason: string }[];
  };
  checks: { panInAppMessages: boolean; panInDatabase: boolean; messagesRefusedBySession: number };
  steps: DemoStep[];
}

/** A demo failure with a clear message (and the protocol code when there is one). */
export class DemoError extends Error {
  override name = 'DemoError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(redactPans(message));
  }
}

/** Options of {@link runDemo}. */
export interface RunDemoOptions {
  /** Receives each step as it happens. */
  onStep?: ((step: DemoStep) => void) | undefined;
  /** Aborts the demo (servers are still closed and the folder removed). */
  signal?: AbortSignal;
  /** The whole run's time limit. Default 30 000 ms. */
  timeoutMs?: number;
  /** The token service's store (see `startSandbox`). Default `sqlite`. */
  store?: 'sqlite' | 'postgres';
}

const short = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);
const round = (ms: number) => Math.round(ms * 10) / 10;

/** Reads a compact JOSE object's protected header (public information). */
function joseHeader(compact: string): Record<string, unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(fromBase64Url(compact.split('.')[0] ?? ''))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Replaces `channel.send` with one that reports each message first. */
function tapSend(channel: { send(message: AppMessage): Promise<void> }, onMessage: (message: AppMessage) => void): void {
  const send = channel.send.bind(channel);
  channel.send = (message) => {
    onMessage(message);
    return send(message);
  };
}

/** Expects `attempt` to be refused with `code`; returns what the token service answered. */
async function expectRefusal(attempt: () => Promise<unknown>, code: string, what: string): Promise<ProvisioningError> {
  try {
    await attempt();
  } catch (error) {
    if (isProvisioningError(error)) {
      if (error.code !== code) throw new DemoError(`${what}: expected ${code}, got ${error.code} (${error.message})`, error.code);
      return error;
    }
    throw error;
  }
  throw new DemoError(`${what} was accepted: the token service should have refused it with ${code}`);
}

/**
 * Runs the whole demo: starts the sandbox, provisions the test card end to
 * end, shows a replayed request and a request moved to another device being
 * refused, checks that no card number leaked, and closes everything.
 * Resolves with the summary; rejects with a {@link DemoError} (or the
 * SDK's `ProvisioningError`) when anything is not as it should be.
 */
export async function runDemo(options: RunDemoOptions = {}): Promise<DemoSummary> {
  const signal = AbortSignal.any([options.signal ?? new AbortController().signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)]);
  const t0 = performance.now();
  let last = t0;
  const steps: DemoStep[] = [];
  const emit = (id: StepId, actor: string, title: string, lines: string[]) => {
    const now = performance.now();
    const step: DemoStep = { id, actor, title, lines: lines.map(redactPans), elapsedMs: round(now - t0), stepMs: round(now - last) };
    last = now;
    steps.push(step);
    options.onStep?.(step);
  };

  const card = createTestCard();
  let phase: 'provisioning' | 'attacks' | 'yellow' | 'lifecycle' = 'provisioning';
  let signMs: number | undefined;
  let request: DemoSummary['request'] | undefined;
  const sandbox: Sandbox = await startSandbox({
    ...(options.store === undefined ? {} : { store: options.store }),
    onBackendCall(call) {
      if (call.type === 'sign-invocation') signMs = call.ms;
      if (call.type !== 'build-request' || call.status !== 200 || phase !== 'provisioning') return;
      const { encryptedRequest } = JSON.parse(call.body) as { encryptedRequest: string };
      const h = joseHeader(encryptedRequest);
      request = { length: encryptedRequest.length, alg: String(h.alg), enc: String(h.enc), kid: String(h.kid), cty: String(h.cty) };
      emit('request_built', 'issuer backend', 'encrypted request built', [
        `looked up ${ACCOUNT_REF} for the signed-in customer → Visa ${maskPan(card.pan)}`,
        `claims bound to session, ${WALLET_PROVIDER_ID}, ${WALLET_ACCOUNT_ID}, ${DEVICE_ID} and the wallet nonce; lives 5 min`,
        `signed ES256 (kid ${sandbox.issuerKey.publicJwk.kid}), encrypted ${request.alg} / ${request.enc} to kid ${short(request.kid)}`,
        `compact JWE, ${request.length} characters: opaque to both apps (${round(call.ms)} ms on the backend)`,
      ]);
    },
    onServiceLog(event) {
      if (phase !== 'provisioning' || event.msg !== 'request' || event.path !== '/v1/provisioning-requests') return;
      emit('validated', 'token service', 'request validated', [
        'decrypted · issuer signature (kid) · aud, iat, exp · jti never seen',
        'binding: session, wallet provider (authenticated caller), wallet account, device, nonce all match',
        `card: Luhn, not expired, inside bank-a's BIN range · decision: approve → HTTP ${String(event.status)} in ${String(event.durationMs)} ms`,
      ]);
    },
  });
  const cleanup: Array<() => void> = [];

  try {
    emit('setup', 'demo', 'sandbox started', [
      `fresh keys: token service ECDH-ES P-256 (kid ${short(sandbox.tokenServiceKid)}), ${ISSUER_ID} ES256, ${WALLET_PROVIDER_ID} EdDSA`,
      `token service  ${sandbox.tokenService.url}  (SQLite store in a new temporary folder)`,
      `issuer backend ${sandbox.backendUrl}`,
    ]);

    // ── The issuer app: the bank's app. It holds an account reference and the last 4 digits, never the card.
    const backend = createBackendRequestSource({ url: sandbox.backendUrl, headers: { authorization: `Bearer ${DEMO_USER.sessionToken}` } });
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: backend, invocationSigner: backend.signInvocation });

    // ── The wallet app: trusts bank-a's key, authenticates to the token service as its wallet provider.
    const httpClient = createHttpTokenServiceClient({
      baseUrl: sandbox.tokenService.url,
      auth: { walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: sandbox.walletProviderKey.privateJwk },
    });
    let captured: Submission | undefined;
    const tokenService: TokenServiceClient = {
      async submit(submission, submitOptions) {
        if (phase !== 'provisioning') return httpClient.submit(submission, submitOptions);
        captured = submission;
        emit('submitted', 'wallet → token service', 'request submitted', [
          `POST /v1/provisioning-requests, authenticated as ${WALLET_PROVIDER_ID} (signed client assertion)`,
          `identifiers in the clear + the encrypted request; Idempotency-Key ${short(submitOptions.idempotencyKey)}`,
          submission.devicePublicKey ? 'device public key attached: the access data will come back encrypted to it' : 'no device key',
        ]);
        const response = await httpClient.submit(submission, submitOptions);
        emit('token_issued', 'token service → wallet', 'token issued', [
          `token reference ${response.tokenReferenceId}, status ${response.status}`,
          response.encryptedAccessData
            ? `access data returned as a JWE to the device key (${response.encryptedAccessData.length} characters)`
            : 'access data returned in the clear',
        ]);
        return response;
      },
      getTokenStatus: (id, o) => httpClient.getTokenStatus(id, o),
    };
    const store = createMemoryTokenStore();
    let tokenSummary: DemoSummary['token'] | undefined;
    const tokenStore: TokenStore = {
      async save(token) {
        if (phase !== 'provisioning') return store.save(token);
        const { accessData } = token;
        const expiry = `${String(accessData.tokenExpiry.month).padStart(2, '0')}/${accessData.tokenExpiry.year}`;
        tokenSummary = {
          tokenReferenceId: accessData.tokenReferenceId,
          tokenLast4: accessData.tokenNumber.slice(-4),
          status: accessData.status,
          expiry,
          encryptedToDevice: false,
        };
        emit('stored', 'wallet', 'token stored', [
          `decrypted with the device key; token ${maskPan(accessData.tokenNumber)} (card •••• ${accessData.panLast4}), expires ${expiry}`,
          'saved in the wallet’s token store (the only place the token number lives on the device)',
        ]);
        return store.save(token);
      },
      get: (id) => store.get(id),
      list: () => store.list(),
      delete: (id) => store.delete(id),
    };
    const wallet = createWallet({
      identity: () => ({ walletProviderId: WALLET_PROVIDER_ID, walletAccountId: WALLET_ACCOUNT_ID, deviceId: DEVICE_ID }),
      consent: (prompt) => {
        if (phase !== 'provisioning') return true;
        emit('consent', 'wallet', 'user consents', [
          `“${prompt.issuerName ?? prompt.issuerId} wants to add ${networkName(prompt.account.network)} •••• ${prompt.account.last4} (${prompt.account.productName ?? 'card'})”`,
          prompt.verified ? `issuer signature verified against ${ISSUER_ID}'s trusted key` : 'UNVERIFIED issuer',
          'the user taps “Add” (the demo answers yes)',
        ]);
        return true;
      },
      tokenService,
      tokenStore,
      trustedIssuers: { [ISSUER_ID]: { keys: [sandbox.issuerKey.publicJwk] } },
      deviceKey: generatedDeviceKey(),
    });

    // ── The app channel between the two apps (in memory here; a popup, deep links or your own in real apps).
    const pair = createMemoryChannelPair();
    cleanup.push(() => pair.issuer.close());
    const wire: string[] = [];
    tapSend(pair.issuer, (message) => {
      wire.push(JSON.stringify(message));
      if (message.type === 'invocation') {
        const h = message.signature ? joseHeader(message.signature) : {};
        emit('invocation', 'issuer app → wallet', 'invocation sent', [
          `session ${short(message.sessionId)} (128 random bits), expires in ${message.exp - message.iat} s`,
          `account hint only: ${networkName(message.account!.network)} •••• ${message.account!.last4}${message.account!.productName ? `, ${message.account!.productName}` : ''}`,
          message.signature
            ? `signed by the issuer backend (${String(h.alg)}, kid ${String(h.kid)})${signMs === undefined ? '' : ` in ${round(signMs)} ms`}`
            : 'unsigned',
        ]);
      }
      if (message.type === 'provisioning-request') {
        emit('delivered', 'issuer app → wallet', 'request delivered', [`provisioning-request for session ${short(message.sessionId)}: the wallet cannot read it`]);
      }
    });
    tapSend(pair.wallet, (message) => {
      wire.push(JSON.stringify(message));
      if (message.type === 'identifiers') {
        emit('identifiers', 'wallet → issuer app', 'identifiers sent', [
          `wallet provider ${message.walletProviderId}, wallet account ${message.walletAccountId}, device ${message.deviceId}`,
          `fresh wallet nonce ${short(message.nonce)}${message.devicePublicKey ? ', device public key (P-256)' : ''}`,
        ]);
      }
      if (message.type === 'result') {
        emit('result', 'wallet → issuer app', 'result returned', [
          `status ${message.status}${message.tokenReferenceId ? `, token reference ${message.tokenReferenceId}` : ''}${message.errorCode ? `, code ${message.errorCode}` : ''}`,
          'nothing sensitive: no card or token number crosses back',
        ]);
      }
    });

    // ── Run both apps.
    const session = issuer.createSession({ account: ACCOUNT_HINT, accountRef: ACCOUNT_REF, wallet: pair.issuer, signal });
    let refusedBySession = 0;
    session.subscribe((event) => {
      if (event.type === 'message_rejected') refusedBySession++;
    });
    const walletOutcome = wallet.handleInvocation(pair.wallet, { signal, timeoutMs: options.timeoutMs ?? 30_000 });
    const outcome = await session.run();
    if (outcome.state !== 'completed') {
      const w = await walletOutcome;
      const walletCode = 'error' in w ? w.error.code : undefined;
      const code = outcome.error.code;
      throw new DemoError(
        `Provisioning failed: the issuer session ended ${session.state} with ${code}${walletCode ? `; the wallet reported ${walletCode}` : ''}`,
        code,
      );
    }
    const w = await walletOutcome;
    if (w.status !== 'provisioned') throw new DemoError(`The wallet ended ${w.status}`, 'error' in w ? w.error.code : undefined);
    emit('completed', 'issuer app', 'provisioning completed', [
      `session ${short(outcome.sessionId)} ended ${outcome.state}: ${outcome.status}, token reference ${outcome.tokenReferenceId ?? '-'}`,
      `the bank’s app shows “Visa •••• ${ACCOUNT_HINT.last4} is in your wallet”`,
    ]);
    if (!tokenSummary || !captured || !request) throw new DemoError('A step did not report: the demo could not follow the flow');
    tokenSummary.encryptedToDevice = true;

    // ── The attacks: a captured request is worth nothing elsewhere.
    phase = 'attacks';
    const attacker = createHttpTokenServiceClient({
      baseUrl: sandbox.tokenService.url,
      auth: { walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: sandbox.walletProviderKey.privateJwk },
      maxRetries: 0,
    });
    const refusals: Refusal[] = [];
    const original = captured;
    const replay = await expectRefusal(() => attacker.submit(original, { signal }), 'replayed', 'The replayed request');
    refusals.push({ attack: 'replay', description: 'the same encrypted request submitted again (new idempotency key)', code: replay.code, status: replay.status, retryable: replay.retryable });
    emit('replay_refused', 'attacker → token service', 'replayed request refused', [
      'the captured submission sent again, byte for byte, with a new Idempotency-Key',
      `→ HTTP ${replay.status} ${replay.code}: its jti was recorded when the token was issued`,
    ]);

    // A fresh request for the phone, taken to another device before the wallet could use it.
    const identifiers: Identifiers = {
      type: 'identifiers',
      version: 1,
      sessionId: createSessionId(),
      walletProviderId: WALLET_PROVIDER_ID,
      walletAccountId: WALLET_ACCOUNT_ID,
      deviceId: DEVICE_ID,
      nonce: createNonce(),
    };
    const built = await backend.buildRequest({ identifiers, accountRef: ACCOUNT_REF }, { signal });
    const moved: Submission = {
      type: 'submission',
      version: 1,
      sessionId: identifiers.sessionId,
      walletAccountId: identifiers.walletAccountId,
      deviceId: OTHER_DEVICE_ID,
      nonce: identifiers.nonce,
      encryptedRequest: built.encryptedRequest!,
    };
    const move = await expectRefusal(() => attacker.submit(moved, { signal }), 'device_mismatch', 'The request moved to another device');
    refusals.push({ attack: 'device_move', description: `a fresh request built for ${DEVICE_ID}, submitted from ${OTHER_DEVICE_ID}`, code: move.code, status: move.status, retryable: move.retryable });
    emit('device_move_refused', 'attacker → token service', 'request moved to another device refused', [
      `a fresh request for ${DEVICE_ID}, never used, submitted from ${OTHER_DEVICE_ID}`,
      `→ HTTP ${move.status} ${move.code}: the device id sealed inside ≠ the device id submitted`,
    ]);

    // ── The yellow path: a sandbox test card whose issuer asks to confirm the cardholder before the token works.
    phase = 'yellow';
    const yellowRef = 'acc_sandbox_0028';
    const yellowHint = sandboxAccountHint(yellowRef);
    const bankActivation = createBackendActivationSource({ url: sandbox.activationUrl, headers: { authorization: `Bearer ${DEMO_USER.sessionToken}` } });
    const yellowIssuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: backend, invocationSigner: backend.signInvocation, tokenStatusSource: bankActivation });
    const yellowPair = createMemoryChannelPair();
    cleanup.push(() => yellowPair.issuer.close());
    const yellowWallet = wallet.handleInvocation(yellowPair.wallet, { signal, timeoutMs: options.timeoutMs ?? 30_000 });
    const yellowSession = yellowIssuer.createSession({ account: yellowHint, accountRef: yellowRef, wallet: yellowPair.issuer, signal });
    const yellowOutcome = await yellowSession.run();
    if (yellowOutcome.state !== 'completed') {
      throw new DemoError(`The yellow-path provisioning failed: ${yellowOutcome.error.code}`, yellowOutcome.error.code);
    }
    const yw = await yellowWallet;
    if (yw.status !== 'pending_activation') throw new DemoError(`The yellow-path card ended ${yw.status} in the wallet`, 'error' in yw ? yw.error.code : undefined);
    const yellowId = yw.token.tokenReferenceId;
    const describeMethod = (m: { type: string; destination?: string | undefined; phoneNumber?: string | undefined }) =>
      `${m.type}${m.destination ? ` to ${m.destination}` : ''}${m.phoneNumber ? ` (${m.phoneNumber})` : ''}`;
    emit('step_up', 'token service → wallet', 'step-up requested', [
      `Visa •••• ${yellowHint.last4} (a sandbox test card): the issuer asks to confirm the cardholder before the token works`,
      `token reference ${yellowId}, status ${yw.token.status}: stored in the wallet with its methods, unusable for payments until active`,
      `methods: ${yw.verification.methods.map(describeMethod).join(', ')}; the bank’s app shows them too (${yellowOutcome.verification?.methods.length ?? 0} read through its backend)`,
    ]);
    const activations = createActivations({ tokenService: httpClient, tokenStore });
    const activation = await activations.resume(yellowId);
    const method = yw.verification.methods[0]!;
    const sent = await activation.chooseMethod(method.id, { signal });
    const nowSeconds = Math.floor(Date.now() / 1000);
    emit('code_sent', 'wallet → token service', `code sent by ${method.type === 'otp_email' ? 'e-mail' : 'SMS'}`, [
      `POST /v1/tokens/${yellowId}/verification (method ${method.id}): a ${sent.code?.length ?? '-'}-digit code from the CSPRNG, stored only as an HMAC`,
      `the bank’s sender delivers it to ${method.destination ?? '-'}; it expires in ${(sent.code?.expiresAt ?? nowSeconds) - nowSeconds} s, a new one can be asked for in ${Math.max(0, (sent.code?.resendAfter ?? nowSeconds) - nowSeconds)} s, ${sent.code?.attemptsLeft ?? '-'} attempts`,
    ]);
    const inbox = await sandbox.readInbox(yellowId);
    const code = inbox.at(-1)?.code;
    if (code === undefined) throw new DemoError('The sandbox inbox holds no code for the yellow-path token');
    emit('code_read', 'developer → token service', 'code read from the sandbox inbox', [
      `GET /sandbox/inbox?tokenReferenceId=${yellowId} (sandbox mode only): ${inbox.length} message, to ${inbox.at(-1)?.destination ?? '-'}`,
      'the user types the code into the wallet (the demo does not print it)',
    ]);
    const activated = await activation.submitCode(code, { signal });
    const storedYellow = await tokenStore.get(yellowId);
    emit('activated', 'wallet → token service', 'token activated', [
      `POST /v1/tokens/${yellowId}/activation: the code matched (HMAC, compared in constant time), used once`,
      `token •••• ${activated.tokenLast4} is ${activated.status}; the wallet’s store says ${storedYellow?.accessData.status ?? '-'}`,
    ]);
    const yellow: DemoSummary['yellow'] = {
      last4: yellowHint.last4,
      tokenReferenceId: yellowId,
      method: method.type,
      destination: method.destination ?? '',
      codeLength: sent.code?.length ?? 0,
      attemptsLeft: sent.code?.attemptsLeft ?? 0,
      status: activated.status,
    };

    // ── The token's life: the user reports the phone lost (the wallet suspends the token), the bank resumes it
    //    once the customer called, then the user removes the card (the wallet deletes it). Each change is one
    //    write with its event; the dispatcher signs a notification per party and each backend verifies it.
    phase = 'lifecycle';
    const lifeId = tokenSummary?.tokenReferenceId;
    if (lifeId === undefined) throw new DemoError('No provisioned token to suspend');
    const changes: DemoSummary['lifecycle']['changes'] = [];
    const suspended = await httpClient.suspendToken(lifeId, { reason: 'card_lost', actor: 'cardholder', signal });
    changes.push({ by: 'wallet', action: 'suspend', previousStatus: suspended.previousStatus, status: suspended.status });
    emit('suspended', 'wallet → token service', 'token suspended', [
      `the user reports the phone lost: POST /v1/tokens/${lifeId}/lifecycle { action: suspend, reason: card_lost, actor: cardholder }`,
      `${suspended.previousStatus} → ${suspended.status}, in one write with its history entry and its event for ${ISSUER_ID} and ${WALLET_PROVIDER_ID}`,
    ]);
    const resumed = await sandbox.issuerApi.changeTokenLifecycle(lifeId, { action: 'resume', reason: 'identity_verified' });
    changes.push({ by: 'bank', action: 'resume', previousStatus: resumed.previousStatus, status: resumed.status });
    emit('resumed', 'issuer backend → token service', 'token resumed', [
      `the customer called the bank and was identified: POST /v1/issuer/tokens/${lifeId}/lifecycle (issuer assertion by ${ISSUER_ID}'s key)`,
      `${resumed.previousStatus} → ${resumed.status}; another bank or wallet provider would get 404 for this token`,
    ]);
    const deleted = await httpClient.deleteToken(lifeId, { reason: 'customer_request', actor: 'cardholder', signal });
    changes.push({ by: 'wallet', action: 'delete', previousStatus: deleted.previousStatus, status: deleted.status });
    await tokenStore.delete(lifeId);
    emit('deleted', 'wallet → token service', 'token deleted', [
      `the user removes the card: ${deleted.previousStatus} → ${deleted.status} (final)`,
      'the token number and the sealed card left the vault in the same write; the wallet dropped its copy',
    ]);
    const forToken = (events: readonly { tokenReferenceId: string; type: string; sequence: number; actor: string; reason: string }[]) =>
      events.filter((e) => e.tokenReferenceId === lifeId).map(({ type, sequence, actor, reason }) => ({ type, sequence, actor, reason }));
    const arrived = () => forToken(sandbox.notifications.bank).length >= 4 && forToken(sandbox.notifications.wallet).length >= 4;
    const waitUntil = Date.now() + 10_000;
    while (!arrived()) {
      if (Date.now() > waitUntil || signal.aborted) throw new DemoError('The notifications of the token did not all arrive');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const lifecycle: DemoSummary['lifecycle'] = { tokenReferenceId: lifeId, changes, bank: forToken(sandbox.notifications.bank), wallet: forToken(sandbox.notifications.wallet) };
    const list = (events: DemoSummary['lifecycle']['bank']) => events.map((e) => `${e.sequence} ${e.type} (${e.actor}, ${e.reason})`).join(' · ');
    emit('notified', 'token service → bank and wallet backends', 'notifications received', [
      `bank    ${list(lifecycle.bank)}`,
      `wallet  ${list(lifecycle.wallet)}`,
      'each a JWS signed by the token service (kid in its JWKS), verified, checked for time and type, processed once, in sequence order',
    ]);

    // ── Where the card number is (and is not).
    const panInAppMessages = wire.some((text) => text.includes(card.pan) || redactPans(text) !== text);
    await sandbox.tokenService.close();
    const panInDatabase = (await sandbox.databaseContains(card.pan)) || (await sandbox.databaseContains(createSandboxCard(yellowRef)!.pan));
    if (panInAppMessages) throw new DemoError('A card number crossed the app channel');
    if (panInDatabase) throw new DemoError('The card number is in the token service database in the clear');
    emit('vault_checked', 'demo', 'card number checks', [
      `${wire.length} app-channel messages: no card or token number in any of them`,
      sandbox.store === 'postgres'
        ? 'every row of the token service PostgreSQL tables scanned: the card number is not there in the clear (AES-GCM vault)'
        : 'token service SQLite file scanned byte by byte: the card number is not there in the clear (AES-GCM vault)',
    ]);

    return {
      ok: true,
      durationMs: round(performance.now() - t0),
      card: { network: ACCOUNT_HINT.network, last4: ACCOUNT_HINT.last4, productName: ACCOUNT_HINT.productName, issuerId: ISSUER_ID },
      sessionId: outcome.sessionId,
      wallet: { walletProviderId: WALLET_PROVIDER_ID, walletAccountId: WALLET_ACCOUNT_ID, deviceId: DEVICE_ID },
      request,
      token: tokenSummary,
      issuerOutcome: { state: outcome.state, status: outcome.status },
      refusals,
      yellow,
      lifecycle,
      checks: { panInAppMessages, panInDatabase, messagesRefusedBySession: refusedBySession },
      steps,
    };
  } catch (error) {
    // Whatever failed while the signal was aborted failed because of it: say why.
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const timedOut = reason instanceof DOMException && reason.name === 'TimeoutError';
      throw new DemoError(timedOut ? `The demo did not finish within ${options.timeoutMs ?? 30_000} ms` : 'The demo was interrupted', timedOut ? 'timeout' : 'cancelled');
    }
    throw error;
  } finally {
    for (const fn of cleanup) fn();
    await sandbox.close();
  }
}
