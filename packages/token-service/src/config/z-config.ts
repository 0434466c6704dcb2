import * as z from 'zod';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_LIFETIME_SECONDS, type Jwks, type VerificationMethod, zNetwork, zPublicJwk, zVerification } from '@pushprov/protocol';
import { DEFAULT_TOKEN_CAPACITY } from '../issuance/create-token-number.js';
import { LOG_LEVELS } from '../log/logger.js';

// The token service runs on Node only, so its configuration uses classic zod
// for its readable messages; nothing here ships to apps.

const b64url = (bytes: number, what: string) =>
  z.string().check(
    z.refine((s) => /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').length === bytes && Buffer.from(s, 'base64url').toString('base64url') === s, {
      message: `must be ${bytes} bytes, base64url encoded without padding (${what})`,
    }),
  );

/** A party id (issuer, wallet provider, this service): a lower-case slug of 1-64 characters. */
const zId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
  message: 'must be a lower-case slug of 1-64 characters ([a-z0-9._-], starting with a letter or digit)',
});

/** A file path, resolved against the directory of the configuration file. */
const zPath = z.string().min(1, { message: 'must be a non-empty file path' });

/** A decision of the sandbox issuer decision rules. */
export const zDecision = z.enum(['approve', 'decline', 'step_up']);

/** A registered BIN range: equal-length digit strings (6-12), start <= end. */
export const zBinRange = z
  .strictObject({
    start: z.string().regex(/^[0-9]{6,12}$/, { message: 'must be 6-12 ASCII digits' }),
    end: z.string().regex(/^[0-9]{6,12}$/, { message: 'must be 6-12 ASCII digits' }),
  })
  .superRefine((r, ctx) => {
    if (r.start.length !== r.end.length) ctx.addIssue({ code: 'custom', message: 'start and end must have the same number of digits', path: ['end'] });
    else if (r.start > r.end) ctx.addIssue({ code: 'custom', message: 'start must not be greater than end', path: ['end'] });
  });

/** A public JWK set of signing keys (ES256 on P-256 or EdDSA on Ed25519), each with `kid` and `alg`. */
const zPublicSigningJwksSchema = z.strictObject({
  keys: z
    .array(zPublicJwk)
    .min(1, { message: 'must hold at least one key' })
    .max(32, { message: 'must hold at most 32 keys' })
    .superRefine((keys, ctx) => {
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (k.alg !== 'ES256' && k.alg !== 'EdDSA') ctx.addIssue({ code: 'custom', message: 'must be a signing key (alg ES256 or EdDSA)', path: [i, 'alg'] });
        if (seen.has(k.kid)) ctx.addIssue({ code: 'custom', message: 'kid must be unique in the set', path: [i, 'kid'] });
        seen.add(k.kid);
      });
    }),
});
/** A public JWK set of signing keys, typed as the protocol's `Jwks` (what `generateSigningKey` gives). */
export const zPublicSigningJwks = zPublicSigningJwksSchema as unknown as z.ZodType<Jwks, Jwks>;

/** The token service's private encryption JWK: ECDH-ES+A256KW on P-256 with `d`. */
export const zPrivateEncryptionJwk = z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  d: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the private key (d) of a P-256 key (unless the private key is held elsewhere: createTokenService decryptionKeys)'
          : 'must be the private key (d) of a P-256 key',
    })
    .regex(/^[A-Za-z0-9_-]{43}$/, { message: 'must be the private key (d) of a P-256 key' }),
  kid: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'must be 1-128 characters of [A-Za-z0-9._:-]' }),
  alg: z.literal('ECDH-ES+A256KW'),
  use: z.optional(z.literal('enc')),
});

/**
 * A private notification signing JWK of the token service: ES256 on P-256
 * with `d`. The first of the key set's `signingKeys` signs; every one is
 * published in `/.well-known/jwks.json` (`use: sig`), so a new key can be put
 * first while receivers still know the old one.
 */
