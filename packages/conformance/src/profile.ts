/**
 * The profile files: what the operator of the implementation under test
 * registered there, so the runner can build its own requests. Formats:
 * docs/conformance.md, "Running the conformance runner".
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { luhnValid } from '@pushprov/protocol';

const zPartyId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'must be a party id (lower-case slug of 1-64 characters)' });
const zKid = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'must be a kid: 1-128 characters of [A-Za-z0-9._:-]' });
const zB64 = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'must be base64url' });

/** A private signing JWK (ES256 on P-256 or EdDSA on Ed25519) with its kid. */
export const zPrivateSigningJwk = z.looseObject({
  kty: z.enum(['EC', 'OKP']),
  crv: z.enum(['P-256', 'Ed25519']),
  x: zB64,
  y: z.optional(zB64),
  d: zB64,
  kid: zKid,
  alg: z.enum(['ES256', 'EdDSA']),
});

/** A private encryption JWK (ECDH-ES+A256KW on P-256) with its kid. */
export const zPrivateEncryptionJwk = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: zB64,
  y: zB64,
  d: zB64,
  kid: zKid,
  alg: z.literal('ECDH-ES+A256KW'),
});

/** A public signing JWK. */
export const zPublicSigningJwk = z.looseObject({
  kty: z.enum(['EC', 'OKP']),
  crv: z.enum(['P-256', 'Ed25519']),
  x: zB64,
  y: z.optional(zB64),
  d: z.optional(z.never({ error: 'must not be in a public key' })),
  kid: zKid,
  alg: z.enum(['ES256', 'EdDSA']),
});

const zBinRange = z
  .strictObject({ start: z.string().regex(/^[0-9]{6,12}$/), end: z.string().regex(/^[0-9]{6,12}$/) })
  .refine((r) => r.start.length === r.end.length && r.start <= r.end, { message: 'start and end must have the same length, start <= end' });

const zTestCard = z.strictObject({
  pan: z.string().regex(/^[0-9]{12,19}$/, { message: 'must be 12-19 ASCII digits' }).refine(luhnValid, { message: 'must be Luhn-valid' }),
  expiry: z.strictObject({ month: z.number().int().min(1).max(12), year: z.number().int().min(2000).max(2199) }),
  cardholderName: z.optional(z.string().min(1).max(64)),
});

const zWalletCredentials = z
  .strictObject({
    id: zPartyId,
    /** An API key the service issued to this provider. */
    apiKey: z.optional(z.string().min(1).max(512)),
    /** A client assertion signing key registered for this provider. */
    assertionKey: z.optional(zPrivateSigningJwk),
  })
  .refine((p) => p.apiKey !== undefined || p.assertionKey !== undefined, { message: 'needs apiKey or assertionKey (or both)' });

/** The profile of `pushprov-conformance token-service`. */
export const zTokenServiceProfile = z.strictObject({
  $comment: z.optional(z.string()),
  kind: z.literal('token-service'),
  /** The service id: `aud` of requests and client assertions. */
  serviceId: zPartyId,
  /** An issuer registered at the service: its id, the private half of a registered signing key, its BIN ranges. */
  issuer: z.strictObject({ id: zPartyId, signingKey: zPrivateSigningJwk, binRanges: z.array(zBinRange).min(1) }),
  /** A test card of that issuer, inside its BIN ranges and not expired, that the service approves. */
  card: zTestCard,
  /** A wallet provider registered at the service, that the issuer accepts. */
  walletProvider: zWalletCredentials,
  /**
   * Optional: a second registered wallet provider. With `acceptedByIssuer:
   * false` (the issuer does not accept it) it also runs the
   * `wallet_provider_not_allowed` cases.
   */
  otherWalletProvider: z.optional(z.intersection(zWalletCredentials, z.object({ acceptedByIssuer: z.boolean() }))),
  /** Optional: a card of the issuer that the service's issuer decision declines (runs `pr-declined`). */
  decliningCard: z.optional(zTestCard),
  /**
   * Optional: a card of the issuer that the service steps up (issued
   * `pending_activation`; with an `otp_sms` or `otp_email` method for the code
   * cases). Runs the yellow path cases (`ts-yellow-*`).
   */
  stepUpCard: z.optional(zTestCard),
  /**
   * Optional: where on the service's origin the runner reads the one-time
   * codes the service sent: `GET <path>?tokenReferenceId=…` answering
   * `{ "messages": [{ "methodId", "code" }, …] }`, oldest first (the
   * reference service's sandbox inbox is `/sandbox/inbox`). Runs the code
   * cases of the yellow path.
   */
  codeInbox: z.optional(z.strictObject({ path: z.string().regex(/^\/[A-Za-z0-9._~\/-]{0,255}$/, { message: 'must be a path on the service origin' }) })),
  /** Optional: a second issuer registered at the service (its id and the private half of a signing key): `ts-yellow-other-issuer`. */
  otherIssuer: z.optional(z.strictObject({ id: zPartyId, signingKey: zPrivateSigningJwk })),
  /** Whether the runner may use the token status endpoint (`GET /v1/tokens/{id}`). Default true. */
  statusEndpoint: z.boolean().default(true),
  /** The service's tolerated clock skew, seconds. Default 60. */
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
  /** The service's maximum request lifetime, seconds. Default 900. */
  maxRequestSeconds: z.number().int().min(1).max(900).default(900),
  /** The service's request body limit, bytes. Default 32 768. */
  maxBodyBytes: z.number().int().min(1024).max(8_388_608).default(32_768),
  /** Encrypt to this key of the service's JWKS. Default: its first key. */
  encryptionKid: z.optional(zKid),
});
export type TokenServiceProfile = z.output<typeof zTokenServiceProfile>;
export type TokenServiceProfileInput = z.input<typeof zTokenServiceProfile>;

