import type { Card, Expiry } from '@pushprov/protocol';
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
  /** Aborted when the hook runs past `limits.hookTimeoutMs` or the request is cancelled. */
  signal: AbortSignal;
}

/**
 * The issuer's decision: `approve` issues an active token, `step_up` issues
 * one pending activation, `decline` refuses with `declined`.
 *
 * @example
 * ```ts
 * const decide: DecisionHook = async ({ issuerId, panLast4 }) => (panLast4 === '0002' ? 'decline' : 'approve');
 * ```
 */
export type DecisionHook = (context: DecisionContext) => Decision | Promise<Decision>;

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
