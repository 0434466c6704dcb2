/**
 * Runs one conformance vector through @pushprov/protocol and returns what
 * happened, in the shape of a case's `expected` member. Adapted from
 * `packages/protocol/scripts/lib/run-vector.ts` (which the protocol's own
 * tests and generator use) for the reference adapter: inputs are read as the
 * adapter protocol hands them over (`kind` and `input` of a case), and a kind
 * it does not know is reported as unsupported.
 */
import { base64url, compactDecrypt, importJWK } from 'jose';
import {
  type AccessDataSession,
  AuthError,
  type BinRange,
  type Card,
  CardError,
  DecisionError,
  type KeyJwk,
  ProvisioningError,
  type PublicEcJwk,
  ReplayError,
  type SubmissionContext,
  checkAccessData,
  checkBinding,
  checkCard,
  checkDeviceKeyBinding,
  createError,
  decodeMessageUrl,
  decryptAccessData,
  manualClock,
  openProvisioningRequest,
  parseAccessData,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProblemDetails,
  parseProvisioningRequestMessage,
  parseProvisioningResponse,
  parseRequestClaims,
  parseVerificationRequest,
  parseVerificationStarted,
  parseActivationRequest,
  parseActivationInvocation,
  parseIssuerActivation,
  parseIssuerTokenStatusResponse,
  parseCardEvent,
  parseCardLifecycleRequest,
  parseIssuerLifecycleRequest,
  parseIssuerTokenSearch,
  parseLifecycleRequest,
  parseLifecycleResponse,
  parseTokenHistory,
  parseResult,
  parseSubmission,
  parseTokenStatusResponse,
  verifyClientAssertion,
  verifyInvocationSignature,
  accountStateOf,
  accountStatuses,
  parseStatusQuery,
  parseStatusResponse,
  verifyStatusQuerySignature,
} from '@pushprov/protocol';

/** What an adapter answers for one case (docs/conformance.md, "The adapter protocol"). */
export type AdapterOutcome = ({ outcome: 'ok' } & Record<string, unknown>) | { outcome: 'error'; code: string } | { outcome: 'unsupported'; reason?: string };

/** A case as the runner hands it to an adapter. */
export interface AdapterCase {
  id: string;
  kind: string;
  input: Record<string, unknown>;
}

const PARSERS: Record<string, (input: unknown) => unknown> = {
  invocation: parseInvocation,
  identifiers: parseIdentifiers,
  'provisioning-request': parseProvisioningRequestMessage,
  result: parseResult,
  'app-message': parseAppMessage,
  submission: parseSubmission,
  'provisioning-response': parseProvisioningResponse,
  'access-data': parseAccessData,
  'token-status': parseTokenStatusResponse,
  'problem-details': parseProblemDetails,
  'request-claims': parseRequestClaims,
  'verification-request': parseVerificationRequest,
  'verification-started': parseVerificationStarted,
  'activation-request': parseActivationRequest,
  'issuer-activation': parseIssuerActivation,
  'issuer-token-status': parseIssuerTokenStatusResponse,
  'activation-invocation': parseActivationInvocation,
  'lifecycle-request': parseLifecycleRequest,
  'issuer-lifecycle-request': parseIssuerLifecycleRequest,
  'lifecycle-response': parseLifecycleResponse,
  'token-history': parseTokenHistory,
  'issuer-token-search': parseIssuerTokenSearch,
  'card-lifecycle-request': parseCardLifecycleRequest,
  'card-event': parseCardEvent,
  'status-query': parseStatusQuery,
  'status-response': parseStatusResponse,
};

const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);

const headerOf = (compact: string) => JSON.parse(new TextDecoder().decode(base64url.decode(compact.split('.')[0] ?? ''))) as Record<string, unknown>;

interface TrustedIssuer {
  keys: KeyJwk[];
  binRanges: BinRange[];
  walletProviders: string[];
}