export const zPrivateSigningJwk = z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  d: z.string({ error: 'is required: the private key (d) of a P-256 key' }).regex(/^[A-Za-z0-9_-]{43}$/, { message: 'must be the private key (d) of a P-256 key' }),
  kid: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'must be 1-128 characters of [A-Za-z0-9._:-]' }),
  alg: z.literal('ES256'),
  use: z.optional(z.literal('sig')),
});

/**
 * An encryption JWK of a key set whose private halves are held elsewhere (an
 * HSM, a KMS, non-extractable keys) and given to `createTokenService` as
 * `decryptionKeys`: the public key only; a `d` is refused.
 */
export const zPublicEncryptionJwkOfKeySet = zPrivateEncryptionJwk.extend({
  d: z.optional(z.never({ error: 'must not be in the configuration: the decryption key handles given to createTokenService hold the private key' })),
});

/** A key-encryption key of the vault. */
export const zVaultKey = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 characters of [A-Za-z0-9_-]' }),
  key: b64url(32, 'an AES-256 key'),
});

/** The vault's keys: key-encryption keys (the first seals) and the fingerprint key. */
export const zVaultKeys = z
  .strictObject({
    keks: z.array(zVaultKey).min(1, { message: 'must hold at least one key-encryption key' }),
    fingerprintKey: z.optional(b64url(32, 'the HMAC key of PAN fingerprints')),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.keks.forEach((k, i) => {
      if (seen.has(k.id)) ctx.addIssue({ code: 'custom', message: 'key ids must be distinct', path: ['keks', i, 'id'] });
      seen.add(k.id);
    });
    if (v.keks.length > 1 && v.fingerprintKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'is required when several key-encryption keys are configured (otherwise fingerprints would change with the active key)',
        path: ['fingerprintKey'],
      });
    }
  });

function keySetSchema<K extends typeof zPrivateEncryptionJwk | typeof zPublicEncryptionJwkOfKeySet>(encryptionJwk: K) {
  return z.strictObject({
    type: z.optional(z.literal('pushprov-token-service-keys')),
    version: z.optional(z.literal(1)),
    encryptionKeys: z.strictObject({
      keys: z
        .array(encryptionJwk)
        .min(1, { message: 'must hold at least one private encryption key' })
        .max(8, { message: 'must hold at most 8 keys' })
        .superRefine((keys, ctx) => {
          const seen = new Set<string>();
          keys.forEach((k, i) => {
            if (seen.has(k.kid)) ctx.addIssue({ code: 'custom', message: 'kid must be unique in the set', path: [i, 'kid'] });
            seen.add(k.kid);
          });
        }),
    }),
    vault: z.optional(zVaultKeys),
    /** The notification signing keys (ES256; the first signs). Required once a notification endpoint is configured. */
    signingKeys: z.optional(
      z.strictObject({
        keys: z
          .array(zPrivateSigningJwk)
          .min(1, { message: 'must hold at least one private signing key' })
          .max(8, { message: 'must hold at most 8 keys' })
          .superRefine((keys, ctx) => {
            const seen = new Set<string>();
            keys.forEach((k, i) => {
              if (seen.has(k.kid)) ctx.addIssue({ code: 'custom', message: 'kid must be unique in the set', path: [i, 'kid'] });
              seen.add(k.kid);
            });
          }),
      }),
    ),
  });
}
/**
 * The key set file `token-service keys generate` writes: private encryption
 * keys (JWK, ECDH-ES+A256KW on P-256) and the vault keys. With decryption key
 * handles (`createTokenService`'s `decryptionKeys`), its encryption keys are
 * the public halves only.
 *
 * @example
 * ```ts
 * const keySet = zKeySet.parse(JSON.parse(readFileSync('keys.json', 'utf8')));
 * ```
 */
