import { createError } from '../errors.js';
import * as z from 'zod/mini';
import { parseWith } from './parse.js';
import { zActivationInvocation } from './z-activation-invocation.js';
import { zAccessData, zIssuerTokenStatusResponse, zProvisioningResponse, zTokenStatusResponse } from './z-access-data.js';
import { zIdentifiers } from './z-identifiers.js';
import { zInvocation } from './z-invocation.js';
import { zProblemDetails } from './z-problem.js';
import { zProvisioningRequestMessage } from './z-provisioning-request.js';
import { zRequestClaims } from './z-request-claims.js';
import { zResult } from './z-result.js';
import { zSubmission } from './z-submission.js';
import { zAccountsRefusal, zAccountsRequest, zStatusQuery, zStatusResponse } from './z-status.js';
import { zActivationRequest, zIssuerActivation, zVerificationRequest, zVerificationStarted } from './z-verification.js';
import {
  zCardEvent,
  zCardLifecycleRequest,
  zCardLifecycleResult,
  zIssuerLifecycleRequest,
  zIssuerTokenSearch,
  zIssuerTokenSearchResult,
  zLifecycleRequest,
  zLifecycleResponse,
  zTokenHistory,
} from './z-lifecycle.js';
import { zNotificationFeed, zRedeliveryAccepted } from './z-notification.js';
import { zTokenQuery, zTokenQueryResponse } from './z-token-query.js';

export * from './primitives.js';
export * from './z-activation-invocation.js';
export * from './z-access-data.js';
export * from './z-identifiers.js';
export * from './z-invocation.js';
export * from './z-lifecycle.js';
export * from './z-problem.js';
export * from './z-provisioning-request.js';
export * from './z-request-claims.js';
export * from './z-result.js';
export * from './z-submission.js';
export * from './z-status.js';
export * from './z-verification.js';
export * from './z-notification.js';
export * from './z-token-query.js';

/** Any message that travels between the issuer app and the wallet app (spec sections 4.1 to 4.4, 4.17 and 4.22 to 4.24). */
export const zAppMessage = /* @__PURE__ */ z.discriminatedUnion('type', [
  zInvocation,
  zIdentifiers,
  zProvisioningRequestMessage,
  zResult,
  zActivationInvocation,
  zStatusQuery,
  zStatusResponse,
  zAccountsRequest,
  zAccountsRefusal,
]);
/** Any app-to-app message. */
export type AppMessage = z.infer<typeof zAppMessage>;

/**
 * Parses an invocation (step 1) from JSON text or a value.
 *
 * @example
 * ```ts
 * const invocation = parseInvocation(receivedJson); // throws SchemaError on bad input
 * ```
 */
export const parseInvocation = (input: unknown) => held(parseWith(zInvocation, input, { name: 'invocation', maxLength: 16_384 }), input);
/** Parses identifiers (step 2). */
export const parseIdentifiers = (input: unknown) => parseWith(zIdentifiers, input, { name: 'identifiers', maxLength: 8192 });
/** Parses a provisioning request message (step 3). */
export const parseProvisioningRequestMessage = (input: unknown) =>
  held(parseWith(zProvisioningRequestMessage, input, { name: 'provisioning-request', maxLength: 65_536 }), input);
/** Parses a result message (step 6). */
export const parseResult = (input: unknown) => parseWith(zResult, input, { name: 'result', maxLength: 4096 });
/**
 * Parses an activation invocation (wallet to issuer app, spec section 4.17).
 *
 * @example
 * ```ts
 * const invocation = parseActivationInvocation(receivedJson); // { type: 'activation-invocation', tokenReferenceId, methodId, … }
 * ```
 */
export const parseActivationInvocation = (input: unknown) =>
  parseWith(zActivationInvocation, input, { name: 'activation-invocation', maxLength: 4096 });
/**
 * Parses a status query (issuer app to wallet, spec section 4.22). The
 * signature is not checked here: `verifyStatusQuerySignature` does.
 *
 * @example
 * ```ts
 * const query = parseStatusQuery(receivedJson); // { type: 'status-query', queryId, issuerId, accountIds, … }
 * ```
 */
