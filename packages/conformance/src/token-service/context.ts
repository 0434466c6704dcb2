/**
 * What every token service case works with: the HTTP client bound to the
 * service's origin, the profile, the service's encryption key (from its
 * JWKS), credentials, fresh identifiers, and the checks every answer must
 * pass (protocol section 7).
 */
import {
  type Card,
  type KeyJwk,
  type PublicEcJwk,
  type RequestClaims,
  createClientAssertion,
  createNonce,
  createSessionId,
  epochSeconds,
  parsePublicJwks,
  sealProvisioningRequest,
  systemClock,
} from '@pushprov/protocol';
import { CheckFailure, check } from '../lib/check.js';
import { type HttpAnswer, type OriginClient, jsonOf } from '../lib/http.js';
export { checkEveryAnswer, checkProblem, checkProblemShape, describe, where } from '../lib/answers.js';
import type { TokenServiceProfile } from '../profile.js';

/** The identifiers of one simulated wallet session. */
export interface WalletIds {
  sessionId: string;
  walletAccountId: string;
  deviceId: string;
  nonce: string;
}

/** Which registered wallet provider authenticates a request. */
export type ProviderChoice = 'primary' | 'other';

/** A submission to send. */
export interface SubmitInput {
  jwe: string;
  ids: WalletIds;
  devicePublicKey?: PublicEcJwk | undefined;
  idempotencyKey?: string;
  provider?: ProviderChoice;
  /** Use a client assertion even when the provider has an API key. */
  useAssertion?: boolean;
}

/** The context of a token service run. */
export interface TokenServiceContext {
  http: OriginClient;
  profile: TokenServiceProfile;
  /** The service key the runner encrypts to (public, from the JWKS). */
  serviceKey: KeyJwk;
  /** Every key of the service's JWKS. */
  serviceKeys: KeyJwk[];
  /** Seconds since the epoch, from the runner's clock. */
  now(): number;
  /** Fresh identifiers: a wallet account and device of their own, so no case sees another's token. */
  freshIds(): WalletIds;
  /** A fresh idempotency key (128 random bits). */
  freshKey(): string;
  /** The default lifetime the runner gives a request: min(300, maxRequestSeconds). */
  lifetime: number;
  /** Valid claims bound to `ids`, for the profile's issuer, card and primary wallet provider, with `overrides` (undefined removes a claim). */
  claims(ids: WalletIds, overrides?: Record<string, unknown>): RequestClaims;
  /** Seals valid claims with the protocol package's `sealProvisioningRequest`. */
  seal(claims: RequestClaims): Promise<string>;
  /** The `Authorization` header value of a provider (a fresh client assertion each time, or its API key). */
  authorization(provider?: ProviderChoice, useAssertion?: boolean): Promise<string>;
  /** The submission body of `input`, as JSON text. */
  submissionBody(input: Pick<SubmitInput, 'jwe' | 'ids' | 'devicePublicKey'>): string;
  /** POSTs a submission. */
  submit(input: SubmitInput): Promise<HttpAnswer>;
}

/** Options of {@link createTokenServiceContext}. */
export interface ContextOptions {
  http: OriginClient;
  profile: TokenServiceProfile;
  jwksAnswer: HttpAnswer;
}

/** Reads the service's JWKS answer and builds the context. Throws a CheckFailure when the JWKS is not usable. */
export function createTokenServiceContext(options: ContextOptions): TokenServiceContext {
  const { http, profile } = options;
  const serviceKeys = readJwks(options.jwksAnswer);
  const serviceKey = profile.encryptionKid === undefined ? serviceKeys.find((k) => k.alg === 'ECDH-ES+A256KW') : serviceKeys.find((k) => k.kid === profile.encryptionKid);
  if (serviceKey === undefined) {
    throw new CheckFailure(
      profile.encryptionKid === undefined ? 'an ECDH-ES+A256KW key in the JWKS' : `a key with kid ${profile.encryptionKid} in the JWKS`,
      `kids ${JSON.stringify(serviceKeys.map((k) => k.kid))}`,
      'unknown_key',
    );
  }
  const lifetime = Math.min(300, profile.maxRequestSeconds);
  const now = () => epochSeconds(systemClock);

  const credentialsOf = (provider: ProviderChoice) => {
    if (provider === 'primary') return profile.walletProvider;
    if (profile.otherWalletProvider === undefined) throw new Error('the profile names no otherWalletProvider');
    return profile.otherWalletProvider;
  };

  const context: TokenServiceContext = {
    http,
    profile,
    serviceKey,
    serviceKeys,
    now,
    lifetime,
    freshIds: () => ({
      sessionId: createSessionId(),
      nonce: createNonce(),
      walletAccountId: `conformance-account-${randomHex(12)}`,
      deviceId: `conformance-device-${randomHex(12)}`,
    }),
    freshKey: () => createSessionId(),
    claims(ids, overrides = {}) {
      const iat = now();
      const base: Record<string, unknown> = {
        iss: profile.issuer.id,
        aud: profile.serviceId,
        iat,
        exp: iat + lifetime,
        jti: createSessionId(),
        sid: ids.sessionId,
        walletProviderId: profile.walletProvider.id,
        walletAccountId: ids.walletAccountId,
        deviceId: ids.deviceId,
        nonce: ids.nonce,
        card: { ...profile.card } satisfies Card,
        ...overrides,
      };
      for (const [key, value] of Object.entries(base)) if (value === undefined) delete base[key];
      return base as unknown as RequestClaims;
    },
    seal: (claims) => sealProvisioningRequest({ claims, signingKey: profile.issuer.signingKey as KeyJwk, encryptionKey: serviceKey }),
    async authorization(provider = 'primary', useAssertion = false) {
      const credentials = credentialsOf(provider);
      if (credentials.apiKey !== undefined && !(useAssertion && credentials.assertionKey !== undefined)) return `Bearer ${credentials.apiKey}`;
      const assertion = await createClientAssertion({ walletProviderId: credentials.id, audience: profile.serviceId, signingKey: credentials.assertionKey as KeyJwk });
      return `Bearer ${assertion}`;
    },
    submissionBody({ jwe, ids, devicePublicKey }) {
      return JSON.stringify({
        type: 'submission',
        version: 1,
        sessionId: ids.sessionId,
        walletAccountId: ids.walletAccountId,
        deviceId: ids.deviceId,
        nonce: ids.nonce,
        encryptedRequest: jwe,
        ...(devicePublicKey === undefined ? {} : { devicePublicKey }),
      });
    },
    async submit(input) {
      return http.request('/v1/provisioning-requests', {
        method: 'POST',
        headers: {
          authorization: await context.authorization(input.provider, input.useAssertion),
          'content-type': 'application/json',
          'idempotency-key': input.idempotencyKey ?? createSessionId(),
        },
        body: context.submissionBody(input),
      });
    },
  };
  return context;
}

/** `bytes` random bytes as hex. */
export const randomHex = (bytes: number): string => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

function readJwks(answer: HttpAnswer): KeyJwk[] {
  check(answer.status === 200, 'GET /.well-known/jwks.json: 200', `${answer.status}`);
  const body = jsonOf(answer);
  try {
    return parsePublicJwks(body).keys;
  } catch (error) {
    throw new CheckFailure('a public JWK set (protocol section 7.4)', `${(error as Error).message}: ${answer.text.slice(0, 300)}`, 'invalid_message');
  }
}

