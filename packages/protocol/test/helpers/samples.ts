import type {
  AccountsRefusal,
  AccountsRequest,
  StatusQuery,
  StatusResponse,
  AccessData,
  ActivationInvocation,
  IssuerTokenStatusResponse,
  Identifiers,
  Invocation,
  ProblemDetails,
  ProvisioningRequestMessage,
  ProvisioningResponse,
  RequestClaims,
  Result,
  Submission,
  TokenQuery,
  TokenStatusResponse,
  ActivationRequest,
  IssuerActivation,
  Verification,
  VerificationRequest,
  VerificationStarted,
} from '../../src/index.js';
import type * as z from 'zod/mini';
import {
  zAccessData,
  zActivationInvocation,
  zIssuerTokenStatusResponse,
  parseActivationInvocation,
  parseIssuerTokenStatusResponse,
  zIdentifiers,
  zInvocation,
  zProblemDetails,
  zProvisioningRequestMessage,
  zProvisioningResponse,
  zRequestClaims,
  zResult,
  zSubmission,
  zTokenStatusResponse,
  zTokenQuery,
  parseTokenQuery,
  luhnCheckDigit,
  parseAccessData,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProblemDetails,
  parseProvisioningRequestMessage,
  parseProvisioningResponse,
  parseRequestClaims,
  parseResult,
  parseSubmission,
  parseTokenStatusResponse,
  zActivationRequest,
  zIssuerActivation,
  zVerificationRequest,
  zVerificationStarted,
  parseActivationRequest,
  parseIssuerActivation,
  parseVerificationRequest,
  parseVerificationStarted,
  parseStatusQuery,
  parseStatusResponse,
  zStatusQuery,
  zStatusResponse,
} from '../../src/index.js';
import { NOW, PAN, fixedId } from './fixture.js';

/** A syntactically valid compact JWE (not decryptable: schema tests only). */
export const SAMPLE_JWE = `${'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9'}.${'a'.repeat(54)}.${'b'.repeat(16)}.${'c'.repeat(40)}.${'d'.repeat(22)}`;
/** A syntactically valid compact JWS (not verifiable: schema tests only). */
export const SAMPLE_JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.' + 's'.repeat(86);
/** A syntactically valid public P-256 JWK. */
export const SAMPLE_EC_JWK = { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) } as const;

export const sampleInvocation = (): Invocation => ({
  type: 'invocation',
  version: 1,
  sessionId: fixedId(1),
  issuerId: 'bank-a',
  account: { last4: '1111', network: 'visa', productName: 'Everyday Card', issuerName: 'Bank A' },
  replyTo: 'https://bank.example/wallet-return',
  iat: NOW,
  exp: NOW + 300,
});

/** A several-account invocation: two cards, each with its account id (spec 4.1). */
export const sampleMultiInvocation = (): Invocation => {
  const { account: _single, ...rest } = sampleInvocation();
  return {
    ...rest,
    accounts: [
      { last4: '1111', network: 'visa', productName: 'Everyday Card', accountId: 'acct-1' },
      { last4: '4444', network: 'mastercard', productName: 'Travel Card', accountId: 'acct-2' },
    ],
  };
};

export const sampleIdentifiersMessage = (): Identifiers => ({
  type: 'identifiers',
  version: 1,
  sessionId: fixedId(1),
  walletProviderId: 'wallet-co',
  walletAccountId: 'user-42',
  deviceId: 'device-7',
  nonce: fixedId(2),
  devicePublicKey: { ...SAMPLE_EC_JWK },
});

/** The identifiers answering {@link sampleMultiInvocation}: both cards picked. */
export const sampleMultiIdentifiers = (): Identifiers => ({ ...sampleIdentifiersMessage(), accountIds: ['acct-1', 'acct-2'] });

export const sampleRequestMessage = (): ProvisioningRequestMessage => ({
  type: 'provisioning-request',
  version: 1,
  sessionId: fixedId(1),
  encryptedRequest: SAMPLE_JWE,
});

/** A several-account request message: one request, one refusal (spec 4.3). */
export const sampleMultiRequestMessage = (): ProvisioningRequestMessage => ({
  type: 'provisioning-request',
  version: 1,
  sessionId: fixedId(1),
  requests: [{ accountId: 'acct-1', encryptedRequest: SAMPLE_JWE }],
  refusals: [{ accountId: 'acct-2', errorCode: 'card_expired' }],
});

export const sampleResult = (): Result => ({
  type: 'result',
  version: 1,
  sessionId: fixedId(1),
  status: 'provisioned',
  tokenReferenceId: 'tok_1',
});

