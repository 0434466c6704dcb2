// Fuzzing the JOSE layer with fast-check: a valid compact JWE (and the JWS
// inside it, the access data JWE, a signed invocation, a client assertion)
// mutated byte by byte, segment by segment and header member by header
// member. The only outcomes allowed are a typed error with a catalog code,
// or, when a mutation happens to leave the meaning intact (say, the unused
// low bits of a base64url character), exactly the original content: no
// mutation may ever be accepted as something else. Each run has a time limit.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AccessData,
  type Invocation,
  type Jwks,
  type RequestClaims,
  canonicalJson,
  createClientAssertion,
  decryptAccessData,
  encryptAccessData,
  openProvisioningRequest,
  parseInvocation,
  sealProvisioningRequest,
  signInvocation,
  verifyClientAssertion,
  verifyInvocationSignature,
} from '@pushprov/protocol';
import { fuzzParameters, guardUnhandled, mutatedCompact, mutatedHeader, mutatedJson, mutatedText, typedOutcomeAsync } from '../src/fuzz.js';
import { encryptCompact, signCompact } from '../src/jose-craft.js';
import { ISSUER_ID, NOW_SECONDS, SERVICE_ID, type Sandbox, WALLET, buildRequest, createDeviceKey, createSandbox } from '../src/sandbox.js';

// Bounded runs, each with its own time limit; the whole test may take longer on a busy CI machine.
vi.setConfig({ testTimeout: 90_000 });

const guard = guardUnhandled();
let sb: Sandbox;
let claims: RequestClaims;
let jwe: string;
let jws: string;
let open: (jwe: string) => Promise<RequestClaims>;

beforeAll(async () => {
  guard.install();
  sb = await createSandbox();
  const built = await buildRequest(sb);
  claims = built.claims;
  jwe = built.submission.encryptedRequest;
  jws = await signCompact({ alg: 'ES256', kid: sb.issuer.privateJwk.kid, typ: 'pushprov-request+jwt' }, JSON.stringify(claims), sb.issuer.privateJwk);
  const issuerKeys = (iss: string, kid: string) => (iss === ISSUER_ID ? [sb.issuer.publicJwk, sb.issuerEd.publicJwk].find((k) => k.kid === kid) : undefined);
  open = async (candidate) =>
    (await openProvisioningRequest(candidate, { decryptionKeys: sb.keySet.encryptionKeys as Jwks, issuerKeys, audience: SERVICE_ID, clock: sb.clock })).claims;
});
afterAll(() => {
  guard.uninstall();
  expect(guard.seen).toEqual([]);
});

describe('openProvisioningRequest', () => {
  it('opens the valid request (the baseline)', async () => {
    expect(await open(jwe)).toEqual(claims);
    expect(await open(await sealProvisioningRequest({ claims, signingKey: sb.issuer.privateJwk, encryptionKey: sb.serviceKey }))).toEqual(claims);
  });

  it('byte-level mutations of the compact JWE: a typed error, or exactly the original claims', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedCompact(jwe), async (candidate) => {
        const outcome = await typedOutcomeAsync(() => open(candidate));
        if (outcome.ok) expect(outcome.value).toEqual(claims);
      }),
      fuzzParameters(300),
    );
  });

  it('structural mutations of the JWE protected header: a typed error, never accepted', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedHeader(jwe), async (candidate) => {
        const outcome = await typedOutcomeAsync(() => open(candidate));
        if (outcome.ok) expect(outcome.value).toEqual(claims);
      }),
      fuzzParameters(200),
    );
  });

  it('mutations of the signed JWS, re-encrypted correctly: a typed error, or exactly the original claims', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedCompact(jws), mutatedHeader(jws), mutatedText(jws)), async (mutated) => {
        const candidate = encryptCompact({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: sb.serviceKey.kid, cty: 'JWT' }, mutated, sb.serviceKey);
        const outcome = await typedOutcomeAsync(() => open(candidate));
        if (outcome.ok) expect(outcome.value).toEqual(claims);
      }),
      fuzzParameters(200),
    );
  });

  it('any string at all: a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}(\.[A-Za-z0-9_-]{0,40}){4}$/)), async (candidate) => {
        const outcome = await typedOutcomeAsync(() => open(candidate));
        expect(outcome.ok).toBe(false);
      }),
      fuzzParameters(300),
    );
  });
});

describe('decryptAccessData', () => {
  let device: Awaited<ReturnType<typeof createDeviceKey>>;
  let accessData: AccessData;
  let encrypted: string;
  beforeAll(async () => {
    device = await createDeviceKey();
    accessData = { tokenReferenceId: 'tok_fuzz', tokenNumber: '4895370000000007', tokenExpiry: { month: 1, year: 2030 }, status: 'active', panLast4: '8290', issuerId: 'bank-sec', issuedAt: NOW_SECONDS };
    encrypted = await encryptAccessData(accessData, device.publicJwk);
  });

  it('mutations of the access data JWE: a typed error, or exactly the original access data', async () => {
    expect(await decryptAccessData(encrypted, device.privateJwk)).toEqual(accessData);
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedCompact(encrypted), mutatedHeader(encrypted)), async (candidate) => {
        const outcome = await typedOutcomeAsync(() => decryptAccessData(candidate, device.privateJwk));
        if (outcome.ok) expect(outcome.value).toEqual(accessData);
      }),
      fuzzParameters(200),
    );
  });
});

describe('signed invocations, as a wallet checks them (parse, then verify)', () => {
  let signed: Invocation;
  const trust = () => ({ keys: [sb.issuer.publicJwk] }) as Jwks;
  beforeAll(async () => {
    signed = await signInvocation(
      { type: 'invocation', version: 1, sessionId: claims.sid, issuerId: ISSUER_ID, account: { last4: '8290', network: 'visa', issuerName: 'Bank' }, iat: NOW_SECONDS, exp: NOW_SECONDS + 300 },
      sb.issuer.privateJwk,
    );
  });

  it('mutations of the fields or of the signature: a typed error, or the very invocation that was signed', async () => {
    await verifyInvocationSignature(signed, trust());
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(signed), mutatedCompact(signed.signature!).map((signature) => ({ ...signed, signature }))), async (candidate) => {
        const outcome = await typedOutcomeAsync(async () => {
          const invocation = parseInvocation(candidate);
          await verifyInvocationSignature(invocation, trust());
          return invocation;
        });
        if (outcome.ok) {
          const { signature: _a, ...got } = outcome.value;
          const { signature: _b, ...original } = signed;
          expect(canonicalJson(got)).toBe(canonicalJson(original));
        }
      }),
      fuzzParameters(300),
    );
  });
});

describe('client assertions', () => {
  it('mutations of a valid assertion: unauthenticated, or the same provider and jti', async () => {
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk, clock: sb.clock });
    const keys = { keys: [sb.walletSigning.publicJwk] } as Jwks;
    const verify = (candidate: string) => verifyClientAssertion(candidate, { walletProviderId: WALLET, keys, audience: SERVICE_ID, clock: sb.clock });
    const original = await verify(assertion);
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedCompact(assertion), mutatedHeader(assertion), mutatedText(assertion)), async (candidate) => {
        const outcome = await typedOutcomeAsync(() => verify(candidate));
        if (outcome.ok) expect(outcome.value).toEqual(original);
        else expect(outcome.error.code).toBe('unauthenticated');
      }),
      fuzzParameters(300),
    );
  });
});