export const zKeySet = keySetSchema(zPrivateEncryptionJwk);
/** A key set whose encryption keys are public (see {@link zPublicEncryptionJwkOfKeySet}). */
export const zKeySetOfPublicKeys = keySetSchema(zPublicEncryptionJwkOfKeySet);
/**
 * A private encryption key of a {@link KeySet}: a `KeyJwk` of
 * `@pushprov/protocol` (its optional `use` is absent or `'enc'`, never an
 * explicit `undefined`, so it passes where a `KeyJwk` is expected under
 * `exactOptionalPropertyTypes`).
 *
 * @example
 * ```ts
 * const publicJwks = { keys: keySet.encryptionKeys.keys.map((jwk: PrivateEncryptionJwk) => toPublicJwk(jwk)) };
 * ```
 */
export interface PrivateEncryptionJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
  kid: string;
  alg: 'ECDH-ES+A256KW';
  use?: 'enc';
}

/** A private notification signing key of a {@link KeySet} (ES256; `use` absent or `'sig'`). */
export interface PrivateSigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
  kid: string;
  alg: 'ES256';
  use?: 'sig';
}

/** A key set (private), as {@link zKeySet} reads it. */
export type KeySet = Omit<z.output<typeof zKeySet>, 'encryptionKeys' | 'signingKeys'> & {
  encryptionKeys: { keys: PrivateEncryptionJwk[] };
  signingKeys?: { keys: PrivateSigningJwk[] };
};

/** Sandbox decision rules of an issuer: a default, and overrides by the PAN's last four digits. */
export const zDecisionRules = z.strictObject({
  default: zDecision.default('approve'),
  byLast4: z.record(z.string().regex(/^[0-9]{4}$/, { message: 'keys must be 4 ASCII digits' }), zDecision).default({}),
});

const zPerMinute = z.number().int().min(1).max(1_000_000);

/** A wallet provider's rate limit (default: none): provisioning requests per minute, across every instance. */
export const zWalletProviderRateLimit = z.strictObject({
  perMinute: z.optional(zPerMinute),
});

/**
 * An issuer's rate limits (default: none), across every instance:
 * provisioning requests per minute for its cards, and provisioning attempts
 * per card per UTC day (a velocity check, by the card's fingerprint).
 */
export const zIssuerRateLimit = z.strictObject({
  perMinute: z.optional(zPerMinute),
  perCardPerDay: z.optional(z.number().int().min(1).max(10_000)),
});

/**
 * The verification methods a bare `step_up` decision offers (1 to 8, as in
 * the protocol's `verification.methods`: ids distinct, OTP destinations
 * masked). Default: the issuer's app and its customer service.
 */
export const zVerificationMethodsInput = z.array(z.unknown()).superRefine((methods, ctx) => {
  const result = zVerification.safeParse({ methods, expiresAt: 0 }, { reportInput: false });
  if (!result.success) {
    for (const issue of result.error.issues.slice(0, 8)) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.slice(1) as (string | number)[] });
  }
}) as unknown as z.ZodType<VerificationMethod[], unknown[]>;

/**
 * Where a party receives signed notifications (spec section 14): an
 * `https:` URL, or `http:` on a loopback host only (`127.0.0.1`, `[::1]`,
 * `localhost`: tests and a receiver beside the service). No user name or
 * password in it, no fragment.
 */
export const zNotificationEndpoint = z
  .string()
  .max(2048, { message: 'must be at most 2048 characters' })
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute https URL' });
      return;
    }
    const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({ code: 'custom', message: 'must be an https URL (http only on a loopback host: 127.0.0.1, [::1], localhost)' });
    } else if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    } else if (url.hash !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not have a fragment' });
    }
  });

/** A party's notifications (absent: the party gets none; its deliveries are dead-lettered with `no endpoint`, and it reads the feed). */
export const zPartyNotificationsInput = z.strictObject({
  /** The URL each notification is POSTed to. */
  endpoint: zNotificationEndpoint,
});