interface ProvisioningRequestInput {
  jwe: string;
  now: number;
  audience: string;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  decryptionKeys: { keys: KeyJwk[] };
  trustedIssuers: Record<string, TrustedIssuer>;
  seenJtis: { iss: string; jti: string }[];
  context: SubmissionContext & { devicePublicKey?: PublicEcJwk };
  accounts: Record<string, Card>;
  issuerDecision: 'approve' | 'decline' | 'step_up';
}

/** Steps 4 to 15 of the validation order (docs/conformance.md, kind `provisioning-request`). */
async function runProvisioningRequest(input: ProvisioningRequestInput): Promise<AdapterOutcome> {
  const opened = await openProvisioningRequest(input.jwe, {
    decryptionKeys: input.decryptionKeys,
    issuerKeys: (iss, kid) => own(input.trustedIssuers, iss)?.keys.find((k) => k.kid === kid),
    audience: input.audience,
    clock: manualClock(input.now * 1000),
    clockSkewSeconds: input.clockSkewSeconds,
    maxLifetimeSeconds: input.maxLifetimeSeconds,
  });
  const { claims } = opened;
  if (input.seenJtis.some((seen) => seen.iss === claims.iss && seen.jti === claims.jti)) throw new ReplayError('replayed', 'The request was already used');
  const { devicePublicKey, ...context } = input.context;
  checkBinding(claims, context);
  await checkDeviceKeyBinding(claims, devicePublicKey);
  const issuer = own(input.trustedIssuers, claims.iss);
  if (!issuer?.walletProviders.includes(context.walletProviderId)) throw new AuthError('wallet_provider_not_allowed', 'The issuer does not accept this wallet provider');
  const card = claims.card ?? (claims.accountRef === undefined ? undefined : own(input.accounts, claims.accountRef));
  if (card === undefined) throw new CardError('card_invalid', 'The account reference is not known');
  checkCard(card, { nowMs: input.now * 1000, binRanges: issuer.binRanges });
  if (input.issuerDecision === 'decline') throw new DecisionError('declined', 'The issuer declined');

  // Also report the headers and the inner JWS, as an independent implementation sees them.
  const key = input.decryptionKeys.keys.find((k) => k.kid === opened.encryptionKid)!;
  const { plaintext } = await compactDecrypt(input.jwe, await importJWK(key, key.alg));
  const jws = new TextDecoder().decode(plaintext);
  return {
    outcome: 'ok',
    claims,
    jweHeader: headerOf(input.jwe),
    jws,
    jwsHeader: headerOf(jws),
    encryptionKid: opened.encryptionKid,
    signingKid: opened.signingKid,
    tokenStatus: input.issuerDecision === 'step_up' ? 'pending_activation' : 'active',
  };
}

interface StatusAnswerInput {
  query: unknown;
  now: number;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  trustedIssuers: Record<string, { keys: KeyJwk[] }>;
  deviceId: string;
  tokens: { issuerId: string; accountId: string; deviceId: string; status: 'active' | 'pending_activation' | 'suspended'; activationStarted: boolean }[];
}

/**
 * The wallet's answer to a status query (spec 4.22 and 4.23): parse (a
 * failure is thrown: no answer), issuer in the trust list, signature, time;
 * a refusal there is an answer with `errorCode`. Then the states of the
 * queried accounts from the live tokens of the **verified** issuer only,
 * split by device.
 */
