import {
  type AppChannel,
  type Clock,
  type Jwks,
  type ProvisioningError,
  type StatusQuery,
  type StatusResponse,
  accountStatuses,
  createError,
  epochSeconds,
  isProvisioningError,
  parsePublicJwks,
  parseStatusQuery,
  systemClock,
  toProvisioningError,
  verifyStatusQuerySignature,
} from '@pushprov/protocol';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { IdentityProvider } from '../wallet/types.js';

/**
 * Options of {@link createStatusResponder}.
 *
 * @example
 * ```ts
 * const options: StatusResponderOptions = { identity, tokenService, trustedIssuers: { 'bank-a': bankAJwks } };
 * ```
 */
export interface StatusResponderOptions {
  /** The wallet's identity: its `walletAccountId` is looked up, its `deviceId` is "this device". */
  identity: IdentityProvider;
  /** A token service client with `queryTokens` (the HTTP client of `@pushprov/wallet-sdk/http` has it). */
  tokenService: Pick<TokenServiceClient, 'queryTokens'>;
  /** The issuers whose queries are answered, each with its public JWK set (as the wallet's). */
  trustedIssuers: Readonly<Record<string, Jwks>>;
  clock?: Clock | undefined;
  /** Tolerated clock difference for the query's times, seconds. Default 60. */
  clockSkewSeconds?: number | undefined;
  /** The longest query lifetime (`exp - iat`) accepted, seconds. Default 900. */
  maxLifetimeSeconds?: number | undefined;
  /** The token query's time limit, milliseconds. Default 10 000 (then the answer is `timeout`). */
  timeoutMs?: number | undefined;
  /** Receives refused input and answers that could not be sent (for logs: codes only). */
  onError?: ((error: ProvisioningError) => void) | undefined;
}

/**
 * Answers status queries. Made by {@link createStatusResponder}.
 *
 * @example
 * ```ts
 * const stop = responder.serve(channel); // answers every status-query on the channel
 * ```
 */
export interface StatusResponder {
  /**
   * The answer to one query (spec 4.22, 4.23). Rejects, with no answer to
   * give, only when the query does not parse (`invalid_json`,
   * `invalid_message` e.g. unsigned, `unsupported_version`,
   * `payload_too_large`): it names no query an answer could be for. Every
   * other refusal is an answer with `errorCode`.
   */
  respond(query: unknown): Promise<StatusResponse>;
  /**
   * Answers every `status-query` arriving on `channel` with a
   * `status-response` on the same channel, until the returned function is
   * called. Other messages are left to the channel's other listeners.
   */
  serve(channel: AppChannel): () => void;
}

/**
 * Creates the wallet's status responder (`@pushprov/wallet-sdk/status`):
 * the answer to an issuer app's signed "which of my cards are in your
 * wallet?". In order: issuer in the trust list (`unknown_issuer`), its
 * signature (`jws_header_rejected`, `unknown_issuer`, `signature_invalid`),
 * time (`lifetime_exceeded`, `not_yet_valid`, `expired`); a refusal is an
 * answer with that `errorCode`. Then it asks the token service
 * (`queryTokens`) for this wallet account's live tokens of the **verified**
 * issuer only, so an issuer never learns about another issuer's cards (they
 * come back `not_added`, like a card that is not there), and gives each
 * queried account its state on this device and on the other devices
 * (`accountStateOf`). A failed token query is answered with its code, never
 * with `not_added`. The answer holds no card or token number, no last four,
 * no token or device id.
 *
 * @example
 * ```ts
 * import { createStatusResponder } from '@pushprov/wallet-sdk/status';
 * const responder = createStatusResponder({ identity, tokenService, trustedIssuers: { 'bank-a': bankAJwks } });
 * const stop = responder.serve(channel);
 * ```
 */
export function createStatusResponder(options: StatusResponderOptions): StatusResponder {
  const { identity, tokenService, clock = systemClock, clockSkewSeconds = 60, maxLifetimeSeconds = 900, timeoutMs = 10_000, onError } = options ?? {};
  if (typeof identity !== 'function' || typeof tokenService?.queryTokens !== 'function') {
    throw createError('configuration_invalid', 'identity must be a function and tokenService must have queryTokens');
  }
  const trusted = new Map<string, Jwks>();
  for (const [issuerId, jwks] of Object.entries(options.trustedIssuers ?? {})) {
    try {
      trusted.set(issuerId, parsePublicJwks(jwks));
    } catch (cause) {
      throw createError('configuration_invalid', 'trustedIssuers must map issuer ids to JWK sets', { cause });
    }
  }

  /** The accounts' states, or the code that refuses the query. */
  async function answer(query: StatusQuery): Promise<Pick<StatusResponse, 'accounts' | 'errorCode'>> {
    const keys = trusted.get(query.issuerId);
    if (!keys) return { errorCode: 'unknown_issuer' };
    try {
      await verifyStatusQuerySignature(query, keys);
    } catch (error) {
      return { errorCode: toProvisioningError(error, 'signature_invalid').code };
    }
    const now = epochSeconds(clock);
    const lifetime = query.exp - query.iat;
    if (lifetime <= 0 || lifetime > maxLifetimeSeconds) return { errorCode: 'lifetime_exceeded' };
    if (query.iat - clockSkewSeconds > now) return { errorCode: 'not_yet_valid' };
    if (now >= query.exp + clockSkewSeconds) return { errorCode: 'expired' };
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(createError('timeout', 'The token query did not answer in time')), timeoutMs);
    try {
      const { walletAccountId, deviceId } = await identity();
      const signal = limit.signal;
      // The verified signer's id, and only its: account ids are per issuer.
      const { tokens } = await tokenService.queryTokens!(
        { type: 'token-query', version: 1, walletAccountId, issuerId: query.issuerId, accountIds: query.accountIds },
        { signal, ...(query.correlationId !== undefined && { correlationId: query.correlationId }) },
      );
      return { accounts: accountStatuses(query.accountIds, tokens, deviceId) };
    } catch (error) {
      return { errorCode: toProvisioningError(error).code };
    } finally {
      clearTimeout(timer);
    }
  }

  async function respond(input: unknown): Promise<StatusResponse> {
    const query = parseStatusQuery(input);
    return {
      type: 'status-response',
      version: 1,
      queryId: query.queryId,
      issuerId: query.issuerId,
      ...(await answer(query)),
      ...(query.correlationId !== undefined && { correlationId: query.correlationId }),
    };
  }

  const report = (error: unknown) => {
    try {
      onError?.(isProvisioningError(error) ? error : toProvisioningError(error));
    } catch {
      // A listener's failure changes nothing.
    }
  };

  return {
    respond,
    serve(channel) {
      return channel.subscribe(
        (message) => {
          if (message.type !== 'status-query') return;
          respond(message).then((response) => channel.send(response)).catch(report);
        },
        // Refused input (an unsigned query fails the channel's parse): reported, never answered.
        (error) => report(error),
      );
    },
  };
}
