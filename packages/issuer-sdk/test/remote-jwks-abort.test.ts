import { describe, expect, it } from 'vitest';
import { createRemoteJwks, type JwksFetch } from '../src/server.js';

/** Records every unhandled rejection while `run` and a few turns of the event loop after it go by. */
async function collectUnhandled(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await run();
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return seen;
}

describe('token service keys: a caller that already gave up', () => {
  it('an already aborted signal starts no download, and a down endpoint leaves no unhandled rejection', async () => {
    let fetches = 0;
    // The JWKS endpoint is down: every fetch fails (after a turn, like a refused connection).
    const fetch: JwksFetch = () => {
      fetches += 1;
      return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('ECONNREFUSED')), 0));
    };
    const jwks = createRemoteJwks({ url: 'https://ts.example/jwks.json', fetch });
    const unhandled = await collectUnhandled(async () => {
      await expect(jwks.getKeys({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
      await expect(jwks.getEncryptionKey({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
      await expect(jwks.refresh({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    });
    expect(unhandled).toEqual([]);
    expect(fetches).toBe(0);
    // A caller that still waits starts the download and sees its typed error.
    await expect(jwks.getKeys()).rejects.toMatchObject({ code: 'network_error' });
    expect(fetches).toBe(1);
  });

  it('a shared download whose only waiter leaves fails without an unhandled rejection; the others see the error', async () => {
    let fail: (error: Error) => void = () => {};
    const fetch: JwksFetch = () => new Promise((_resolve, reject) => (fail = reject));
    const jwks = createRemoteJwks({ url: 'https://ts.example/jwks.json', fetch });
    const unhandled = await collectUnhandled(async () => {
      const leaving = new AbortController();
      const first = jwks.getKeys({ signal: leaving.signal });
      const second = jwks.getKeys();
      leaving.abort();
      await expect(first).rejects.toMatchObject({ code: 'aborted' });
      fail(new Error('ECONNREFUSED'));
      await expect(second).rejects.toMatchObject({ code: 'network_error' });
    });
    expect(unhandled).toEqual([]);
  });
});
