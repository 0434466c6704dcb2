// What every store writes with a change of a token (spec section 12.5): the
// history row, the event (the protocol's NotificationEvent) and one delivery
// per receiver, always both parties. The SQL stores build the same rows in
// their writer (sqlite-writer.worker.mjs) and in PL/pgSQL (migration 7).
import type { LifecycleActor, LifecycleReason, TokenStatus } from '@pushprov/protocol';
import type { LifecycleEventBody, LifecycleEventType, TokenRecord } from './types.js';

/** A fresh event id: `evt_` and 128 random bits as 32 hex digits (a protocol random id). */
export const newEventId = (): string => `evt_${crypto.randomUUID().replaceAll('-', '')}`;

/** The two receivers of every event of a token: its issuer and its wallet provider. */
export const receiversOf = (token: Pick<TokenRecord, 'issuerId' | 'walletProviderId'>): [string, string] => [`issuer:${token.issuerId}`, `wallet:${token.walletProviderId}`];

/** What one change is, as the stores record it. */
export interface ChangeInput {
  from: TokenStatus | null;
  to: TokenStatus;
  type: LifecycleEventType;
  actor: LifecycleActor;
  reason: LifecycleReason;
  nowMs: number;
}

/** The event body of one change of `token`, its `sequence`-th event. */
export function eventBody(token: Pick<TokenRecord, 'tokenReferenceId' | 'issuerId' | 'walletProviderId'>, change: ChangeInput, eventId: string, sequence: number): LifecycleEventBody {
  return {
    eventId,
    type: change.type,
    tokenReferenceId: token.tokenReferenceId,
    issuerId: token.issuerId,
    walletProviderId: token.walletProviderId,
    status: change.to,
    ...(change.from === null ? {} : { previousStatus: change.from }),
    reason: change.reason,
    actor: change.actor,
    occurredAt: Math.floor(change.nowMs / 1000),
    sequence,
  };
}

/** The most events one feed page may ask for. */
export const FEED_LIMIT_MAX = 1000;

/** A feed page size and cursor, checked. */
export function checkFeed(input: { party: string; after: number; limit: number }): { party: string; after: number; limit: number } {
  if (!/^(issuer|wallet):[a-z0-9][a-z0-9._-]{0,63}$/.test(input.party)) throw new RangeError('party must be issuer:<id> or wallet:<id>');
  if (!Number.isSafeInteger(input.after) || input.after < 0) throw new RangeError('after must be a non-negative integer');
  if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > FEED_LIMIT_MAX) throw new RangeError(`limit must be an integer from 1 to ${FEED_LIMIT_MAX}`);
  return input;
}
