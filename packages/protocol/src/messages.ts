/**
 * Words for end users: for every {@link ErrorCode}, a short message the
 * bank's app can show its customer and one the wallet can show its user.
 *
 * Plain customer language: no codes, no digits, no protocol words, no blame.
 * A code the catalog marks retryable says "Try again"; no other does (a new
 * attempt from the start may still work, and the message says so in its own
 * words). A user's own choice (`consent_denied`, `cancelled`, a closed wallet
 * window) reads as an ending, not as a failure.
 *
 * A separate entry, `@pushprov/protocol/messages`, so that only the UIs that
 * show these messages carry them: the SDKs' default bundles do not. The same
 * messages are listed, code by code, in `docs/troubleshooting.md`.
 *
 * @example
 * ```ts
 * import { userMessage } from '@pushprov/protocol/messages';
 * userMessage('declined', 'issuerApp'); // 'We couldn’t add this card to your wallet. Please contact us if you need help.'
 * ```
 *
 * @packageDocumentation
 */
import type { ErrorCode } from './errors.js';

/** Who shows the message: the bank's app (`issuerApp`) or the wallet (`wallet`). */
export type UserMessageAudience = 'issuerApp' | 'wallet';

/** The two messages of one error code. */
export interface UserMessages {
  /** For the bank's app, speaking to its customer ("we" is the bank). */
  readonly issuerApp: string;
  /** For the wallet, speaking to its user ("we" is the wallet). */
  readonly wallet: string;
}

const m = (issuerApp: string, wallet: string): UserMessages => ({ issuerApp, wallet });

// Shared wording of the failures a customer cannot fix: a fault between the
// parties' systems (schemas, keys, configuration), never the user's.
const OUR_SIDE = m(
  'Something went wrong on our side, so your card wasn’t added. Please contact us if this keeps happening.',
  'Something went wrong, so this card wasn’t added. Please contact your bank if this keeps happening.',
);
const NOT_CONFIRMED = m(
  'Your wallet couldn’t confirm that this card comes from us, so it wasn’t added. Please contact us.',
  'We couldn’t confirm that this card comes from your bank, so it wasn’t added. Please contact your bank.',
);
const WHICH_WALLET = m(
  'We couldn’t safely confirm which wallet the card was for, so it wasn’t added. Please start again.',
  'We couldn’t safely confirm this card was meant for this wallet, so it wasn’t added. Please start again from your bank’s app.',
);
const WHICH_DEVICE = m(
  'We couldn’t safely confirm which device the card was for, so it wasn’t added. Please start again on the device you want to use.',
  'We couldn’t safely confirm this card was meant for this device, so it wasn’t added. Please start again from your bank’s app.',
);
const BUSY = m('Your card is still being added. Try again in a moment.', 'This card is still being added. Try again in a moment.');
const DOWN = m('Something went wrong on our side. Try again in a few minutes.', 'Something went wrong. Try again in a few minutes.');

/**
 * The end-user messages of every error code, for the bank's app and for the
 * wallet. Keyed like {@link ERROR_CATALOG}; complete (a test holds it so).
 *
 * @example
 * ```ts
 * import { USER_MESSAGES } from '@pushprov/protocol/messages';
 * USER_MESSAGES.network_error.wallet; // 'We couldn’t connect. Check your internet connection, then try again.'
 * ```
 */
