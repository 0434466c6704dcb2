/**
 * Runs one conformance vector through the TypeScript implementation and
 * returns what happened, in the shape of a case's `expected` member. Used by
 * `test/vectors.test.ts` and, as a self-check, by the generator.
 */
import { compactDecrypt, importJWK } from 'jose';
import {
  AuthError,
  CardError,
  DecisionError,
  ProvisioningError,
  ReplayError,
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
} from '../../src/index.js';
import { headerOf } from './jose-craft.js';
import type { Expected, MessageSchemaName, ProvisioningRequestInput, StatusAnswerInput, VectorCase } from './vector-types.js';

const PARSERS: Record<MessageSchemaName, (input: unknown) => unknown> = {
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

const own = <T>(record: Record<string, T>, key: string): T | undefined =>
  Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;

/**
 * The token service's validation of a submitted request, in the order of
 * `docs/protocol.md`: open (JWE header → decrypt → JWS header → issuer key →
 * signature → claims schema → aud / lifetime / iat / exp), replay against
 * `seenJtis`, binding against the submission context (its device key, then
 * the issuer's accepted wallet providers, last), the card (an
 * `accountRef` is resolved through `accounts`), the issuer decision.
 */
async function runProvisioningRequest(input: ProvisioningRequestInput): Promise<Expected> {
  const opened = await openProvisioningRequest(input.jwe, {
    decryptionKeys: input.decryptionKeys,
    issuerKeys: (iss, kid) => own(input.trustedIssuers, iss)?.keys.find((k) => k.kid === kid),
    audience: input.audience,
    clock: manualClock(input.now * 1000),
    clockSkewSeconds: input.clockSkewSeconds,
    maxLifetimeSeconds: input.maxLifetimeSeconds,
  });
  const { claims } = opened;
  if (input.seenJtis.some((seen) => seen.iss === claims.iss && seen.jti === claims.jti)) {
    throw new ReplayError('replayed', 'The request was already used');
  }
  const { devicePublicKey, ...context } = input.context;
  checkBinding(claims, context);
  await checkDeviceKeyBinding(claims, devicePublicKey);
  if (!own(input.trustedIssuers, claims.iss)?.walletProviders.includes(context.walletProviderId)) {
    throw new AuthError('wallet_provider_not_allowed', 'The issuer does not accept this wallet provider');
  }
  const card = claims.card ?? (claims.accountRef === undefined ? undefined : own(input.accounts, claims.accountRef));
  if (card === undefined) throw new CardError('card_invalid', 'The account reference is not known');
  checkCard(card, { nowMs: input.now * 1000, binRanges: own(input.trustedIssuers, claims.iss)?.binRanges ?? [] });
  if (input.issuerDecision === 'decline') throw new DecisionError('declined', 'The issuer declined');

  // Success: also report the headers and the inner JWS, as an independent implementation would see them.
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

/**
 * The wallet's answer to a status query (spec 4.22 and 4.23): parse (a
 * failure is thrown: no answer), issuer in the trust list, signature, time;
 * a refusal there is an answer with `errorCode`. Then the states of the
 * queried accounts from the live tokens of the **verified** issuer only,
 * split by device.
 */
async function runStatusAnswer(input: StatusAnswerInput): Promise<Expected> {
  const query = parseStatusQuery(input.query);
  const base = { type: 'status-response', version: 1, queryId: query.queryId, issuerId: query.issuerId };
  const tail = query.correlationId === undefined ? {} : { correlationId: query.correlationId };
  const refuse = (errorCode: string): Expected => ({ outcome: 'ok', response: parseStatusResponse({ ...base, errorCode, ...tail }) });
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

async function runCase(vector: VectorCase): Promise<Expected> {
  switch (vector.kind) {
    case 'provisioning-request':
      return runProvisioningRequest(vector.input);
    case 'message': {
      const parse = own(PARSERS, vector.input.schema);
      if (!parse) throw new TypeError(`unknown schema ${vector.input.schema}`);
      return { outcome: 'ok', value: parse(vector.input.json) };
    }
    case 'message-url':
      return { outcome: 'ok', value: decodeMessageUrl(vector.input.url, { allowedUrls: vector.input.allowedUrls, maxLength: vector.input.maxLength }) };
    case 'access-data': {
      const accessData = await decryptAccessData(vector.input.jwe, vector.input.deviceKey);
      checkAccessData(accessData, vector.input.session);
      return { outcome: 'ok', accessData };
    }
    case 'invocation-signature': {
      const invocation = parseInvocation(vector.input.invocation);
      await verifyInvocationSignature(invocation, vector.input.issuerKeys);
      return { outcome: 'ok' };
    }
    case 'status-query-signature': {
      const query = parseStatusQuery(vector.input.query);
      await verifyStatusQuerySignature(query, vector.input.issuerKeys);
      return { outcome: 'ok' };
    }
    case 'account-state':
      return { outcome: 'ok', state: accountStateOf(vector.input.tokens) };
    case 'status-answer':
      return runStatusAnswer(vector.input);
    case 'client-assertion': {
      const { assertion, now, ...options } = vector.input;
      const verified = await verifyClientAssertion(assertion, { ...options, clock: manualClock(now * 1000) });
      return { outcome: 'ok', ...verified };
    }
    case 'problem-details': {
      const problem = parseProblemDetails(vector.input.json);
      const error = createError(problem.code as ProvisioningError['code'], problem.detail, { status: problem.status, retryable: problem.retryable });
      return { outcome: 'ok', code: error.code, family: error.family, status: error.status, retryable: error.retryable };
    }
  }
}

/**
 * Runs a vector. A ProvisioningError becomes `{ outcome: 'error', code }`;
 * anything else thrown is a bug in the implementation and is re-thrown.
 */
export async function runVector(vector: VectorCase): Promise<Expected> {
  try {
    return await runCase(vector);
  } catch (error) {
    if (error instanceof ProvisioningError) return { outcome: 'error', code: error.code };
    throw error;
  }
}
