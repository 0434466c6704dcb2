// The sandbox's parties and its test card. The card is a well-known test
// number (Luhn-valid, issuer range 411111): it exists only in the issuer
// backend's "database" below and, encrypted, in the token service's vault.
import type { AccountHint, Card } from '@pushprov/protocol';

/** The issuer (the bank) as the token service and the wallet know it. */
export const ISSUER_ID = 'bank-a';
/** The wallet provider, authenticated at the token service with a signed client assertion. */
export const WALLET_PROVIDER_ID = 'wallet-co';
/** The token service id: the `aud` of every request. */
export const SERVICE_ID = 'ts-demo';
/** The issuer's BIN range registered at the token service. */
export const ISSUER_BIN = '411111';
/** The token range: token numbers never look like the issuer's card numbers. */
export const TOKEN_BIN = '489537';

/** The signed-in bank customer, and their account reference (all the app ever holds). */
export const DEMO_USER = { id: 'customer-1001', sessionToken: 'demo-session-customer-1001' };
export const ACCOUNT_REF = 'acc_everyday_1001';

/** The wallet app's user and device. */
export const WALLET_ACCOUNT_ID = 'wallet-user-42';
export const DEVICE_ID = 'pixel-8-7f3a';
/** The device a thief moves a captured request to. */
export const OTHER_DEVICE_ID = 'thief-phone-9c1d';

/** The card, as only the issuer backend holds it. Valid for three more years. */
export function createTestCard(now = new Date()): Card {
  return {
    pan: '4111111111111111',
    expiry: { month: 12, year: now.getUTCFullYear() + 3 },
    cardholderName: 'Ada Lovelace',
  };
}

/** What the issuer app shows and the wallet may see: never more than the last 4 digits. */
export const ACCOUNT_HINT: AccountHint = { last4: '1111', network: 'visa', productName: 'Everyday Debit', issuerName: 'Bank A' };
