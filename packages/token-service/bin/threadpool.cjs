'use strict';
// The libuv thread pool runs the token service's WebCrypto work. Node sizes it
// at 4 threads whatever the machine; with fewer cores than 1 + 4, the threads
// and the event loop take turns on the same cores, and each crypto job pays a
// thread wake-up. One thread per core beside the event loop's is faster: on 2
// cores, about 15 % more requests per second (see the bench notes in issue 8).
// libuv reads UV_THREADPOOL_SIZE once, at the pool's first use, so the default
// must be set before any module loads asynchronously: hence a CommonJS launcher.

/**
 * Sets `UV_THREADPOOL_SIZE` in `env` to one thread per core beside the event
 * loop's (`cores - 1`, at least 1), unless it is already set. Returns the size
 * in effect.
 *
 * @param {Record<string, string | undefined>} env
 * @param {number} cores
 * @returns {number}
 */
function applyThreadpoolDefault(env, cores) {
  const set = env.UV_THREADPOOL_SIZE;
  if (set !== undefined && set.trim() !== '') return Number(set);
  const size = Math.max(1, Math.floor(cores) - 1);
  env.UV_THREADPOOL_SIZE = String(size);
  return size;
}

module.exports = { applyThreadpoolDefault };
