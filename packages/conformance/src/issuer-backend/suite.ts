/**
 * `pushprov-conformance issuer-backend`: an issuer backend under test. The
 * runner plays the wallet (and the issuer app in front of the backend): it
 * asks for an invocation signature when the backend offers it, sends the
 * wallet's identifiers with a device key of its own, receives the encrypted
 * request and checks, with a token service key pair of its own, that it
 * decrypts, verifies against the issuer's public key and carries exactly the
 * bindings and claims the protocol requires (sections 4.5, 5.3).
 *
 * The backend's HTTP contract is the issuer SDK's
 * (`createIssuerBackendHandler`): `POST` JSON bodies `build-request` and
 * `sign-invocation`, problem details on errors.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Identifiers,
  type Invocation,
  type KeyJwk,
  type PublicEcJwk,
  type RequestClaims,
  canonicalJson,
  createNonce,
  createSessionId,
  deviceKeyThumbprint,
  epochSeconds,
  generateEncryptionKey,
  isProvisioningError,
  manualClock,
  openProvisioningRequest,
  parseInvocation,
  parseProvisioningRequestMessage,
  systemClock,
  toPublicJwk,
  verifyInvocationSignature,
} from '@pushprov/protocol';
import { checkEveryAnswer, checkProblem, describe, where } from '../lib/answers.js';
import { type CaseSpec, CheckFailure, NotApplicable, check, checkEqual, runCase } from '../lib/check.js';
import { type HttpAnswer, createOriginClient, jsonOf } from '../lib/http.js';
import { type IssuerBackendProfile, type IssuerBackendProfileInput, parseIssuerBackendProfile } from '../profile.js';
import { type CaseResult, DEFAULT_DOCS_BASE, type Report, makeReport } from '../report.js';

/** Options of {@link runIssuerBackendConformance}. */
export interface IssuerBackendRunOptions {
  /** The backend's endpoint (the URL its app POSTs to). Nothing else is contacted. */
  endpoint: string;
  profile: IssuerBackendProfile | IssuerBackendProfileInput;
  /** Timeout of every HTTP call, ms. Default 10 000. */
  timeoutMs?: number;
  docsBase?: string;
  filter?: (id: string) => boolean;
  onResult?: (result: CaseResult) => void;
  /** Called with the URL of the JWKS the runner serves (profile `tokenServiceKeys.serve`), once it listens. */
  onJwksServed?: (url: string) => void;
  fetch?: typeof fetch;
}

/** A JWKS served on 127.0.0.1 for the backend to fetch. */
export interface ServedJwks {
  url: string;
  close(): Promise<void>;
}

