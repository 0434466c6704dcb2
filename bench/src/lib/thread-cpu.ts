import { readFileSync } from 'node:fs';

/** Linux reports thread times in clock ticks of 1/100 s (USER_HZ, 100 on every Linux Node supports). */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system, ms) of this process's main thread, the one that
 * runs JavaScript, or undefined where the platform does not say (it is read
 * from `/proc`, so Linux only). Node 20 has no `process.threadCpuUsage`.
 *
 * The main thread is where the SDKs and the service spend all their
 * JavaScript, jose's and Node's WebCrypto bindings included; the crypto
 * itself runs on the libuv thread pool. A line whose main thread is busy all
 * the time can go no faster, however idle the other cores are.
 */
export function mainThreadCpuMs(): number | undefined {
  try {
    // The main thread's id is the process id. Fields after the command name (which may hold spaces): utime is 14th, stime 15th.
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * MS_PER_TICK : undefined;
  } catch {
    return undefined;
  }
}
