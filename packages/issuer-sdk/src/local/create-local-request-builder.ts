import {
  type Card,
  type Clock,
  CryptoError,
  type Jwks,
  type ProvisioningError,
  type RandomSource,
  type SigningKeyHandle,
  type SigningKeyInput,
  createError,
  parsePublicJwks,
  zPartyId,
} from '@pushprov/protocol';
import { toSigningKeyHandle } from '@pushprov/protocol/internal';
import { requireEncryptionKey, sealBoundRequest, sealEach } from '../lib/seal-bound-request.js';
import type { ProvisioningRequestSource, RequestContext } from '../request/provisioning-request-source.js';

/**
 * The token service a local builder encrypts to.
 *
 * @example
 * ```ts
 * const tokenService: LocalTokenServiceOptions = {
 *   audience: 'token-service.example',
 *   jwksProvider: async ({ signal }) => (await fetch('/api/token-service-keys', { signal })).json(),
 * };
 * ```
 */
export interface LocalTokenServiceOptions {
  /** The token service id: the request's `aud`. */
  audience: string;
  /** The service's public JWK set, when the app ships it. */
  jwks?: Jwks;
  /** Gets the service's public JWK set (e.g. from your backend), called for every request. */
  jwksProvider?: (context: RequestContext) => Jwks | Promise<Jwks>;
  /** Encrypt to this key only. Default: the first encryption key of the set. */
  kid?: string;
}

/**
 * Options of {@link createLocalRequestBuilder}.
 *
 * @example
 * ```ts
 * const options: LocalRequestBuilderOptions = {
 *   sandbox: true, // a test key against a sandbox token service, never a production issuer key
 *   issuerId: 'bank-a',
 *   signingKey: sandboxIssuerPrivateJwk,
 *   tokenService: { audience: 'ts-sandbox', jwks: tokenServiceJwks, kid: 'ts-2026-11' },
 * };
 * ```
 */
export interface LocalRequestBuilderOptions {
  /**
   * Required, and must be `true`: says that this runs against a sandbox, with
   * a test issuer key and test cards. The builder holds the issuer's private
   * signing key and the card number in the app, where anyone who has the app
   * can take them; a production issuer builds requests on its backend
   * (`createProvisioningRequestBuilder` from `@pushprov/issuer-sdk/server`,
   * reached with `createBackendRequestSource`). Without it the builder is
   * refused with `configuration_invalid`.
   */
  sandbox: true;
  /** The issuer id: the request's `iss`. */
  issuerId: string;
  /**
   * The issuer's signing key (a sandbox key): a private JWK (ES256 or EdDSA)
   * with its `kid`, or a {@link SigningKeyHandle} (for example a
   * non-extractable `CryptoKey`, `signingKeyFromCryptoKey`).
   */
  signingKey: SigningKeyInput;
  tokenService: LocalTokenServiceOptions;
  /** Lifetime of each request, seconds. Default 300. */
  requestLifetimeSeconds?: number;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * A {@link ProvisioningRequestSource} that builds the request in the app, for
 * sandboxes, tests and demos only: it binds the claims to the wallet's
 * identifiers, signs them with the issuer key and encrypts them to the token
 * service key found by `kid`. It puts the issuer's private key and the card
 * number in the app, so it refuses to be created (`configuration_invalid`)
 * unless the options say `sandbox: true`. A production app uses
 * `createBackendRequestSource`, which keeps both on the issuer's backend.
 *
 * Codes: `configuration_invalid` (no `sandbox: true`, or bad options) when
 * created; `unknown_key` (no such service key, or a JWK set that does not
 * parse), `invalid_claims` / `card_invalid` (bad card or ids) when building.
 *
 * @example
 * ```ts
 * import { createLocalRequestBuilder } from '@pushprov/issuer-sdk/local';
 *
 * const requestSource = createLocalRequestBuilder({
 *   sandbox: true,
 *   issuerId: 'bank-a',
 *   signingKey: sandboxIssuerPrivateJwk,
 *   tokenService: { audience: 'ts-sandbox', jwks: tokenServiceJwks },
 * });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource });
 * issuer.startProvisioning({ account: { last4: '1111', network: 'visa' }, card, wallet });
 * ```
 */
export function createLocalRequestBuilder(options: LocalRequestBuilderOptions): ProvisioningRequestSource {
  const { tokenService } = options;
  if (options?.sandbox !== true) {
    throw createError(
      'configuration_invalid',
      'createLocalRequestBuilder holds the issuer signing key and card data in the app: it runs only against a sandbox (sandbox: true). In production, build requests on the issuer backend (createBackendRequestSource)',
    );
  }
  if (!zPartyId.safeParse(options.issuerId).success) throw createError('configuration_invalid', 'issuerId must be a lower-case slug');
  let signingKey: SigningKeyHandle;
  try {
    signingKey = toSigningKeyHandle(options.signingKey);
  } catch (cause) {
    throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid, or a signing key handle', { cause });
  }
  if (!zPartyId.safeParse(tokenService?.audience).success) throw createError('configuration_invalid', 'tokenService.audience must be a lower-case slug');
  if ((tokenService.jwks === undefined) === (tokenService.jwksProvider === undefined)) {
    throw createError('configuration_invalid', 'Give exactly one of tokenService.jwks and tokenService.jwksProvider');
  }
  let fixed: Jwks | undefined;
  if (tokenService.jwks !== undefined) {
    try {
      fixed = parsePublicJwks(tokenService.jwks);
    } catch (cause) {
      throw createError('configuration_invalid', 'tokenService.jwks is not a public JWK set', { cause });
    }
  }

  async function keys(context: RequestContext): Promise<Jwks> {
    if (fixed) return fixed;
    let provided: Jwks;
    try {
      provided = await tokenService.jwksProvider!(context);
    } catch (cause) {
      if ((cause as ProvisioningError)?.code !== undefined) throw cause;
      throw createError('network_error', 'The token service keys could not be obtained', { cause });
    }
    try {
      return parsePublicJwks(provided);
    } catch (cause) {
      throw new CryptoError('unknown_key', 'The token service key set does not parse', { cause });
    }
  }

  return {
    async buildRequest(input, context) {
      const encryptionKey = requireEncryptionKey(await keys(context), tokenService.kid);
      const seal = (card: Card | undefined, accountRef: string | undefined, accountId: string | undefined) =>
        sealBoundRequest({
          issuerId: options.issuerId,
          signingKey,
          audience: tokenService.audience,
          encryptionKey,
          identifiers: input.identifiers,
          card,
          accountRef,
          accountId,
          lifetimeSeconds: options.requestLifetimeSeconds,
          clock: options.clock,
          random: options.random,
        });
      if (input.accounts === undefined) return seal(input.card, input.accountRef, input.accountId);
      // Several accounts: one request per picked account (each its own jti), all bound to the same identifiers.
      // As in the one-account form the card is not checked here (the token service decides); a failure fails the call.
      return sealEach(input.identifiers.sessionId, input.accounts, async (a) => (await seal(a.card, a.accountRef, a.accountId)).encryptedRequest!);
    },
  };
}
