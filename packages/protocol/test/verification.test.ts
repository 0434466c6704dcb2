import { describe, expect, it } from 'vitest';
import {
  ProvisioningError,
  VerificationError,
  createError,
  errorFromHttpResponse,
  parseActivationRequest,
  parseIssuerActivation,
  parseProblemDetails,
  parseProvisioningResponse,
  parseTokenStatusResponse,
  parseVerificationStarted,
  toProblemDetails,
  zVerification,
  zVerificationMethod,
} from '../src/index.js';
import { createIssuerAssertion, verifyClientAssertion, verifyIssuerAssertion } from '../src/crypto/client-assertion.js';
import { generateSigningKey } from '../src/crypto/keys.js';
import { NOW } from './helpers/fixture.js';
import {
  sampleActivationRequest,
  samplePendingResponse,
  sampleResponse,
  sampleTokenStatus,
  sampleVerification,
  sampleVerificationStarted,
} from './helpers/samples.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

const method = (value: Record<string, unknown>) => zVerificationMethod.safeParse(value).success;

describe('verification methods', () => {
  it('accepts one method of each type as the spec shows them', () => {
    expect(zVerification.safeParse(sampleVerification()).success).toBe(true);
  });

  it('requires a masked destination for the OTP types and refuses one for the others', () => {
    expect(method({ id: 'a', type: 'otp_sms' })).toBe(false);
    expect(method({ id: 'a', type: 'otp_email' })).toBe(false);
    expect(method({ id: 'a', type: 'issuer_app', destination: '•••• 0199' })).toBe(false);
    expect(method({ id: 'a', type: 'customer_service', destination: '•••• 0199' })).toBe(false);
    expect(method({ id: 'a', type: 'otp_sms', destination: '+44 •••• ••0199' })).toBe(true);
  });

  it.each([
    ['a full phone number', 'otp_sms', '+44 7700 900199'],
    ['a phone number with a mask but more than 4 digits', 'otp_sms', '•••• 900199'],
    ['digits of another script', 'otp_sms', '•••• ٩٠٠١٩٩'],
    ['more than 6 digits in separate runs', 'otp_sms', '+44 77•• ••• 0199'],
    ['5 digits in a row', 'otp_email', 'a•••12345@example.com'],
    ['no mask character', 'otp_sms', '**** 0199'],
    ['an e-mail address in the clear', 'otp_email', 'alice@example.com'],
    ['an e-mail address masked only in the domain', 'otp_email', 'alice@ex•••.com'],
    ['an e-mail destination for SMS', 'otp_sms', 'a•••@example.com'],
    ['a phone destination for e-mail', 'otp_email', '•••• 0199'],
    ['too long', 'otp_email', `a•••@${'x'.repeat(60)}.com`],
    ['too short', 'otp_sms', '••'],
    ['a control character', 'otp_sms', '•••• 01\n99'],
  ])('refuses %s', (_, type, destination) => {
    expect(method({ id: 'a', type, destination })).toBe(false);
  });

  it('allows a phone number only for customer service, and only a phone number', () => {
    expect(method({ id: 'a', type: 'customer_service' })).toBe(true);
    expect(method({ id: 'a', type: 'customer_service', phoneNumber: '0800 123 456' })).toBe(true);
    expect(method({ id: 'a', type: 'customer_service', phoneNumber: 'call us' })).toBe(false);
    expect(method({ id: 'a', type: 'customer_service', phoneNumber: '+1'.padEnd(40, '1') })).toBe(false);
    expect(method({ id: 'a', type: 'issuer_app', phoneNumber: '0800 123 456' })).toBe(false);
  });

  it('holds 1 to 8 methods with distinct ids', () => {
    const m = (id: string) => ({ id, type: 'issuer_app' });
    expect(zVerification.safeParse({ methods: [], expiresAt: NOW }).success).toBe(false);
    expect(zVerification.safeParse({ methods: [m('a'), m('a')], expiresAt: NOW }).success).toBe(false);
    expect(zVerification.safeParse({ methods: 'abcdefgh'.split('').map(m), expiresAt: NOW }).success).toBe(true);
    expect(zVerification.safeParse({ methods: 'abcdefghi'.split('').map(m), expiresAt: NOW }).success).toBe(false);
    expect(zVerification.safeParse({ methods: [{ id: 'a', type: 'outbound_call' }], expiresAt: NOW }).success).toBe(false);
  });
});

