import {
  type AccessData,
  type AccountHint,
  type AccountOutcome,
  type AppChannel,
  type AppMessage,
  type Clock,
  type Invocation,
  type ProvisioningError,
  type ProvisioningRequestMessage,
  type ProvisioningResponse,
  type RandomSource,
  type ResultStatus,
  type Verification,
  checkAccessData,
  createError,
  createId,
  createNonce,
  invocationAccounts,
  parseAccessData,
  parseIdentifiers,
  parseProvisioningResponse,
  summarizeStatus,
  toProvisioningError,
  waitForMessage,
  withCorrelationId,
} from '@pushprov/protocol';
import { raceSignal, throwIfAborted } from '../lib/abort.js';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { TokenStore } from '../token-store/token-store.js';
import { type InvocationPolicy, checkInvocation } from './check-invocation.js';
import type {
  ConsentHandler,
  ConsentPrompt,
  DeviceKey,
  IdentityProvider,
  PromptAccount,
  SessionDeviceKey,
  WalletAccountOutcome,
  WalletEvent,
  WalletIdentity,
  WalletOutcome,
  WalletSessionState,
} from './types.js';

/** The wallet's options, checked and with defaults applied. */
export interface SessionContext {
  identity: IdentityProvider;
  consent: ConsentHandler;
  tokenService: TokenServiceClient;
  tokenStore: TokenStore;
  policy: InvocationPolicy;
  deviceKey: DeviceKey | undefined;
  accounts: SeveralAccounts | undefined;
  clock: Clock;
  random: RandomSource;
}

/** The session's hooks into its handle. */
export interface SessionHooks {
  signal: AbortSignal;
  emit: (event: WalletEvent) => void;
  setState: (state: WalletSessionState, sessionId?: string) => void;
}

/** An accepted invocation, or an outcome that ends the flow before any session (wallet-initiated). */
export type Accepted = { invocation: Invocation; verified: boolean } | { outcome: WalletOutcome };

/**
 * How a session gets its invocation: by default the first one on the
 * channel, checked ({@link acceptFirst}); the wallet-initiated flow of
 * `@pushprov/wallet-sdk/initiate` brings its own.
 */
export type AcceptInvocation = (channel: AppChannel, context: SessionContext, hooks: SessionHooks) => Promise<Accepted>;

/** How long a step the session does not wait on for long may take (sending the result, the cards' states), milliseconds. */
const STEP_TIMEOUT_MS = 5_000;

/**
 * The several-account part of a session (`@pushprov/wallet-sdk/accounts`):
 * the cards' states for the prompt, the user's pick and the request
 * message's several-account form. Made by
 * `severalAccounts()`; its members are internal.
 *
 * @example
 * ```ts
 * const accounts: SeveralAccounts = severalAccounts(); // createWallet({ …, accounts })
 * ```
 */
export interface SeveralAccounts {
  readonly states: (accounts: PromptAccount[], issuerId: string, tokenService: TokenServiceClient, who: () => Promise<WalletIdentity>) => Promise<void>;
  readonly pick: (answer: unknown, hints: AccountHint[]) => AccountHint[];
  readonly requests: (request: ProvisioningRequestMessage, hints: AccountHint[], picked: AccountHint[], refuse: (index: number, error: unknown) => void) => [number, string][];
}

/** Throws `consent_denied`. */
export const denied = (): never => {
  throw createError('consent_denied', 'The user did not consent');
};

/** The status a code ends an account (or a single-account session) with (spec 4.4). */
export const statusOf = (code: string): ResultStatus =>
  code === 'declined' ? 'declined' : code === 'consent_denied' || code === 'cancelled' ? 'cancelled' : 'failed';