/** A trusted issuer. */
export const zIssuerConfigInput = z.strictObject({
  id: zId,
  /** The issuer's public signing keys: a JWK set, or a path to a file holding one. */
  jwks: z.union([zPath, zPublicSigningJwks], { error: 'must be a file path or a JWK set { keys: [...] }' }),
  binRanges: z.array(zBinRange).min(1, { message: 'must hold at least one BIN range' }),
  /**
   * The wallet providers that may receive tokens for this issuer's cards: ids
   * of `walletProviders[]`. Required, so every issuer's list is explicit.
   */
  walletProviders: z
    .array(zId, {
      error: (issue) =>
        issue.input === undefined
          ? 'is required: list the ids of the wallet providers this issuer accepts (from walletProviders[])'
          : 'must be an array of wallet provider ids',
    })
    .min(1, { message: 'must list at least one wallet provider this issuer accepts' }),
  network: z.optional(zNetwork),
  decision: z.optional(z.union([zDecision, zDecisionRules], { error: 'must be "approve", "decline", "step_up" or { default, byLast4 }' })),
  rateLimit: z.optional(zIssuerRateLimit),
  verificationMethods: z.optional(zVerificationMethodsInput),
  /** Where the issuer receives signed notifications of its cards' tokens (spec section 14). */
  notifications: z.optional(zPartyNotificationsInput),
});

/** A pre-hashed API key in the configuration: `sha256:` and 64 lower-case hex digits. */
export const API_KEY_HASH = /^sha256:[0-9a-f]{64}$/;
// A bearer token shaped like a compact JWS is read as a client assertion, so an API key must not look like one.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A wallet provider and its credentials. */
export const zWalletProviderConfigInput = z
  .strictObject({
    id: zId,
    /** API keys: each the key itself (32-512 printable characters) or `sha256:<hex>` of it. */
    apiKeys: z
      .array(
        z.string().refine((k) => API_KEY_HASH.test(k) || (/^[\x21-\x7e]{32,512}$/.test(k) && !COMPACT_JWS.test(k)), {
          message: 'must be `sha256:<64 hex>` or a key of 32-512 printable ASCII characters without spaces (and not shaped like a JWS)',
        }),
      )
      .optional(),
    /** Public keys of its client assertions: a JWK set, or a path to a file holding one. */
    jwks: z.optional(z.union([zPath, zPublicSigningJwks], { error: 'must be a file path or a JWK set { keys: [...] }' })),
    rateLimit: z.optional(zWalletProviderRateLimit),
    /** Where the wallet provider receives signed notifications of its tokens (spec section 14). */
    notifications: z.optional(zPartyNotificationsInput),
  })
  .superRefine((p, ctx) => {
    if ((p.apiKeys === undefined || p.apiKeys.length === 0) && p.jwks === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs apiKeys or jwks (a wallet provider must be able to authenticate)', path: ['apiKeys'] });
    }
  });

/** The token range. */
export const zTokenRangeInput = z
  .strictObject({
    bin: z.string().regex(/^[0-9]{6,12}$/, { message: 'must be 6-12 ASCII digits' }),
    length: z.number().int().min(13).max(19).default(16),
    /**
     * The most tokens this range is meant to hold (default 1 000 000). The
     * range must leave room for 1000 times as many numbers (see `parseConfig`).
     */
    capacity: z.number().int().min(1).max(1_000_000_000_000).default(DEFAULT_TOKEN_CAPACITY),
  })
  .superRefine((r, ctx) => {
    if (r.length - r.bin.length < 4) ctx.addIssue({ code: 'custom', message: 'must leave at least 3 random digits after the bin', path: ['length'] });
  });

