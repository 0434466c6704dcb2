// Who a delivery goes to: `issuer:<issuerId>` or `wallet:<walletProviderId>`
// (the `deliveries.receiver` column, and the feed's party).

/** A receiver of notifications: the token's issuer, or its wallet provider. */
export interface NotificationReceiver {
  kind: 'issuer' | 'wallet';
  /** The party id (an `issuers[].id` or `walletProviders[].id`). */
  id: string;
}

/** The receiver id of an issuer. */
export const issuerReceiver = (issuerId: string): string => `issuer:${issuerId}`;
/** The receiver id of a wallet provider. */
export const walletReceiver = (walletProviderId: string): string => `wallet:${walletProviderId}`;

/** Reads a receiver id; undefined for anything else. */
export function parseReceiver(receiver: string): NotificationReceiver | undefined {
  const colon = receiver.indexOf(':');
  if (colon < 0) return undefined;
  const kind = receiver.slice(0, colon);
  const id = receiver.slice(colon + 1);
  if ((kind !== 'issuer' && kind !== 'wallet') || id.length === 0) return undefined;
  return { kind, id };
}
