import { type Clock, systemClock } from '../clock.js';
import { KEY_MANAGEMENT_ALGORITHM, type Jwks, type KeyJwk, SIGNING_ALGORITHMS, parsePublicJwks } from '../crypto/keys.js';
import { abortError } from '../channel/app-channel.js';
import { CryptoError, type ProvisioningError, TransportError, createError } from '../errors.js';
import { isDuration, withDeadline } from '../lib/deadline.js';
import { type ResponseBodyLike, readResponseText } from '../lib/read-body.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { zHttpsUrl } from '../schemas/primitives.js';

/**
 * The part of a Fetch `Response` the key fetcher reads.
 *
 * @example
 * ```ts
 * const fetchJwks: JwksFetch = async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } });
 * ```
 */
export interface JwksResponseLike extends ResponseBodyLike {
  readonly ok: boolean;
  readonly status: number;
}

/**
 * A `fetch` for JWK sets. The platform's `fetch` fits.
 *
 * @example
 * ```ts
 * const viaProxy: JwksFetch = (url, init) => fetch(url, { ...init, dispatcher: proxyAgent } as RequestInit);
 * ```
 */
export type JwksFetch = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; signal: AbortSignal; redirect: 'error' },
) => Promise<JwksResponseLike>;

/**
 * Options of {@link createRemoteJwks}.
 *
 * @example
 * ```ts
 * const options: RemoteJwksOptions = { url: 'https://ts.example/.well-known/jwks.json', cacheTtlMs: 600_000, minRefreshIntervalMs: 60_000 };
 * ```
 */
export interface RemoteJwksOptions {
  /** Where the token service publishes its public keys: https (http only on loopback). */
  url: string;
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: JwksFetch | undefined;
  /** How long a fetched set is used before it is fetched again, ms. Default 300 000 (5 minutes). */
  cacheTtlMs?: number | undefined;
  /** Least time between two fetches when a key is missing or a fetch failed, ms. Default 30 000. */
  minRefreshIntervalMs?: number | undefined;
  /** Timeout of one fetch, ms. Default 5 000. */
  timeoutMs?: number | undefined;
  /** Largest key set accepted, characters. Default 65 536. */
  maxLength?: number | undefined;
  /** The clock the cache runs on. Default the system clock. */
  clock?: Clock | undefined;
}

/**
 * Options of one key lookup.
 *
 * @example
 * ```ts
 * const key = await remoteJwks.getEncryptionKey({ kid: 'ts-2026-11', signal: AbortSignal.timeout(5_000) } satisfies KeyLookupOptions);
 * ```
 */
