import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type BinRange, InternalError, type Jwks, type KeyJwk, type VerificationMethod, parseStrictJson } from '@pushprov/protocol';
import type * as z from 'zod';
import { TOKEN_RANGE_HEADROOM, randomDigitsNeeded, randomDigitsOf } from '../issuance/create-token-number.js';
import type { LogLevel } from '../log/logger.js';
import {
  API_KEY_HASH,
  type KeySet,
  zKeySet,
  zKeySetOfPublicKeys,
  zPublicSigningJwks,
  zTokenServiceConfigInput,
  zTokenServiceConfigInputOfPublicKeys,
  zVaultKey,
} from './z-config.js';

/** A decision of the issuer: issue, refuse (`declined`), or issue pending activation. */
export type Decision = 'approve' | 'decline' | 'step_up';

/** A trusted issuer, resolved. */
export interface IssuerConfig {
  id: string;
  /** Public signing keys (ES256 / EdDSA), found by `kid`. */
  jwks: Jwks;
  binRanges: BinRange[];
  /** The wallet providers that may receive tokens for this issuer's cards (ids of `walletProviders[]`). */
  walletProviders: string[];
  network?: 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'unionpay' | 'other' | undefined;
  /** Sandbox decision rules, used when no decision hook is given. */
  decision: { default: Decision; byLast4: Record<string, Decision> };
  /** Rate limits of its requests and per card (absent: none). */
  rateLimit?: { perMinute?: number | undefined; perCardPerDay?: number | undefined } | undefined;
  /** The verification methods a bare `step_up` offers (default {@link DEFAULT_VERIFICATION_METHODS}). */
  verificationMethods: VerificationMethod[];
  /** Where it receives signed notifications (absent: none are sent to it). */
  notifications?: { endpoint: string } | undefined;
}

/**
 * The methods a bare `step_up` decision offers when the issuer configured
 * none (`issuers[].verificationMethods`): its app, and its customer service.
 * Neither needs a destination the token service does not know.
 */
export const DEFAULT_VERIFICATION_METHODS: readonly VerificationMethod[] = Object.freeze([
  { id: 'issuer-app', type: 'issuer_app' },
  { id: 'customer-service', type: 'customer_service' },
]);

/** A wallet provider, resolved. */
export interface WalletProviderConfig {
  id: string;
  /** API keys, only as `sha256:<hex>` of the key. */
  apiKeys: string[];
  /** Public keys of its client assertions. */
  jwks?: Jwks | undefined;
  /** Its rate limit (absent: none). */
  rateLimit?: { perMinute?: number | undefined } | undefined;
  /** Where it receives signed notifications (absent: none are sent to it). */
  notifications?: { endpoint: string } | undefined;
}

/** The vault's keys, resolved (base64url strings). */
export interface VaultKeysConfig {
  keks: { id: string; key: string }[];
  fingerprintKey?: string | undefined;
}

/**
 * The validated configuration: files read, defaults applied, API keys
 * hashed, the KEK from the environment applied. Valid input to
 * {@link parseConfig} again (parsing is idempotent).
 *
 * @example
 * ```ts
 * const config: TokenServiceConfig = loadConfig('token-service.json');
 * config.lifetimes.clockSkewSeconds; // 60 unless configured
 * ```
 */
export interface TokenServiceConfig {
  serviceId: string;
  /**
   * The private keys: encryption keys, vault keys, and the notification
   * signing keys (ES256 private JWKs; the first signs, all are published).
   */
  keys: { encryptionKeys: Jwks; vault: VaultKeysConfig; signingKeys?: Jwks | undefined };
  issuers: IssuerConfig[];
  walletProviders: WalletProviderConfig[];
  /** Where token numbers come from; `capacity` is the most tokens the range is meant to hold. */
  tokenRange: { bin: string; length: number; capacity: number };
  lifetimes: {
    clockSkewSeconds: number;
    maxRequestSeconds: number;
    tokenMonths: number;
    idempotencySeconds: number;
    idempotencyLeaseSeconds: number;
    /** After a reload, how long the previous configuration's encryption keys still decrypt, seconds. */
    keyGraceSeconds: number;
    /** How long a token pending activation lives before it is deleted, seconds. */
    pendingActivationSeconds: number;
  };
  /** One-time codes of step-up verification. */
  verification: { codeLength: number; codeTtlSeconds: number; resendCooldownSeconds: number; maxAttempts: number };
  limits: { maxBodyBytes: number; hookTimeoutMs: number };
  /** The notification dispatcher (spec section 14). */
  notifications: NotificationSettings;
  /** The configured store (a SQLite path or a `postgres://` URL), if any. */
  store?: string | undefined;
  /** Logs: the lowest level written. */
  log: { level: LogLevel };
  /** Prometheus metrics, when configured: a separate listener (`port`, `host`), else `path` on the main one. */
  metrics?: { port?: number | undefined; host?: string | undefined; path: string } | undefined;
  /** Sandbox mode: the sandbox test cards, `GET /sandbox/inbox`, and the request inspector (the last requests kept in memory for it). */
  sandbox?: true | undefined;
}

