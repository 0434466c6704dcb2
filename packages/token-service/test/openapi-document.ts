// Builds the OpenAPI 3.1 document of the token service from the protocol's
// schemas (the single source of truth). `openapi.test.ts` checks that the
// shipped `openapi.json` equals it; regenerate with
// `UPDATE_OPENAPI=1 npx vitest run packages/token-service/test/openapi.test.ts`.
import * as z from 'zod';
import {
  ERROR_CATALOG,
  ERROR_CODES,
  type ErrorCode,
  PROBLEM_CONTENT_TYPE,
  zProblemDetails,
  zProvisioningResponse,
  zPublicJwks,
  zSubmission,
  zActivationRequest,
  zIssuerActivation,
  zIssuerTokenStatusResponse,
  zTokenStatusResponse,
  zVerificationRequest,
  zVerificationStarted,
  zCardEvent,
  zCardLifecycleRequest,
  zCardLifecycleResult,
  zIssuerLifecycleRequest,
  zIssuerTokenSearch,
  zIssuerTokenSearchResult,
  zLifecycleRequest,
  zLifecycleResponse,
  zTokenHistory,
  zNotificationFeed,
  zRedeliveryAccepted,
  zTokenQuery,
  zTokenQueryResponse,
} from '@pushprov/protocol';
import packageJson from '../package.json' with { type: 'json' };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * The protocol's integers (`zInteger`: a number refined with `Number.isInteger`,
 * which JSON Schema cannot see) are `integer` in the document, as `z.int()` was.
 */
function markIntegers(ctx: { zodSchema: z.core.$ZodType; jsonSchema: Record<string, unknown> }): void {
  const checks = (ctx.zodSchema._zod.def as { checks?: Array<{ _zod: { def: { check?: string; fn?: unknown } } }> }).checks ?? [];
  if (ctx.jsonSchema.type === 'number' && checks.some((c) => c._zod.def.check === 'custom' && c._zod.def.fn === Number.isInteger)) ctx.jsonSchema.type = 'integer';
}

function schemaOf(schema: z.core.$ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'output', override: markIntegers }) as JsonObject;
  delete json.$schema;
  return json;
}

function withProperty(schema: JsonObject, path: string[], extra: JsonObject): JsonObject {
  let node: JsonObject = schema;
  for (const key of path) node = node[key] as JsonObject;
  Object.assign(node, extra);
  return schema;
}

const PAN_PATTERN = { pattern: '^[0-9]{12,19}$', description: 'Luhn-valid token number from the service token range' };
const MONTH = { type: 'integer', minimum: 1, maximum: 12 };
const YEAR = { type: 'integer', minimum: 2000, maximum: 2199 };

function provisioningResponseSchema(): JsonObject {
  const s = schemaOf(zProvisioningResponse);
  withProperty(s, ['properties', 'accessData', 'properties', 'tokenNumber'], PAN_PATTERN);
  withProperty(s, ['properties', 'accessData', 'properties', 'tokenExpiry', 'properties', 'month'], MONTH);
  withProperty(s, ['properties', 'accessData', 'properties', 'tokenExpiry', 'properties', 'year'], YEAR);
  s.oneOf = [{ required: ['accessData'] }, { required: ['encryptedAccessData'] }];
  s.description =
    'accessData in the clear, or encryptedAccessData: a compact JWE (ECDH-ES+A256KW / A256GCM, cty pushprov-access-data+json) to the devicePublicKey of the submission.';
  return s;
}

function tokenStatusSchema(schema: z.core.$ZodType = zTokenStatusResponse): JsonObject {
  const s = schemaOf(schema);
  withProperty(s, ['properties', 'tokenExpiry', 'properties', 'month'], MONTH);
  withProperty(s, ['properties', 'tokenExpiry', 'properties', 'year'], YEAR);
  return s;
}

function problemSchema(): JsonObject {
  const s = schemaOf(zProblemDetails);
  withProperty(s, ['properties', 'code'], { enum: [...ERROR_CODES] });
  (s.properties as JsonObject).issues = {
    type: 'array',
    items: { type: 'string' },
    maxItems: 8,
    description: 'Schema failures only: the first issues as "path: reason", never values.',
  };
  s.description = 'RFC 9457 problem details carrying the protocol error code. type is https://pushprov.dev/problems/<code>.';
  return s;
}

