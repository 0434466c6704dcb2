import { AuthError } from '@pushprov/protocol';
import type { IssuerConfig } from './parse-config.js';

/**
 * True when `issuer` lets `walletProviderId` receive tokens for its cards
 * (the issuer's `walletProviders` in the configuration).
 *
 * @example
 * ```ts
 * issuerAccepts({ walletProviders: ['wallet-co'] }, 'wallet-co'); // true
 * ```
 */
export function issuerAccepts(issuer: Pick<IssuerConfig, 'walletProviders'>, walletProviderId: string): boolean {
  return issuer.walletProviders.includes(walletProviderId);
}

/**
 * Refuses, with `wallet_provider_not_allowed` (403), a wallet provider the
 * issuer does not accept. The pipeline calls it right after the binding
 * check (step 13), with the authenticated caller, once the request is known
 * to be the issuer's and meant for that caller. The message names neither.
 *
 * @example
 * ```ts
 * checkIssuerAccepts(issuer, walletProviderId); // throws AuthError('wallet_provider_not_allowed')
 * ```
 */
export function checkIssuerAccepts(issuer: Pick<IssuerConfig, 'walletProviders'>, walletProviderId: string): void {
  if (!issuerAccepts(issuer, walletProviderId)) {
    throw new AuthError('wallet_provider_not_allowed', 'The issuer does not accept this wallet provider for its cards');
  }
}
