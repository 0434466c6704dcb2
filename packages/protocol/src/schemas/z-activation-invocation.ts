import * as z from 'zod/mini';
import { zCorrelationId, zOpaqueId, zPartyId, zRandomId, zVersion } from './primitives.js';

/**
 * Wallet to issuer app (spec section 4.17): the wallet asks the issuer's app
 * to verify its cardholder and activate a token `pending_activation`, for an
 * `issuer_app` verification method (app-to-app). It travels over an app
 * channel like the messages of sections 4.1 to 4.4. It proves nothing: the
 * issuer's app signs its customer in, and the issuer's backend decides from
 * its own session and the token service's data whether the token is that
 * customer's before it activates it.
 */
export const zActivationInvocation = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('activation-invocation'),
    version: zVersion,
    /** The pending token. */
    tokenReferenceId: zOpaqueId,
    /** The id of the token's `issuer_app` method the user chose. */
    methodId: zOpaqueId,
    /** The issuer whose app is asked: the token's issuer. */
    issuerId: zPartyId,
    /** The wallet provider the token was provisioned to. */
    walletProviderId: zPartyId,
    /** Fresh for each invocation, at least 128 bits: a receiver handles each nonce once. */
    nonce: zRandomId,
    /** The attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
  })
)();
/** An activation invocation (wallet to issuer app). */
export type ActivationInvocation = z.infer<typeof zActivationInvocation>;