/** The dispatcher's settings, resolved (see `zNotificationsInput`). */
export interface NotificationSettings {
  /** How often an instance looks for due deliveries, ms. */
  pollIntervalMs: number;
  /** How long an instance holds a delivery it is sending, ms. */
  leaseMs: number;
  /** The timeout of one POST, ms. */
  timeoutMs: number;
  /** Deliveries claimed per poll. */
  batchSize: number;
  retry: { initialDelayMs: number; maxDelayMs: number; giveUpAfterSeconds: number };
}

/**
 * The configuration is not valid. `issues` lists every mistake found, each
 * as `path: what is wrong`; values (keys, secrets) are never repeated.
 *
 * @example
 * ```ts
 * try {
 *   loadConfig('token-service.json');
 * } catch (error) {
 *   if (error instanceof ConfigError) for (const issue of error.issues) console.error(issue);
 * }
 * ```
 */
export class ConfigError extends InternalError {
  /** One line per mistake. */
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super('configuration_invalid', `Invalid token service configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`, options);
    this.issues = Object.freeze([...issues]);
  }
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** The directory relative file paths are resolved against. Default: the working directory. */
  baseDir?: string;
  /**
   * The environment to read `TOKEN_SERVICE_KEK`, `TOKEN_SERVICE_FINGERPRINT_KEY`
   * and `TOKEN_SERVICE_ALLOW_LOOSE_KEY_FILE` from. Default: `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The key set's encryption keys are public JWKs (no `d`): their private
   * halves are held elsewhere and given to `createTokenService` as
   * `decryptionKeys`, which sets this. A private member is then refused. Default
   * false: every encryption key must be private (`d`).
   */
  publicEncryptionKeys?: boolean;
}

/**
 * The environment variable holding the vault's key-encryption key(s): one
 * base64url key, or `id:key` entries separated by commas (the first seals).
 *
 * @example
 * ```ts
 * process.env[KEK_ENV] = 'kek-2027:…,kek-2026:…';
 * ```
 */
export const KEK_ENV = 'TOKEN_SERVICE_KEK';
/**
 * The environment variable holding the PAN fingerprint key (32 bytes, base64url).
 *
 * @example
 * ```ts
 * parseConfig(input, { env: { [KEK_ENV]: kek, [FINGERPRINT_KEY_ENV]: fingerprintKey } });
 * ```
 */
export const FINGERPRINT_KEY_ENV = 'TOKEN_SERVICE_FINGERPRINT_KEY';
/**
 * The environment variable that lets a key set file be readable or writable
 * by group or others (`1`). Without it such a file is refused: for a
 * container whose mounted secret cannot be given mode 600.
 *
 * @example
 * ```ts
 * parseConfig(input, { env: { [ALLOW_LOOSE_KEY_FILE_ENV]: '1' } });
 * ```
 */
export const ALLOW_LOOSE_KEY_FILE_ENV = 'TOKEN_SERVICE_ALLOW_LOOSE_KEY_FILE';

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '') || '(root)';

type Issue = z.core.$ZodIssue;

/**
 * Flattens zod issues to `path: message` lines. For a union (a file path or
 * an inline object, a decision name or rules), the branch that matched the
 * input's type is reported instead of a bare "Invalid input".
 */
function flattenIssues(issues: readonly Issue[], base: readonly PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && Array.isArray(issue.errors)) {
      const branches = issue.errors.filter((branch) => !branch.every((i) => (i.code === 'invalid_type' || i.code === 'invalid_value') && i.path.length === 0));
      if (branches.length === 1) return flattenIssues(branches[0]!, path);
    }
    return [{ path, message: issue.message }];
  });
}

const zodIssues = (error: z.ZodError, prefix: string): string[] =>
  flattenIssues(error.issues, []).map(({ path: parts, message }) => {
    const path = formatPath(parts);
    const where = prefix ? (path === '(root)' ? prefix : `${prefix}.${path}`) : path;
    return `${where}: ${message}`;
  });

