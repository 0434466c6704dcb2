import { type AccessData, DecisionError, type ProvisioningResponse, type Submission, encryptAccessData } from '@pushprov/protocol';
import type { TokenRecord } from '../store/types.js';

/**
 * The provisioning response for a token (new or existing): the access data
 * (token number, expiry, status, the card's last 4 and its issuer, so the
 * wallet can check it is the card the user agreed to), encrypted to the
 * device key when the wallet sent one. Only `active` and
 * `pending_activation` tokens are answered; any other is `declined`.
 */
export async function buildProvisioningResponse(
  submission: Submission,
  token: Pick<TokenRecord, 'tokenReferenceId' | 'tokenExpiry' | 'status' | 'network' | 'createdAt' | 'issuerId'>,
  tokenNumber: string,
  panLast4: string,
): Promise<ProvisioningResponse> {
  if (token.status !== 'active' && token.status !== 'pending_activation') {
    throw new DecisionError('declined', 'The card is already provisioned to this device and its token is not usable');
  }
  const accessData: AccessData = {
    tokenReferenceId: token.tokenReferenceId,
    tokenNumber,
    tokenExpiry: token.tokenExpiry,
    status: token.status,
    panLast4,
    issuerId: token.issuerId,
    issuedAt: Math.floor(token.createdAt / 1000),
  };
  if (token.network !== undefined) accessData.network = token.network as NonNullable<AccessData['network']>;
  const base = {
    type: 'provisioning-response' as const,
    version: 1 as const,
    sessionId: submission.sessionId,
    tokenReferenceId: token.tokenReferenceId,
    status: token.status,
  };
  return submission.devicePublicKey === undefined
    ? { ...base, accessData }
    : { ...base, encryptedAccessData: await encryptAccessData(accessData, submission.devicePublicKey) };
}