export const parseStatusQuery = (input: unknown) => parseWith(zStatusQuery, input, { name: 'status-query', maxLength: 8192 });
/** Parses a status answer (wallet to issuer app, spec section 4.23). */
export const parseStatusResponse = (input: unknown) => parseWith(zStatusResponse, input, { name: 'status-response', maxLength: 8192 });

/**
 * The longest JSON text of each app message (spec section 3). A
 * several-account invocation or request message may be longer than a
 * single-account one.
 */
export function appMessageLimit(message: AppMessage): number {
  switch (message.type) {
    case 'invocation':
      return message.accounts === undefined ? 8192 : 16_384;
    case 'provisioning-request':
      return message.encryptedRequest === undefined ? 65_536 : 20_000;
    case 'result':
    case 'activation-invocation':
    case 'accounts-request':
    case 'accounts-refusal':
      return 4096;
    default:
      return 8192;
  }
}

/** Holds JSON text to its message's own limit (`payload_too_large`). */
function held<T extends AppMessage>(message: T, input: unknown): T {
  if (typeof input === 'string' && input.length > appMessageLimit(message)) throw createError('payload_too_large', `The ${message.type} message is too long`);
  return message;
}

/**
 * Parses any app-to-app message. JSON text is held to the limit of the type it
 * turns out to be ({@link appMessageLimit}: section 3 of the spec), not only
 * to the largest one.
 */
export const parseAppMessage = (input: unknown): AppMessage => held(parseWith(zAppMessage, input, { name: 'app message', maxLength: 65_536 }), input);

/** Parses a token service submission body (step 4). */
export const parseSubmission = (input: unknown) => parseWith(zSubmission, input, { name: 'submission', maxLength: 20_000 });
/** Parses a provisioning response body (step 5). */
export const parseProvisioningResponse = (input: unknown) =>
  parseWith(zProvisioningResponse, input, { name: 'provisioning-response', maxLength: 20_000 });
/** Parses access data. */
export const parseAccessData = (input: unknown) => parseWith(zAccessData, input, { name: 'access data', maxLength: 4096 });
/** Parses a token status body. */
export const parseTokenStatusResponse = (input: unknown) => parseWith(zTokenStatusResponse, input, { name: 'token-status', maxLength: 8192 });
/**
 * Parses the token status an issuer reads (`GET /v1/issuer/tokens/{id}`).
 *
 * @example
 * ```ts
 * const status = parseIssuerTokenStatusResponse(await response.text());
 * status.accountId; // the issuer's account id the token was provisioned for
 * ```
 */
export const parseIssuerTokenStatusResponse = (input: unknown) =>
  parseWith(zIssuerTokenStatusResponse, input, { name: 'issuer-token-status', maxLength: 8192 });
/** Parses RFC 9457 problem details. */
export const parseProblemDetails = (input: unknown) => parseWith(zProblemDetails, input, { name: 'problem details', maxLength: 8192 });
/** Parses the claims of a provisioning request (failures are `invalid_claims` or a card code). */
export const parseRequestClaims = (input: unknown) =>
  parseWith(zRequestClaims, input, { name: 'request claims', code: 'invalid_claims', maxLength: 8192 });
/**
 * Parses a verification request body (`POST /v1/tokens/{id}/verification`).
 *
 * @example
 * ```ts
 * const request = parseVerificationRequest(bodyText); // { type: 'verification-request', version: 1, methodId }
 * ```
 */
export const parseVerificationRequest = (input: unknown) =>
  parseWith(zVerificationRequest, input, { name: 'verification-request', maxLength: 4096 });
/**
 * Parses the answer to a verification request (`verification-started`).
 *
 * @example
 * ```ts
 * const started = parseVerificationStarted(await response.text());
 * started.resendAfter; // NumericDate before which a resend is refused
 * ```
 */
export const parseVerificationStarted = (input: unknown) =>
  parseWith(zVerificationStarted, input, { name: 'verification-started', maxLength: 4096 });
/**
 * Parses an activation request body (`POST /v1/tokens/{id}/activation`).
 *
 * @example
 * ```ts
 * const request = parseActivationRequest(bodyText); // { type: 'activation-request', version: 1, methodId, code }
 * ```
 */
export const parseActivationRequest = (input: unknown) =>
  parseWith(zActivationRequest, input, { name: 'activation-request', maxLength: 4096 });
