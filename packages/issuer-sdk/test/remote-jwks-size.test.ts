import { describe, expect, it } from 'vitest';
import { createRemoteJwks } from '../src/server.js';

describe('token service keys: size of the answer', () => {
  it('a key set without a length that never ends is read only up to the limit: unknown_key', async () => {
    let pulls = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
      cancel() {
        cancelled = true;
      },
    });
    const jwks = createRemoteJwks({
      url: 'https://ts.example/jwks.json',
      maxLength: 1024,
      fetch: async () => new Response(body, { headers: { 'content-type': 'application/json' } }),
    });
    await expect(jwks.getKeys()).rejects.toMatchObject({ code: 'unknown_key' });
    expect(cancelled).toBe(true);
    // The byte limit is 4 x maxLength: 4 KiB.
    expect(pulls).toBeLessThanOrEqual(4 + 2);
  });

  it('a key set announced as too large is not read: unknown_key', async () => {
    let read = false;
    const jwks = createRemoteJwks({
      url: 'https://ts.example/jwks.json',
      fetch: async () => ({
        ok: true,
        status: 200,
        headers: { get: (name: string) => ({ 'content-type': 'application/json', 'content-length': '100000000' })[name.toLowerCase()] ?? null },
        text: async () => {
          read = true;
          return '{}';
        },
      }),
    });
    await expect(jwks.getKeys()).rejects.toMatchObject({ code: 'unknown_key' });
    expect(read).toBe(false);
  });
});
