import type { ProvisioningResponse } from '@pushprov/protocol';

/** Input of `TokenService.submit`. */
export interface SubmitInput {
  /** The request body: a `Submission` or its JSON text. */
  submission: unknown;
  /** The authenticated wallet provider. Never taken from the body. */
  walletProviderId: string;
  /** The `Idempotency-Key`. */
  idempotencyKey: string;
  /**
   * Cancels the provisioning: the issuer hooks are aborted, and nothing is
   * committed once it fires. The HTTP app does not pass the client's
   * disconnect here: a request the client abandoned still runs to its
   * commit, so a retry with the same key gets the stored answer.
   */
  signal?: AbortSignal | undefined;
}

/** The answer of `TokenService.submit`. */
export interface SubmitResult {
  /** `201` for a new token, `200` for a card already provisioned to this wallet account and device (its unexpired token). */
  status: 200 | 201;
  body: ProvisioningResponse;
  /** True when this is the stored answer of an earlier request with the same idempotency key and body. */
  replayed: boolean;
}
