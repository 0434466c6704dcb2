// The event API of a party (spec sections 7.12 and 7.13): who is calling
// (an issuer with its issuer assertion, or a wallet provider with its API
// key or client assertion), and the redelivery of its own deliveries.
import { HttpError, SchemaError, peekClientAssertionIssuer, toProvisioningError, zRandomId } from '@pushprov/protocol';
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

/** The answer of `POST /v1/events/{eventId}/redeliver`. */
export interface RedeliverResponse {
  eventId: string;
  state: 'pending';
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
export async function redeliverEvent(service: TokenService, party: EventParty, eventId: string): Promise<RedeliverResponse> {
  if (!zRandomId.safeParse(eventId).success) throw new SchemaError('invalid_message', 'The event id is not valid');
  const outcome = await service.store.deliveries.redeliver({ eventId, receiver: party.receiver, nowMs: service.clock.now() });
  if (!outcome.found) throw new HttpError('not_found', 'No such event');
  return { eventId, state: 'pending' };
}
