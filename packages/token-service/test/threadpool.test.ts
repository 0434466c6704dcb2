// The CLI launcher's thread pool default (bin/threadpool.cjs), which runs
// before any module loads so that libuv still reads it.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const { applyThreadpoolDefault } = createRequire(import.meta.url)('../bin/threadpool.cjs') as {
  applyThreadpoolDefault: (env: Record<string, string | undefined>, cores: number) => number;
};

describe('applyThreadpoolDefault', () => {
  it('gives the pool one thread per core beside the event loop', () => {
    for (const [cores, size] of [
      [2, 1],
      [4, 3],
      [16, 15],
    ] as const) {
      const env: Record<string, string | undefined> = {};
      expect(applyThreadpoolDefault(env, cores)).toBe(size);
      expect(env.UV_THREADPOOL_SIZE).toBe(String(size));
    }
  });

  it('keeps at least one thread on a single core', () => {
    const env: Record<string, string | undefined> = {};
    expect(applyThreadpoolDefault(env, 1)).toBe(1);
    expect(env.UV_THREADPOOL_SIZE).toBe('1');
  });

  it('leaves a size the operator set alone', () => {
    const env: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: '8' };
    expect(applyThreadpoolDefault(env, 2)).toBe(8);
    expect(env.UV_THREADPOOL_SIZE).toBe('8');
  });

  it('treats an empty value as unset', () => {
    const env: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: ' ' };
    expect(applyThreadpoolDefault(env, 4)).toBe(3);
    expect(env.UV_THREADPOOL_SIZE).toBe('3');
  });
});
