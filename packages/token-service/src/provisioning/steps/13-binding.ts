// Step 13 of docs/protocol.md section 6: the binding.
import { type RequestClaims, type Submission, checkBinding, checkDeviceKeyBinding } from '@pushprov/protocol';

/** The codes step 13 answers with. */
export const STEP_13_CODES = [
  'session_mismatch',
  'wallet_provider_mismatch',
  'wallet_account_mismatch',
  'device_mismatch',
  'nonce_mismatch',
  'device_key_mismatch',
  'wallet_provider_not_allowed',
] as const;

/**
 * Step 13: session, wallet provider (the authenticated caller, never the
 * body), wallet account, device, nonce; then the device key: the
 * submission's `devicePublicKey` is the one the issuer signed as `cnf.jkt`.
 */
export async function checkRequestBinding(claims: RequestClaims, submission: Submission, walletProviderId: string): Promise<void> {
  checkBinding(claims, {
    sessionId: submission.sessionId,
    walletProviderId,
    walletAccountId: submission.walletAccountId,
    deviceId: submission.deviceId,
    nonce: submission.nonce,
  });
  await checkDeviceKeyBinding(claims, submission.devicePublicKey);
}
