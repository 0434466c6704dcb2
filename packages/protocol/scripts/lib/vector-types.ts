/**
 * The shape of `vectors/vectors.json`. Documented field by field in
 * `docs/conformance.md`.
 */
import type { AccessDataSession, BinRange, Card, KeyJwk, PublicEcJwk, RequestClaims, SubmissionContext } from '../../src/index.js';

/** The expected result of a case: success with kind-specific values, or an error code. */
export type Expected = ({ outcome: 'ok' } & Record<string, unknown>) | { outcome: 'error'; code: string };

/** The randomness a JWE was made with (all base64url, except the ephemeral key, a JWK). */
export interface JweRandom {
  /** The ephemeral private key (ECDH-ES), with `d`. */
  epk: KeyJwk | Record<string, unknown>;
  /** The content encryption key. */
  cek: string;
  /** The GCM initialisation vector. */
  iv: string;
}

/** A trusted issuer, as the token service has it registered. */
export interface TrustedIssuer {
  keys: KeyJwk[];
  binRanges: BinRange[];
  /** The wallet providers this issuer accepts (checked after the device key, the end of step 13). */
  walletProviders: string[];
}

export interface ProvisioningRequestInput {
  jwe: string;
  now: number;
  audience: string;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  decryptionKeys: { keys: KeyJwk[] };
  trustedIssuers: Record<string, TrustedIssuer>;
  seenJtis: { iss: string; jti: string }[];
  /** The submission context, with the submission's device key when it carried one. */
  context: SubmissionContext & { devicePublicKey?: PublicEcJwk };
  accounts: Record<string, Card>;
  issuerDecision: 'approve' | 'decline' | 'step_up';
  random?: JweRandom;
}

export type MessageSchemaName =
  | 'invocation'
  | 'identifiers'
  | 'provisioning-request'
  | 'result'
  | 'app-message'
  | 'submission'
  | 'provisioning-response'
  | 'access-data'
  | 'token-status'
  | 'problem-details'
  | 'request-claims'
  | 'verification-request'
  | 'verification-started'
  | 'activation-request'
  | 'issuer-activation'
  | 'issuer-token-status'
  | 'activation-invocation'
  | 'lifecycle-request'
  | 'issuer-lifecycle-request'
  | 'lifecycle-response'
  | 'token-history'
  | 'issuer-token-search'
  | 'card-lifecycle-request'
  | 'card-event'
  | 'status-query'
  | 'status-response';

export interface MessageInput {
  schema: MessageSchemaName;
  json: string;
}

export interface MessageUrlInput {
  url: string;
  allowedUrls: string[];
  maxLength: number;
}

export interface AccessDataInput {
  jwe: string;
  deviceKey: KeyJwk;
  /** What the wallet's session expects the access data to be for. */
  session: AccessDataSession;
  random?: JweRandom;
}

export interface InvocationSignatureInput {
  invocation: Record<string, unknown>;
  issuerKeys: { keys: KeyJwk[] };
}

export interface StatusQuerySignatureInput {
  query: Record<string, unknown>;
  issuerKeys: { keys: KeyJwk[] };
}

export interface AccountStateInput {
  tokens: { status: 'active' | 'pending_activation' | 'suspended'; activationStarted: boolean }[];
}

export interface StatusAnswerInput {
  query: Record<string, unknown>;
  now: number;
  clockSkewSeconds: number;
  maxLifetimeSeconds: number;
  /** The wallet's trust list: issuer id to public JWK set. */
  trustedIssuers: Record<string, { keys: KeyJwk[] }>;
  /** The answering device. */
  deviceId: string;
  /** The wallet account's live tokens, of every issuer. */
  tokens: { issuerId: string; accountId: string; deviceId: string; status: 'active' | 'pending_activation' | 'suspended'; activationStarted: boolean }[];
}

export interface ClientAssertionInput {
  assertion: string;
  now: number;
  walletProviderId: string;
  audience: string;
  keys: { keys: KeyJwk[] };
  clockSkewSeconds: number;
}

export interface ProblemDetailsInput {
  json: string;
}

interface CaseBase<K extends string, I> {
  id: string;
  title: string;
  kind: K;
  description: string;
  input: I;
  expected: Expected;
}

export type VectorCase =
  | CaseBase<'provisioning-request', ProvisioningRequestInput>
  | CaseBase<'message', MessageInput>
  | CaseBase<'message-url', MessageUrlInput>
  | CaseBase<'access-data', AccessDataInput>
  | CaseBase<'invocation-signature', InvocationSignatureInput>
  | CaseBase<'status-query-signature', StatusQuerySignatureInput>
  | CaseBase<'account-state', AccountStateInput>
  | CaseBase<'status-answer', StatusAnswerInput>
  | CaseBase<'client-assertion', ClientAssertionInput>
  | CaseBase<'problem-details', ProblemDetailsInput>;

export type VectorKind = VectorCase['kind'];

export interface VectorFile {
  $comment: string;
  format: 'pushprov-conformance-vectors';
  formatVersion: 1;
  protocolVersion: number;
  generator: string;
  cases: VectorCase[];
}

/** The success values of a provisioning-request case. */
export interface ProvisioningRequestOk {
  outcome: 'ok';
  claims: RequestClaims;
  jweHeader: Record<string, unknown>;
  jws: string;
  jwsHeader: Record<string, unknown>;
  encryptionKid: string;
  signingKid: string;
  tokenStatus: 'active' | 'pending_activation';
}
