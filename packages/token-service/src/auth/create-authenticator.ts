import { AuthError, type Clock, replayKey, systemClock, timingSafeEqual, verifyClientAssertion } from '@pushprov/protocol';
import { peekClientAssertionIssuer } from '@pushprov/protocol/internal';
import type { TokenServiceConfig } from '../config/parse-config.js';
import { sha256Hex } from '../lib/hash.js';
import type { ReplayCache } from '../store/types.js';

/**
 * A wallet provider, authenticated. Its id is the only source of `walletProviderId`.
 *
 * @example
 * ```ts
 * const caller: AuthenticatedCaller = await service.authenticate(request.headers.get('authorization'));
 * ```
 */
export interface AuthenticatedCaller {
  walletProviderId: string;
  method: 'api_key' | 'client_assertion';
}

/** Authenticates the `Authorization` header of a request. */
export type Authenticator = (authorization: string | null | undefined) => Promise<AuthenticatedCaller>;

const BEARER = /^Bearer +([\x21-\x7e]{1,8192})$/i;
/** A compact JWS: three base64url segments. Such a bearer token is a client assertion, never an API key. */
export const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The replay key of a client assertion: not confusable with an issuer's
 * (`:` is not allowed in party ids).
 *
 * @example
 * ```ts
 * await store.replay.has(assertionReplayKey('wallet-co', jti));
 * ```
 */
export const assertionReplayKey = (walletProviderId: string, jti: string): string => replayKey(`client-assertion:${walletProviderId}`, jti, sha256Hex);

/**
 * Creates the wallet provider authenticator: `Authorization: Bearer <token>`
 * where the token is either one of the provider's API keys (compared as
 * SHA-256 hashes, in constant time, against every configured key) or a
 * client assertion (a compact JWS, see `verifyClientAssertion`) signed by one
 * of the provider's keys, for this service's audience, used once.
 *
 * An assertion is a credential, and presenting it is what uses it up: once
 * verified, its `jti` is claimed in the store's replay cache, durably and
 * atomically across every process sharing the store, before the request
 * goes on, whatever happens to the request afterwards. There is no
 * per-process memory of used assertions. Every failure is
 * `unauthenticated`, with no hint of which check failed.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator(config, { replay: store.replay });
 * const caller = await authenticate(request.headers.get('authorization'));
 * ```
 */
export function createAuthenticator(config: TokenServiceConfig, options: { replay: ReplayCache; clock?: Clock }): Authenticator {
  const clock = options.clock ?? systemClock;
  const skew = config.lifetimes.clockSkewSeconds;
  const providers = new Map(config.walletProviders.map((p) => [p.id, p]));
  const apiKeys = config.walletProviders.flatMap((p) => p.apiKeys.map((hash) => ({ hash, walletProviderId: p.id })));

  const refuse = (message = 'The caller is not authenticated'): never => {
    throw new AuthError('unauthenticated', message);
  };

  return async (authorization) => {
    const match = typeof authorization === 'string' ? BEARER.exec(authorization.trim()) : null;
    if (!match) return refuse('An Authorization: Bearer credential is required');
    const token = match[1]!;

    if (COMPACT_JWS_PATTERN.test(token)) {
      const issuer = peekClientAssertionIssuer(token);
      const provider = issuer === undefined ? undefined : providers.get(issuer);
      if (!provider?.jwks) return refuse();
      const verified = await verifyClientAssertion(token, {
        walletProviderId: provider.id,
        keys: provider.jwks,
        audience: config.serviceId,
        clock,
        clockSkewSeconds: skew,
      });
      const key = assertionReplayKey(provider.id, verified.jti);
      // Kept until it could no longer verify anyway.
      const claimed = await options.replay.claim({ key, expiresAt: (verified.exp + skew) * 1000 });
      if (!claimed) return refuse('The client assertion was already used');
      return { walletProviderId: provider.id, method: 'client_assertion' };
    }

    const presented = `sha256:${sha256Hex(token)}`;
    let found: string | undefined;
    for (const entry of apiKeys) {
      // Compare against every key, so timing does not reveal which one matched.
      if (timingSafeEqual(entry.hash, presented) && found === undefined) found = entry.walletProviderId;
    }
    return found === undefined ? refuse() : { walletProviderId: found, method: 'api_key' };
  };
}
