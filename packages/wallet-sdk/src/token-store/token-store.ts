import type { AccessData, Verification } from '@pushprov/protocol';

/**
 * Where the activation of a token `pending_activation` stands, kept with the
 * token so that it survives an app restart (`createActivations(…).resume`). Holds no code:
 * the one-time code is typed by the user and sent, never stored.
 *
 * @example
 * ```ts
 * const pending = (await tokenStore.list()).filter((t) => t.activation !== undefined);
 * pending[0]?.activation?.verification.methods; // [{ id: 'sms-1', type: 'otp_sms', destination: '•••• 0199' }, …]
 * ```
 */
export interface StoredActivation {
  /** The methods the issuer offers and when the pending token expires (NumericDate), as the token service sent them. */
  readonly verification: Verification;
  /** The method the user chose, once chosen. */
  readonly methodId?: string;
  /** The last code sent by the chosen OTP method: its length and times (NumericDate), and the attempts left. */
  readonly code?: { readonly length: number; readonly expiresAt: number; readonly resendAfter: number; readonly attemptsLeft: number };
  /** Methods with no attempts left for this token (`verification_attempts_exhausted`). */
  readonly lockedMethodIds?: readonly string[];
}

/**
 * A provisioned token as the wallet keeps it: the access data (with the token
 * number) and where it came from. Only a {@link TokenStore} ever holds it;
 * events, outcomes and result messages carry the last four digits at most.
 *
 * @example
 * ```ts
 * const token: StoredToken | undefined = await tokenStore.get(outcome.token.tokenReferenceId);
 * pay(token!.accessData.tokenNumber);
 * ```
 */
export interface StoredToken {
  /** The access data, decrypted. Holds the token number: keep it in secure storage. */
  readonly accessData: AccessData;
  /** The issuer that pushed the card. */
  readonly issuerId: string;
  /** The issuer's opaque id of the card account, when the invocation's hint had one. */
  readonly accountId?: string;
  /** The session it was provisioned in. */
  readonly sessionId: string;
  /** The correlation id of the provisioning attempt (absent on tokens stored before it was kept): its activation's errors carry it too. */
  readonly correlationId?: string;
  /** When the wallet stored it, epoch milliseconds. */
  readonly storedAt: number;
  /**
   * Present while the token is `pending_activation`: the methods and the
   * user's progress. Removed, and `accessData.status` set to `active`, once
   * the token is active.
   */
  readonly activation?: StoredActivation;
}

/**
 * Where the wallet keeps provisioned tokens: an interface so that apps can use
 * the platform's secure storage (Keychain, Keystore, an encrypted database).
 * {@link createMemoryTokenStore} is the in-memory reference implementation;
 * every implementation should pass the contract suite in
 * `test/contract/token-store.contract.ts`.
 *
 * @example
 * ```ts
 * const tokenStore: TokenStore = {
 *   save: (token) => secureStorage.set(token.accessData.tokenReferenceId, JSON.stringify(token)),
 *   get: async (id) => { const raw = await secureStorage.get(id); return raw ? JSON.parse(raw) : undefined; },
 *   list: async () => (await secureStorage.values()).map((raw) => JSON.parse(raw)),
 *   delete: (id) => secureStorage.remove(id),
 * };
 * ```
 */
export interface TokenStore {
  /** Stores a token under its `accessData.tokenReferenceId`, replacing any token with that id. */
  save(token: StoredToken): Promise<void>;
  /** The token with that reference id, or `undefined`. */
  get(tokenReferenceId: string): Promise<StoredToken | undefined>;
  /** Every stored token, in the order they were first stored. */
  list(): Promise<StoredToken[]>;
  /** Deletes a token; resolves `true` when there was one. */
  delete(tokenReferenceId: string): Promise<boolean>;
}

// Records are plain JSON data: a deep copy through JSON keeps callers from changing what is stored.
const copy = (token: StoredToken): StoredToken => JSON.parse(JSON.stringify(token)) as StoredToken;

/**
 * An in-memory {@link TokenStore} for tests, demos and server-side wallets
 * with their own persistence. It stores and returns copies, so callers cannot
 * change what is stored by mutating a record.
 *
 * @example
 * ```ts
 * const tokenStore = createMemoryTokenStore();
 * const wallet = createWallet({ tokenStore, ...rest });
 * const tokens = await tokenStore.list();
 * ```
 */
export function createMemoryTokenStore(): TokenStore {
  const tokens = new Map<string, StoredToken>();
  return {
    async save(token) {
      tokens.set(token.accessData.tokenReferenceId, copy(token));
    },
    async get(tokenReferenceId) {
      const token = tokens.get(tokenReferenceId);
      return token && copy(token);
    },
    async list() {
      return [...tokens.values()].map(copy);
    },
    async delete(tokenReferenceId) {
      return tokens.delete(tokenReferenceId);
    },
  };
}