async function runStatusAnswer(input: StatusAnswerInput): Promise<AdapterOutcome> {
  const query = parseStatusQuery(input.query);
  const base = { type: 'status-response', version: 1, queryId: query.queryId, issuerId: query.issuerId };
  const tail = query.correlationId === undefined ? {} : { correlationId: query.correlationId };
  const refuse = (errorCode: string): AdapterOutcome => ({ outcome: 'ok', response: parseStatusResponse({ ...base, errorCode, ...tail }) });
  const keys = own(input.trustedIssuers, query.issuerId);
  if (!keys) return refuse('unknown_issuer');
  try {
    await verifyStatusQuerySignature(query, keys);
  } catch (error) {
    if (error instanceof ProvisioningError) return refuse(error.code);
    throw error;
  }
  const lifetime = query.exp - query.iat;
  if (lifetime <= 0 || lifetime > input.maxLifetimeSeconds) return refuse('lifetime_exceeded');
  if (query.iat - input.clockSkewSeconds > input.now) return refuse('not_yet_valid');
  if (input.now >= query.exp + input.clockSkewSeconds) return refuse('expired');
  // The verified issuer's tokens only: account ids are per issuer.
  const accounts = accountStatuses(
    query.accountIds,
    input.tokens.filter((t) => t.issuerId === query.issuerId),
    input.deviceId,
  );
  return { outcome: 'ok', response: parseStatusResponse({ ...base, accounts, ...tail }) };
}

async function runKind(kind: string, input: Record<string, unknown>): Promise<AdapterOutcome> {
  switch (kind) {
    case 'provisioning-request':
      return runProvisioningRequest(input as unknown as ProvisioningRequestInput);
    case 'message': {
      const parse = own(PARSERS, String(input.schema));
      if (!parse) return { outcome: 'unsupported', reason: `unknown schema ${String(input.schema)}` };
      return { outcome: 'ok', value: parse(input.json) };
    }
    case 'message-url':
      return { outcome: 'ok', value: decodeMessageUrl(String(input.url), { allowedUrls: input.allowedUrls as string[], maxLength: input.maxLength as number }) };
    case 'access-data': {
      const accessData = await decryptAccessData(String(input.jwe), input.deviceKey as KeyJwk);
      checkAccessData(accessData, input.session as AccessDataSession);
      return { outcome: 'ok', accessData };
    }
    case 'invocation-signature': {
      const invocation = parseInvocation(input.invocation);
      await verifyInvocationSignature(invocation, input.issuerKeys as { keys: KeyJwk[] });
      return { outcome: 'ok' };
    }
    case 'status-query-signature': {
      const query = parseStatusQuery(input.query);
      await verifyStatusQuerySignature(query, input.issuerKeys as { keys: KeyJwk[] });
      return { outcome: 'ok' };
    }
    case 'account-state':
      return { outcome: 'ok', state: accountStateOf(input.tokens as Parameters<typeof accountStateOf>[0]) };
    case 'status-answer':
      return runStatusAnswer(input as unknown as StatusAnswerInput);
    case 'client-assertion': {
      const { assertion, now, walletProviderId, audience, keys, clockSkewSeconds } = input as { assertion: string; now: number; walletProviderId: string; audience: string; keys: { keys: KeyJwk[] }; clockSkewSeconds: number };
      const verified = await verifyClientAssertion(assertion, { walletProviderId, audience, keys, clockSkewSeconds, clock: manualClock(now * 1000) });
      return { outcome: 'ok', ...verified };
    }
    case 'problem-details': {
      const problem = parseProblemDetails(input.json);
      const error = createError(problem.code as ProvisioningError['code'], problem.detail, { status: problem.status, retryable: problem.retryable });
      return { outcome: 'ok', code: error.code, family: error.family, status: error.status, retryable: error.retryable };
    }
    default:
      return { outcome: 'unsupported', reason: `unknown kind ${kind}` };
  }
}

/**
 * Runs a case. A ProvisioningError becomes `{ outcome: 'error', code }`;
 * anything else thrown is a bug and is re-thrown (the adapter reports it as
 * an answer the runner counts as a failure).
 */
export async function runVectorCase(kind: string, input: Record<string, unknown>): Promise<AdapterOutcome> {
  try {
    return await runKind(kind, input);
  } catch (error) {
    if (error instanceof ProvisioningError) return { outcome: 'error', code: error.code };
    throw error;
  }
}
