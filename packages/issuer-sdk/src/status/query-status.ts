import {
  type AccountStatus,
  type AppChannel,
  type AppMessage,
  type Clock,
  type ErrorCode,
  type StatusQuery,
  type StatusResponse,
  canonicalJson,
  createCorrelationId,
  createError,
  createNonce,
  epochSeconds,
  parseStatusQuery,
  systemClock,
  waitForMessage,
  zCorrelationId,
  zHttpsUrl,
  zPartyId,
  zStatusQuery,
} from '@pushprov/protocol';
import { parseWith, withDeadline } from '@pushprov/protocol/internal';
import { isDuration } from '../lib/deadline.js';
import type { RequestContext } from '../request/provisioning-request-source.js';

/**
 * Signs a status query: the issuer backend (`createBackendStatusQuerySigner`)
 * or, in a sandbox only, `createStatusQuerySigner` from
 * `@pushprov/issuer-sdk/local`. It gets the query without `signature` and
 * returns it signed, every other member unchanged.
 *
 * @example
 * ```ts
 * const signer: StatusQuerySigner = createBackendStatusQuerySigner({ url: '/api/push-provisioning', credentials: 'include' });
 * ```
 */
export type StatusQuerySigner = (query: Omit<StatusQuery, 'signature'>, context: RequestContext) => Promise<StatusQuery>;

/**
 * Options of {@link queryStatus}.
 *
 * @example
 * ```ts
 * const options: QueryStatusOptions = { issuerId: 'bank-a', accountIds: ['acct_1', 'acct_2'], signer, timeoutMs: 10_000 };
 * ```
 */
export interface QueryStatusOptions {
  /** The issuer's id, as in the wallet's trust list. */
  issuerId: string;
  /** The issuer's opaque account ids asked about (1 to 16, distinct): the `accountId`s of the account hints. */
  accountIds: readonly string[];
  /** Signs the query (the wallet answers only signed queries). */
  signer: StatusQuerySigner;
  /** How long to wait for signing and the answer together, ms. Default 30 000 ({@link DEFAULT_STATUS_QUERY_TIMEOUT_MS}). */
  timeoutMs?: number | undefined;
  /** Aborting it rejects the call (`aborted`, or the signal's typed reason). */
  signal?: AbortSignal | undefined;
  /** The query's correlation id (the answer echoes it). Default a fresh `cor_…`. */
  correlationId?: string | undefined;
  /** Where the wallet sends its answer, for URL channels: an https URL of the app in the wallet's allow-list. */
  replyTo?: string | undefined;
  /** Lifetime of the query, seconds, 1 to 300. Default 120. */
  lifetimeSeconds?: number | undefined;
  /** The clock of `iat`/`exp`. Default the system clock. */
  clock?: Clock | undefined;
}

/**
 * Default time {@link queryStatus} waits for signing and the wallet's answer, ms.
 *
 * @example
 * ```ts
 * await queryStatus(channel, { issuerId, accountIds, signer, timeoutMs: 2 * DEFAULT_STATUS_QUERY_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_STATUS_QUERY_TIMEOUT_MS = 30_000;

function invalid(message: string): never {
  throw createError('configuration_invalid', message);
}

/**
 * Asks the wallet on `channel` whether the issuer's accounts are in it
 * (protocol sections 4.22 and 4.23): signs a `status-query` with `signer`,
 * sends it, and resolves with the `accounts` of the `status-response` that
 * names its `queryId` (answers for any other query are ignored), one
 * {@link AccountStatus} per asked id, in the asked order.
 *
 * Rejects with a typed `ProvisioningError`: the wallet's `errorCode` when it
 * refused (`unknown_issuer`, `signature_invalid`, `expired`,
 * `consent_denied`, …); `invalid_message` when the answer names other
 * accounts, another order, or another issuer; `timeout`; `aborted`;
 * `channel_closed`; the signer's error (e.g. the backend's `forbidden`).
 * Bad options are `configuration_invalid`, bad account ids `invalid_message`,
 * both before anything is sent. The answer is for display only (an "Add to
 * wallet" button or not): it is not signed.
 *
 * @example
 * ```ts
 * import { createBackendStatusQuerySigner, queryStatus } from '@pushprov/issuer-sdk/status';
 *
 * const signer = createBackendStatusQuerySigner({ url: '/api/push-provisioning', credentials: 'include' });
 * const states = await queryStatus(wallet, { issuerId: 'bank-a', accountIds: ['acct_1', 'acct_2'], signer });
 * for (const s of states) showAddButton(s.accountId, s.thisDevice === 'not_added');
 * ```
 */