/** How the backend under test trusts the runner's token service key. */
const zTokenServiceKeys = z.union([
  z.strictObject({
    /**
     * The runner serves its public JWKS at `http://127.0.0.1:<port>/.well-known/jwks.json`
     * (port 0: any free port, printed) and decrypts with the matching private key
     * (`privateKey`, else a fresh one).
     */
    serve: z.strictObject({ port: z.number().int().min(0).max(65_535).default(0), privateKey: z.optional(zPrivateEncryptionJwk) }),
  }),
  z.strictObject({
    /** The backend already trusts this JWKS URL; the runner does not contact it. */
    jwksUrl: z.string().url(),
    /** The private keys of that set (the runner decrypts with them). */
    privateKeys: z.strictObject({ keys: z.array(zPrivateEncryptionJwk).min(1) }),
  }),
]);

/** The profile of `pushprov-conformance issuer-backend`. */
export const zIssuerBackendProfile = z.strictObject({
  $comment: z.optional(z.string()),
  kind: z.literal('issuer-backend'),
  /** The issuer and its public signing keys (what the token service registered). */
  issuer: z.strictObject({ id: zPartyId, keys: z.strictObject({ keys: z.array(zPublicSigningJwk).min(1) }) }),
  /** The token service id the backend encrypts for (`aud`). */
  serviceId: zPartyId,
  /** A wallet provider the backend builds requests for. */
  walletProviderId: zPartyId,
  /** A wallet provider id the backend does not build for. Default `conformance-unknown-wallet`. */
  disallowedWalletProviderId: zPartyId.default('conformance-unknown-wallet'),
  /** The test user: the bearer token the backend authenticates, and one of their accounts. */
  user: z.strictObject({
    bearerToken: z.string().min(1).max(4096),
    accountRef: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/),
    last4: z.string().regex(/^[0-9]{4}$/),
    network: z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'other']),
  }),
  tokenServiceKeys: zTokenServiceKeys,
  /** true: the backend must sign invocations; false: not tried; absent: tried, not applicable when the backend answers 404. */
  invocationSigning: z.optional(z.boolean()),
  /** The clock skew the runner tolerates on `iat`, seconds. Default 60. */
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
});
export type IssuerBackendProfile = z.output<typeof zIssuerBackendProfile>;
export type IssuerBackendProfileInput = z.input<typeof zIssuerBackendProfile>;

/** A profile that does not match its format. */
export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

function parseProfile<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
  throw new ProfileError(`${where} is not a valid profile:\n${issues}`);
}

/** Parses a token service profile (an object). */
export function parseTokenServiceProfile(value: unknown, where = 'the profile'): TokenServiceProfile {
  return parseProfile(zTokenServiceProfile, value, where);
}

/** Parses an issuer backend profile (an object). */
export function parseIssuerBackendProfile(value: unknown, where = 'the profile'): IssuerBackendProfile {
  return parseProfile(zIssuerBackendProfile, value, where);
}

/** Reads a JSON file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ProfileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProfileError(`${path} is not JSON: ${(error as Error).message}`);
  }
}
