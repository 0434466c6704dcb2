import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Jwks,
  createMemoryNotificationDedupStore,
  createNotificationHandler,
  createRemoteJwks,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  signNotification,
  verifyNotification,
} from '../src/index.js';

let published: Jwks;
let fetches = 0;
let url: string;
const server = createServer((_request, response) => {
  fetches++;
  response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(published));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createRemoteJwks: signing keys', () => {
  it('finds a signing key by kid over HTTP, fetches again for a rotated-in kid, at most once per interval', async () => {
    const [enc, sig1, sig2] = await Promise.all([generateEncryptionKey({ kid: 'enc-1' }), generateSigningKey({ kid: 'sig-1' }), generateSigningKey({ kid: 'sig-2' })]);
    published = { keys: [enc.publicJwk, sig1.publicJwk] };
    fetches = 0;
    const clock = manualClock(1_000_000);
    const jwks = createRemoteJwks({ url, clock, minRefreshIntervalMs: 30_000 });
    expect(await jwks.getSigningKey({ kid: 'sig-1' })).toEqual(sig1.publicJwk);
    await expect(jwks.getSigningKey({ kid: 'enc-1' })).rejects.toMatchObject({ code: 'unknown_key' });
    await expect(jwks.getSigningKey({ kid: 'sig-1', alg: 'EdDSA' })).rejects.toMatchObject({ code: 'unknown_key' });
    expect(fetches).toBe(1);
    published = { keys: [enc.publicJwk, sig2.publicJwk, sig1.publicJwk] };
    await expect(jwks.getSigningKey({ kid: 'sig-2' })).rejects.toMatchObject({ code: 'unknown_key' });
    expect(fetches).toBe(1);
    clock.advance(30_000);
    expect(await jwks.getSigningKey({ kid: 'sig-2' })).toEqual(sig2.publicJwk);
    expect(fetches).toBe(2);
    expect(await jwks.getEncryptionKey()).toEqual(enc.publicJwk);
  });
});

describe('notifications with the key set by URL', () => {
  it('verifyNotification and the handler fetch the token service key set over HTTP and pick the kid', async () => {
    const [enc, sig] = await Promise.all([generateEncryptionKey({ kid: 'enc-9' }), generateSigningKey({ kid: 'sig-9' })]);
    published = { keys: [enc.publicJwk, sig.publicJwk] };
    const event = {
      eventId: 'AAAAAAAAAAAAAAAAAAAAAA',
      type: 'token.created' as const,
      tokenReferenceId: 'tok_1',
      issuerId: 'bank-a',
      walletProviderId: 'wallet-co',
      status: 'active' as const,
      reason: 'other' as const,
      actor: 'issuer' as const,
      occurredAt: Math.floor(Date.now() / 1000),
      sequence: 1,
    };
    const jws = await signNotification(event, { key: sig.privateJwk, issuer: 'ts', audience: 'wallet-co' });
    const seen = createMemoryNotificationDedupStore();
    expect(await verifyNotification(jws, { jwks: `${url}?v=9`, issuer: 'ts', audience: 'wallet-co', seen })).toEqual({ event, duplicate: false });
    const received: string[] = [];
    const handler = createNotificationHandler({ jwks: url, issuer: 'ts', audience: 'wallet-co', onEvent: (e) => void received.push(e.eventId) });
    const again = await signNotification(event, { key: sig.privateJwk, issuer: 'ts', audience: 'wallet-co', clock: manualClock(Date.now() + 1_000) });
    const response = await handler(new Request('http://127.0.0.1/hook', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: again }));
    expect(response.status, await response.clone().text()).toBe(200);
    expect(received).toEqual([event.eventId]);
    expect(() => createNotificationHandler({ jwks: 'http://ts.example/jwks.json', issuer: 'ts', audience: 'wallet-co', onEvent: () => {} })).toThrow(
      expect.objectContaining({ code: 'configuration_invalid' }),
    );
  });
});
