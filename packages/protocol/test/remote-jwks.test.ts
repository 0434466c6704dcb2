import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Jwks, createRemoteJwks, generateEncryptionKey, generateSigningKey, manualClock } from '../src/index.js';

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
