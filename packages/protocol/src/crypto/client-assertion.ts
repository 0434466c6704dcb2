import { importKeyCached } from './import-key-cached.js';
import { compactVerify } from 'jose';
import { type Clock, epochSeconds, systemClock } from '../clock.js';
import { AuthError } from '../errors.js';
import { fromBase64Url, fromUtf8, utf8 } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { type RandomSource, createJti, secureRandom } from '../random.js';
import { zPartyId, zRandomId } from '../schemas/primitives.js';
import { checkHeader, decodeHeaderStrict } from './headers.js';
import { type SigningKeyInput, signCompact } from './key-handles.js';
import { type Jwks, SIGNING_ALGORITHMS } from './keys.js';

/** The JWS `typ` of a wallet provider's client assertion. */
export const CLIENT_ASSERTION_TYP = 'pushprov-client+jwt';
/** The longest lifetime a client assertion may have, seconds. */
export const MAX_CLIENT_ASSERTION_LIFETIME_SECONDS = 300;

/** Input of {@link createClientAssertion}. */
export interface CreateClientAssertionInput {
  /** The wallet provider id: `iss` and `sub`. */
  walletProviderId: string;
  /** The token service id: `aud`. */
  audience: string;
  /**
   * The wallet provider's signing key: a private JWK (ES256 or EdDSA) with its
   * `kid`, or a {@link SigningKeyHandle} (for example a non-extractable `CryptoKey`).
   */
  signingKey: SigningKeyInput;
  /** Lifetime in seconds, at most 300. Default 60. */
  lifetimeSeconds?: number;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Creates a signed client assertion with which a wallet provider
 * authenticates to the token service: `Authorization: Bearer <assertion>`.
 * A compact JWS (`typ: pushprov-client+jwt`) over
 * `{ iss, sub, aud, iat, exp, jti }`; single use.
 *
 * @example
 * ```ts
 * const assertion = await createClientAssertion({ walletProviderId: 'wallet-co', audience: 'ts', signingKey });
 * ```
 */
export async function createClientAssertion(input: CreateClientAssertionInput): Promise<string> {
  const iat = epochSeconds(input.clock ?? systemClock);
  const lifetime = Math.min(input.lifetimeSeconds ?? 60, MAX_CLIENT_ASSERTION_LIFETIME_SECONDS);
  const claims = {
    iss: input.walletProviderId,
    sub: input.walletProviderId,
    aud: input.audience,
    iat,
    exp: iat + lifetime,
    jti: createJti(input.random ?? secureRandom),
  };
  return signCompact(input.signingKey, utf8(JSON.stringify(claims)), CLIENT_ASSERTION_TYP);
}

/** A verified client assertion. */
export interface VerifiedClientAssertion {
  walletProviderId: string;
  jti: string;
  exp: number;
}

/**
 * Verifies a client assertion: header allow-list, the provider's key by
 * `kid`, signature, `iss` = `sub` = the expected provider, `aud`, and time
 * (with skew). The caller must also refuse a `jti` it has seen (replay). Every
 * failure is `unauthenticated`.
 */
export async function verifyClientAssertion(
  assertion: string,
  options: { walletProviderId: string; keys: Jwks; audience: string; clock?: Clock; clockSkewSeconds?: number },
): Promise<VerifiedClientAssertion> {
  const fail = (cause?: unknown): never => {
    throw new AuthError('unauthenticated', 'The client assertion is not valid', cause === undefined ? {} : { cause });
  };
  let header: Record<string, unknown> = {};
  try {
    header = decodeHeaderStrict(assertion, 'unauthenticated');
    checkHeader(
      header,
      { allowed: ['alg', 'kid', 'typ'], required: ['alg', 'kid', 'typ'], equals: { typ: CLIENT_ASSERTION_TYP }, algorithms: SIGNING_ALGORITHMS },
      'unauthenticated',
    );
  } catch (cause) {
    fail(cause);
  }
  const jwk = options.keys.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
  if (!jwk) return fail();
  let payload: unknown;
  try {
    const key = await importKeyCached(jwk, jwk.alg);
    const verified = await compactVerify(assertion, key, { algorithms: [jwk.alg] });
    payload = parseStrictJson(fromUtf8(verified.payload), { maxLength: 2048, maxDepth: 2 });
  } catch (cause) {
    fail(cause);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return fail();
  const c = payload as Record<string, unknown>;
  const now = epochSeconds(options.clock ?? systemClock);
  const skew = options.clockSkewSeconds ?? 60;
  const keys = Object.keys(c).sort().join(',');
  if (
    keys !== 'aud,exp,iat,iss,jti,sub' ||
    c.iss !== options.walletProviderId ||
    c.sub !== options.walletProviderId ||
    !zPartyId.safeParse(c.iss).success ||
    c.aud !== options.audience ||
    typeof c.iat !== 'number' ||
    typeof c.exp !== 'number' ||
    !zRandomId.safeParse(c.jti).success ||
    c.exp - c.iat <= 0 ||
    c.exp - c.iat > MAX_CLIENT_ASSERTION_LIFETIME_SECONDS ||
    c.iat - skew > now ||
    now >= c.exp + skew
  ) {
    fail();
  }
  return { walletProviderId: c.iss as string, jti: c.jti as string, exp: c.exp as number };
}

/** Reads the unverified `iss` of a client assertion, to look up the provider's keys. Returns undefined when unreadable. */
export function peekClientAssertionIssuer(assertion: string): string | undefined {
  try {
    const part = assertion.split('.')[1];
    if (part === undefined) return undefined;
    const payload = parseStrictJson(fromUtf8(fromBase64Url(part)), { maxLength: 2048, maxDepth: 2 }) as { iss?: unknown };
    return typeof payload.iss === 'string' && zPartyId.safeParse(payload.iss).success ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/** Input of {@link createIssuerAssertion}. */
export interface CreateIssuerAssertionInput {
  /** The issuer id, as registered with the token service: `iss` and `sub`. */
  issuerId: string;
  /** The token service id: `aud`. */
  audience: string;
  /**
   * One of the issuer's registered signing keys (the keys whose public halves
   * the token service trusts for the issuer's provisioning requests): a
   * private JWK (ES256 or EdDSA) with its `kid`, or a {@link SigningKeyHandle}.
   */
  signingKey: SigningKeyInput;
  /** Lifetime in seconds, at most 300. Default 60. */
  lifetimeSeconds?: number;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Creates the client assertion with which an issuer backend authenticates to
 * the token service's issuer API (`/v1/issuer/…`, spec section 7.9): the
 * same format as a wallet provider's (section 5.6, `typ: pushprov-client+jwt`)
 * with `iss` = `sub` = the issuer id, signed with one of the issuer's
 * registered keys. Single use: mint one per HTTP request.
 *
 * @example
 * ```ts
 * const assertion = await createIssuerAssertion({ issuerId: 'bank-a', audience: 'ts', signingKey: issuerPrivateJwk });
 * await fetch(`${base}/v1/issuer/tokens/${id}/activation`, { method: 'POST', headers: { authorization: `Bearer ${assertion}` }, body });
 * ```
 */
export async function createIssuerAssertion(input: CreateIssuerAssertionInput): Promise<string> {
  const { issuerId, ...rest } = input;
  return createClientAssertion({ ...rest, walletProviderId: issuerId });
}

/** A verified issuer assertion. */
export interface VerifiedIssuerAssertion {
  issuerId: string;
  jti: string;
  exp: number;
}

/**
 * Verifies an issuer's client assertion with the same checks as
 * {@link verifyClientAssertion}, against the issuer's registered keys. The
 * caller must also refuse a `jti` it has seen. Every failure is `unauthenticated`.
 *
 * @example
 * ```ts
 * const { issuerId, jti, exp } = await verifyIssuerAssertion(assertion, { issuerId: 'bank-a', keys: issuerJwks, audience: 'ts' });
 * ```
 */
export async function verifyIssuerAssertion(
  assertion: string,
  options: { issuerId: string; keys: Jwks; audience: string; clock?: Clock; clockSkewSeconds?: number },
): Promise<VerifiedIssuerAssertion> {
  const { issuerId, ...rest } = options;
  const verified = await verifyClientAssertion(assertion, { ...rest, walletProviderId: issuerId });
  return { issuerId: verified.walletProviderId, jti: verified.jti, exp: verified.exp };
}