/**
 * Reads and parses a JSON file. With `secret`, a file that group or others
 * may read or write (mode & 0o077) is refused, unless `allowLoose`: the mode
 * is read from the opened file, so it is the mode of what is read.
 */
function readJson(path: string, baseDir: string, where: string, issues: string[], secret?: { allowLoose: boolean }): unknown {
  const file = resolve(baseDir, path);
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const mode = fstatSync(fd).mode & 0o777;
      if (secret && !secret.allowLoose && process.platform !== 'win32' && (mode & 0o077) !== 0) {
        issues.push(
          `${where}: the key file ${JSON.stringify(path)} is readable or writable by group or others (mode ${mode.toString(8).padStart(3, '0')}); ` +
            `restrict it with \`chmod 600 ${path}\` (or, for a mounted secret that cannot be restricted, set ${ALLOW_LOOSE_KEY_FILE_ENV}=1)`,
        );
        return undefined;
      }
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    issues.push(`${where}: cannot read file ${JSON.stringify(path)}${typeof code === 'string' ? ` (${code})` : ''}`);
    return undefined;
  }
  try {
    return parseStrictJson(text, { maxLength: 1_048_576, maxDepth: 8 });
  } catch {
    issues.push(`${where}: file ${JSON.stringify(path)} is not strict JSON`);
    return undefined;
  }
}

