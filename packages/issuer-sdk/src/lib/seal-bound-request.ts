import {
  type AccountRefusal,
  type AccountRequest,
  type Card,
  type Clock,
  CryptoError,
  type Identifiers,
  type Jwks,
  KEY_MANAGEMENT_ALGORITHM,
  type KeyJwk,
  type ProvisioningRequestMessage,
  type RandomSource,
  createRequestClaims,
  deviceKeyThumbprint,
  isProvisioningError,
  sealProvisioningRequest,
} from '@pushprov/protocol';

/**
 * Picks the token service key to encrypt to: the one with `kid` when given,
 * else the first ECDH-ES+A256KW key of the set (a service lists its current
 * key first). Returns undefined when there is none.
 */
export function pickEncryptionKey(jwks: Jwks, kid?: string): KeyJwk | undefined {
  return jwks.keys.find((key) => key.alg === KEY_MANAGEMENT_ALGORITHM && (kid === undefined || key.kid === kid));
}

/** Throws `unknown_key` for a set without the wanted encryption key. */
export function requireEncryptionKey(jwks: Jwks, kid?: string): KeyJwk {
  const key = pickEncryptionKey(jwks, kid);
  if (!key) {
    throw new CryptoError('unknown_key', kid === undefined ? 'The token service publishes no encryption key' : 'The token service has no encryption key with that kid');
  }
  return key;
}

/** Input of {@link sealBoundRequest}. */
export interface SealBoundRequestInput {
  issuerId: string;
  signingKey: KeyJwk;
  audience: string;
  encryptionKey: KeyJwk;
  identifiers: Identifiers;
  card?: Card | undefined;
  accountRef?: string | undefined;
  /** The issuer's stable id of the card account: the `accountId` claim. */
  accountId?: string | undefined;
  cardArtUrl?: string | undefined;
  lifetimeSeconds?: number | undefined;
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
}

/**
 * Builds the claims bound to the wallet's identifiers (its device key, when
 * it sent one, as `cnf.jkt`), signs them with the issuer key, encrypts them
 * to the token service key, and wraps the JWE in a `provisioning-request`
 * message for the session.
 */
export async function sealBoundRequest(input: SealBoundRequestInput): Promise<ProvisioningRequestMessage> {
  const claims = createRequestClaims({
    issuerId: input.issuerId,
    audience: input.audience,
    identifiers: input.identifiers,
    deviceKeyThumbprint: input.identifiers.devicePublicKey && (await deviceKeyThumbprint(input.identifiers.devicePublicKey)),
    card: input.card,
    accountRef: input.card === undefined ? input.accountRef : undefined,
    accountId: input.accountId,
    cardArtUrl: input.cardArtUrl,
    lifetimeSeconds: input.lifetimeSeconds,
    clock: input.clock,
    random: input.random,
  });
  const encryptedRequest = await sealProvisioningRequest({ claims, signingKey: input.signingKey, encryptionKey: input.encryptionKey });
  return { type: 'provisioning-request', version: 1, sessionId: input.identifiers.sessionId, encryptedRequest };
}

/** The per-account failures a several-account build turns into refusals; any other failure fails the whole call. */
const REFUSABLE: ReadonlySet<string> = new Set(['not_found', 'card_expired', 'card_invalid', 'forbidden']);

/**
 * Builds a several-account `provisioning-request` message: `build` seals one
 * account's request (each its own `jti`); an account whose build fails with
 * a refusable code (`not_found`, `card_expired`, `card_invalid`,
 * `forbidden`) becomes a refusal, any other failure rejects the whole call.
 */
export async function sealEach<A extends { accountId: string }>(
  sessionId: string,
  accounts: readonly A[],
  build: (account: A) => Promise<string>,
): Promise<ProvisioningRequestMessage> {
  const requests: AccountRequest[] = [];
  const refusals: AccountRefusal[] = [];
  for (const account of accounts) {
    try {
      requests.push({ accountId: account.accountId, encryptedRequest: await build(account) });
    } catch (error) {
      if (!isProvisioningError(error) || !REFUSABLE.has(error.code)) throw error;
      refusals.push({ accountId: account.accountId, errorCode: error.code });
    }
  }
  const message: ProvisioningRequestMessage = { type: 'provisioning-request', version: 1, sessionId };
  if (requests.length > 0) message.requests = requests;
  if (refusals.length > 0) message.refusals = refusals;
  return message;
}

/** True for a private signing JWK this protocol allows (ES256 or EdDSA, with `kid` and `d`). */
export function isPrivateSigningKey(key: unknown): key is KeyJwk {
  const k = key as Partial<KeyJwk> | null;
  return (
    typeof k === 'object' && k !== null && typeof k.d === 'string' && typeof k.kid === 'string' && (k.alg === 'ES256' || k.alg === 'EdDSA')
  );
}
