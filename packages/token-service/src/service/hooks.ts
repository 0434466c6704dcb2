import type { Card, Expiry, VerificationMethod } from '@pushprov/protocol';
import type { Decision, IssuerConfig } from '../config/parse-config.js';

/**
 * What the issuer's decision hook sees. Never the PAN: its last four digits,
 * its keyed fingerprint and its expiry, plus the account reference when the
 * request carried one.
 */
export interface DecisionContext {
  issuerId: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  sessionId: string;
  panLast4: string;
  /** HMAC fingerprint of the PAN under the service's fingerprint key. */
  panFingerprint: string;
  cardExpiry: Expiry;
  /** The issuer account reference, when the request carried one instead of a card. */
  accountRef?: string | undefined;
  /** The issuer's stable id of the card account, when the request carried an `accountId` claim. */
  accountId?: string | undefined;
  /** Aborted when the hook runs past `limits.hookTimeoutMs` or the request is cancelled. */
  signal: AbortSignal;
}

/**
 * A decision with its details: `step_up` with the identity-verification
 * methods the issuer offers for this card (1 to 8, destinations masked by
 * the issuer; absent: the issuer's configured `verificationMethods`).
 *
 * @example
 * ```ts
 * const result: DecisionResult = { decision: 'step_up', methods: [{ id: 'sms-1', type: 'otp_sms', destination: '•••• 0199' }] };
 * ```
 */
export type DecisionResult =
  | { decision: 'approve' }
  | { decision: 'decline' }
  | { decision: 'step_up'; methods?: VerificationMethod[] | undefined };

/**
 * The issuer's decision: `approve` issues an active token, `step_up` issues
 * one pending activation (with the verification methods of a
 * {@link DecisionResult}, or the issuer's configured ones), `decline`
 * refuses with `declined`.
 *
 * @example
 * ```ts
 * const decide: DecisionHook = async ({ panLast4 }) =>
 *   panLast4 === '0002' ? 'decline' : panLast4 === '0028' ? { decision: 'step_up', methods: [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }] } : 'approve';
 * ```
 */
export type DecisionHook = (context: DecisionContext) => Decision | DecisionResult | Promise<Decision | DecisionResult>;

/** What the issuer's code sender sees: never anything but the one code to deliver. */
export interface VerificationCodeContext {
  issuerId: string;
  tokenReferenceId: string;
  /** The method chosen (its masked destination: the issuer knows the real one). */
  method: VerificationMethod;
  /** The one-time code, in the clear: deliver it, never log or store it. */
  code: string;
  /** Aborted when the hook runs past `limits.hookTimeoutMs`. */
  signal: AbortSignal;
}

/**
 * Delivers a one-time code for an `otp_sms` or `otp_email` method: the
 * issuer sends it to the cardholder's real phone or address. A throw (or no
 * answer in time) answers the wallet `internal_error`.
 *
 * @example
 * ```ts
 * const sendVerificationCode: VerificationCodeSender = async ({ issuerId, method, code, signal }) =>
 *   bankApi.sendOtp({ issuerId, methodId: method.id, code }, { signal });
 * ```
 */
export type VerificationCodeSender = (context: VerificationCodeContext) => void | Promise<void>;

/** What the account resolver sees. */
export interface AccountResolutionContext {
  issuerId: string;
  /** The issuer's opaque account reference from the signed request. */
  accountRef: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  sessionId: string;
  signal: AbortSignal;
}

/**
 * Resolves an issuer account reference (`accountRef` requests) to the card
 * behind it, or `undefined` when the issuer does not know it (the request is
 * then refused with `card_invalid`). The card then goes through the same card
 * checks as one sent inline.
 *
 * @example
 * ```ts
 * const resolveAccount: AccountResolver = async ({ issuerId, accountRef, signal }) =>
 *   bankApi.lookupCard(issuerId, accountRef, { signal });
 * ```
 */
export type AccountResolver = (context: AccountResolutionContext) => Card | undefined | Promise<Card | undefined>;

/**
 * The decision taken when no hook is given: the issuer's configured sandbox
 * rules (`decision.byLast4[panLast4]`, else `decision.default`).
 *
 * @example
 * ```ts
 * decideByRules(issuer, '0002'); // 'decline' when byLast4 says so
 * ```
 */
export function decideByRules(issuer: Pick<IssuerConfig, 'decision'>, panLast4: string): Decision {
  const rules = issuer.decision;
  return Object.prototype.hasOwnProperty.call(rules.byLast4, panLast4) ? rules.byLast4[panLast4]! : rules.default;
}