const codesOfStatus = (status: number, codes: readonly ErrorCode[]): string =>
  codes
    .filter((code) => ERROR_CATALOG[code].status === status)
    .map((code) => `\`${code}\``)
    .join(', ');

const SUBMIT_CODES: ErrorCode[] = [
  'invalid_json',
  'invalid_message',
  'unsupported_version',
  'missing_idempotency_key',
  'invalid_idempotency_key',
  'unauthenticated',
  'wallet_provider_not_allowed',
  'declined',
  'replayed',
  'idempotency_in_flight',
  'payload_too_large',
  'unsupported_media_type',
  'invalid_claims',
  'jwe_header_rejected',
  'unknown_key',
  'decryption_failed',
  'jws_header_rejected',
  'unknown_issuer',
  'signature_invalid',
  'audience_mismatch',
  'not_yet_valid',
  'expired',
  'lifetime_exceeded',
  'session_mismatch',
  'wallet_provider_mismatch',
  'wallet_account_mismatch',
  'device_mismatch',
  'nonce_mismatch',
  'device_key_mismatch',
  'card_invalid',
  'card_expired',
  'card_not_eligible',
  'idempotency_key_reused',
  'internal_error',
  'store_unavailable',
  'timeout',
  'rate_limited',
];

const POST_RULE_CODES: ErrorCode[] = [
  'unsupported_media_type',
  'missing_idempotency_key',
  'payload_too_large',
  'invalid_idempotency_key',
  'invalid_json',
  'invalid_message',
  'unsupported_version',
  'idempotency_key_reused',
  'idempotency_in_flight',
  'not_found',
  'token_not_pending',
  'verification_method_unavailable',
  'internal_error',
  'store_unavailable',
];
const VERIFICATION_CODES: ErrorCode[] = ['unauthenticated', 'rate_limited', ...POST_RULE_CODES, 'verification_attempts_exhausted', 'verification_cooldown'];
const ACTIVATION_CODES: ErrorCode[] = [
  'unauthenticated',
  'rate_limited',
  ...POST_RULE_CODES,
  'verification_attempts_exhausted',
  'verification_code_expired',
  'verification_code_invalid',
];
const ISSUER_ACTIVATION_CODES: ErrorCode[] = ['unauthenticated', ...POST_RULE_CODES];

const LIFECYCLE_RULE_CODES: ErrorCode[] = [
  'unsupported_media_type',
  'missing_idempotency_key',
  'payload_too_large',
  'invalid_idempotency_key',
  'invalid_json',
  'invalid_message',
  'idempotency_key_reused',
  'idempotency_in_flight',
  'internal_error',
  'store_unavailable',
];
const WALLET_LIFECYCLE_CODES: ErrorCode[] = ['unauthenticated', 'rate_limited', ...LIFECYCLE_RULE_CODES, 'not_found', 'token_state_conflict'];
const ISSUER_LIFECYCLE_CODES: ErrorCode[] = ['unauthenticated', ...LIFECYCLE_RULE_CODES, 'not_found', 'token_state_conflict'];
const CARD_CODES: ErrorCode[] = ['unauthenticated', ...LIFECYCLE_RULE_CODES, 'card_invalid'];
const HISTORY_CODES: ErrorCode[] = ['unauthenticated', 'not_found', 'internal_error', 'store_unavailable'];
const TOKEN_QUERY_CODES: ErrorCode[] = [
  'unauthenticated',
  'rate_limited',
  'unsupported_media_type',
  'missing_idempotency_key',
  'invalid_idempotency_key',
  'payload_too_large',
  'invalid_json',
  'invalid_message',
  'unsupported_version',
  'internal_error',
  'store_unavailable',
];
const FEED_CODES: ErrorCode[] = ['unauthenticated', 'invalid_message', 'internal_error', 'store_unavailable'];
const REDELIVER_CODES: ErrorCode[] = ['unauthenticated', 'invalid_message', 'not_found', 'internal_error', 'store_unavailable'];