export async function queryStatus(channel: AppChannel, options: QueryStatusOptions): Promise<AccountStatus[]> {
  if (typeof channel?.send !== 'function' || typeof channel.subscribe !== 'function') invalid('channel must be an AppChannel');
  if (!zPartyId.safeParse(options?.issuerId).success) invalid('issuerId must be a lower-case slug of 1-64 characters');
  if (typeof options.signer !== 'function') invalid('signer must be a function');
  const timeoutMs = options.timeoutMs ?? DEFAULT_STATUS_QUERY_TIMEOUT_MS;
  const lifetime = options.lifetimeSeconds ?? 120;
  if (!isDuration(timeoutMs)) invalid('timeoutMs must be a positive integer of milliseconds');
  if (!isDuration(lifetime, 300)) invalid('lifetimeSeconds must be an integer from 1 to 300');
  if (options.correlationId !== undefined && !zCorrelationId.safeParse(options.correlationId).success) {
    invalid('correlationId must be 1-128 characters of [A-Za-z0-9._-] without a run of 12 digits');
  }
  if (options.replyTo !== undefined && !zHttpsUrl.safeParse(options.replyTo).success) invalid('replyTo must be an https URL');
  const accountIds = parseWith(zStatusQuery.shape.accountIds, [...(options.accountIds ?? [])], { name: 'accountIds', code: 'invalid_message' });
  const iat = epochSeconds(options.clock ?? systemClock);
  const correlationId = options.correlationId ?? createCorrelationId();
  const unsigned: Omit<StatusQuery, 'signature'> = {
    type: 'status-query',
    version: 1,
    queryId: createNonce(),
    issuerId: options.issuerId,
    accountIds,
    iat,
    exp: iat + lifetime,
    ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
    correlationId,
  };

  return withDeadline(
    async (deadline) => {
      const signed = parseStatusQuery(await options.signer(unsigned, { signal: deadline, correlationId }));
      const { signature: _signature, ...rest } = signed;
      if (canonicalJson(rest) !== canonicalJson(unsigned)) throw createError('invalid_message', 'The signer changed the status query');
      // Listen before sending: a wallet on the same page can answer synchronously.
      const stop = new AbortController();
      const onAbort = () => stop.abort(deadline.reason);
      deadline.addEventListener('abort', onAbort, { once: true });
      const answer = waitForMessage(
        channel,
        (m: AppMessage): m is StatusResponse => m.type === 'status-response' && m.queryId === unsigned.queryId,
        { signal: stop.signal },
      );
      answer.catch(() => {});
      try {
        await channel.send(signed);
        return checkAnswer(await answer, unsigned);
      } finally {
        deadline.removeEventListener('abort', onAbort);
        stop.abort();
      }
    },
    { timeoutMs, signal: options.signal, what: 'The status query' },
  );
}

function checkAnswer(response: StatusResponse, query: Omit<StatusQuery, 'signature'>): AccountStatus[] {
  if (response.errorCode !== undefined) {
    throw createError(response.errorCode as ErrorCode, `The wallet refused the status query (${response.errorCode})`, {
      ...(query.correlationId === undefined ? {} : { correlationId: query.correlationId }),
    });
  }
  if (response.issuerId !== query.issuerId) throw createError('invalid_message', 'The status answer names another issuer');
  const accounts = response.accounts!;
  if (canonicalJson(accounts.map((a) => a.accountId)) !== canonicalJson(query.accountIds)) {
    throw createError('invalid_message', 'The status answer does not name exactly the asked accounts, in order');
  }
  return accounts.map((a) => ({ accountId: a.accountId, thisDevice: a.thisDevice, otherDevices: a.otherDevices }));
}
