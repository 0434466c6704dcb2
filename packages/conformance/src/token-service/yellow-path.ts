/**
 * The yellow path cases of `pushprov-conformance token-service` (protocol
 * section 11): a card the service steps up is issued `pending_activation`
 * with its verification methods; a wrong one-time code is
 * `verification_code_invalid` with `attemptsLeft`; the right one activates
 * the token, once; another issuer cannot read or activate the token. They
 * need the profile's `stepUpCard`; the code cases also its `codeInbox` (where
 * the runner reads the codes the service sent), the issuer case its
 * `otherIssuer`.
 */
import {
  type KeyJwk,
  OTP_METHOD_TYPES,
  type VerificationMethod,
  createIssuerAssertion,
  isProvisioningError,
  parseIssuerTokenStatusResponse,
  parseProvisioningResponse,
  parseTokenStatusResponse,
  parseVerificationStarted,
} from '@pushprov/protocol';
import { type CaseSpec, CheckFailure, check, checkEqual } from '../lib/check.js';
import { type HttpAnswer, type OriginClient, jsonOf } from '../lib/http.js';
import type { TokenServiceProfile } from '../profile.js';
import { type TokenServiceContext, checkEveryAnswer, checkProblem, describe, where } from './context.js';

/** A token issued pending activation for the profile's step-up card. */
interface PendingToken {
  tokenReferenceId: string;
  methods: VerificationMethod[];
  /** The first OTP method the token offers, if any. */
  otp: VerificationMethod | undefined;
}

/** A code made for the pending token's OTP method, as the service answered and as the inbox holds it. */
interface SentCode {
  token: PendingToken;
  methodId: string;
  attemptsLeft: number;
  code: string;
}

const isOtp = (method: VerificationMethod) => (OTP_METHOD_TYPES as readonly string[]).includes(method.type);

/** Parses `answer` with `parse`, or fails naming the protocol section. */
function parsed<T>(answer: HttpAnswer, parse: (text: string) => T, what: string): T {
  try {
    return parse(answer.text);
  } catch (error) {
    throw new CheckFailure(what, `${(error as Error).message}: ${answer.text.slice(0, 300)}`, isProvisioningError(error) ? error.code : undefined);
  }
}

function checkOk(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) throw new CheckFailure(`${status} ${what} (${where(answer)})`, describe(answer), (jsonOf(answer) as { code?: string } | undefined)?.code);
  checkEveryAnswer(answer);
}

/** A code of the same form that is not `code`: its first digit moved on by one. */
const wrongCode = (code: string) => `${(Number(code[0]) + 1) % 10}${code.slice(1)}`;