/** Lifetimes, seconds unless named otherwise. */
export const zLifetimesInput = z.strictObject({
  clockSkewSeconds: z.number().int().min(0).max(300).default(DEFAULT_CLOCK_SKEW_SECONDS),
  maxRequestSeconds: z.number().int().min(1).max(DEFAULT_MAX_LIFETIME_SECONDS).default(DEFAULT_MAX_LIFETIME_SECONDS),
  tokenMonths: z.number().int().min(1).max(120).default(36),
  idempotencySeconds: z.number().int().min(60).max(7 * 86_400).default(86_400),
  /**
   * How long a request holds its idempotency key while it runs (default 30):
   * an instance that dies mid-request blocks the key no longer than this.
   * It must exceed the longest a request takes, hooks included.
   */
  idempotencyLeaseSeconds: z.number().int().min(1).max(600).default(30),
  /**
   * After a configuration reload, how long the previous configuration's
   * encryption keys still decrypt requests (default 900, the longest request
   * lifetime); never published.
   */
  keyGraceSeconds: z.number().int().min(0).max(86_400).default(900),
  /** How long a token issued `pending_activation` waits for its activation before it is deleted (default 7 days). */
  pendingActivationSeconds: z.number().int().min(60).max(90 * 86_400).default(7 * 86_400),
}).superRefine((l, ctx) => {
  // A lost answer must stay recoverable for as long as its request could be
  // replayed: otherwise a retry with the same key would meet `replayed`
  // instead of the stored answer, and the token number would be lost.
  const replayWindow = l.maxRequestSeconds + 2 * l.clockSkewSeconds;
  if (l.idempotencySeconds < replayWindow) {
    ctx.addIssue({ code: 'custom', message: `must be at least maxRequestSeconds + 2 × clockSkewSeconds (${replayWindow})`, path: ['idempotencySeconds'] });
  }
});

/** Limits. */
export const zLimitsInput = z.strictObject({
  maxBodyBytes: z.number().int().min(1024).max(1_048_576).default(32_768),
  hookTimeoutMs: z.number().int().min(10).max(60_000).default(5_000),
});

/**
 * One-time codes of the OTP verification methods (spec section 11.2): the
 * number of digits, how long a code lives, how long a resend waits, and how
 * many codes may be tried per token and method in all.
 */
export const zVerificationInput = z.strictObject({
  codeLength: z.number().int().min(6).max(8).default(6),
  codeTtlSeconds: z.number().int().min(60).max(3_600).default(600),
  resendCooldownSeconds: z.number().int().min(0).max(3_600).default(30),
  maxAttempts: z.number().int().min(1).max(20).default(5),
});

/**
 * The notification dispatcher (spec section 14): how often each instance
 * looks for due deliveries, how long it holds one while sending it (its
 * lease: an instance that dies frees it after this), the timeout of one
 * POST, and the retry schedule (exponential backoff with full jitter, from
 * `initialDelayMs` up to `maxDelayMs`, until `giveUpAfterSeconds` after the
 * first attempt; then the delivery is dead-lettered).
 */
export const zNotificationsInput = z
  .strictObject({
    pollIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
    leaseMs: z.number().int().min(1_000).max(600_000).default(60_000),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Deliveries claimed per poll, per instance. */
    batchSize: z.number().int().min(1).max(1_000).default(50),
    retry: z
      .strictObject({
        initialDelayMs: z.number().int().min(10).max(3_600_000).default(1_000),
        maxDelayMs: z.number().int().min(10).max(86_400_000).default(3_600_000),
        giveUpAfterSeconds: z.number().int().min(1).max(30 * 86_400).default(86_400),
      })
      .prefault({}),
  })
  .superRefine((n, ctx) => {
    if (n.retry.maxDelayMs < n.retry.initialDelayMs) ctx.addIssue({ code: 'custom', message: 'must be at least initialDelayMs', path: ['retry', 'maxDelayMs'] });
    if (n.leaseMs <= n.timeoutMs) ctx.addIssue({ code: 'custom', message: 'must be longer than timeoutMs (a delivery is held while it is sent)', path: ['leaseMs'] });
  });

/** Logs: the lowest level written (`debug`, `info`, `warn`, `error`, `silent`). */
export const zLogInput = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

/** Paths of the API a metrics path on the main listener must stay clear of. */
const API_PATHS = /^\/(?:v1|\.well-known|health)(?:\/|$)|^\/openapi\.json$/;

/**
 * Prometheus metrics (off unless this is present). With `port`, a separate
 * listener on `host` (default `127.0.0.1`) serves them at `path` (default
 * `/metrics`); with only `path`, the main listener serves them there.
 */
