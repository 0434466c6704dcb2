import {
  type AccessData,
  type AppChannel,
  type Clock,
  type Invocation,
  type ProvisioningError,
  type ProvisioningRequestMessage,
  type ProvisioningResponse,
  type RandomSource,
  type Result,
  type Submission,
  type Verification,
  checkAccessData,
  parseAccessData,
  createError,
  createId,
  createNonce,
  parseIdentifiers,
  parseProvisioningResponse,
  toProvisioningError,
  waitForMessage,
  withCorrelationId,
} from '@pushprov/protocol';
import { raceSignal, throwIfAborted } from '../lib/abort.js';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { TokenStore } from '../token-store/token-store.js';
import { type InvocationPolicy, checkInvocation } from './check-invocation.js';
import type { ConsentHandler, ConsentPrompt, DeviceKey, IdentityProvider, SessionDeviceKey, WalletEvent, WalletOutcome, WalletSessionState } from './types.js';

/** The wallet's options, checked and with defaults applied. */
export interface SessionContext {
  identity: IdentityProvider;
  consent: ConsentHandler;
  tokenService: TokenServiceClient;
  tokenStore: TokenStore;
  policy: InvocationPolicy;
  deviceKey: DeviceKey | undefined;
  clock: Clock;
  random: RandomSource;
}

/** The session's hooks into its handle. */
export interface SessionHooks {
  signal: AbortSignal;
  emit: (event: WalletEvent) => void;
  setState: (state: WalletSessionState, sessionId?: string) => void;
}

/** How long sending the final result may take, milliseconds. */
const RESULT_SEND_TIMEOUT_MS = 5_000;

/**
 * Runs one session, step by step, to its outcome. Never rejects: every
 * failure becomes an outcome carrying a typed error.
 */
