import type { Clock, Jwks, RandomSource } from '@pushprov/protocol';
import type { IssuerConfig, TokenServiceConfig } from '../config/parse-config.js';
import type { AccountResolver, DecisionHook } from '../service/hooks.js';
import type { TokenServiceStore } from '../store/types.js';
import type { VaultCipher } from '../vault/vault-cipher.js';

/**
 * What every step of the provisioning pipeline may use: the resolved
 * configuration, the store, the vault cipher, the issuers' keys and the
 * hooks. Built once by `createTokenService`; never handed to callers (it
 * holds the private keys).
 */
export interface ProvisioningContext {
  readonly config: TokenServiceConfig;
  readonly store: TokenServiceStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly cipher: VaultCipher;
  readonly issuers: ReadonlyMap<string, IssuerConfig>;
  /** The service's private decryption keys (step 4-5). */
  readonly decryptionKeys: Jwks;
  /** How long an idempotency entry is held by the attempt that began it, ms. */
  readonly idempotencyLeaseMs: number;
  readonly decide?: DecisionHook | undefined;
  readonly resolveAccount?: AccountResolver | undefined;
}