/**
 * Parses an issuer activation body (`POST /v1/issuer/tokens/{id}/activation`).
 *
 * @example
 * ```ts
 * const request = parseIssuerActivation(bodyText); // { type: 'issuer-activation', version: 1, method: 'issuer_app' }
 * ```
 */
export const parseIssuerActivation = (input: unknown) =>
  parseWith(zIssuerActivation, input, { name: 'issuer-activation', maxLength: 4096 });

/**
 * Parses a wallet lifecycle request (`POST /v1/tokens/{id}/lifecycle`).
 *
 * @example
 * ```ts
 * const request = parseLifecycleRequest(bodyText); // { action: 'suspend', reason: 'card_lost' }
 * ```
 */
export const parseLifecycleRequest = (input: unknown) => parseWith(zLifecycleRequest, input, { name: 'lifecycle-request', maxLength: 4096 });
/** Parses an issuer lifecycle request (`POST /v1/issuer/tokens/{id}/lifecycle`). */
export const parseIssuerLifecycleRequest = (input: unknown) => parseWith(zIssuerLifecycleRequest, input, { name: 'issuer-lifecycle-request', maxLength: 4096 });
/** Parses the answer to a lifecycle request. */
export const parseLifecycleResponse = (input: unknown) => parseWith(zLifecycleResponse, input, { name: 'lifecycle-response', maxLength: 4096 });
/** Parses a token history (`GET …/history`: at most 1 000 entries). */
export const parseTokenHistory = (input: unknown) => parseWith(zTokenHistory, input, { name: 'token-history', maxLength: 262_144 });
/** Parses an issuer token search body (`POST /v1/issuer/tokens/search`). */
export const parseIssuerTokenSearch = (input: unknown) => parseWith(zIssuerTokenSearch, input, { name: 'issuer-token-search', maxLength: 4096 });
/** Parses a card lifecycle body (`POST /v1/issuer/cards/lifecycle`). */
export const parseCardLifecycleRequest = (input: unknown) => parseWith(zCardLifecycleRequest, input, { name: 'card-lifecycle-request', maxLength: 4096 });
/** Parses a card event body (`POST /v1/issuer/cards/events`). */
export const parseCardEvent = (input: unknown) => parseWith(zCardEvent, input, { name: 'card-event', maxLength: 4096 });
/** Parses the answer to an issuer token search (at most 1 000 tokens). */
export const parseIssuerTokenSearchResult = (input: unknown) =>
  parseWith(zIssuerTokenSearchResult, input, { name: 'issuer-token-search-result', maxLength: 262_144 });
/** Parses the answer to a card lifecycle request or a card event (at most 1 000 tokens). */
export const parseCardLifecycleResult = (input: unknown) => parseWith(zCardLifecycleResult, input, { name: 'card-lifecycle-result', maxLength: 262_144 });
/**
 * Parses a page of the event feed (`GET /v1/events`: at most 1 000 events).
 *
 * @example
 * ```ts
 * const { events, cursor } = parseNotificationFeed(await response.text());
 * ```
 */
export const parseNotificationFeed = (input: unknown) => parseWith(zNotificationFeed, input, { name: 'event-feed', maxLength: 1_048_576 });
/** Parses the `202` answer of `POST /v1/events/{eventId}/redeliver`. */
export const parseRedeliveryAccepted = (input: unknown) => parseWith(zRedeliveryAccepted, input, { name: 'redelivery-accepted', maxLength: 4096 });

/**
 * Parses a token query body (`POST /v1/tokens/query`): 1 to 16 distinct account ids.
 *
 * @example
 * ```ts
 * const query = parseTokenQuery(bodyText); // { type: 'token-query', version: 1, walletAccountId, issuerId, accountIds }
 * ```
 */
export const parseTokenQuery = (input: unknown) => parseWith(zTokenQuery, input, { name: 'token-query', maxLength: 4096 });
/**
 * Parses the answer to a token query (at most 128 tokens).
 *
 * @example
 * ```ts
 * const { tokens } = parseTokenQueryResponse(await response.text());
 * tokens[0]?.activationStarted; // true once a verification code was sent for the pending token
 * ```
 */
export const parseTokenQueryResponse = (input: unknown) =>
  parseWith(zTokenQueryResponse, input, { name: 'token-query-response', maxLength: 65_536 });
