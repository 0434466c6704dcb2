import { type Clock, type Invocation, type Jwks, createError, epochSeconds, verifyInvocationSignature } from '@pushprov/protocol';
import type { SeenSessionStore } from '../seen-sessions/seen-session-store.js';

/** What {@link checkInvocation} needs. */
export interface InvocationPolicy {
  trustedIssuers: ReadonlyMap<string, Jwks> | undefined;
  requireSigned: boolean;
  seenSessions: SeenSessionStore;
  clock: Clock;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  /** Whether the wallet takes several cards per session (`severalAccounts()`). */
  severalAccounts: boolean;
}

/**
 * Checks a parsed invocation, in this order, stopping at the first failure:
 * several cards only when the wallet takes them (`invalid_message`); issuer in the trust list (`unknown_issuer`); signature by one of its keys
 * (`signature_invalid`, `jws_header_rejected`, `unknown_issuer`), required
 * when `requireSigned`; lifetime (`lifetime_exceeded`), `iat` not in the
 * future (`not_yet_valid`) and not expired (`expired`), with clock skew; its
 * `walletNonce` the nonce of the wallet's own `accounts-request`, absent when
 * the wallet sent none (`nonce_mismatch`, spec 4.24); and finally, atomically, that the session was never accepted before
 * (`replayed`). Only a verified, fresh invocation reaches the replay store, so
 * forged or stale ones cannot fill it. Returns whether the signature verified.
 */
export async function checkInvocation(invocation: Invocation, policy: InvocationPolicy, walletNonce?: string): Promise<{ verified: boolean }> {
  let verified = false;
  if (invocation.accounts && !policy.severalAccounts) throw createError('invalid_message', 'This wallet takes one card per session');
  if (policy.trustedIssuers) {
    const jwks = policy.trustedIssuers.get(invocation.issuerId);
    if (!jwks) throw createError('unknown_issuer', 'The issuer is not in the trust list');
    if (invocation.signature !== undefined) {
      await verifyInvocationSignature(invocation, jwks);
      verified = true;
    } else if (policy.requireSigned) {
      throw createError('signature_invalid', 'The invocation is not signed');
    }
  }
  const now = epochSeconds(policy.clock);
  const skew = policy.clockSkewSeconds;
  const lifetime = invocation.exp - invocation.iat;
  if (lifetime <= 0 || lifetime > policy.maxLifetimeSeconds) {
    throw createError('lifetime_exceeded', `The invocation lifetime must be between 1 and ${policy.maxLifetimeSeconds} seconds`);
  }
  if (invocation.iat - skew > now) throw createError('not_yet_valid', 'The invocation was issued in the future');
  if (now >= invocation.exp + skew) throw createError('expired', 'The invocation has expired');
  if (invocation.walletNonce !== walletNonce) throw createError('nonce_mismatch', 'Wrong walletNonce');
  const fresh = await policy.seenSessions.remember(invocation.sessionId, (invocation.exp + skew) * 1000);
  if (!fresh) throw createError('replayed', 'This session was already handled');
  return { verified };
}