/** A copy of `object` without its undefined members (outcomes and events carry only what is there). */
export const defined = <T extends object>(object: T): Defined<T> => Object.fromEntries(Object.entries(object).filter((entry) => entry[1] !== undefined)) as Defined<T>;
/** `T` with its members that may be undefined made optional instead. */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Settles with `work`, or rejects with `timeout` after {@link STEP_TIMEOUT_MS}. */
export async function shortStep<T>(work: () => Promise<T>): Promise<T> {
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(createError('timeout', 'Too slow')), STEP_TIMEOUT_MS);
  try {
    return await raceSignal(Promise.resolve().then(work), limit.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one session, step by step, to its outcome. Rejects only when the
 * invocation is refused (the caller, `createWallet`, makes that the
 * `rejected` outcome); every later failure becomes an outcome carrying a typed error. Several accounts
 * (`invocation.accounts`): the user picks, each picked account's request is
 * submitted in turn, and every account gets its own outcome.
 */
export async function runSession(channel: AppChannel, context: SessionContext, hooks: SessionHooks, accept: AcceptInvocation = acceptFirst): Promise<WalletOutcome> {
  const { signal, setState } = hooks;
  // A refused invocation rejects: the wallet's handle makes it the `rejected` outcome.
  const accepted = await accept(channel, context, hooks);
  if ('outcome' in accepted) return accepted.outcome;
  const { invocation, verified } = accepted;
  const { sessionId, issuerId } = invocation;
  const hints = invocationAccounts(invocation);
  const multi = invocation.accounts !== undefined;
  // One id for the attempt: the invocation's (the issuer app made it), else a fresh one.
  const correlationId = invocation.correlationId ?? createId('cor', context.random);
  // From here every error event carries the attempt's id, as its outcome does (before the invocation there is no attempt yet).
  const emit = (event: WalletEvent) => hooks.emit(event.type === 'error' ? { ...event, error: withCorrelationId(event.error, correlationId) } : event);
  // Card art reaches the host only when the issuer signed it: an unsigned invocation could point anywhere.
  const accounts: PromptAccount[] = hints.map((h) =>
    defined({ accountId: h.accountId, last4: h.last4, network: h.network, productName: h.productName, cardArtUrl: verified ? h.cardArtUrl : undefined }),
  );
  let identity: Promise<WalletIdentity> | undefined;
  const who = () => (identity ??= Promise.resolve().then(context.identity));
  const several = context.accounts;
  await several?.states(accounts, issuerId, context.tokenService, who);
  const prompt: ConsentPrompt = defined({ sessionId, issuerId, issuerName: hints[0]!.issuerName, verified, account: accounts[0]!, accounts });
  emit({ type: 'invocation', prompt });

  // One outcome per account, in the invocation's order; each `account` event is emitted once, as it ends.
  const outcomes: WalletAccountOutcome[] = [];
  const ended = (a: WalletAccountOutcome) => defined({ accountId: a.accountId, status: a.status, tokenReferenceId: a.token?.tokenReferenceId, errorCode: a.error?.code });
  const settle = (index: number, outcome: WalletAccountOutcome) => {
    if (outcomes[index]) return;
    outcomes[index] = outcome = defined({ accountId: hints[index]!.accountId, ...outcome });
    emit({ type: 'account', sessionId, ...ended(outcome) });
  };
  const fail = (index: number, caught: unknown) => {
    const error = withCorrelationId(toProvisioningError(caught), correlationId);
    settle(index, { status: statusOf(error.code), error });
  };

  // Until the identifiers leave, no provisioning request can be this session's: refuse any that comes.
  // Stray input never ends the session (spec 4.11): each is an error event. The issuer's popup channel posts its
  // invocation again until it hears from the wallet: not an error.
  const stray = (m: AppMessage) => {
    if (m.type === 'invocation' && m.sessionId === sessionId) return;
    const what =
      m.type !== 'provisioning-request'
        ? `A ${m.type} message was ignored`
        : m.sessionId === sessionId
          ? 'A provisioning request before the wallet sent its identifiers was refused'
          : 'A provisioning request for another session was ignored';
    emit({ type: 'error', error: createError('unexpected_message', what), sessionId });
  };
  const onError = (error: ProvisioningError) => emit({ type: 'error', error, sessionId });
  const stopRefusingRequests = refuseMessagesBeforeIdentifiers(channel, stray, onError);
  try {
    if (invocation.replyTo !== undefined && typeof (channel as { setPeerUrl?: unknown }).setPeerUrl === 'function') {
      (channel as unknown as { setPeerUrl(url: string): void }).setPeerUrl(invocation.replyTo);
    }
    setState('awaiting_consent', sessionId);
    throwIfAborted(signal);
    const answer = await raceSignal(
      Promise.resolve().then(() => context.consent({ ...prompt, account: { ...accounts[0]! }, accounts: accounts.map((a) => ({ ...a })) }, { signal })),
      signal,
    );
    const picked = several ? several.pick(answer, hints) : answer === true ? hints : denied();
    // The cards the user left out end at once (spec 4.4: cancelled, consent_denied).
    hints.forEach((h, index) => picked.includes(h) || fail(index, createError('consent_denied', 'The user did not consent')));

    setState('sending_identifiers', sessionId);
    throwIfAborted(signal);
    const me = await raceSignal(who(), signal);
    const deviceKey = context.deviceKey && (await raceSignal(context.deviceKey.forSession(), signal));
    const nonce = createNonce(context.random);
    let identifiers;
    try {
      identifiers = parseIdentifiers({
        type: 'identifiers',
        version: 1,
        sessionId,
        walletProviderId: me?.walletProviderId,
        walletAccountId: me?.walletAccountId,
        deviceId: me?.deviceId,
        nonce,
        ...(deviceKey && { devicePublicKey: deviceKey.publicJwk }),
        correlationId,
        ...(multi && { accountIds: picked.map((h) => h.accountId) }),
      });
    } catch (cause) {
      throw createError('configuration_invalid', 'Invalid wallet identity or device key', { cause });
    }
    const { walletAccountId, deviceId, devicePublicKey } = identifiers;
    throwIfAborted(signal);
    // From here a request may answer these identifiers, even before `send` resolves: it waits in the channel's queue.
    stopRefusingRequests();
    await raceSignal(channel.send(identifiers), signal);

    setState('waiting_for_request', sessionId);
    const request = await waitForMessage(
      channel,
      (m): m is ProvisioningRequestMessage => m.type === 'provisioning-request' && m.sessionId === sessionId,
      // This session's request is taken, so `stray` sees only other sessions' requests here.
      { signal, onRejected: stray, onError },
    );
    // Several accounts: refusals end their accounts at once (spec 4.3); then each request is submitted in turn, each with its own outcome.
    const { encryptedRequest: single } = request;
    if (!multi && single === undefined) throw createError('invalid_message', 'The request is not in the invocation\'s form');
    const requests: [number, string][] = multi ? several!.requests(request, hints, picked, fail) : [[0, single!]];
    for (const [index, encryptedRequest] of requests) {
      try {
        const hint = hints[index]!;
        setState('submitting', sessionId);
        const submission = defined({ type: 'submission', version: 1, sessionId, walletAccountId, deviceId, nonce, encryptedRequest, devicePublicKey } as const);
        throwIfAborted(signal);
        const idempotencyKey = createId('idem', context.random);
        const response = await raceSignal(context.tokenService.submit(submission, { idempotencyKey, signal, correlationId }), signal);

        // The token is issued: from here on this account finishes even if cancelled, so nothing is lost.
        setState('storing', sessionId);
        // Checked against the card the user agreed to before anything is stored (spec 4.8).
        const { accessData, verification } = await readAccessData(response, invocation, hint, deviceKey);
        const { tokenReferenceId, status, tokenNumber, panLast4, tokenExpiry, network } = accessData;
        // A pending token keeps its methods with it, so its activation survives an app restart.
        // A second provisioning of a pending token (the resume, spec 11.1) keeps the user's progress with it.
        const earlier = verification ? (await context.tokenStore.get(tokenReferenceId))?.activation : undefined;
        const activation = verification && { ...earlier, verification };
        await context.tokenStore.save(
          defined({ accessData, issuerId, accountId: hint.accountId, sessionId, correlationId, storedAt: context.clock.now(), activation }),
        );
        const token = defined({ tokenReferenceId, status, tokenLast4: tokenNumber.slice(-4), panLast4, tokenExpiry: { ...tokenExpiry }, network, cardArtUrl: accounts[index]!.cardArtUrl });
        settle(index, defined({ status: status === 'active' ? ('provisioned' as const) : ('pending_activation' as const), token, verification }));
      } catch (caught) {
        if (!multi) throw caught;
        fail(index, caught);
      }
    }
  } catch (caught) {
    stopRefusingRequests();
    // A failure of the whole session ends every account that had not ended yet with it.
    hints.forEach((_, index) => fail(index, caught));
  }

  const status = summarizeStatus(outcomes.map((a) => a.status));
  const { token, verification, error } = outcomes.find((a) => a.status === status)!;
  if (token) setState('sending_result', sessionId);
  let resultSent = true;
  try {
    const { accountId: _, ...one } = ended(outcomes[0]!);
    await shortStep(() => channel.send({ type: 'result', version: 1, sessionId, ...(multi ? { status, accounts: outcomes.map(ended) as AccountOutcome[] } : one), correlationId }));
  } catch (caught) {
    resultSent = false;
    emit({ type: 'error', error: toProvisioningError(caught, 'channel_closed'), sessionId });
  }
  return { status, sessionId, issuerId, correlationId, resultSent, accounts: outcomes, ...(token ? { token, verification } : { error }) } as WalletOutcome;
}

/**
 * Waits for the first invocation on the channel and checks it, until the
 * session's signal ends the wait (timeout, cancel). Refused input (schema
 * failures: anyone can open the wallet's link with garbage), other messages
 * and refused origins are reported as error events and never end the
 * session (spec 4.11), so the genuine invocation that follows is still
 * handled; a refused invocation ends it (`rejected`).
 */
export async function acceptFirst(channel: AppChannel, { policy }: SessionContext, hooks: SessionHooks): Promise<Accepted> {
  const invocation = await waitForMessage(channel, (m): m is Invocation => m.type === 'invocation', {
    signal: hooks.signal,
    onRejected: (m) => hooks.emit({ type: 'error', error: createError('unexpected_message', `A ${m.type} message arrived before any invocation`) }),
    onError: (error: ProvisioningError) => hooks.emit({ type: 'error', error }),
  });
  hooks.setState('verifying_invocation');
  try {
    throwIfAborted(hooks.signal);
    return { invocation, ...(await raceSignal(checkInvocation(invocation, policy), hooks.signal)) };
  } catch (error) {
    // A refused invocation's own correlation id, when it had one: the bank's app logs the same.
    throw withCorrelationId(toProvisioningError(error), invocation.correlationId);
  }
}

/**
 * Listens from the accepted invocation until the wallet sends its identifiers
 * (spec 4.11: stray input never ends a session). In that window the issuer's
 * app has nothing to send but its invocation again (the popup channel reposts
 * it until the wallet answers: ignored silently). A `provisioning-request`,
 * even for this session, cannot answer identifiers that were not sent: it is
 * refused with `unexpected_message` and dropped, so it is never submitted, and
 * the session goes on. Everything else, and refused input, is an `error`
 * event too. Without this listener such a message would wait in the channel's
 * queue and be taken as the answer once the identifiers were sent. Returns
 * the function that stops listening (safe to call twice).
 */
function refuseMessagesBeforeIdentifiers(channel: AppChannel, stray: (m: AppMessage) => void, onError: (error: ProvisioningError) => void): () => void {
  let unsubscribe: (() => void) | undefined = channel.subscribe(stray, onError);
  return () => {
    unsubscribe?.();
    unsubscribe = undefined;
  };
}

/**
 * Checks the token service's answer against the session, opens the access
 * data, and checks that it is for what the user agreed to: the invocation's
 * issuer and that account's card (last 4 digits), and the answer's token
 * (`access_data_mismatch` otherwise).
 */
async function readAccessData(
  input: ProvisioningResponse,
  invocation: Invocation,
  hint: AccountHint,
  deviceKey: SessionDeviceKey | undefined,
): Promise<{ accessData: AccessData; verification: Verification | undefined }> {
  const response = parseProvisioningResponse(input);
  if (response.sessionId !== invocation.sessionId) throw createError('invalid_message', 'The answer is for another session');
  let accessData: AccessData;
  if (response.encryptedAccessData !== undefined) {
    if (!deviceKey) throw createError('decryption_failed', 'Encrypted access data, but no device key was sent');
    // Checked again here: a device key of the host's own making must not bypass the schema.
    accessData = parseAccessData(await deviceKey.decryptAccessData(response.encryptedAccessData));
  } else if (deviceKey) {
    // The submission asked for encryption: clear access data is a downgrade (anyone in between saw the token number).
    throw createError('invalid_message', 'Clear access data, but a device key was sent');
  } else {
    accessData = response.accessData!;
  }
  checkAccessData(accessData, {
    issuerId: invocation.issuerId,
    panLast4: hint.last4,
    tokenReferenceId: response.tokenReferenceId,
    status: response.status,
  });
  return { accessData, verification: response.verification };
}
