import { describe, expect, it } from 'vitest';
import { createRemoteJwks } from '../src/server.js';
import { endlessAnswer } from './support/endless-answer.js';

describe('token service keys: size of the answer', () => {
  it('a key set without a length that never ends is read only up to the limit: unknown_key', async () => {
    const { response, state } = endlessAnswer(200, { 'content-type': 'application/json' });
    const jwks = createRemoteJwks({
      url: 'https://ts.example/jwks.json',
      maxLength: 1024,
      fetch: async () => response,
    });
    await expect(jwks.getKeys()).rejects.toMatchObject({ code: 'unknown_key' });
    expect(state.cancelled).toBe(true);
    // The byte limit is 4 x maxLength: 4 KiB.
    expect(state.pulls).toBeLessThanOrEqual(4 + 2);
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