describe('verification in the provisioning response and the token status', () => {
  it('is present exactly when the status is pending_activation', () => {
    expect(parseProvisioningResponse(samplePendingResponse()).verification).toEqual(sampleVerification());
    const { verification: _, ...withoutMethods } = samplePendingResponse();
    expect(codeOf(() => parseProvisioningResponse(withoutMethods))).toBe('invalid_message');
    expect(codeOf(() => parseProvisioningResponse({ ...sampleResponse(), verification: sampleVerification() }))).toBe('invalid_message');

    const pending = { ...sampleTokenStatus(), status: 'pending_activation', verification: sampleVerification() };
    expect(parseTokenStatusResponse(pending).verification).toEqual(sampleVerification());
    expect(codeOf(() => parseTokenStatusResponse({ ...pending, verification: undefined }))).toBe('invalid_message');
    expect(codeOf(() => parseTokenStatusResponse({ ...sampleTokenStatus(), status: 'active', verification: sampleVerification() }))).toBe('invalid_message');
  });

  it('fits the largest verification (8 methods of longest ids and destinations) in the token status limit', () => {
    const methods = Array.from({ length: 8 }, (_, i) => ({ id: `${i}`.padEnd(128, 'x'), type: 'otp_email' as const, destination: `a•••@${'d'.repeat(52)}.com`.slice(0, 64) }));
    const status = { ...sampleTokenStatus(), tokenReferenceId: 't'.repeat(128), status: 'pending_activation' as const, verification: { methods, expiresAt: NOW } };
    expect(parseTokenStatusResponse(JSON.stringify(status)).verification?.methods).toHaveLength(8);
  });
});

describe('the OTP messages', () => {
  it('takes a code of 6 to 8 ASCII digits and nothing else', () => {
    for (const code of ['123456', '1234567', '12345678']) expect(parseActivationRequest({ ...sampleActivationRequest(), code }).code).toBe(code);
    for (const code of ['12345', '123456789', '12345a', '١٢٣٤٥٦', ' 123456', 123456]) {
      expect(codeOf(() => parseActivationRequest({ ...sampleActivationRequest(), code })), String(code)).toBe('invalid_message');
    }
  });

  it('states code length, expiry, resend time and attempts left in verification-started', () => {
    expect(parseVerificationStarted(sampleVerificationStarted())).toEqual(sampleVerificationStarted());
    expect(codeOf(() => parseVerificationStarted({ ...sampleVerificationStarted(), codeLength: 5 }))).toBe('invalid_message');
    expect(codeOf(() => parseVerificationStarted({ ...sampleVerificationStarted(), attemptsLeft: -1 }))).toBe('invalid_message');
  });

  it('lets an issuer activate only by its own methods', () => {
    expect(parseIssuerActivation({ type: 'issuer-activation', version: 1, method: 'customer_service' }).method).toBe('customer_service');
    for (const m of ['otp_sms', 'otp_email', 'outbound_call']) {
      expect(codeOf(() => parseIssuerActivation({ type: 'issuer-activation', version: 1, method: m }))).toBe('invalid_message');
    }
  });
});

describe('verification errors', () => {
  it('are VerificationErrors with the catalogue status; only the cooldown is retryable', () => {
    expect(createError('verification_code_invalid')).toBeInstanceOf(VerificationError);
    expect(createError('verification_code_invalid').status).toBe(422);
    expect(createError('verification_attempts_exhausted').status).toBe(403);
    expect(createError('token_not_pending').status).toBe(409);
    expect(createError('verification_cooldown')).toMatchObject({ status: 429, retryable: true });
  });

  it('carry attemptsLeft of a wrong code through problem details and back', () => {
    const problem = toProblemDetails(createError('verification_code_invalid', 'The verification code is not correct', { details: { attemptsLeft: 3 } }));
    expect(problem.attemptsLeft).toBe(3);
    expect(parseProblemDetails(JSON.stringify(problem)).attemptsLeft).toBe(3);
    const error = errorFromHttpResponse({ status: 422, contentType: 'application/problem+json', body: JSON.stringify(problem) });
    expect(error.code).toBe('verification_code_invalid');
    expect(error.details?.attemptsLeft).toBe(3);
    // only that code carries it
    expect(toProblemDetails(createError('declined', undefined, { details: { attemptsLeft: 3 } })).attemptsLeft).toBeUndefined();
    expect(codeOf(() => parseProblemDetails({ ...problem, attemptsLeft: 1.5 }))).toBe('invalid_message');
  });
});

describe('issuer assertions', () => {
  it('are client assertions with iss = sub = the issuer id, verified against the issuer keys', async () => {
    const { privateJwk, publicJwk } = await generateSigningKey({ kid: 'bank-a-1' });
    const assertion = await createIssuerAssertion({ issuerId: 'bank-a', audience: 'ts', signingKey: privateJwk });
    const keys = { keys: [publicJwk] };
    const verified = await verifyIssuerAssertion(assertion, { issuerId: 'bank-a', keys, audience: 'ts' });
    expect(verified.issuerId).toBe('bank-a');
    await expect(verifyIssuerAssertion(assertion, { issuerId: 'bank-b', keys, audience: 'ts' })).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(verifyIssuerAssertion(assertion, { issuerId: 'bank-a', keys, audience: 'other' })).rejects.toMatchObject({ code: 'unauthenticated' });
    // the same format as a wallet provider's
    expect((await verifyClientAssertion(assertion, { walletProviderId: 'bank-a', keys, audience: 'ts' })).jti).toBe(verified.jti);
  });
});