export const USER_MESSAGES: Readonly<Record<ErrorCode, UserMessages>> = {
  // schema
  invalid_json: OUR_SIDE,
  invalid_message: OUR_SIDE,
  unsupported_version: m(
    'This wallet can’t add cards from our app yet. Updating the apps may help.',
    'This card can’t be added from your bank’s app yet. Updating the apps may help.',
  ),
  payload_too_large: OUR_SIDE,
  invalid_claims: OUR_SIDE,
  // crypto
  jwe_header_rejected: OUR_SIDE,
  unknown_key: OUR_SIDE,
  decryption_failed: OUR_SIDE,
  jws_header_rejected: OUR_SIDE,
  unknown_issuer: NOT_CONFIRMED,
  signature_invalid: NOT_CONFIRMED,
  // claims
  audience_mismatch: OUR_SIDE,
  not_yet_valid: OUR_SIDE,
  expired: m(
    'This took too long, so your card wasn’t added. Please start again.',
    'This took too long, so the card wasn’t added. Please start again from your bank’s app.',
  ),
  lifetime_exceeded: OUR_SIDE,
  // replay
  replayed: m(
    'This attempt was already used, so nothing changed. Please start again to add your card.',
    'This card was already sent once, so nothing changed. Please start again from your bank’s app.',
  ),
  // binding
  session_mismatch: WHICH_WALLET,
  wallet_provider_mismatch: WHICH_WALLET,
  wallet_account_mismatch: m(
    'We couldn’t safely confirm which wallet account the card was for, so it wasn’t added. Please start again.',
    'We couldn’t safely confirm this card was meant for this account, so it wasn’t added. Please start again from your bank’s app.',
  ),
  device_mismatch: WHICH_DEVICE,
  nonce_mismatch: WHICH_WALLET,
  device_key_mismatch: WHICH_DEVICE,
  access_data_mismatch: m(
    'Your wallet couldn’t confirm it received the card you chose, so it wasn’t added. Please contact us.',
    'We couldn’t confirm this is the card you chose, so we didn’t add it. Please contact your bank.',
  ),
  // card
  card_invalid: m(
    'This card can’t be added to a wallet. Please contact us for help.',
    'This card can’t be added. Please contact your bank for help.',
  ),
  card_expired: m(
    'This card’s expiry date has passed. Add your new card instead.',
    'This card’s expiry date has passed. Add your new card from your bank’s app.',
  ),
  card_not_eligible: m(
    'This card can’t be added to a wallet yet. Please contact us for help.',
    'This card can’t be added to this wallet yet. Your bank can tell you which cards can.',
  ),
  // decision
  declined: m(
    'We couldn’t add this card to your wallet. Please contact us if you need help.',
    'Your bank didn’t approve adding this card. Please contact your bank if you need help.',
  ),
  // verification: confirming it is the cardholder before the card works
  verification_code_invalid: m(
    'That code doesn’t match. Check the latest code we sent you and enter it once more.',
    'That code doesn’t match. Check the latest code from your bank and enter it once more.',
  ),
  verification_code_expired: m(
    'That code has run out of time. Ask for a new code to finish adding your card.',
    'That code has run out of time. Ask for a new code to finish adding this card.',
  ),
  verification_attempts_exhausted: m(
    'This way of confirming it’s you can’t be used any more for this card. Choose another way or contact us.',
    'This way of confirming it’s you can’t be used any more for this card. Choose another way or contact your bank.',
  ),
  verification_method_unavailable: m(
    'That way of confirming it’s you isn’t available for this card. Please choose another way.',
    'That way of confirming it’s you isn’t available for this card. Please choose another way.',
  ),
  verification_cooldown: m(
    'We sent you a code a moment ago. Try again in a few seconds if it hasn’t arrived.',
    'Your bank sent a code a moment ago. Try again in a few seconds if it hasn’t arrived.',
  ),
  token_not_pending: m(
    'This card doesn’t need confirming any more. Check your wallet to see whether it’s ready.',
    'This card doesn’t need confirming any more. Check your cards to see whether it’s ready.',
  ),
  // lifecycle
  token_state_conflict: m(
    'This card was already changed in the wallet a moment ago. Refresh to see how it stands now.',
    'This card was already changed a moment ago. Refresh your cards to see how it stands now.',
  ),
  // auth
  unauthenticated: m('Please sign in again, then add your card.', 'Please sign in to your wallet again, then add the card from your bank’s app.'),
  forbidden: m(
    'Your card can’t be added from here. Please contact us for help.',
    'This card can’t be added right now. Please contact your bank for help.',
  ),
  wallet_provider_not_allowed: m('Our cards can’t be added to this wallet yet.', 'Your bank doesn’t support adding its cards to this wallet yet.'),
  // http
  not_found: OUR_SIDE,
  method_not_allowed: OUR_SIDE,
  unsupported_media_type: OUR_SIDE,
  missing_idempotency_key: OUR_SIDE,
  invalid_idempotency_key: OUR_SIDE,
  idempotency_key_reused: OUR_SIDE,
  idempotency_in_flight: BUSY,
  rate_limited: m('Your card can’t be added right now. Try again later.', 'This card can’t be added right now. Try again later.'),
  // transport
  network_error: m(
    'We couldn’t connect. Check your internet connection, then try again.',
    'We couldn’t connect. Check your internet connection, then try again.',
  ),
  timeout: m('This is taking longer than usual. Try again in a moment.', 'This is taking longer than usual. Try again in a moment.'),
  aborted: m('Adding your card was stopped. You can add it whenever you like.', 'Adding the card was stopped. You can add it whenever you like.'),
  server_error: DOWN,
  channel_closed: m(
    'The wallet window closed before your card was added. You can add it whenever you like.',
    'Your bank’s app was closed before the card was added. You can add it again from your bank’s app.',
  ),
  popup_blocked: m(
    'Your browser blocked the wallet window. Allow pop-ups for this site, then add your card again.',
    'The wallet couldn’t open. Allow it to open from your bank’s app, then add the card again.',
  ),
  origin_rejected: m(
    OUR_SIDE.issuerApp,
    'Cards can only be added from your bank’s own app or website. Please start there.',
  ),
  unexpected_message: OUR_SIDE,
  // session
  session_state: OUR_SIDE,
  consent_denied: m('Nothing was added. You can add your card whenever you like.', 'Nothing was added. You can add this card from your bank’s app whenever you like.'),
  cancelled: m('Adding your card was stopped. You can add it whenever you like.', 'Adding the card was stopped. You can add it whenever you like.'),
  // internal
  configuration_invalid: OUR_SIDE,
  internal_error: DOWN,
  store_unavailable: DOWN,
};

/**
 * The message for `code` (any string: a code from another peer may be one
 * this version does not know) as `audience` shows it. An unknown code gets
 * the message of `internal_error`.
 *
 * @example
 * ```ts
 * userMessage('consent_denied', 'wallet'); // 'Nothing was added. You can add this card from your bank’s app whenever you like.'
 * ```
 */
export function userMessage(code: string, audience: UserMessageAudience): string {
  const messages = Object.prototype.hasOwnProperty.call(USER_MESSAGES, code) ? USER_MESSAGES[code as ErrorCode] : USER_MESSAGES.internal_error;
  return messages[audience];
}
