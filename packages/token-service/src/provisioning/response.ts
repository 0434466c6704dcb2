import { type AccessData, DecisionError, type ProvisioningResponse, type Submission, type Verification, encryptAccessData } from '@pushprov/protocol';
import { DEFAULT_VERIFICATION_METHODS } from '../config/parse-config.js';
import type { TokenRecord } from '../store/types.js';

/**
 * The `verification` member of a pending token's answers (provisioning
 * response, token status): its stored methods and the end of its pending
 * time, in seconds. A token that is not pending has none. A pending token
 * stored before schema 5 (no methods stored) offers its issuer's configured
 * methods, pending for `lifetimes.pendingActivationSeconds` from its issuance.
 */
export function pendingVerification(
  ctx: { config: { lifetimes: { pendingActivationSeconds: number } }; issuers: ReadonlyMap<string, { verificationMethods: Verification['methods'] }> },
  token: Pick<TokenRecord, 'status' | 'verification' | 'issuerId' | 'createdAt'>,
): Verification | undefined {
  if (token.status !== 'pending_activation') return undefined;
  if (token.verification) return { methods: structuredClone(token.verification.methods), expiresAt: Math.floor(token.verification.expiresAt / 1000) };
  const methods = ctx.issuers.get(token.issuerId)?.verificationMethods ?? [...DEFAULT_VERIFICATION_METHODS];
  return { methods: structuredClone(methods), expiresAt: Math.floor((token.createdAt + ctx.config.lifetimes.pendingActivationSeconds * 1000) / 1000) };
}

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
  verification?: Verification | undefined,
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
  const withMethods = token.status === 'pending_activation' && verification !== undefined ? { verification } : {};
  return submission.devicePublicKey === undefined
    ? { ...base, accessData, ...withMethods }
    : { ...base, encryptedAccessData: await encryptAccessData(accessData, submission.devicePublicKey), ...withMethods };
}
