// The event API of a party (spec sections 7.12 and 7.13): who is calling
// (an issuer with its issuer assertion, or a wallet provider with its API
// key or client assertion), and the redelivery of its own deliveries.
import {
  HttpError,
  type NotificationEvent,
  type NotificationFeed,
  type RedeliveryAccepted,
  SchemaError,
  toProvisioningError,
  zRandomId,
} from '@pushprov/protocol';
import { peekClientAssertionIssuer } from '@pushprov/protocol/internal';
import { COMPACT_JWS_PATTERN } from '../auth/create-authenticator.js';
import type { TokenService } from '../service/create-token-service.js';
import { issuerReceiver, walletReceiver } from './receivers.js';

/** The party an event API request comes from, and its receiver id (`issuer:<id>`, `wallet:<id>`). */
export interface EventParty {
  kind: 'issuer' | 'wallet';
  id: string;
  receiver: string;
}

const BEARER = /^Bearer +([\x21-\x7e]{1,8192})$/i;

/**
 * Authenticates an issuer or a wallet provider: a bearer client assertion
 * whose `iss` is a configured issuer is checked as that issuer's assertion
 * (`authenticateIssuer`); anything else as a wallet provider's credential
 * (`authenticate`: API key or client assertion). Every failure is
 * `unauthenticated`. An id configured both as an issuer and as a wallet
 * provider is taken as the issuer for assertions (the wallet provider then
 * uses its API key).
 *
 * @example
 * ```ts
 * const party = await authenticateParty(service, request.headers.get('authorization'));
 * ```
 */
export async function authenticateParty(service: TokenService, authorization: string | null | undefined): Promise<EventParty> {
  const token = typeof authorization === 'string' ? BEARER.exec(authorization.trim())?.[1] : undefined;
  const claimed = token !== undefined && COMPACT_JWS_PATTERN.test(token) ? peekClientAssertionIssuer(token) : undefined;
  if (claimed !== undefined && service.config.issuers.some((i) => i.id === claimed)) {
    const { issuerId } = await service.authenticateIssuer(authorization);
    return { kind: 'issuer', id: issuerId, receiver: issuerReceiver(issuerId) };
  }
  try {
    const { walletProviderId } = await service.authenticate(authorization);
    return { kind: 'wallet', id: walletProviderId, receiver: walletReceiver(walletProviderId) };
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/** The feed's default page size, and its largest. */
export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 1000;

/**
 * A page of the party's event feed (spec section 7.12): its events after
 * the cursor `after` (absent: from the first), oldest first, at most
 * `limit` (1 to 1000, default 100), and the cursor to pass next (the last
 * event's outbox sequence, or `after` again when there is none yet: poll
 * with it). Only the party's own events (an issuer: its cards' tokens; a
 * wallet provider: its tokens). A cursor that is not a decimal number, or
 * a limit out of range: `invalid_message`.
 *
 * @example
 * ```ts
 * const page = await readEventFeed(service, party, { after: '0', limit: '100' }); // { events, cursor }
 * ```
 */
export async function readEventFeed(service: TokenService, party: EventParty, query: { after?: string | undefined; limit?: string | undefined }): Promise<NotificationFeed> {
  const after = query.after === undefined ? 0 : /^(0|[1-9][0-9]{0,14})$/.test(query.after) ? Number(query.after) : undefined;
  if (after === undefined) throw new SchemaError('invalid_message', 'after must be a cursor from an earlier page (a decimal number)');
  const limit = query.limit === undefined ? FEED_DEFAULT_LIMIT : /^[1-9][0-9]{0,3}$/.test(query.limit) ? Number(query.limit) : undefined;
  if (limit === undefined || limit > FEED_MAX_LIMIT) throw new SchemaError('invalid_message', `limit must be an integer from 1 to ${FEED_MAX_LIMIT}`);
  const events = await service.store.events.feed({ party: party.receiver, after, limit });
  const last = events[events.length - 1];
  return { events: events.map((e) => e.body as NotificationEvent), cursor: String(last === undefined ? after : last.seq) };
}

/**
 * Puts the party's delivery of an event back to pending, due now (spec
 * section 7.13): a dead-lettered one (or a delivered one, to have it sent
 * again) starts a new retry period; a pending one is left as it is. Only the
 * party's own delivery: any other event id is `not_found`; a malformed one
 * `invalid_message`.
 *
 * @example
 * ```ts
 * const answer = await redeliverEvent(service, party, eventId); // { eventId, state: 'pending' }
 * ```
 */
export async function redeliverEvent(service: TokenService, party: EventParty, eventId: string): Promise<RedeliveryAccepted> {
  if (!zRandomId.safeParse(eventId).success) throw new SchemaError('invalid_message', 'The event id is not valid');
  const outcome = await service.store.deliveries.redeliver({ eventId, receiver: party.receiver, nowMs: service.clock.now() });
  if (!outcome.found) throw new HttpError('not_found', 'No such event');
  return { eventId, state: 'pending' };
}
