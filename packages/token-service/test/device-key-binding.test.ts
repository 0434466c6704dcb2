// Issue 17, items 1 and 2, on the token service side (in process, memory
// store): the device key bound into the claims as cnf.jkt (spec step 13), an
// existing token handed only to the device key it was issued to (step 16),
// and access data that names its issuer (spec 4.8).
import { describe, expect, it } from 'vitest';
import {
  type Identifiers,
  type PublicEcJwk,
  createNonce,
  createRequestClaims,
  createSessionId,
  decryptAccessData,
  deviceKeyThumbprint,
  isProvisioningError,
  sealProvisioningRequest,
} from '@pushprov/protocol';
import { createMemoryStore, createTokenService } from '../src/index.js';
import { CARD, ISSUER_ID, NOW, SERVICE_ID, WALLET, type Fixture, buildSubmission, createDeviceKey, createFixture, createIdentifiers } from './helpers.js';

const fxPromise = createFixture();

async function setup() {
  const fx = await fxPromise;
  fx.clock.set(NOW);
  const store = createMemoryStore();
  const service = createTokenService(fx.config, store, { clock: fx.clock, configOptions: { env: {} } });
  return { fx, service, store };
}

/** A submission whose claims name `boundKey` (cnf.jkt; none when undefined) and that carries `submittedKey`. */
async function submissionFor(fx: Fixture, identifiers: Identifiers, boundKey: PublicEcJwk | undefined, submittedKey: PublicEcJwk | undefined) {
  const claims = createRequestClaims({
    issuerId: ISSUER_ID,
    audience: SERVICE_ID,
    identifiers,
    deviceKeyThumbprint: boundKey && (await deviceKeyThumbprint(boundKey)),
    card: CARD,
    clock: fx.clock,
  });
  const encryptedRequest = await sealProvisioningRequest({ claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey });
  return {
    type: 'submission' as const,
    version: 1 as const,
    sessionId: identifiers.sessionId,
    walletAccountId: identifiers.walletAccountId,
    deviceId: identifiers.deviceId,
    nonce: identifiers.nonce,
    encryptedRequest,
    ...(submittedKey && { devicePublicKey: submittedKey }),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(isProvisioningError(error)).toBe(true);
    return (error as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('the device key binding (step 13)', () => {
  it('issues to the device key the claims name (cnf.jkt), encrypted to it', async () => {
    const { fx, service } = await setup();
    const device = await createDeviceKey();
    const submission = await submissionFor(fx, createIdentifiers(), device.publicJwk, device.publicJwk);
    const { status, body } = await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k1' });
    expect(status).toBe(201);
    const accessData = await decryptAccessData(body.encryptedAccessData!, device.privateJwk);
    expect(accessData.tokenReferenceId).toBe(body.tokenReferenceId);
  });

  it.each([
    ['another key than the claims name', 'other', 'device'],
    ['a key the claims do not name', 'device', undefined],
    ['no key where the claims name one', undefined, 'device'],
  ] as const)('refuses %s with device_key_mismatch, and stores nothing', async (_name, submitted, bound) => {
    const { fx, service, store } = await setup();
    const device = await createDeviceKey();
    const other = await createDeviceKey();
    const keyOf = (which: 'device' | 'other' | undefined) => (which === 'device' ? device.publicJwk : which === 'other' ? other.publicJwk : undefined);
    const submission = await submissionFor(fx, createIdentifiers(), keyOf(bound), keyOf(submitted));
    expect(await codeOf(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k1' }))).toBe('device_key_mismatch');
    expect([await store.tokens.count(), await store.vault.count(), await store.replay.count()]).toEqual([0, 0, 0]);
  });
});

describe('an existing token goes only to the device key it was issued to (step 16)', () => {
  it('a second request for the card on the same account and device, bound to another device key, never gets the existing token number', async () => {
    const { fx, service } = await setup();
    const first = await createDeviceKey();
    const second = await createDeviceKey();
    const identifiers = createIdentifiers();
    const r1 = await service.submit({ submission: await submissionFor(fx, identifiers, first.publicJwk, first.publicJwk), walletProviderId: WALLET, idempotencyKey: 'k1' });
    const issued = await decryptAccessData(r1.body.encryptedAccessData!, first.privateJwk);

    // The same key again: the existing token (200).
    const again = { ...identifiers, sessionId: createSessionId(), nonce: createNonce() };
    const r2 = await service.submit({ submission: await submissionFor(fx, again, first.publicJwk, first.publicJwk), walletProviderId: WALLET, idempotencyKey: 'k2' });
    expect(r2.status).toBe(200);
    expect(r2.body.tokenReferenceId).toBe(r1.body.tokenReferenceId);

    // Another key, validly bound by the issuer: not the existing token.
    const other = { ...identifiers, sessionId: createSessionId(), nonce: createNonce() };
    const r3 = await service.submit({ submission: await submissionFor(fx, other, second.publicJwk, second.publicJwk), walletProviderId: WALLET, idempotencyKey: 'k3' });
    const handed = await decryptAccessData(r3.body.encryptedAccessData!, second.privateJwk);
    expect(handed.tokenNumber).not.toBe(issued.tokenNumber);
    expect(r3.body.tokenReferenceId).not.toBe(r1.body.tokenReferenceId);
  });

  it('a token issued in the clear is not handed to a device key later (nor the reverse)', async () => {
    const { fx, service } = await setup();
    const device = await createDeviceKey();
    const identifiers = createIdentifiers();
    const clear = await service.submit({ submission: await submissionFor(fx, identifiers, undefined, undefined), walletProviderId: WALLET, idempotencyKey: 'k1' });
    const keyed = await service.submit({
      submission: await submissionFor(fx, { ...identifiers, sessionId: createSessionId(), nonce: createNonce() }, device.publicJwk, device.publicJwk),
      walletProviderId: WALLET,
      idempotencyKey: 'k2',
    });
    const handed = await decryptAccessData(keyed.body.encryptedAccessData!, device.privateJwk);
    expect(handed.tokenNumber).not.toBe(clear.body.accessData!.tokenNumber);
  });
});

describe('access data names its issuer (spec 4.8)', () => {
  it('carries issuerId = the request’s iss, in the clear and encrypted', async () => {
    const { fx, service } = await setup();
    const { submission } = await buildSubmission(fx);
    const clear = await service.submit({ submission, walletProviderId: WALLET, idempotencyKey: 'k1' });
    expect(clear.body.accessData).toMatchObject({ issuerId: ISSUER_ID, panLast4: CARD.pan.slice(-4) });
    const device = await createDeviceKey();
    const keyed = await service.submit({ submission: await submissionFor(fx, createIdentifiers(), device.publicJwk, device.publicJwk), walletProviderId: WALLET, idempotencyKey: 'k2' });
    expect(await decryptAccessData(keyed.body.encryptedAccessData!, device.privateJwk)).toMatchObject({ issuerId: ISSUER_ID });
  });
});
