// What the dispatcher needs of the service in force: its settings, the
// parties' endpoints and the signer (notify's signNotification with the
// service's signing key).
import { type NotificationEvent, signNotification } from '@pushprov/protocol';
import type { TokenService } from '../service/create-token-service.js';
import type { DispatchContext } from './dispatcher.js';
import { parseReceiver } from './receivers.js';

/**
 * The dispatch context of a service: `notifications` of its configuration,
 * `issuers[].notifications.endpoint` and `walletProviders[].notifications.endpoint`,
 * and a signer with its notification signing key (`iss` the service id,
 * `aud` the receiving party, `iat` now on its clock).
 *
 * @example
 * ```ts
 * const dispatcher = createNotificationDispatcher({ deliveries: service.store.deliveries, context: () => dispatchContextOf(service) });
 * ```
 */
export function dispatchContextOf(service: TokenService): DispatchContext {
  const { config, clock } = service;
  const key = service.notificationSigningKey;
  const issuers = new Map(config.issuers.map((i) => [i.id, i.notifications?.endpoint]));
  const providers = new Map(config.walletProviders.map((p) => [p.id, p.notifications?.endpoint]));
  return {
    settings: config.notifications,
    endpointOf(receiver) {
      const party = parseReceiver(receiver);
      if (!party) return undefined;
      return party.kind === 'issuer' ? issuers.get(party.id) : providers.get(party.id);
    },
    sign:
      key === undefined
        ? undefined
        : (event, audience) => signNotification(event as NotificationEvent, { key, issuer: config.serviceId, audience, clock }),
  };
}
