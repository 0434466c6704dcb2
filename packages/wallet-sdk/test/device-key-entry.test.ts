// The device keys of `@pushprov/wallet-sdk/device-key`, end to end with the
// issuer and token service doubles over HTTP: each variant gets its access
// data encrypted and opens it; what a host's own DeviceKey returns is checked
// like anything else that crosses a boundary.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AccessData, type PublicEcJwk, generateEncryptionKey } from '@pushprov/protocol';
import { deviceKeyFromCryptoKey, deviceKeyFromJwk, generatedDeviceKey } from '../src/device-key.js';
import { type DeviceKey, createMemoryTokenStore } from '../src/index.js';
import { type Keys, expectNoSecrets, makeKeys, setupFlow } from './helpers/setup.js';
import type { TokenServiceDouble } from './helpers/token-service-double.js';

let keys: Keys;
const services: TokenServiceDouble[] = [];
beforeAll(async () => {
  keys = await makeKeys();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function provision(deviceKey: DeviceKey) {
  const tokenStore = createMemoryTokenStore();
  const flow = await setupFlow(keys, { wallet: { deviceKey, tokenStore } });
  services.push(flow.service);
  const outcome = flow.wallet.handleInvocation(flow.walletEnd);
  const { identifiers, result } = await flow.issuer.run(flow.issuerEnd);
  return { flow, identifiers, result, outcome: await outcome, tokenStore };
}

describe('@pushprov/wallet-sdk/device-key', () => {
  it('generatedDeviceKey: a fresh key per session, access data encrypted to it and opened', async () => {
    const deviceKey = generatedDeviceKey();
    const first = await provision(deviceKey);
    const second = await provision(deviceKey);
    for (const run of [first, second]) {
      expect(run.outcome.status).toBe('provisioned');
      expect(run.flow.service.issued[0]!.encrypted).toBe(true);
      expect(run.identifiers.devicePublicKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', use: 'enc' });
      expect(run.identifiers.devicePublicKey).not.toHaveProperty('d');
      expect((await run.tokenStore.list()).map((t) => t.accessData.tokenNumber)).toEqual([run.flow.service.issued[0]!.tokenNumber]);
      expectNoSecrets(run.flow.service, run.outcome, run.flow.events, run.result);
    }
    expect(first.identifiers.devicePublicKey!.kid).not.toBe(second.identifiers.devicePublicKey!.kid);
  });

  it('deviceKeyFromJwk: the same key every session, only its public half sent', async () => {
    const pair = await generateEncryptionKey({ kid: 'device-key-9' });
    const run = await provision(deviceKeyFromJwk(pair));
    expect(run.outcome.status).toBe('provisioned');
    expect(run.identifiers.devicePublicKey).toEqual({ kty: 'EC', crv: 'P-256', x: pair.publicJwk.x, y: pair.publicJwk.y, kid: 'device-key-9', alg: 'ECDH-ES+A256KW', use: 'enc' });
    expect(JSON.stringify(run.identifiers)).not.toContain(pair.privateJwk.d);
  });

  it('deviceKeyFromCryptoKey: a non-extractable WebCrypto key opens the access data', async () => {
    const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    expect(privateKey.extractable).toBe(false);
    const publicJwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'device-hw-1', alg: 'ECDH-ES+A256KW' };
    const run = await provision(deviceKeyFromCryptoKey(privateKey, publicJwk));
    expect(run.outcome.status).toBe('provisioned');
    expect(run.flow.service.issued[0]!.encrypted).toBe(true);
    expect(run.identifiers.devicePublicKey).toMatchObject({ kid: 'device-hw-1', x: publicJwk.x });
  });

  it('refuses what is not a device key: a pair without its private JWK, a CryptoKey of the wrong kind', async () => {
    const pair = await generateEncryptionKey();
    expect(() => deviceKeyFromJwk({ publicJwk: pair.publicJwk, privateJwk: pair.publicJwk })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => deviceKeyFromJwk(undefined as never)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    const signing = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    expect(() => deviceKeyFromCryptoKey(signing.privateKey, { ...pair.publicJwk })).toThrow(expect.objectContaining({ code: 'unknown_key' }));
  });

  it("a host's own device key: a public key with a private member never leaves, access data it returns is schema-checked", async () => {
    const pair = await generateEncryptionKey();
    const leaky: DeviceKey = { forSession: async () => ({ publicJwk: pair.privateJwk as unknown as PublicEcJwk, decryptAccessData: () => Promise.reject(new Error('unused')) }) };
    const flow = await setupFlow(keys, { wallet: { deviceKey: leaky } });
    services.push(flow.service);
    const sent: unknown[] = [];
    flow.issuerEnd.subscribe((message) => sent.push(message));
    const invocation = await flow.issuer.invocation();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expect(await outcome).toMatchObject({ status: 'failed', error: { code: 'configuration_invalid' } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sent).toEqual([expect.objectContaining({ type: 'result', status: 'failed', errorCode: 'configuration_invalid' })]);
    expect(JSON.stringify(sent)).not.toContain(pair.privateJwk.d);
    expect(flow.service.issued).toHaveLength(0);

    const real = await generatedDeviceKey().forSession();
    const sloppy: DeviceKey = {
      forSession: async () => ({
        publicJwk: real.publicJwk,
        decryptAccessData: async (jwe) => ({ ...(await real.decryptAccessData(jwe)), status: 'suspended' }) as unknown as AccessData,
      }),
    };
    const run = await provision(sloppy);
    expect(run.flow.service.issued[0]!.encrypted).toBe(true);
    expect(run.outcome).toMatchObject({ status: 'failed', error: { code: 'invalid_message' } });
    expect(await run.tokenStore.list()).toEqual([]);
  });
});