export interface KeyLookupOptions {
  /** Wanted `kid`; default the first encryption key of the set. */
  kid?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * A token service's public JWK set fetched over HTTPS, cached, and refreshed
 * on rotation. Made by {@link createRemoteJwks}.
 *
 * @example
 * ```ts
 * const key = await remoteJwks.getEncryptionKey({ kid: 'ts-2026-11' });
 * ```
 */
export interface RemoteJwks {
  /** The current key set: the cached one while fresh, else fetched. */
  getKeys(options?: { signal?: AbortSignal | undefined }): Promise<Jwks>;
  /**
   * The encryption key with `kid` (or the first one). When it is missing
   * from the cached set, the set is fetched again (at most once per
   * `minRefreshIntervalMs`) so a rotated key works without a restart.
   * Throws `unknown_key` when it is still missing.
   */
  getEncryptionKey(options?: KeyLookupOptions): Promise<KeyJwk>;
  /**
   * The signing key (ES256 or EdDSA; `alg` when given) with `kid`, fetched
   * again on a miss like {@link RemoteJwks.getEncryptionKey}: what verifies
   * the token service's signed notifications. Throws `unknown_key` when it
   * is still missing.
   */
  getSigningKey(options: { kid: string; alg?: string | undefined; signal?: AbortSignal | undefined }): Promise<KeyJwk>;
  /** Fetches the set now (deduplicated with any fetch in flight). */
  refresh(options?: { signal?: AbortSignal | undefined }): Promise<Jwks>;
}

const JWKS_TYPE = /^application\/(jwk-set\+)?json\s*(;|$)/i;

/**
 * Fetches and caches a token service's public JWK set. Failures are typed:
 * `network_error` when it cannot be fetched (connection refused, HTTP
 * error), `timeout`, `unknown_key` when it does not parse as a public JWK set
 * of this protocol (private members, unknown algorithms, duplicate `kid`s).
 * A failed fetch is not repeated within `minRefreshIntervalMs`: callers get
 * the same error until then, so an outage is not turned into a flood.
 *
 * @example
 * ```ts
 * import { createRemoteJwks } from '@pushprov/issuer-sdk/server'; // also in @pushprov/protocol
 * const tokenServiceKeys = createRemoteJwks({ url: 'https://ts.example/.well-known/jwks.json', cacheTtlMs: 600_000 });
 * const key = await tokenServiceKeys.getEncryptionKey();
 * ```
 */
export function createRemoteJwks(options: RemoteJwksOptions): RemoteJwks {
  if (!zHttpsUrl.safeParse(options.url).success) {
    throw createError('configuration_invalid', 'The JWK set URL must be https (http only on 127.0.0.1 or localhost)');
  }
  const url = options.url;
  const cacheTtlMs = options.cacheTtlMs ?? 300_000;
  const minRefreshMs = options.minRefreshIntervalMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxLength = options.maxLength ?? 65_536;
  if (!isDuration(cacheTtlMs) || !isDuration(timeoutMs) || !isDuration(maxLength) || !(minRefreshMs === 0 || isDuration(minRefreshMs))) {
    throw createError('configuration_invalid', 'cacheTtlMs, minRefreshIntervalMs, timeoutMs and maxLength must be non-negative integers');
  }
  const clock = options.clock ?? systemClock;
  const fetchImpl: JwksFetch = options.fetch ?? ((input, init) => (globalThis.fetch as unknown as JwksFetch)(input, init));

  let cached: { jwks: Jwks; fetchedAt: number } | undefined;
  let lastAttemptAt: number | undefined;
  let lastFailure: ProvisioningError | undefined;
  let inflight: Promise<Jwks> | undefined;

  const download = () =>
    withDeadline(
      async (signal) => {
        let response: JwksResponseLike;
        let text: string;
        try {
          response = await fetchImpl(url, { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' }, signal, redirect: 'error' });
          if (!response.ok) {
            throw new TransportError('network_error', `The token service key set could not be fetched (HTTP ${response.status})`, {
              retryable: response.status >= 500 || response.status === 429,
            });
          }
          text = await readResponseText(response, maxLength * 4, () => new CryptoError('unknown_key', 'The token service key set is too large'));
        } catch (cause) {
          if (cause instanceof TransportError || cause instanceof CryptoError) throw cause;
          throw new TransportError('network_error', 'The token service key set could not be fetched', { cause });
        }
        const type = response.headers.get('content-type');
        if (type !== null && !JWKS_TYPE.test(type)) throw new CryptoError('unknown_key', 'The token service key set is not JSON');
        try {
          return parsePublicJwks(parseStrictJson(text, { maxLength, maxDepth: 4 }));
        } catch (cause) {
          throw new CryptoError('unknown_key', 'The token service key set does not parse', { cause });
        }
      },
      { timeoutMs, what: 'Fetching the token service keys' },
    );

  function refresh(options: { signal?: AbortSignal | undefined } = {}): Promise<Jwks> {
    // A caller that already gave up (client gone) starts no download.
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    if (!inflight) {
      lastAttemptAt = clock.now();
      inflight = download().then(
        (jwks) => {
          cached = { jwks, fetchedAt: clock.now() };
          lastFailure = undefined;
          inflight = undefined;
          return jwks;
        },
        (error: ProvisioningError) => {
          lastFailure = error;
          inflight = undefined;
          throw error;
        },
      );
      // Every waiter may leave before it settles: its failure is theirs to see, never an unhandled rejection.
      inflight.catch(() => {});
    }
    const shared = inflight;
    // Each caller may stop waiting (its signal) without cancelling the shared fetch.
    return withDeadline(() => shared, { timeoutMs: timeoutMs + 1_000, signal: options.signal, what: 'Fetching the token service keys' });
  }

  const mayFetch = () => lastAttemptAt === undefined || clock.now() - lastAttemptAt >= minRefreshMs;

  async function getKeys(options: { signal?: AbortSignal | undefined } = {}): Promise<Jwks> {
    if (cached && clock.now() - cached.fetchedAt < cacheTtlMs) return cached.jwks;
    if (lastFailure && !mayFetch()) throw lastFailure;
    return refresh(options);
  }

  /** The first key of the set that `matches`; on a miss the set is fetched again (at most once per minRefreshIntervalMs). */
  async function findKey(options: { signal?: AbortSignal | undefined }, matches: (key: KeyJwk) => boolean, missing: string): Promise<KeyJwk> {
    const found = (await getKeys(options)).keys.find(matches);
    if (found) return found;
    if (mayFetch()) {
      const again = (await refresh(options)).keys.find(matches);
      if (again) return again;
    }
    throw new CryptoError('unknown_key', missing);
  }

  return {
    getKeys,
    refresh,
    getEncryptionKey: (options: KeyLookupOptions = {}) =>
      findKey(
        options,
        (key) => key.alg === KEY_MANAGEMENT_ALGORITHM && (options.kid === undefined || key.kid === options.kid),
        options.kid === undefined ? 'The token service publishes no encryption key' : 'The token service has no encryption key with that kid',
      ),
    getSigningKey: (options) =>
      findKey(
        options,
        (key) => key.kid === options.kid && (SIGNING_ALGORITHMS as readonly string[]).includes(key.alg) && (options.alg === undefined || key.alg === options.alg),
        'The token service has no signing key with that kid',
      ),
  };
}
