import * as z from 'zod/mini';
import { distinctIds, zCorrelationId, zOpaqueId, zRandomId, zVersion } from './primitives.js';
import { MAX_SESSION_ACCOUNTS } from './z-invocation.js';
import { zErrorCode } from './z-provisioning-request.js';

/** How a provisioning ended, as the wallet reports it to the issuer app. */
export const zResultStatus = /* @__PURE__ */ z.enum(['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled']);
/** How a provisioning ended. */
export type ResultStatus = z.infer<typeof zResultStatus>;

/** Whether a status means a token was issued (`provisioned`, `pending_activation`). */
const issued = (status: ResultStatus): boolean => status === 'provisioned' || status === 'pending_activation';

/** The rule of a status with its token reference and error code (a result, or one account's outcome). */
const statusFieldsAgree = (r: { status: ResultStatus; tokenReferenceId?: string | undefined; errorCode?: string | undefined }): boolean =>
  issued(r.status) ? r.tokenReferenceId !== undefined && r.errorCode === undefined : r.tokenReferenceId === undefined;

const STATUS_FIELDS_RULE = 'tokenReferenceId goes with provisioned and pending_activation (and is required there), errorCode with the other statuses';

/** The order {@link summarizeStatus} picks a session's status in: the first one present. */
export const STATUS_SUMMARY_ORDER: readonly ResultStatus[] = ['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled'];

/**
 * The status of a several-account session from its accounts' statuses: the
 * first present in the order provisioned, pending_activation, declined,
 * failed, cancelled. Partial success is a normal result: one card added and
 * one declined is `provisioned` (each account's own status says the rest).
 *
 * @example
 * ```ts
 * summarizeStatus(['declined', 'provisioned']); // 'provisioned'
 * ```
 */
export function summarizeStatus(statuses: readonly ResultStatus[]): ResultStatus {
  for (const status of STATUS_SUMMARY_ORDER) if (statuses.includes(status)) return status;
  return 'failed';
}

/** One account's outcome in the result of a several-account session. */
export const zAccountOutcome = /* @__PURE__ */ (() =>
  z
    .strictObject({
      accountId: zOpaqueId,
      status: zResultStatus,
      tokenReferenceId: z.optional(zOpaqueId),
      errorCode: z.optional(zErrorCode),
    })
    .check(z.refine(statusFieldsAgree, STATUS_FIELDS_RULE))
)();
/** One account's outcome. */
export type AccountOutcome = z.infer<typeof zAccountOutcome>;

/**
 * Step 6, wallet to issuer app: the outcome, with nothing sensitive in it.
 * A token was issued (`provisioned`, `pending_activation`): `tokenReferenceId`
 * is required and `errorCode` absent. Otherwise (`declined`, `failed`,
 * `cancelled`): no `tokenReferenceId`; `errorCode` says why. A
 * several-account session's result lists every account of the invocation in
 * `accounts` instead, and its `status` is their {@link summarizeStatus}.
 */
export const zResult = /* @__PURE__ */ (() =>
  z
    .strictObject({
      type: z.literal('result'),
      version: zVersion,
      sessionId: zRandomId,
      status: zResultStatus,
      /** The token reference id: required for provisioned and pending activation, absent otherwise. */
      tokenReferenceId: z.optional(zOpaqueId),
      /** The protocol error code, for declined, failed and cancelled. */
      errorCode: z.optional(zErrorCode),
      /** Several-account session: one outcome per account of the invocation, in its order. */
      accounts: z.optional(z.array(zAccountOutcome).check(z.minLength(1), z.maxLength(MAX_SESSION_ACCOUNTS))),
      /** The provisioning attempt's correlation id (see `zCorrelationId`). */
      correlationId: z.optional(zCorrelationId),
    })
    .check(
      z.refine((r) => r.accounts !== undefined || statusFieldsAgree(r), STATUS_FIELDS_RULE),
      z.refine(
        (r) =>
          r.accounts === undefined ||
          (r.tokenReferenceId === undefined && r.errorCode === undefined && r.status === summarizeStatus(r.accounts.map((a) => a.status))),
        { message: 'with accounts, status is their summary and tokenReferenceId and errorCode are absent', path: ['status'] },
      ),
      z.refine((r) => r.accounts === undefined || distinctIds(r.accounts.map((a) => a.accountId)), {
        message: 'accounts must not name an account twice',
        path: ['accounts'],
      }),
    )
)();
/** Step 6 message. */
export type Result = z.infer<typeof zResult>;