/** Serves `{ keys }` at `/.well-known/jwks.json` on 127.0.0.1:`port` (0: a free port). Nothing else is served. */
export function serveJwks(keys: KeyJwk[], port = 0): Promise<ServedJwks> {
  const body = JSON.stringify({ keys });
  const server: Server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json' && (request.method === 'GET' || request.method === 'HEAD')) {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'content-length': Buffer.byteLength(body) });
      response.end(request.method === 'HEAD' ? undefined : body);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

interface Built {
  identifiers: Identifiers;
  devicePrivateJwk: KeyJwk;
  answer: HttpAnswer;
  encryptedRequest: string;
}

const last4 = (digits: string) => digits.slice(-4);

/** Runs the issuer backend suite and returns its report. */
export async function runIssuerBackendConformance(options: IssuerBackendRunOptions): Promise<Report> {
  const started = Date.now();
  const profile = parseIssuerBackendProfile(options.profile);
  const http = createOriginClient(options.endpoint, { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.fetch ? { fetch: options.fetch } : {}) });
  const endpoint = new URL(options.endpoint).href;

  // The token service key pair the backend encrypts to.
  let served: ServedJwks | undefined;
  let decryptionKeys: KeyJwk[];
  const keys = profile.tokenServiceKeys;
  if ('serve' in keys) {
    const privateJwk = (keys.serve.privateKey as KeyJwk | undefined) ?? (await generateEncryptionKey({ kid: `conformance-ts-${createSessionId().slice(0, 8).replace(/[^A-Za-z0-9]/g, 'x')}` })).privateJwk;
    decryptionKeys = [privateJwk];
    served = await serveJwks([toPublicJwk(privateJwk)], keys.serve.port);
    options.onJwksServed?.(served.url);
  } else {
    decryptionKeys = keys.privateKeys.keys as KeyJwk[];
  }

  const results: CaseResult[] = [];
  try {
    for (const spec of buildCases(profile, decryptionKeys, (init) => http.request(endpoint, init))) {
      if (options.filter && !options.filter(spec.id)) continue;
      const result = await runCase(spec);
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await served?.close();
  }
  return makeReport('issuer-backend', endpoint, started, results, options.docsBase ?? DEFAULT_DOCS_BASE);
}

function buildCases(profile: IssuerBackendProfile, decryptionKeys: KeyJwk[], call: (init: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<HttpAnswer>): CaseSpec[] {
  const bearer = { authorization: `Bearer ${profile.user.bearerToken}` };
  const postJson = (body: unknown, headers: Record<string, string> = bearer) =>
    call({ method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const now = () => epochSeconds(systemClock);

  const identifiersFor = async (options: { walletProviderId?: string; deviceKey?: boolean } = {}) => {
    const device = options.deviceKey === false ? undefined : await generateEncryptionKey({ kid: `conformance-device-${createNonce().slice(0, 6).replace(/[^A-Za-z0-9]/g, 'x')}` });
    const devicePublicKey: PublicEcJwk | undefined = device && { kty: 'EC', crv: 'P-256', x: device.publicJwk.x!, y: device.publicJwk.y!, kid: device.publicJwk.kid };
    const identifiers: Identifiers = {
      type: 'identifiers',
      version: 1,
      sessionId: createSessionId(),
      walletProviderId: options.walletProviderId ?? profile.walletProviderId,
      walletAccountId: `conformance-account-${createNonce().slice(0, 10).replace(/[^A-Za-z0-9]/g, 'x')}`,
      deviceId: `conformance-device-${createNonce().slice(0, 10).replace(/[^A-Za-z0-9]/g, 'x')}`,
      nonce: createNonce(),
      ...(devicePublicKey ? { devicePublicKey } : {}),
    };
    return { identifiers, devicePrivateJwk: device?.privateJwk };
  };

  const build = async (options: { deviceKey?: boolean } = {}): Promise<Built> => {
    const { identifiers, devicePrivateJwk } = await identifiersFor(options);
    const answer = await postJson({ type: 'build-request', version: 1, accountRef: profile.user.accountRef, identifiers });
    if (answer.status !== 200) throw new CheckFailure(`200 with the provisioning request (${where(answer)})`, describe(answer), (jsonOf(answer) as { code?: string } | undefined)?.code);
    checkEveryAnswer(answer);
    check(/(^|,)\s*no-store\s*(,|$)/i.test(answer.headers.get('cache-control') ?? ''), 'Cache-Control: no-store on the provisioning request', `Cache-Control ${answer.headers.get('cache-control') ?? 'none'}`);
    let message;
    try {
      message = parseProvisioningRequestMessage(answer.text);
    } catch (error) {
      throw new CheckFailure('a provisioning-request message (protocol section 4.3)', `${(error as Error).message}: ${answer.text.slice(0, 300)}`, isProvisioningError(error) ? error.code : undefined);
    }
    checkEqual('sessionId', identifiers.sessionId, message.sessionId, 'session_mismatch');
    return { identifiers, devicePrivateJwk: devicePrivateJwk as KeyJwk, answer, encryptedRequest: message.encryptedRequest! };
  };

  /** Steps 4 to 11 with the runner's keys: header allow-lists, decryption, issuer key, signature, claims schema, aud, lifetime, time. */
  const open = async (built: Built): Promise<{ claims: RequestClaims; signingKid: string }> => {
    try {
      const opened = await openProvisioningRequest(built.encryptedRequest, {
        decryptionKeys: { keys: decryptionKeys },
        issuerKeys: (iss, kid) => (iss === profile.issuer.id ? (profile.issuer.keys.keys as unknown as KeyJwk[]).find((k) => k.kid === kid) : undefined),
        audience: profile.serviceId,
        clock: manualClock(Date.now()),
        clockSkewSeconds: profile.clockSkewSeconds,
      });
      return { claims: opened.claims, signingKid: opened.signingKid };
    } catch (error) {
      const code = isProvisioningError(error) ? error.code : undefined;
      throw new CheckFailure(
        'an encrypted request that opens with the runner’s token service key and verifies with the issuer’s key (sections 5.3, 6 steps 4-11)',
        `${code ?? 'error'}: ${(error as Error).message}`,
        code,
      );
    }
  };

  let main: Promise<{ built: Built; claims: RequestClaims; signingKid: string }> | undefined;
  const opened = () =>
    (main ??= (async () => {
      const built = await build();
      return { built, ...(await open(built)) };
    })());
  const claimCase = (id: string, title: string, code: string, test: (o: { built: Built; claims: RequestClaims; signingKid: string }) => void | Promise<void>): CaseSpec => ({
    id,
    title,
    code,
    run: async () => test(await opened()),
  });

  const invocationCase: CaseSpec = {
    id: 'ib-sign-invocation',
    title: 'sign-invocation: the invocation comes back signed by the issuer’s key over its canonical JSON (section 5.5)',
    code: 'signature_invalid',
    notApplicable: profile.invocationSigning === false ? 'the profile says the backend does not sign invocations (invocationSigning: false)' : undefined,
    run: async () => {
      const iat = now();
      const invocation: Invocation = {
        type: 'invocation',
        version: 1,
        sessionId: createSessionId(),
        issuerId: profile.issuer.id,
        account: { last4: profile.user.last4, network: profile.user.network },
        iat,
        exp: iat + 300,
      };
      const answer = await postJson({ type: 'sign-invocation', version: 1, accountRef: profile.user.accountRef, invocation });
      const code = (jsonOf(answer) as { code?: unknown } | undefined)?.code;
      if (profile.invocationSigning === undefined && answer.status === 404 && code === 'not_found') throw new NotApplicable('the backend does not offer invocation signing (404 not_found)');
      if (answer.status !== 200) throw new CheckFailure(`200 with the signed invocation (${where(answer)})`, describe(answer), typeof code === 'string' ? code : undefined);
      checkEveryAnswer(answer);
      let signed: Invocation;
      try {
        signed = parseInvocation(answer.text);
        await verifyInvocationSignature(signed, profile.issuer.keys as unknown as { keys: KeyJwk[] });
      } catch (error) {
        throw new CheckFailure('an invocation signed with a key of the issuer (section 5.5)', `${(error as Error).message}`, isProvisioningError(error) ? error.code : 'signature_invalid');
      }
      const { signature: _signature, ...rest } = signed;
      checkEqual('the signed invocation (without signature)', canonicalJson(invocation), canonicalJson(rest), 'signature_invalid');
    },
  };

  return [
    invocationCase,
    {
      id: 'ib-build-request',
      title: 'build-request: 200 with a provisioning-request message for the session, no-store',
      run: async () => void (await opened()).built,
    },
    {
      id: 'ib-request-opens',
      title: 'The encrypted request decrypts with the token service key, its JWS verifies with the issuer key, its claims match the schema, aud, lifetime and time',
      run: async () => void (await opened()).claims,
    },
    claimCase('ib-claim-iss', 'iss is the issuer, and the signing kid one of its keys', 'unknown_issuer', ({ claims, signingKid }) => {
      checkEqual('iss', profile.issuer.id, claims.iss, 'unknown_issuer');
      check(profile.issuer.keys.keys.some((k) => k.kid === signingKid), `a signing kid among ${JSON.stringify(profile.issuer.keys.keys.map((k) => k.kid))}`, signingKid, 'unknown_issuer');
    }),
    claimCase('ib-claim-aud', 'aud is the token service id', 'audience_mismatch', ({ claims }) => checkEqual('aud', profile.serviceId, claims.aud, 'audience_mismatch')),
    claimCase('ib-claim-sid', 'sid is the identifiers’ sessionId', 'session_mismatch', ({ built, claims }) => checkEqual('sid', built.identifiers.sessionId, claims.sid, 'session_mismatch')),
    claimCase('ib-claim-wallet-provider', 'walletProviderId is the identifiers’', 'wallet_provider_mismatch', ({ built, claims }) =>
      checkEqual('walletProviderId', built.identifiers.walletProviderId, claims.walletProviderId, 'wallet_provider_mismatch'),
    ),
    claimCase('ib-claim-wallet-account', 'walletAccountId is the identifiers’', 'wallet_account_mismatch', ({ built, claims }) =>
      checkEqual('walletAccountId', built.identifiers.walletAccountId, claims.walletAccountId, 'wallet_account_mismatch'),
    ),
    claimCase('ib-claim-device', 'deviceId is the identifiers’', 'device_mismatch', ({ built, claims }) => checkEqual('deviceId', built.identifiers.deviceId, claims.deviceId, 'device_mismatch')),
    claimCase('ib-claim-nonce', 'nonce is the identifiers’', 'nonce_mismatch', ({ built, claims }) => checkEqual('nonce', built.identifiers.nonce, claims.nonce, 'nonce_mismatch')),
    claimCase('ib-claim-cnf', 'cnf.jkt is the RFC 7638 thumbprint of the identifiers’ device key', 'device_key_mismatch', async ({ built, claims }) =>
      checkEqual('cnf', { jkt: await deviceKeyThumbprint(built.identifiers.devicePublicKey!) }, claims.cnf, 'device_key_mismatch'),
    ),
    claimCase('ib-claim-lifetime', 'iat is now (within the clock skew) and 0 < exp - iat <= 900', 'lifetime_exceeded', ({ claims }) => {
      const lifetime = claims.exp - claims.iat;
      check(lifetime > 0 && lifetime <= 900, '0 < exp - iat <= 900 (section 4.5)', `exp - iat = ${lifetime}`, 'lifetime_exceeded');
      check(Math.abs(claims.iat - now()) <= profile.clockSkewSeconds, `iat within ${profile.clockSkewSeconds} s of the runner’s clock (${now()})`, `iat ${claims.iat}`, claims.iat > now() ? 'not_yet_valid' : 'expired');
    }),
    {
      id: 'ib-claim-jti',
      title: 'jti is fresh: two requests for the same account have different jtis',
      code: 'replayed',
      run: async () => {
        const first = (await opened()).claims;
        const second = (await open(await build())).claims;
        check(first.jti !== second.jti, 'a different jti in each request', `the same jti twice (${first.jti})`, 'replayed');
      },
    },
    claimCase('ib-claim-card', 'the claims carry exactly one of card and accountRef; a card is the account’s (its last 4 digits)', 'card_invalid', ({ claims }) => {
      check((claims.card === undefined) !== (claims.accountRef === undefined), 'exactly one of card and accountRef', Object.keys(claims).join(', '), 'invalid_claims');
      if (claims.card) checkEqual('the card’s last 4 digits', profile.user.last4, last4(claims.card.pan), 'card_invalid');
    }),
    {
      id: 'ib-build-without-device-key',
      title: 'Identifiers without a device key: a request without cnf',
      code: 'device_key_mismatch',
      run: async () => {
        const { claims } = await open(await build({ deviceKey: false }));
        check(claims.cnf === undefined, 'no cnf claim', JSON.stringify(claims.cnf), 'device_key_mismatch');
      },
    },
    {
      id: 'ib-unauthenticated',
      title: 'No user credential: 401 unauthenticated with WWW-Authenticate',
      run: async () => {
        const { identifiers } = await identifiersFor();
        checkProblem(await postJson({ type: 'build-request', version: 1, accountRef: profile.user.accountRef, identifiers }, {}), 'unauthenticated');
      },
    },
    {
      id: 'ib-wallet-provider-not-allowed',
      title: 'A wallet provider the backend does not build for: 403 wallet_provider_not_allowed (section 2, step 3)',
      run: async () => {
        const { identifiers } = await identifiersFor({ walletProviderId: profile.disallowedWalletProviderId });
        checkProblem(await postJson({ type: 'build-request', version: 1, accountRef: profile.user.accountRef, identifiers }), 'wallet_provider_not_allowed');
      },
    },
    {
      id: 'ib-unknown-account',
      title: 'An account reference the user does not have: 404 not_found',
      run: async () => {
        const { identifiers } = await identifiersFor();
        checkProblem(await postJson({ type: 'build-request', version: 1, accountRef: `conformance-no-such-account-${createNonce().slice(0, 8).replace(/[^A-Za-z0-9]/g, 'x')}`, identifiers }), 'not_found');
      },
    },
    {
      id: 'ib-invalid-body',
      title: 'A build-request without identifiers: 400 invalid_message',
      run: async () => checkProblem(await postJson({ type: 'build-request', version: 1, accountRef: profile.user.accountRef }), 'invalid_message'),
    },
    {
      id: 'ib-media-type',
      title: 'Content-Type text/plain: 415 unsupported_media_type',
      run: async () => checkProblem(await call({ method: 'POST', headers: { ...bearer, 'content-type': 'text/plain' }, body: '{}' }), 'unsupported_media_type'),
    },
    {
      id: 'ib-method-not-allowed',
      title: 'GET: 405 method_not_allowed with Allow: POST',
      run: async () => {
        const answer = await call({ method: 'GET', headers: bearer });
        checkProblem(answer, 'method_not_allowed');
        check((answer.headers.get('allow') ?? '').toUpperCase().includes('POST'), 'Allow naming POST', `Allow ${answer.headers.get('allow') ?? 'absent'}`, 'method_not_allowed');
      },
    },
  ];
}