export const zMetricsInput = z
  .strictObject({
    port: z.optional(z.number().int().min(0).max(65_535)),
    host: z.optional(z.string().min(1).max(255)),
    path: z.optional(z.string().regex(/^\/[A-Za-z0-9._~\/-]{0,255}$/, { message: 'must be an absolute URL path of [A-Za-z0-9._~/-]' })),
  })
  .superRefine((m, ctx) => {
    if (m.port === undefined && m.path === undefined) ctx.addIssue({ code: 'custom', message: 'needs port (a separate listener) or path (on the main listener), or both' });
    if (m.port === undefined && m.host !== undefined) ctx.addIssue({ code: 'custom', message: 'is for the separate listener: give port too', path: ['host'] });
    if (m.port === undefined && m.path !== undefined && (m.path === '/' || API_PATHS.test(m.path))) {
      ctx.addIssue({ code: 'custom', message: 'must not be a path of the API (/, /v1/…, /health…, /.well-known/…, /openapi.json) on the main listener', path: ['path'] });
    }
  });

function configSchema<S extends typeof zKeySet | typeof zKeySetOfPublicKeys>(keySet: S) {
  return z.strictObject({
    $schema: z.optional(z.string()),
    /** This token service's id: the `aud` of requests and client assertions. */
    serviceId: zId,
    /** The private key set: a path to the file `token-service keys generate` wrote, or the set inline. */
    keys: z.union([zPath, keySet], { error: 'must be the path of a key set file or the key set itself' }),
    issuers: z.array(zIssuerConfigInput).min(1, { message: 'must list at least one trusted issuer' }),
    walletProviders: z.array(zWalletProviderConfigInput).min(1, { message: 'must list at least one wallet provider' }),
    tokenRange: zTokenRangeInput,
    lifetimes: zLifetimesInput.prefault({}),
    limits: zLimitsInput.prefault({}),
    /** One-time codes of step-up verification (defaults: 6 digits, 600 s, a 30 s resend cooldown, 5 attempts). */
    verification: zVerificationInput.prefault({}),
    /** The notification dispatcher: polling, leases, timeout, retries (defaults: 1 s, 60 s, 10 s, 1 s to 1 h for 24 h). */
    notifications: zNotificationsInput.prefault({}),
    /**
     * Where tokens are stored: a SQLite file path (the default,
     * `token-service.db`), or a `postgres://` URL for several instances on one
     * database. `token-service start --store` overrides it; so does the
     * environment variable `TOKEN_SERVICE_STORE` (keeps a password out of the file).
     */
    store: z.optional(z.string().min(1).max(4096)),
    /** Logs (default level `info`); `token-service start --log-level` overrides it. */
    log: zLogInput.prefault({}),
    /** Prometheus metrics, off unless configured; `token-service start --metrics-port` sets the port. */
    metrics: z.optional(zMetricsInput),
    /**
     * Sandbox mode (default false), the same switch as `token-service start
     * --sandbox` (either turns on all of it): the sandbox test cards, the
     * in-memory code sender with `GET /sandbox/inbox`, and the request
     * inspector (`/sandbox/inspector`, the last requests kept in memory for
     * it). Never on a service that sees real cards.
     */
    sandbox: z.optional(z.boolean()),
  });
}
/**
 * The configuration file of the token service, as written (see the README).
 * Prefer {@link parseConfig}, which also reads files and checks across fields.
 *
 * @example
 * ```ts
 * const result = zTokenServiceConfigInput.safeParse(json);
 * ```
 */
export const zTokenServiceConfigInput = configSchema(zKeySet);
/** The configuration when its key set holds public encryption keys only (`parseConfig`'s `publicEncryptionKeys`). */
export const zTokenServiceConfigInputOfPublicKeys = configSchema(zKeySetOfPublicKeys);

/** The configuration as written: file paths allowed, defaults not yet applied. */
export type TokenServiceConfigInput = z.input<typeof zTokenServiceConfigInput>;
