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
/** Another signed-in customer of the bank, who holds none of the demo's cards. */
export const OTHER_USER = { id: 'customer-2002', sessionToken: 'demo-session-customer-2002' };
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

/**
 * The token service's sandbox test cards this demo's bank holds (see "Sandbox
 * test cards" in docs/token-service-guide.md): in sandbox mode the last four
 * digits pick the path. The yellow ones are issued `pending_activation` with
 * the methods named here.
 */
export const SANDBOX_TEST_CARDS = [
  { accountRef: 'acc_sandbox_0010', pan: '4000000000000010', path: 'approved: the token is active' },
  { accountRef: 'acc_sandbox_0028', pan: '4000000000000028', path: 'step-up: a code by SMS' },
  { accountRef: 'acc_sandbox_0036', pan: '4000000000000036', path: 'step-up: a code by e-mail' },
  { accountRef: 'acc_sandbox_0044', pan: '4000000000000044', path: "step-up: the bank's app" },
  { accountRef: 'acc_sandbox_0051', pan: '4000000000000051', path: 'step-up: customer service' },
  { accountRef: 'acc_sandbox_0069', pan: '4000000000000069', path: 'step-up: every method' },
  { accountRef: 'acc_sandbox_0077', pan: '4000000000000077', path: 'step-up by SMS, the code is always wrong' },
] as const;
/** The BIN of the sandbox test cards, registered for the demo's issuer next to its own. */
export const SANDBOX_BIN = '400000';

/** The account hint of a sandbox test card. */
export function sandboxAccountHint(accountRef: string): AccountHint {
  const card = SANDBOX_TEST_CARDS.find((c) => c.accountRef === accountRef);
  if (!card) throw new Error(`No sandbox test card ${accountRef}`);
  return { last4: card.pan.slice(-4), network: 'visa', productName: 'Sandbox Debit', issuerName: 'Bank A' };
}

/** A sandbox test card, as only the issuer backend holds it. */
export function createSandboxCard(accountRef: string, now = new Date()): Card | null {
  const card = SANDBOX_TEST_CARDS.find((c) => c.accountRef === accountRef);
  return card ? { pan: card.pan, expiry: { month: 12, year: now.getUTCFullYear() + 3 }, cardholderName: 'Ada Lovelace' } : null;
}
