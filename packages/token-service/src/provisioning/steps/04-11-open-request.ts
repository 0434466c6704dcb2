// Steps 4 to 11 of docs/protocol.md section 6, in the protocol package's
// openProvisioningRequest, in its documented order.
import { type RequestClaims, openProvisioningRequest } from '@pushprov/protocol';
import type { ProvisioningContext } from '../context.js';

/** The codes steps 4 to 11 answer with. */
export const STEPS_4_TO_11_CODES = [
  'jwe_header_rejected',
  'unknown_key',
  'decryption_failed',
  'jws_header_rejected',
  'unknown_issuer',
  'signature_invalid',
  'invalid_claims',
  'card_invalid',
  'audience_mismatch',
  'lifetime_exceeded',
  'not_yet_valid',
  'expired',
] as const;

/**
 * Steps 4-11: JWE header allow-list and `kid` (4), decrypt (5), JWS header
 * allow-list (6), issuer key by `iss` + `kid` (7), signature (8), claims
 * schema (9), audience (10), lifetime and time (11).
 */
export async function openRequest(ctx: ProvisioningContext, encryptedRequest: string): Promise<RequestClaims> {
  const { claims } = await openProvisioningRequest(encryptedRequest, {
    decryptionKeys: ctx.decryptionKeys,
    issuerKeys: (iss, kid) => ctx.issuers.get(iss)?.jwks.keys.find((k) => k.kid === kid),
    audience: ctx.config.serviceId,
    clock: ctx.clock,
    clockSkewSeconds: ctx.config.lifetimes.clockSkewSeconds,
    maxLifetimeSeconds: ctx.config.lifetimes.maxRequestSeconds,
  });
  return claims;
}