/** The yellow path cases, in the order they run. */
export function buildYellowPathCases(ctx: () => TokenServiceContext, http: OriginClient, profile: TokenServiceProfile): CaseSpec[] {
  const noStepUp = profile.stepUpCard === undefined ? 'needs a card the service steps up (profile stepUpCard)' : undefined;
  const noInbox = noStepUp ?? (profile.codeInbox === undefined ? 'needs where the runner reads the one-time codes the service sent (profile codeInbox)' : undefined);
  const noOtherIssuer = noStepUp ?? (profile.otherIssuer === undefined ? 'needs a second registered issuer (profile otherIssuer)' : undefined);

  const walletPost = async (path: string, body: unknown) =>
    http.request(path, {
      method: 'POST',
      headers: { authorization: await ctx().authorization(), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() },
      body: JSON.stringify(body),
    });
  const walletStatus = async (tokenReferenceId: string) => http.request(`/v1/tokens/${encodeURIComponent(tokenReferenceId)}`, { headers: { authorization: await ctx().authorization() } });
  const issuerAuthorization = async (issuer: { id: string; signingKey: unknown }) =>
    `Bearer ${await createIssuerAssertion({ issuerId: issuer.id, audience: profile.serviceId, signingKey: issuer.signingKey as KeyJwk })}`;

  /** Provisions the step-up card to a fresh wallet account and device: 201 pending_activation, with methods. */
  const provisionPending = async (): Promise<PendingToken> => {
    const c = ctx();
    const ids = c.freshIds();
    const answer = await c.submit({ jwe: await c.seal(c.claims(ids, { card: { ...profile.stepUpCard! } })), ids });
    checkOk(answer, 201, 'Created (a token pending activation)');
    const response = parsed(answer, parseProvisioningResponse, 'a provisioning response (protocol section 4.7)');
    checkEqual('status', 'pending_activation', response.status);
    check(response.verification !== undefined && response.verification.methods.length > 0, 'verification with at least one method (section 4.12)', JSON.stringify(response.verification));
    const methods = response.verification.methods;
    return { tokenReferenceId: response.tokenReferenceId, methods, otp: methods.find(isOtp) };
  };

  /** The token of the code cases, with a code sent by its OTP method: made once, shared by the cases that follow. */
  let sent: Promise<SentCode> | undefined;
  const sendCode = (): Promise<SentCode> =>
    (sent ??= (async () => {
      const token = await provisionPending();
      if (token.otp === undefined) throw new CheckFailure('an otp_sms or otp_email method on the step-up card (the code cases need one)', JSON.stringify(token.methods.map((m) => m.type)));
      const answer = await walletPost(`/v1/tokens/${encodeURIComponent(token.tokenReferenceId)}/verification`, { type: 'verification-request', version: 1, methodId: token.otp.id });
      checkOk(answer, 200, 'with verification-started (section 7.7)');
      const started = parsed(answer, parseVerificationStarted, 'verification-started (protocol section 4.14)');
      checkEqual('methodId', token.otp.id, started.methodId);
      checkEqual('tokenReferenceId', token.tokenReferenceId, started.tokenReferenceId);
      check(!answer.text.includes('"code"'), 'no code in the verification-started answer', 'a code member');
      const inbox = await http.request(`${profile.codeInbox!.path}?tokenReferenceId=${encodeURIComponent(token.tokenReferenceId)}`);
      checkOk(inbox, 200, `from the code inbox ${profile.codeInbox!.path}`);
      const messages = (jsonOf(inbox) as { messages?: Array<{ methodId?: unknown; code?: unknown }> } | undefined)?.messages ?? [];
      const code = [...messages].reverse().find((m) => m.methodId === token.otp!.id)?.code;
      check(typeof code === 'string' && code.length === started.codeLength && /^[0-9]+$/.test(code), `a ${started.codeLength}-digit code for method ${token.otp.id} in the code inbox`, JSON.stringify(messages).slice(0, 300));
      return { token, methodId: token.otp.id, attemptsLeft: started.attemptsLeft, code };
    })());

  /** The shared token, activated with its right code: made once. */
  let activated: Promise<SentCode> | undefined;
  const activate = (): Promise<SentCode> =>
    (activated ??= (async () => {
      const s = await sendCode();
      const answer = await walletPost(`/v1/tokens/${encodeURIComponent(s.token.tokenReferenceId)}/activation`, { type: 'activation-request', version: 1, methodId: s.methodId, code: s.code });
      checkOk(answer, 200, 'with the token status, active (section 7.8)');
      const status = parsed(answer, parseTokenStatusResponse, 'a token status (protocol section 4.9)');
      checkEqual('status', 'active', status.status);
      checkEqual('tokenReferenceId', s.token.tokenReferenceId, status.tokenReferenceId);
      return s;
    })());

  return [
    {
      id: 'ts-yellow-pending',
      title: 'A card the issuer steps up: 201 pending_activation with its verification methods, in the token status too (sections 4.7, 4.12, 11.1)',
      notApplicable: noStepUp ?? (profile.statusEndpoint ? undefined : 'the profile does not let the runner use the token status endpoint (statusEndpoint: false)'),
      run: async () => {
        const token = await provisionPending();
        const answer = await walletStatus(token.tokenReferenceId);
        checkOk(answer, 200, 'with the token status');
        const status = parsed(answer, parseTokenStatusResponse, 'a token status (protocol section 4.9)');
        checkEqual('status', 'pending_activation', status.status);
        checkEqual('verification.methods', token.methods, status.verification?.methods);
      },
    },
    {
      id: 'ts-yellow-wrong-code',
      title: 'A wrong one-time code: 422 verification_code_invalid with attemptsLeft one less (sections 7.8, 11.4 step 9)',
      code: 'verification_code_invalid',
      notApplicable: noInbox,
      run: async () => {
        const s = await sendCode();
        const answer = await walletPost(`/v1/tokens/${encodeURIComponent(s.token.tokenReferenceId)}/activation`, { type: 'activation-request', version: 1, methodId: s.methodId, code: wrongCode(s.code) });
        checkProblem(answer, 'verification_code_invalid');
        checkEqual('attemptsLeft', s.attemptsLeft - 1, (jsonOf(answer) as { attemptsLeft?: unknown }).attemptsLeft, 'verification_code_invalid');
        if (profile.statusEndpoint) {
          const status = parsed(await walletStatus(s.token.tokenReferenceId), parseTokenStatusResponse, 'a token status (protocol section 4.9)');
          checkEqual('status after a wrong code', 'pending_activation', status.status);
        }
      },
    },
    {
      id: 'ts-yellow-right-code',
      title: 'The right one-time code: 200, the token active, in the token status too (section 7.8)',
      notApplicable: noInbox,
      run: async () => {
        const s = await activate();
        if (profile.statusEndpoint) {
          const status = parsed(await walletStatus(s.token.tokenReferenceId), parseTokenStatusResponse, 'a token status (protocol section 4.9)');
          checkEqual('status', 'active', status.status);
          check(status.verification === undefined, 'no verification on an active token', JSON.stringify(status.verification));
        }
      },
    },
    {
      id: 'ts-yellow-code-once',
      title: 'A code works once: the same code again is 409 token_not_pending, and so is a new code request (sections 11.1, 11.2)',
      code: 'token_not_pending',
      notApplicable: noInbox,
      run: async () => {
        const s = await activate();
        const path = `/v1/tokens/${encodeURIComponent(s.token.tokenReferenceId)}`;
        checkProblem(await walletPost(`${path}/activation`, { type: 'activation-request', version: 1, methodId: s.methodId, code: s.code }), 'token_not_pending');
        checkProblem(await walletPost(`${path}/verification`, { type: 'verification-request', version: 1, methodId: s.methodId }), 'token_not_pending');
      },
    },
    {
      id: 'ts-yellow-other-issuer',
      title: 'Another issuer can neither read nor activate the token: 404 not_found, the token still pending (sections 7.9, 11.5 step 4)',
      code: 'not_found',
      notApplicable: noOtherIssuer,
      run: async () => {
        const token = await provisionPending();
        const path = `/v1/issuer/tokens/${encodeURIComponent(token.tokenReferenceId)}`;
        // The token's own issuer reads it (so the 404 below is about the issuer, not a missing endpoint).
        const own = await http.request(path, { headers: { authorization: await issuerAuthorization(profile.issuer) } });
        checkOk(own, 200, 'with the token status, for its own issuer (section 7.9)');
        const view = parsed(own, parseIssuerTokenStatusResponse, 'the token status an issuer reads (protocol section 4.9)');
        checkEqual('status', 'pending_activation', view.status);
        const other = profile.otherIssuer!;
        checkProblem(await http.request(path, { headers: { authorization: await issuerAuthorization(other) } }), 'not_found');
        const method = token.methods.find((m) => m.type === 'issuer_app' || m.type === 'customer_service')?.type ?? 'issuer_app';
        const activation = await http.request(`${path}/activation`, {
          method: 'POST',
          headers: { authorization: await issuerAuthorization(other), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() },
          body: JSON.stringify({ type: 'issuer-activation', version: 1, method }),
        });
        checkProblem(activation, 'not_found');
        if (profile.statusEndpoint) {
          const status = parsed(await walletStatus(token.tokenReferenceId), parseTokenStatusResponse, 'a token status (protocol section 4.9)');
          checkEqual('status after the other issuer tried', 'pending_activation', status.status);
        }
      },
    },
  ];
}