export async function runSession(channel: AppChannel, context: SessionContext, hooks: SessionHooks): Promise<WalletOutcome> {
  const { signal, setState } = hooks;
  let invocation: Invocation | undefined;
  let verified: boolean;
  try {
    invocation = await waitForInvocation(channel, hooks);
    setState('verifying_invocation');
    throwIfAborted(signal);
    ({ verified } = await raceSignal(checkInvocation(invocation, context.policy), signal));
  } catch (error) {
    // A refused invocation's own correlation id, when it had one: the bank's app logs the same.
    return { status: 'rejected', error: withCorrelationId(toProvisioningError(error), invocation?.correlationId) };
  }

  const { sessionId, issuerId } = invocation;
  const account = invocation.account!;
  // One id for the attempt: the invocation's (the issuer app made it), else a fresh one.
  const correlationId = invocation.correlationId ?? createId('cor', context.random);
  // From here every error event carries the attempt's id, as its outcome does (before the invocation there is no attempt yet).
  const emit = (event: WalletEvent) => hooks.emit(event.type === 'error' ? { ...event, error: withCorrelationId(event.error, correlationId) } : event);
  const prompt: ConsentPrompt = { sessionId, issuerId, verified, account: { last4: account.last4, network: account.network } };
  if (account.productName !== undefined) prompt.account!.productName = account.productName;
  if (account.issuerName !== undefined) prompt.issuerName = account.issuerName;
  // Card art reaches the host only when the issuer signed it: an unsigned invocation could point anywhere.
  if (verified && account.cardArtUrl !== undefined) prompt.account!.cardArtUrl = account.cardArtUrl;
  emit({ type: 'invocation', prompt });

  const sendResult = async (result: Result): Promise<boolean> => {
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(createError('timeout', 'The result could not be sent in time')), RESULT_SEND_TIMEOUT_MS);
    try {
      await raceSignal(channel.send(result), limit.signal);
      return true;
    } catch (error) {
      emit({ type: 'error', error: toProvisioningError(error, 'channel_closed'), sessionId });
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  // Until the identifiers leave, no provisioning request can be this session's: refuse any that comes.
  const stopRefusingRequests = refuseMessagesBeforeIdentifiers(channel, sessionId, emit);
  try {
    if (invocation.replyTo !== undefined && typeof (channel as { setPeerUrl?: unknown }).setPeerUrl === 'function') {
      (channel as unknown as { setPeerUrl(url: string): void }).setPeerUrl(invocation.replyTo);
    }
    setState('awaiting_consent', sessionId);
    throwIfAborted(signal);
    const consented = await raceSignal(
      Promise.resolve().then(() => context.consent({ ...prompt, account: { ...prompt.account } }, { signal })),
      signal,
    );
    if (consented !== true) throw createError('consent_denied', 'The user did not consent');

    setState('sending_identifiers', sessionId);
    throwIfAborted(signal);
    const who = await raceSignal(Promise.resolve().then(context.identity), signal);
    const deviceKey = context.deviceKey && (await raceSignal(context.deviceKey.forSession(), signal));
    const nonce = createNonce(context.random);
    let identifiers;
    try {
      identifiers = parseIdentifiers({
        type: 'identifiers',
        version: 1,
        sessionId,
        walletProviderId: who?.walletProviderId,
        walletAccountId: who?.walletAccountId,
        deviceId: who?.deviceId,
        nonce,
        ...(deviceKey && { devicePublicKey: deviceKey.publicJwk }),
        correlationId,
      });
    } catch (cause) {
      throw createError('configuration_invalid', 'The wallet identity or device key is not valid', { cause });
    }
    throwIfAborted(signal);
    // From here a request may answer these identifiers, even before `send` resolves: it waits in the channel's queue.
    stopRefusingRequests();
    await raceSignal(channel.send(identifiers), signal);

    setState('waiting_for_request', sessionId);
    const request = await waitForMessage(
      channel,
      (m): m is ProvisioningRequestMessage => m.type === 'provisioning-request' && m.sessionId === sessionId,
      {
        signal,
        onRejected: (m) => {
          // The issuer's popup channel posts its invocation again until it hears from the wallet: not an error.
          if (m.type === 'invocation' && m.sessionId === sessionId) return;
          const what = m.type === 'provisioning-request' ? 'A provisioning request for another session' : `A ${m.type} message`;
          emit({ type: 'error', error: createError('unexpected_message', `${what} was ignored`), sessionId });
        },
        onError: (error) => emit({ type: 'error', error, sessionId }),
      },
    );

    setState('submitting', sessionId);
    const submission: Submission = {
      type: 'submission',
      version: 1,
      sessionId,
      walletAccountId: identifiers.walletAccountId,
      deviceId: identifiers.deviceId,
      nonce,
      encryptedRequest: request.encryptedRequest!,
    };
    if (identifiers.devicePublicKey) submission.devicePublicKey = identifiers.devicePublicKey;
    const idempotencyKey = createId('idem', context.random);
    throwIfAborted(signal);
    const response = await raceSignal(context.tokenService.submit(submission, { idempotencyKey, signal, correlationId }), signal);

    // The token is issued: from here on the session finishes even if cancelled, so nothing is lost.
    setState('storing', sessionId);
    // Checked against the invocation the user agreed to before anything is stored (spec 4.8).
    const { accessData, verification } = await readAccessData(response, invocation, deviceKey);
    // A pending token keeps its methods with it, so its activation survives an app restart.
    // A second provisioning of a pending token (the resume, spec 11.1) keeps the user's progress with it.
    const earlier = verification ? (await context.tokenStore.get(accessData.tokenReferenceId))?.activation : undefined;
    const activation = verification && { ...earlier, verification };
    await context.tokenStore.save({ accessData, issuerId, sessionId, correlationId, storedAt: context.clock.now(), ...(activation && { activation }) });
    const status = accessData.status === 'active' ? 'provisioned' : 'pending_activation';
    setState('sending_result', sessionId);
    const resultSent = await sendResult({ type: 'result', version: 1, sessionId, status, tokenReferenceId: accessData.tokenReferenceId, correlationId });
    const token = {
      tokenReferenceId: accessData.tokenReferenceId,
      status: accessData.status,
      tokenLast4: accessData.tokenNumber.slice(-4),
      panLast4: accessData.panLast4,
      tokenExpiry: { ...accessData.tokenExpiry },
      ...(accessData.network && { network: accessData.network }),
      ...(prompt.account.cardArtUrl !== undefined && { cardArtUrl: prompt.account.cardArtUrl }),
    };
    if (status === 'pending_activation') return { status, sessionId, issuerId, correlationId, token, verification: verification!, resultSent };
    return { status, sessionId, issuerId, correlationId, token, resultSent };
  } catch (caught) {
    stopRefusingRequests();
    const error = withCorrelationId(toProvisioningError(caught), correlationId);
    const status = error.code === 'declined' ? 'declined' : error.code === 'consent_denied' || error.code === 'cancelled' ? 'cancelled' : 'failed';
    const resultSent = await sendResult({ type: 'result', version: 1, sessionId, status, errorCode: error.code, correlationId });
    return { status, sessionId, issuerId, correlationId, error, resultSent };
  }
}

/**
 * Waits for the first invocation on the channel, until the session's signal
 * ends the wait (timeout, cancel). Refused input (schema failures: anyone can
 * open the wallet's link with garbage), other messages and refused origins
 * are reported as error events and never end the session (spec 4.11), so the
 * genuine invocation that follows is still handled.
 */
function waitForInvocation(channel: AppChannel, hooks: SessionHooks): Promise<Invocation> {
  return waitForMessage(channel, (m): m is Invocation => m.type === 'invocation', {
    signal: hooks.signal,
    onRejected: (m) => hooks.emit({ type: 'error', error: createError('unexpected_message', `A ${m.type} message arrived before any invocation`) }),
    onError: (error: ProvisioningError) => hooks.emit({ type: 'error', error }),
  });
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
function refuseMessagesBeforeIdentifiers(channel: AppChannel, sessionId: string, emit: SessionHooks['emit']): () => void {
  let unsubscribe: (() => void) | undefined = channel.subscribe(
    (m) => {
      if (m.type === 'invocation' && m.sessionId === sessionId) return;
      const what =
        m.type !== 'provisioning-request'
          ? `A ${m.type} message was ignored`
          : m.sessionId === sessionId
            ? 'A provisioning request arrived before the wallet sent its identifiers; it was refused'
            : 'A provisioning request for another session was ignored';
      emit({ type: 'error', error: createError('unexpected_message', what), sessionId });
    },
    (error) => emit({ type: 'error', error, sessionId }),
  );
  return () => {
    unsubscribe?.();
    unsubscribe = undefined;
  };
}

/**
 * Checks the token service's answer against the session, opens the access
 * data, and checks that it is for what the user agreed to: the invocation's
 * issuer and card (last 4 digits), and the answer's token
 * (`access_data_mismatch` otherwise).
 */
async function readAccessData(
  input: ProvisioningResponse,
  invocation: Invocation,
  deviceKey: SessionDeviceKey | undefined,
): Promise<{ accessData: AccessData; verification: Verification | undefined }> {
  const response = parseProvisioningResponse(input);
  if (response.sessionId !== invocation.sessionId) throw createError('invalid_message', 'The token service answered for another session');
  let accessData: AccessData;
  if (response.encryptedAccessData !== undefined) {
    if (!deviceKey) throw createError('decryption_failed', 'The access data is encrypted, but this session sent no device key');
    // Checked again here: a device key of the host's own making must not bypass the schema.
    accessData = parseAccessData(await deviceKey.decryptAccessData(response.encryptedAccessData));
  } else if (deviceKey) {
    // The submission asked for encryption: clear access data is a downgrade (anyone in between saw the token number).
    throw createError('invalid_message', 'The access data is in the clear, but this session asked for it encrypted to its device key');
  } else {
    accessData = response.accessData!;
  }
  checkAccessData(accessData, {
    issuerId: invocation.issuerId,
    panLast4: invocation.account!.last4,
    tokenReferenceId: response.tokenReferenceId,
    status: response.status,
  });
  return { accessData, verification: response.verification };
}
