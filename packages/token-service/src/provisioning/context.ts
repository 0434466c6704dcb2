import type { Clock, DecryptionKeyHandle, Jwks, RandomSource } from '@pushprov/protocol';
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
  /**
   * The service's decryption keys (steps 4-5): the key set's private JWKs, or
   * the handles given to `createTokenService` (`decryptionKeys`).
   */
  readonly decryptionKeys: Jwks | readonly DecryptionKeyHandle[];
  /** How long an idempotency entry is held by the attempt that began it, ms. */
  readonly idempotencyLeaseMs: number;
  readonly decide?: DecisionHook | undefined;
  readonly resolveAccount?: AccountResolver | undefined;
}
