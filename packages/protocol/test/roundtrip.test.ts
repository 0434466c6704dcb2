import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  type Identifiers,
  createNonce,
  createRequestClaims,
  createSessionId,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  openProvisioningRequest,
  sealProvisioningRequest,
  checkBinding,
  BindingError,
} from '../src/index.js';

const PAN = '4111111111111111';

async function setup(alg: 'ES256' | 'EdDSA' = 'ES256') {
  const issuer = await generateSigningKey({ alg, kid: 'issuer-1' });
  const service = await generateEncryptionKey({ kid: 'svc-1' });
  const clock = manualClock(Date.UTC(2026, 10, 28, 12, 0, 0));
  const identifiers: Identifiers = {
    type: 'identifiers',
    version: 1,
    sessionId: createSessionId(),
    walletProviderId: 'wallet-co',
    walletAccountId: 'user-42',
    deviceId: 'device-7',
    nonce: createNonce(),
  };
  const claims = createRequestClaims({
    issuerId: 'bank-a',
    audience: 'token-service',
    identifiers,
    card: { pan: PAN, expiry: { month: 12, year: 2029 }, cardholderName: 'Ada Lovelace' },
    clock,
  });
  const jwe = await sealProvisioningRequest({ claims, signingKey: issuer.privateJwk, encryptionKey: service.publicJwk });
  const options = {
    decryptionKeys: { keys: [service.privateJwk] },
    issuerKeys: (iss: string, kid: string) => (iss === 'bank-a' && kid === issuer.publicJwk.kid ? issuer.publicJwk : undefined),
    audience: 'token-service',
    clock,
  };
  return { issuer, service, clock, identifiers, claims, jwe, options };
}

describe('seal and open a provisioning request', () => {
  it.each(['ES256', 'EdDSA'] as const)('round-trips the claims with %s', async (alg) => {
    const { jwe, options, claims } = await setup(alg);
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain(PAN);
    const opened = await openProvisioningRequest(jwe, options);
    expect(opened.claims).toEqual(claims);
    expect(opened.encryptionKid).toBe('svc-1');
    expect(opened.signingKid).toBe('issuer-1');
  });

  it('refuses a request once it has expired, by the injected clock', async () => {
    const { jwe, options, clock } = await setup();
    clock.advance((300 + 60) * 1000);
    await expect(openProvisioningRequest(jwe, options)).rejects.toMatchObject({ code: 'expired' });
  });

  it('refuses an unknown service kid', async () => {
    const { jwe, options } = await setup();
    const other = await generateEncryptionKey({ kid: 'svc-2' });
    await expect(openProvisioningRequest(jwe, { ...options, decryptionKeys: { keys: [other.privateJwk] } })).rejects.toBeInstanceOf(CryptoError);
  });

  it('checks the binding field by field', async () => {
    const { jwe, options, identifiers } = await setup();
    const { claims } = await openProvisioningRequest(jwe, options);
    const ctx = { ...identifiers, walletProviderId: 'wallet-co' };
    expect(() => checkBinding(claims, ctx)).not.toThrow();
    expect(() => checkBinding(claims, { ...ctx, deviceId: 'device-8' })).toThrow(BindingError);
  });
});
