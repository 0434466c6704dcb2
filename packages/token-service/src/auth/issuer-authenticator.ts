import { AuthError, type Clock, replayKey, systemClock, verifyIssuerAssertion } from '@pushprov/protocol';
import { peekClientAssertionIssuer } from '@pushprov/protocol/internal';
import type { TokenServiceConfig } from '../config/parse-config.js';
import { sha256Hex } from '../lib/hash.js';
import type { ReplayCache } from '../store/types.js';
import { COMPACT_JWS_PATTERN } from './create-authenticator.js';

/**
 * An issuer, authenticated for the issuer API (`/v1/issuer/…`). Its id is the
 * only source of `issuerId`.
 *
 * @example
 * ```ts
 * const { issuerId } = await service.authenticateIssuer(request.headers.get('authorization'));
 * ```
 */
export interface AuthenticatedIssuer {
  issuerId: string;
}

/** Authenticates the `Authorization` header of an issuer API request. */
export type IssuerAuthenticator = (authorization: string | null | undefined) => Promise<AuthenticatedIssuer>;

const BEARER = /^Bearer +([\x21-\x7e]{1,8192})$/i;

/**
 * The replay key of an issuer's client assertion: apart from a wallet
 * provider's (`client-assertion:`) and from provisioning requests' (`:` is
 * not allowed in party ids).
 *
 * @example
 * ```ts
 * await store.replay.has(issuerAssertionReplayKey('bank-a', jti));
 * ```
 */
export const issuerAssertionReplayKey = (issuerId: string, jti: string): string => replayKey(`issuer-assertion:${issuerId}`, jti, sha256Hex);

/**
 * Creates the issuer authenticator of the issuer API: `Authorization: Bearer
 * <assertion>`, a client assertion (spec section 5.6) with `iss` = `sub` =
 * the issuer id, signed by one of the keys registered for that issuer
 * (`issuers[].jwks`, the keys its provisioning requests are verified with),
 * for this service's audience, used once: its `jti` is claimed in the
 * store's replay cache when it is presented, on any instance. No API keys.
 * Every failure is `unauthenticated`, with no hint of which check failed.
 *
 * @example
 * ```ts
 * const authenticate = createIssuerAuthenticator(config, { replay: store.replay });
 * const { issuerId } = await authenticate(request.headers.get('authorization'));
 * ```
 */
export function createIssuerAuthenticator(config: TokenServiceConfig, options: { replay: ReplayCache; clock?: Clock }): IssuerAuthenticator {
  const clock = options.clock ?? systemClock;
  const skew = config.lifetimes.clockSkewSeconds;
  const issuers = new Map(config.issuers.map((i) => [i.id, i]));
  const refuse = (message = 'The issuer is not authenticated'): never => {
    throw new AuthError('unauthenticated', message);
  };
  return async (authorization) => {
    const match = typeof authorization === 'string' ? BEARER.exec(authorization.trim()) : null;
    if (!match) return refuse('An Authorization: Bearer issuer assertion is required');
    const token = match[1]!;
    if (!COMPACT_JWS_PATTERN.test(token)) return refuse();
    const claimed = peekClientAssertionIssuer(token);
    const issuer = claimed === undefined ? undefined : issuers.get(claimed);
    if (!issuer || issuer.jwks.keys.length === 0) return refuse();
    const verified = await verifyIssuerAssertion(token, { issuerId: issuer.id, keys: issuer.jwks, audience: config.serviceId, clock, clockSkewSeconds: skew });
    const fresh = await options.replay.claim({ key: issuerAssertionReplayKey(issuer.id, verified.jti), expiresAt: (verified.exp + skew) * 1000 });
    if (!fresh) return refuse('The issuer assertion was already used');
    return { issuerId: issuer.id };
  };
}
