/**
 * Several cards in one session: the issuer offers up to 8, the user picks,
 * each gets its own outcome. An opt-in entry
 * (`createWallet({ …, accounts: severalAccounts() })`), so a wallet that
 * takes one card per session does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/accounts
 */
export { severalAccounts, type SeveralAccounts } from './accounts/several-accounts.js';