/** A several-account result: partial success (spec 4.4). */
export const sampleMultiResult = (): Result => ({
  type: 'result',
  version: 1,
  sessionId: fixedId(1),
  status: 'provisioned',
  accounts: [
    { accountId: 'acct-1', status: 'provisioned', tokenReferenceId: 'tok_1' },
    { accountId: 'acct-2', status: 'failed', errorCode: 'card_expired' },
  ],
});

/** A status query (spec 4.22), with a well-formed (not verifiable) signature. */
export const sampleStatusQuery = (): StatusQuery => ({
  type: 'status-query',
  version: 1,
  queryId: fixedId(4),
  issuerId: 'bank-a',
  accountIds: ['acct-1', 'acct-2'],
  iat: NOW,
  exp: NOW + 300,
  signature: SAMPLE_JWS,
});

/** The answer to {@link sampleStatusQuery} (spec 4.23). */
export const sampleStatusResponse = (): StatusResponse => ({
  type: 'status-response',
  version: 1,
  queryId: fixedId(4),
  issuerId: 'bank-a',
  accounts: [
    { accountId: 'acct-1', thisDevice: 'added', otherDevices: 'not_added' },
    { accountId: 'acct-2', thisDevice: 'not_added', otherDevices: 'needs_activation' },
  ],
});

/** A wallet's accounts request (spec 4.24). */
export const sampleAccountsRequest = (): AccountsRequest => ({ type: 'accounts-request', version: 1, nonce: fixedId(5), walletProviderId: 'wallet-co' });

/** An issuer app's refusal of {@link sampleAccountsRequest}. */
export const sampleAccountsRefusal = (): AccountsRefusal => ({ type: 'accounts-refusal', version: 1, nonce: fixedId(5), issuerId: 'bank-a', errorCode: 'consent_denied' });

export const sampleSubmission = (): Submission => ({
  type: 'submission',
  version: 1,
  sessionId: fixedId(1),
  walletAccountId: 'user-42',
  deviceId: 'device-7',
  nonce: fixedId(2),
  encryptedRequest: SAMPLE_JWE,
});

export const sampleAccessData = (): AccessData => ({
  tokenReferenceId: 'tok_1',
  tokenNumber: `489537001234567${luhnCheckDigit('489537001234567')}`,
  tokenExpiry: { month: 6, year: 2102 },
  status: 'active',
  panLast4: '1111',
  issuerId: 'bank-a',
  network: 'visa',
  issuedAt: NOW,
});

export const sampleResponse = (): ProvisioningResponse => ({
  type: 'provisioning-response',
  version: 1,
  sessionId: fixedId(1),
  tokenReferenceId: 'tok_1',
  status: 'active',
  accessData: sampleAccessData(),
});

export const sampleTokenStatus = (): TokenStatusResponse => ({
  type: 'token-status',
  version: 1,
  tokenReferenceId: 'tok_1',
  status: 'suspended',
  tokenLast4: '5678',
  tokenExpiry: { month: 6, year: 2102 },
  updatedAt: NOW,
});

export const sampleIssuerTokenStatus = (): IssuerTokenStatusResponse => ({
  ...sampleTokenStatus(),
  walletProviderId: 'wallet-co',
  panLast4: '1111',
  accountId: 'acct-7f3a',
});

export const sampleActivationInvocation = (): ActivationInvocation => ({
  type: 'activation-invocation',
  version: 1,
  tokenReferenceId: 'tok_1',
  methodId: 'm_app',
  issuerId: 'bank-a',
  walletProviderId: 'wallet-co',
  nonce: fixedId(2),
  correlationId: 'cor_activation-1',
});

/** The methods of a pending token: one of each type. */
export const sampleVerification = (): Verification => ({
  methods: [
    { id: 'm_sms', type: 'otp_sms', destination: '•••• 0199' },
    { id: 'm_email', type: 'otp_email', destination: 'a•••@example.com' },
    { id: 'm_app', type: 'issuer_app' },
    { id: 'm_call', type: 'customer_service', phoneNumber: '+44 20 7946 0000' },
  ],
  expiresAt: NOW + 7 * 86_400,
});

export const samplePendingResponse = (): ProvisioningResponse => ({
  ...sampleResponse(),
  status: 'pending_activation',
  accessData: { ...sampleAccessData(), status: 'pending_activation' },
  verification: sampleVerification(),
});

export const sampleVerificationRequest = (): VerificationRequest => ({ type: 'verification-request', version: 1, methodId: 'm_sms' });

export const sampleVerificationStarted = (): VerificationStarted => ({
  type: 'verification-started',
  version: 1,
  tokenReferenceId: 'tok_1',
  methodId: 'm_sms',
  codeLength: 6,
  codeExpiresAt: NOW + 600,
  resendAfter: NOW + 30,
  attemptsLeft: 5,
});