const TOKEN_REFERENCE_PARAMETER = { name: 'tokenReferenceId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } };
const idempotencyParameter = (scope: string): JsonObject => ({
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description: `As for POST /v1/provisioning-requests, scoped to the ${scope}; the stored answer is bound to the path and the canonical body.`,
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$' },
});

/** The statuses whose retryable answers carry `Retry-After` (toProblemResponse in src/http/problem-response.ts). */
const RETRY_AFTER_STATUSES = new Set([409, 429, 503]);

const problemResponse = (status: number, codes: readonly ErrorCode[], note = ''): JsonObject => {
  const headers: JsonObject = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' }, 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };
  const retryable = codes.some((code) => ERROR_CATALOG[code].status === status && ERROR_CATALOG[code].retryable);
  if (retryable && RETRY_AFTER_STATUSES.has(status)) headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
  return {
    description: `${note}Codes: ${codesOfStatus(status, codes)}.`,
    headers,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
  };
};

const problemResponses = (codes: readonly ErrorCode[]): JsonObject => {
  const statuses = [...new Set(codes.map((code) => ERROR_CATALOG[code].status))].sort((a, b) => a - b);
  return Object.fromEntries(statuses.map((status) => [String(status), problemResponse(status, codes)]));
};

/** The OpenAPI 3.1 document of the token service's HTTP API. */
export function createOpenApiDocument(): JsonObject {
  const requestId = { $ref: '#/components/headers/X-Request-Id' };
  const correlationId = { $ref: '#/components/headers/X-Correlation-Id' };
  const correlationIdParameter = {
    name: 'X-Correlation-Id',
    in: 'header',
    required: false,
    description: 'The correlation id of the provisioning attempt (the wallet SDK sends the one of the invocation). Echoed in the X-Correlation-Id answer header.',
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]{1,128}$' },
  };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Push provisioning token service',
      version: packageJson.version,
      summary: 'Validates encrypted provisioning requests and issues payment tokens (access data).',
      description:
        'Reference token service of the @pushprov device push provisioning protocol. Wallet providers authenticate with an API key or a single-use client assertion (compact JWS, typ pushprov-client+jwt) as a Bearer token. Every error is RFC 9457 application/problem+json carrying a stable protocol code.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'Local sandbox (token-service start)' }],
    paths: {
      '/v1/provisioning-requests': {
        post: {
          operationId: 'submitProvisioningRequest',
          summary: 'Submit an encrypted provisioning request and receive access data',
          description:
            'Validation order: body size (413), Idempotency-Key form, then schema; idempotency; JWE header and kid; decrypt; JWS header; issuer key by iss + kid; signature; claims schema; aud, lifetime, iat, exp; jti never used; binding (session, wallet provider from the authenticated caller, wallet account, device, nonce, device key), then the issuer accepts the wallet provider; card (Luhn, expiry, issuer BIN ranges); issuer decision; issuance. The client assertion is used up when presented. A request refused before its card checks stores nothing; a card refusal or declined burns its jti, so the same request is then replayed under any key. A request the client abandons still runs to its commit. 429 rate_limited (with Retry-After, the seconds until the window ends): the wallet provider limit walletProviders[].rateLimit.perMinute right after authentication, the issuer limit issuers[].rateLimit.perMinute after the jti check, issuers[].rateLimit.perCardPerDay after the card checks; a limited request stores nothing (its jti and key stay usable). 503 store_unavailable: the storage could not be reached, or was lost during the commit; retry with the same key.',
          security: [{ bearer: [] }],
          parameters: [
            correlationIdParameter,
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: true,
              description:
                'Same key and same body: the stored answer is returned again (header Idempotent-Replayed: true), on any instance sharing the store, also when the request was already used. Same key, other body: 422 idempotency_key_reused. Same key while another attempt holds it (until it ends, or its lease of lifetimes.idempotencyLeaseSeconds, default 30 s, runs out): 409 idempotency_in_flight. Missing: 400 missing_idempotency_key; malformed: 400 invalid_idempotency_key. Keys are scoped per wallet provider.',
              schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$' },
            },
          ],
          requestBody: {
            required: true,
            description: 'At most limits.maxBodyBytes (default 32 KiB), strict JSON (no duplicate keys).',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Submission' } } },
          },
          responses: {
            '201': {
              description: 'A token was issued (status active, or pending_activation after an issuer step-up).',
              headers: {
                'X-Request-Id': requestId, 'X-Correlation-Id': correlationId,
                Location: { description: 'The token status resource.', schema: { type: 'string' } },
                'Idempotent-Replayed': { description: 'true when this is the stored answer of an earlier request.', schema: { type: 'string', enum: ['true'] } },
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ProvisioningResponse' } } },
            },
            '200': {
              description: 'The card is already provisioned to this wallet account and device: the existing token, while it has not expired (an expired one is replaced by a new token, 201).',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ProvisioningResponse' } } },
            },
            ...problemResponses(SUBMIT_CODES),
          },
        },
      },
      '/v1/tokens/{tokenReferenceId}': {
        get: {
          operationId: 'getTokenStatus',
          summary: 'The status of a token, for the wallet provider that owns it',
          security: [{ bearer: [] }],
          parameters: [{ name: 'tokenReferenceId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } }, correlationIdParameter],
          responses: {
            '200': {
              description: 'The token status (never its number).',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenStatusResponse' } } },
            },
            ...problemResponses(['unauthenticated', 'not_found', 'internal_error', 'store_unavailable']),
          },
        },
      },
      '/v1/tokens/query': {
        post: {
          operationId: 'queryTokens',
          summary: 'The wallet provider’s live tokens of one wallet account for some of one issuer’s accounts',
          description:
            'Spec sections 4.21 and 7.14: authentication and the wallet provider rate limit; HTTP rules; body (1 to 16 distinct account ids). Only the authenticated wallet provider’s tokens of that wallet account and issuer with one of those account ids, live: not deleted, not past their expiry month, not past their pending time; ordered by accountId (code unit order), then oldest first; at most 128. An account without a live token is absent (an unknown issuer or account answers no tokens). activationStarted: a pending token for which a one-time code was sent. The answer never holds a card or token number, nor the last four of either. Reads only: the Idempotency-Key is required but nothing is stored under it.',
          security: [{ bearer: [] }],
          parameters: [idempotencyParameter('wallet provider'), correlationIdParameter],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenQuery' } } } },
          responses: {
            '200': {
              description: 'The live tokens found (none when the wallet account holds none of those accounts).',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenQueryResponse' } } },
            },
            ...problemResponses(TOKEN_QUERY_CODES),
          },
        },
      },
      '/v1/tokens/{tokenReferenceId}/verification': {
        post: {
          operationId: 'startVerification',
          summary: 'Send a one-time code by an OTP method of a pending token (a second call is a resend)',
          description:
            'Validation order (spec section 11.3): authentication and the wallet provider rate limit; HTTP rules; body; idempotency; the token (the wallet provider that owns it, else 404); pending (409 token_not_pending); the method (an otp_sms or otp_email method of the token, 422 verification_method_unavailable); attempts left (403 verification_attempts_exhausted); the resend cooldown (429 verification_cooldown with Retry-After); the code is made and its keyed hash stored; the issuer delivers it. The code is never in an answer.',
          security: [{ bearer: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER, idempotencyParameter('wallet provider')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/VerificationRequest' } } } },
          responses: {
            '200': {
              description: 'A new code was made (replacing any earlier one) and handed to the issuer to deliver.',
              headers: { 'X-Request-Id': requestId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/VerificationStarted' } } },
            },
            ...problemResponses(VERIFICATION_CODES),
          },
        },
      },
      '/v1/tokens/{tokenReferenceId}/activation': {
        post: {
          operationId: 'activateToken',
          summary: 'Activate a pending token with the one-time code the user typed',
          description:
            'Validation order (spec section 11.4): as for the verification request up to the method, which must have a code; then the attempt is counted in the store (403 verification_attempts_exhausted when none are left, even with the right code); the code must not have expired (422 verification_code_expired) and must match (422 verification_code_invalid, with attemptsLeft); the code is consumed and the token activated in one commit.',
          security: [{ bearer: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER, idempotencyParameter('wallet provider')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ActivationRequest' } } } },
          responses: {
            '200': {
              description: 'The token is active.',
              headers: { 'X-Request-Id': requestId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenStatusResponse' } } },
            },
            ...problemResponses(ACTIVATION_CODES),
          },
        },
      },
      '/v1/issuer/tokens/{tokenReferenceId}/activation': {
        post: {
          operationId: 'activateTokenByIssuer',
          summary: 'The issuer verified the cardholder (its app or its customer service) and activates a pending token of its card',
          description:
            'Validation order (spec section 11.5): the issuer assertion; HTTP rules; body; idempotency; the token (a token of another issuer, or none: 404); pending (409); the token offers a method of this type (422); activation in one commit.',
          security: [{ issuerAssertion: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER, idempotencyParameter('issuer')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/IssuerActivation' } } } },
          responses: {
            '200': {
              description: 'The token is active.',
              headers: { 'X-Request-Id': requestId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenStatusResponse' } } },
            },
            ...problemResponses(ISSUER_ACTIVATION_CODES),
          },
        },
      },
      '/v1/issuer/tokens/{tokenReferenceId}': {
        get: {
          operationId: 'getIssuerTokenStatus',
          summary: 'The status of a token of one of the issuer’s cards',
          security: [{ issuerAssertion: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER],
          responses: {
            '200': {
              description:
                'The token status, with its verification methods while pending, the wallet provider, the card’s last four digits (panLast4) and the issuer’s account id the token was provisioned for (accountId).',
              headers: { 'X-Request-Id': requestId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/IssuerTokenStatusResponse' } } },
            },
            ...problemResponses(['unauthenticated', 'not_found', 'internal_error', 'store_unavailable']),
          },
        },
      },
      '/v1/tokens/{tokenReferenceId}/lifecycle': {
        post: {
          operationId: 'changeTokenLifecycle',
          summary: 'Suspend, resume or delete one of the wallet provider’s tokens',
          description:
            'Spec sections 7.10 and 12: authentication and the wallet provider rate limit; HTTP rules; body; idempotency; the token (the wallet provider’s own, else 404); the status must allow the action (suspend from active, resume from suspended, delete from pending_activation, active or suspended), else 409 token_state_conflict; one atomic write conditional on the status, with the history entry, the event and its two deliveries, and the answer stored under the key. Of racing changes of one token, one wins; the others answer token_state_conflict. A deletion drops the token number and the vault entry.',
          security: [{ bearer: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER, idempotencyParameter('wallet provider')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LifecycleRequest' } } } },
          responses: {
            '200': { description: 'The change was written.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/LifecycleResponse' } } } },
            ...problemResponses(WALLET_LIFECYCLE_CODES),
          },
        },
      },
      '/v1/tokens/{tokenReferenceId}/history': {
        get: {
          operationId: 'getTokenHistory',
          summary: 'Every recorded change of one of the wallet provider’s tokens, oldest first',
          security: [{ bearer: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER],
          responses: {
            '200': { description: 'The history; status is the reported one (expired past the expiry month).', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenHistory' } } } },
            ...problemResponses(HISTORY_CODES),
          },
        },
      },
      '/v1/issuer/tokens/search': {
        post: {
          operationId: 'searchIssuerTokens',
          summary: 'The issuer’s tokens of one card, by its account id or its card number (looked up by fingerprint)',
          description: 'Only the authenticated issuer’s tokens. The answer never holds a card or token number. Reads only: the Idempotency-Key is required but nothing is stored under it.',
          security: [{ issuerAssertion: [] }],
          parameters: [idempotencyParameter('issuer')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/IssuerTokenSearch' } } } },
          responses: {
            '200': { description: 'The tokens found (none for an unknown card).', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/IssuerTokenSearchResult' } } } },
            ...problemResponses(CARD_CODES),
          },
        },
      },
      '/v1/issuer/tokens/{tokenReferenceId}/lifecycle': {
        post: {
          operationId: 'changeIssuerTokenLifecycle',
          summary: 'Suspend, resume or delete a token of one of the issuer’s cards',
          description: 'As the wallet provider’s change (spec section 7.11), with the issuer assertion and the actor issuer; a token of another issuer is 404.',
          security: [{ issuerAssertion: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER, idempotencyParameter('issuer')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/IssuerLifecycleRequest' } } } },
          responses: {
            '200': { description: 'The change was written.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/LifecycleResponse' } } } },
            ...problemResponses(ISSUER_LIFECYCLE_CODES),
          },
        },
      },
      '/v1/issuer/cards/lifecycle': {
        post: {
          operationId: 'changeIssuerCardLifecycle',
          summary: 'The same action on every token of one of the issuer’s cards',
          description: 'Each token changes in its own atomic write; a token the action does not apply to keeps its status (previousStatus = status). Deleted tokens are left out.',
          security: [{ issuerAssertion: [] }],
          parameters: [idempotencyParameter('issuer')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CardLifecycleRequest' } } } },
          responses: {
            '200': { description: 'The card’s tokens after the request.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/CardLifecycleResult' } } } },
            ...problemResponses(CARD_CODES),
          },
        },
      },
      '/v1/issuer/cards/events': {
        post: {
          operationId: 'reportIssuerCardEvent',
          summary: 'A card was reissued (new expiry: its vault entries and tokens are updated, token.updated) or closed (its tokens are deleted, card_closed)',
          security: [{ issuerAssertion: [] }],
          parameters: [idempotencyParameter('issuer')],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CardEvent' } } } },
          responses: {
            '200': { description: 'The card’s tokens after the event.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/CardLifecycleResult' } } } },
            ...problemResponses(CARD_CODES),
          },
        },
      },
      '/v1/issuer/tokens/{tokenReferenceId}/history': {
        get: {
          operationId: 'getIssuerTokenHistory',
          summary: 'Every recorded change of a token of one of the issuer’s cards, oldest first',
          security: [{ issuerAssertion: [] }],
          parameters: [TOKEN_REFERENCE_PARAMETER],
          responses: {
            '200': { description: 'The history.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenHistory' } } } },
            ...problemResponses(HISTORY_CODES),
          },
        },
      },
      '/v1/events': {
        get: {
          operationId: 'listEvents',
          summary: 'The caller’s events, oldest first, after a cursor: the feed for reconciliation (spec section 7.12)',
          description:
            'An issuer (its issuer assertion: events of its cards’ tokens) or a wallet provider (API key or client assertion: events of its tokens). The same events the notifications carry, whatever became of their delivery. Pass the answer’s cursor as after to read on; an empty page answers the same cursor (poll with it).',
          security: [{ issuerAssertion: [] }, { bearer: [] }],
          parameters: [
            { name: 'after', in: 'query', required: false, description: 'A cursor of an earlier page (absent: from the first event).', schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } },
            { name: 'limit', in: 'query', required: false, description: 'At most this many events (default 100).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: {
            '200': { description: 'A page of events and the cursor to read on from. Cache-Control: no-store.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/NotificationFeed' } } } },
            ...problemResponses(FEED_CODES),
          },
        },
      },
      '/v1/events/{eventId}/redeliver': {
        post: {
          operationId: 'redeliverEvent',
          summary: 'Sends the caller’s delivery of an event again (spec section 7.13)',
          description:
            'The caller’s own delivery only (another party’s event is 404). A dead-lettered (or delivered) delivery is pending again, due at once, with a new retry period; a pending one is left as it is. Idempotent by nature: a body and an Idempotency-Key are accepted, neither is needed.',
          security: [{ issuerAssertion: [] }, { bearer: [] }],
          parameters: [{ name: 'eventId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22,128}$' } }],
          responses: {
            '202': { description: 'The delivery is pending.', headers: { 'X-Request-Id': requestId }, content: { 'application/json': { schema: { $ref: '#/components/schemas/RedeliveryAccepted' } } } },
            ...problemResponses(REDELIVER_CODES),
          },
        },
      },
      '/.well-known/jwks.json': {
        get: {
          operationId: 'getJwks',
          summary: 'The public keys: the encryption keys issuers encrypt provisioning requests to (ECDH-ES+A256KW, P-256), then the notification signing keys (ES256, use sig), found by kid',
          responses: {
            '200': {
              description: 'A JWK set; the first encryption key is the current one, and the first signing key signs notifications.',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Jwks' } } },
            },
          },
        },
      },
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Liveness',
          responses: {
            '200': {
              description: 'The server is up.',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { type: 'string', const: 'ok' } }, required: ['status'], additionalProperties: false },
                },
              },
            },
          },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'getReadiness',
          summary: 'Readiness: the store answers',
          responses: {
            '200': {
              description: 'The store answered (a round trip to the database; for SQLite, its writer thread too). Cache-Control: no-store.',
              headers: { 'X-Request-Id': requestId, 'X-Correlation-Id': correlationId },
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { type: 'string', const: 'ready' } }, required: ['status'], additionalProperties: false },
                },
              },
            },
            ...problemResponses(['store_unavailable']),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      schemas: {
        Submission: schemaOf(zSubmission),
        ProvisioningResponse: provisioningResponseSchema(),
        TokenStatusResponse: tokenStatusSchema(),
        IssuerTokenStatusResponse: tokenStatusSchema(zIssuerTokenStatusResponse),
        ProblemDetails: problemSchema(),
        Jwks: schemaOf(zPublicJwks),
        VerificationRequest: schemaOf(zVerificationRequest),
        VerificationStarted: schemaOf(zVerificationStarted),
        ActivationRequest: schemaOf(zActivationRequest),
        IssuerActivation: schemaOf(zIssuerActivation),
        LifecycleRequest: schemaOf(zLifecycleRequest),
        IssuerLifecycleRequest: schemaOf(zIssuerLifecycleRequest),
        LifecycleResponse: schemaOf(zLifecycleResponse),
        TokenHistory: schemaOf(zTokenHistory),
        IssuerTokenSearch: schemaOf(zIssuerTokenSearch),
        IssuerTokenSearchResult: schemaOf(zIssuerTokenSearchResult),
        CardLifecycleRequest: schemaOf(zCardLifecycleRequest),
        CardEvent: schemaOf(zCardEvent),
        CardLifecycleResult: schemaOf(zCardLifecycleResult),
        NotificationFeed: schemaOf(zNotificationFeed),
        RedeliveryAccepted: schemaOf(zRedeliveryAccepted),
        // The schema's refinement (distinct ids) is not JSON Schema by itself.
        TokenQuery: withProperty(schemaOf(zTokenQuery), ['properties', 'accountIds'], { uniqueItems: true }),
        TokenQueryResponse: schemaOf(zTokenQueryResponse),
      },
      headers: {
        'X-Request-Id': { description: 'The id of this request (also in problem details and logs).', schema: { type: 'string' } },
        'X-Correlation-Id': {
          description:
            'The correlation id of the provisioning attempt: the caller\'s X-Correlation-Id when it is 1-128 characters of [A-Za-z0-9._-] without a run of 12 or more digits (then also the correlationId member of problem details), else a new one (cor_…). Logged on every line of the request.',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
        },
        'Retry-After': {
          description:
            'Seconds to wait before retrying: 1 for a retryable 409 or 503; for 429 rate_limited, the seconds until the limit\'s window ends (a minute for the per-minute limits, the UTC day for perCardPerDay).',
          schema: { type: 'integer', minimum: 1 },
        },
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A wallet provider API key, or a client assertion: a compact JWS (typ pushprov-client+jwt, ES256 or EdDSA, kid of a key in the provider JWK set) over { iss, sub, aud, iat, exp, jti }, iss = sub = the wallet provider id, aud = the service id, at most 300 s, used up when presented (also by a request that is then refused): a fresh one for every request, retries included.',
        },
        issuerAssertion: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An issuer assertion: the client assertion format (typ pushprov-client+jwt) with iss = sub = the issuer id, signed by one of the keys registered for the issuer (the keys its provisioning requests are verified with), aud = the service id, at most 300 s, used up when presented. No API keys.',
        },
      },
    },
  };
}