function hashApiKey(key: string): string {
  // Only a well-formed hash is taken as one (the schema's rule): any other key,
  // even one that starts with "sha256:", is a raw key and gets hashed.
  return API_KEY_HASH.test(key) ? key : `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Parses `TOKEN_SERVICE_KEK`: one base64url key (id `env`), or `id:key` entries separated by commas (the first seals). */
function parseKekEnv(value: string, issues: string[]): VaultKeysConfig['keks'] | undefined {
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0) {
    issues.push(`${KEK_ENV}: is empty`);
    return undefined;
  }
  const keks: VaultKeysConfig['keks'] = [];
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const candidate = colon < 0 ? { id: 'env', key: entry } : { id: entry.slice(0, colon), key: entry.slice(colon + 1) };
    const result = zVaultKey.safeParse(candidate, { reportInput: false });
    if (result.success) keks.push(result.data);
    else issues.push(...zodIssues(result.error, `${KEK_ENV}[${i}]`));
  });
  if (new Set(keks.map((k) => k.id)).size !== keks.length) issues.push(`${KEK_ENV}: key ids must be distinct`);
  return keks;
}

function rangesOverlap(a: BinRange, b: BinRange): boolean {
  const n = Math.min(a.start.length, b.start.length);
  return !(a.end.slice(0, n) < b.start.slice(0, n) || b.end.slice(0, n) < a.start.slice(0, n));
}

/**
 * Validates a configuration and resolves it: reads referenced files (JWK
 * sets, the key set) relative to `baseDir`, applies defaults, hashes API
 * keys, and takes the vault KEK from `TOKEN_SERVICE_KEK` when it is set.
 * Throws a {@link ConfigError} listing every mistake.
 *
 * @example
 * ```ts
 * const config = parseConfig(JSON.parse(text), { baseDir: '/etc/token-service' });
 * ```
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): TokenServiceConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const env = options.env ?? process.env;
  const issues: string[] = [];
  const publicKeys = options.publicEncryptionKeys === true;
  const parsed = (publicKeys ? zTokenServiceConfigInputOfPublicKeys : zTokenServiceConfigInput).safeParse(input, { reportInput: false });
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error, ''));
  const c = parsed.data;
  const allowLooseEnv = env[ALLOW_LOOSE_KEY_FILE_ENV];
  if (allowLooseEnv !== undefined && allowLooseEnv !== '' && allowLooseEnv !== '1') issues.push(`${ALLOW_LOOSE_KEY_FILE_ENV}: must be 1 or unset`);
  const allowLoose = allowLooseEnv === '1';

  // The key set (private encryption keys and vault keys).
  let keySet: z.output<typeof zKeySet> | z.output<typeof zKeySetOfPublicKeys> | undefined;
  if (typeof c.keys === 'string') {
    const raw = readJson(c.keys, baseDir, 'keys', issues, { allowLoose });
    if (raw !== undefined) {
      const result = (publicKeys ? zKeySetOfPublicKeys : zKeySet).safeParse(raw, { reportInput: false });
      if (result.success) keySet = result.data;
      else issues.push(...zodIssues(result.error, `keys (file ${JSON.stringify(c.keys)})`));
    }
  } else {
    keySet = c.keys;
  }
  let vault = keySet?.vault;
  const envKek = env[KEK_ENV];
  if (envKek !== undefined && envKek !== '') {
    const keks = parseKekEnv(envKek, issues);
    if (keks) vault = { keks, fingerprintKey: vault?.fingerprintKey };
  }
  const envFingerprint = env[FINGERPRINT_KEY_ENV];
  if (envFingerprint !== undefined && envFingerprint !== '') {
    if (/^[A-Za-z0-9_-]+$/.test(envFingerprint) && Buffer.from(envFingerprint, 'base64url').length === 32) {
      if (vault) vault = { ...vault, fingerprintKey: envFingerprint };
    } else {
      issues.push(`${FINGERPRINT_KEY_ENV}: must be 32 bytes, base64url encoded without padding`);
    }
  }
  if (keySet && !vault) issues.push(`keys.vault: no key-encryption key: add vault.keks to the key set or set ${KEK_ENV}`);
  if (vault && vault.keks.length > 1 && vault.fingerprintKey === undefined) {
    issues.push('keys.vault.fingerprintKey: is required when several key-encryption keys are configured');
  }

  // Issuers.
  const issuers: IssuerConfig[] = c.issuers.map((issuer, i) => {
    let jwks: Jwks = { keys: [] };
    if (typeof issuer.jwks === 'string') {
      const raw = readJson(issuer.jwks, baseDir, `issuers[${i}].jwks`, issues);
      if (raw !== undefined) {
        const result = zPublicSigningJwks.safeParse(raw, { reportInput: false });
        if (result.success) jwks = result.data as Jwks;
        else issues.push(...zodIssues(result.error, `issuers[${i}].jwks (file ${JSON.stringify(issuer.jwks)})`));
      }
    } else {
      jwks = issuer.jwks as Jwks;
    }
    const decision = issuer.decision === undefined ? { default: 'approve' as const, byLast4: {} } : typeof issuer.decision === 'string' ? { default: issuer.decision, byLast4: {} } : issuer.decision;
    return {
      id: issuer.id,
      jwks,
      binRanges: issuer.binRanges,
      walletProviders: [...issuer.walletProviders],
      network: issuer.network,
      decision,
      ...(issuer.rateLimit === undefined ? {} : { rateLimit: { ...issuer.rateLimit } }),
      verificationMethods: structuredClone(issuer.verificationMethods ?? [...DEFAULT_VERIFICATION_METHODS]),
      ...(issuer.notifications === undefined ? {} : { notifications: { endpoint: issuer.notifications.endpoint } }),
    };
  });

  // Wallet providers.
  const walletProviders: WalletProviderConfig[] = c.walletProviders.map((provider, i) => {
    let jwks: Jwks | undefined;
    if (typeof provider.jwks === 'string') {
      const raw = readJson(provider.jwks, baseDir, `walletProviders[${i}].jwks`, issues);
      if (raw !== undefined) {
        const result = zPublicSigningJwks.safeParse(raw, { reportInput: false });
        if (result.success) jwks = result.data as Jwks;
        else issues.push(...zodIssues(result.error, `walletProviders[${i}].jwks (file ${JSON.stringify(provider.jwks)})`));
      }
    } else if (provider.jwks !== undefined) {
      jwks = provider.jwks as Jwks;
    }
    return {
      id: provider.id,
      apiKeys: (provider.apiKeys ?? []).map(hashApiKey),
      jwks,
      ...(provider.rateLimit === undefined ? {} : { rateLimit: { ...provider.rateLimit } }),
      ...(provider.notifications === undefined ? {} : { notifications: { endpoint: provider.notifications.endpoint } }),
    };
  });

  // Cross checks.
  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const id of new Set(duplicates(issuers.map((x) => x.id)))) issues.push(`issuers: the id ${JSON.stringify(id)} is listed twice`);
  for (const id of new Set(duplicates(walletProviders.map((x) => x.id)))) issues.push(`walletProviders: the id ${JSON.stringify(id)} is listed twice`);
  const keyOwners = new Map<string, number>();
  walletProviders.forEach((p, i) =>
    p.apiKeys.forEach((k, j) => {
      if (keyOwners.has(k)) issues.push(`walletProviders[${i}].apiKeys[${j}]: the same API key is configured twice`);
      keyOwners.set(k, i);
    }),
  );
  // Each issuer accepts only registered wallet providers, each once.
  const providerIds = new Set(walletProviders.map((p) => p.id));
  issuers.forEach((issuer, i) =>
    issuer.walletProviders.forEach((id, j) => {
      if (!providerIds.has(id)) issues.push(`issuers[${i}].walletProviders[${j}]: ${JSON.stringify(id)} is not a registered wallet provider (an id of walletProviders[])`);
      else if (issuer.walletProviders.indexOf(id) !== j) issues.push(`issuers[${i}].walletProviders[${j}]: ${JSON.stringify(id)} is listed twice`);
    }),
  );
  // Room for the capacity: see randomDigitsNeeded.
  const digits = randomDigitsOf(c.tokenRange);
  const needed = randomDigitsNeeded(c.tokenRange.capacity);
  if (digits >= 3 && digits < needed) {
    const length = c.tokenRange.bin.length + needed + 1;
    issues.push(
      `tokenRange: leaves ${digits} random digits (10^${digits} numbers), but a capacity of ${c.tokenRange.capacity} tokens needs at least ${needed} ` +
        `(${TOKEN_RANGE_HEADROOM} × the capacity, so random token numbers stay unique within the issuance's retries): ` +
        (length <= 19 ? `make length at least ${length} with this bin, ` : `use a shorter bin (length is at most 19), `) +
        'or lower capacity',
    );
  }
  const tokenBin: BinRange = { start: c.tokenRange.bin, end: c.tokenRange.bin };
  issuers.forEach((issuer, i) =>
    issuer.binRanges.forEach((range, j) => {
      if (rangesOverlap(range, tokenBin)) {
        issues.push(`issuers[${i}].binRanges[${j}]: overlaps the token range bin; token numbers must never look like the issuer's card numbers`);
      }
    }),
  );
  // A card belongs to one issuer: overlapping ranges would let one issuer's
  // request reach a token provisioned for another issuer's card.
  issuers.forEach((issuer, i) =>
    issuer.binRanges.forEach((range, j) =>
      issuers.slice(i + 1).forEach((other, k) => {
        if (other.binRanges.some((o) => rangesOverlap(range, o))) {
          issues.push(`issuers[${i}].binRanges[${j}]: overlaps a BIN range of issuers[${i + 1 + k}]; each card range belongs to one issuer`);
        }
      }),
    ),
  );
  // A notification is signed: an endpoint needs a signing key.
  const signingKeys = keySet?.signingKeys;
  if (keySet && signingKeys === undefined && [...issuers, ...walletProviders].some((p) => p.notifications !== undefined)) {
    issues.push('keys.signingKeys: is required when a notification endpoint is configured (token-service keys generate writes one)');
  }
  if (issues.length > 0) throw new ConfigError(issues);

  return {
    serviceId: c.serviceId,
    keys: {
      encryptionKeys: { keys: keySet!.encryptionKeys.keys.map((k) => ({ ...k }) as KeyJwk) },
      vault: { keks: vault!.keks.map((k) => ({ ...k })), fingerprintKey: vault!.fingerprintKey },
      ...(signingKeys === undefined ? {} : { signingKeys: { keys: signingKeys.keys.map((k) => ({ ...k }) as KeyJwk) } }),
    },
    issuers,
    walletProviders,
    tokenRange: { bin: c.tokenRange.bin, length: c.tokenRange.length, capacity: c.tokenRange.capacity },
    lifetimes: { ...c.lifetimes },
    limits: { ...c.limits },
    verification: { ...c.verification },
    notifications: { ...c.notifications, retry: { ...c.notifications.retry } },
    ...(c.store === undefined ? {} : { store: /^postgres(ql)?:\/\//i.test(c.store) ? c.store : resolve(baseDir, c.store) }),
    log: { level: c.log.level },
    ...(c.metrics === undefined ? {} : { metrics: { ...c.metrics, path: c.metrics.path ?? '/metrics' } }),
    ...(c.sandbox === true ? { sandbox: true } : {}),
  };
}

/**
 * Reads a JSON configuration file (strict JSON) and {@link parseConfig}s it,
 * resolving relative paths against the file's directory.
 *
 * @example
 * ```ts
 * const config = loadConfig('./token-service.json');
 * ```
 */
export function loadConfig(file: string, options: Omit<ParseConfigOptions, 'baseDir'> = {}): TokenServiceConfig {
  const issues: string[] = [];
  const raw = readJson(file, process.cwd(), 'config', issues);
  if (raw === undefined) throw new ConfigError(issues);
  return parseConfig(raw, { ...options, baseDir: dirname(resolve(file)) });
}