export const sampleActivationRequest = (): ActivationRequest => ({ type: 'activation-request', version: 1, methodId: 'm_sms', code: '123456' });

export const sampleIssuerActivation = (): IssuerActivation => ({ type: 'issuer-activation', version: 1, method: 'issuer_app' });

export const sampleProblem = (): ProblemDetails => ({
  type: 'https://pushprov.dev/problems/device_mismatch',
  title: 'The device does not match',
  status: 422,
  code: 'device_mismatch',
  retryable: false,
});

export const sampleClaims = (): RequestClaims => ({
  iss: 'bank-a',
  aud: 'token-service',
  iat: NOW,
  exp: NOW + 300,
  jti: fixedId(3),
  sid: fixedId(1),
  walletProviderId: 'wallet-co',
  walletAccountId: 'user-42',
  deviceId: 'device-7',
  nonce: fixedId(2),
  card: {
    pan: PAN,
    expiry: { month: 12, year: 2101 },
    cardholderName: 'Ada Lovelace',
    billingAddress: { line1: '1 Main Street', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
  },
});

export const sampleTokenQuery = (): TokenQuery => ({
  type: 'token-query',
  version: 1,
  walletAccountId: 'user-42',
  issuerId: 'bank-a',
  accountIds: ['acc-1', 'acc-2'],
});

/** One entry per message: its parse function and a valid sample. */
export interface MessageCase {
  name: string;
  /** The schema (for a union, the schema of the sample). */
  schema: z.ZodMiniObject;
  parse: (input: unknown) => unknown;
  sample: () => Record<string, unknown>;
  /** The code of a schema failure. */
  schemaCode: 'invalid_message' | 'invalid_claims';
  /** Whether the message carries `version`. */
  versioned: boolean;
  /** The maximum JSON text length the parse function accepts. */
  maxLength: number;
}

const m = (
  name: string,
  schema: unknown,
  parse: (input: unknown) => unknown,
  sample: () => object,
  maxLength: number,
  versioned = true,
  schemaCode: MessageCase['schemaCode'] = 'invalid_message',
): MessageCase => ({ name, schema: schema as z.ZodMiniObject, parse, sample: sample as () => Record<string, unknown>, maxLength, versioned, schemaCode });

export const MESSAGE_CASES: MessageCase[] = [
  m('invocation', zInvocation, parseInvocation, sampleInvocation, 8192),
  m('identifiers', zIdentifiers, parseIdentifiers, sampleIdentifiersMessage, 8192),
  m('provisioning-request', zProvisioningRequestMessage, parseProvisioningRequestMessage, sampleRequestMessage, 20_000),
  m('result', zResult, parseResult, sampleResult, 4096),
  // any app message: held to the largest limit (a several-account request message's), then to its own
  m('app-message', zProvisioningRequestMessage, parseAppMessage, sampleMultiRequestMessage, 65_536),
  m('status-query', zStatusQuery, parseStatusQuery, sampleStatusQuery, 8192),
  m('status-response', zStatusResponse, parseStatusResponse, sampleStatusResponse, 8192),
  m('submission', zSubmission, parseSubmission, sampleSubmission, 20_000),
  m('provisioning-response', zProvisioningResponse, parseProvisioningResponse, sampleResponse, 20_000),
  m('access-data', zAccessData, parseAccessData, sampleAccessData, 4096, false),
  m('token-status', zTokenStatusResponse, parseTokenStatusResponse, sampleTokenStatus, 8192),
  m('issuer-token-status', zIssuerTokenStatusResponse, parseIssuerTokenStatusResponse, sampleIssuerTokenStatus, 8192),
  m('activation-invocation', zActivationInvocation, parseActivationInvocation, sampleActivationInvocation, 4096),
  m('verification-request', zVerificationRequest, parseVerificationRequest, sampleVerificationRequest, 4096),
  m('verification-started', zVerificationStarted, parseVerificationStarted, sampleVerificationStarted, 4096),
  m('activation-request', zActivationRequest, parseActivationRequest, sampleActivationRequest, 4096),
  m('issuer-activation', zIssuerActivation, parseIssuerActivation, sampleIssuerActivation, 4096),
  m('problem-details', zProblemDetails, parseProblemDetails, sampleProblem, 8192, false),
  m('request-claims', zRequestClaims, parseRequestClaims, sampleClaims, 8192, false, 'invalid_claims'),
  m('token-query', zTokenQuery, parseTokenQuery, sampleTokenQuery, 4096),
];
