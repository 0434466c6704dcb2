import type { Clock, DecryptionKeyHandle, Jwks, RandomSource } from '@pushprov/protocol';
import type { IssuerConfig, TokenServiceConfig } from '../config/parse-config.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { AccountResolver, DecisionHook, VerificationCodeSender } from '../service/hooks.js';
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
  /** Delivers one-time codes (step-up verification); without it the OTP methods are unavailable. */
  readonly sendVerificationCode?: VerificationCodeSender | undefined;
  /** Sandbox mode: the test cards and the in-memory code sender. */
  readonly sandbox?: Sandbox | undefined;
  /** Watches the steps and outcomes (metrics, traces); see `src/observability`. */
  readonly observer?: PipelineObserver | undefined;
}

/** What one provisioning request came to, as the pipeline reports it to its {@link PipelineObserver}. */
export interface ProvisioningOutcome {
  walletProviderId: string;
  /** The issuer of the signed request, once steps 4-11 have opened it. */
  issuerId?: string | undefined;
  outcome: 'issued' | 'existing' | 'replayed' | 'refused';
  /** The refusal. */
  error?: unknown;
}

/** Watches the pipeline: metrics and traces hang here, the steps know nothing of them. */
export interface PipelineObserver {
  /** Runs step `step` (a step number of `PROVISIONING_STEPS`; 4 stands for 4-11) and passes its result or rejection on. */
  step<T>(step: number, run: () => Promise<T>): Promise<T>;
  /** Called once per submission, when its answer or refusal is settled. */
  outcome(outcome: ProvisioningOutcome): void;
}
