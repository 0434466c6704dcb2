// The main thread's CPU time from /proc. The project's machines are Linux, so this always runs: a
// machine without /proc fails it here rather than skipping (the bench itself leaves the figure out there).
import { platform } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mainThreadCpuMs } from '../src/lib/thread-cpu.js';

describe('mainThreadCpuMs', () => {
  it('runs on Linux, where /proc gives the figure', () => {
    expect(platform()).toBe('linux');
    expect(mainThreadCpuMs()).toEqual(expect.any(Number));
  });

  it('counts the time this thread spends computing, within what the whole process spent', () => {
    const start = mainThreadCpuMs()!;
    const processStart = process.cpuUsage();
    const deadline = performance.now() + 5_000;
    let spent = 0;
    let sink = 0;
    // Busy until the reading moves by 100 ms (ticks are 10 ms), or 5 s of wall time pass.
    while (spent < 100 && performance.now() < deadline) {
      for (let i = 0; i < 100_000; i++) sink += Math.sqrt(i);
      spent = mainThreadCpuMs()! - start;
    }
    const processCpu = process.cpuUsage(processStart);
    expect(sink).toBeGreaterThan(0);
    expect(spent).toBeGreaterThanOrEqual(100);
    // One thread cannot use more than its process; one tick of slack for the two clocks' rounding.
    expect(spent).toBeLessThanOrEqual((processCpu.user + processCpu.system) / 1000 + 10);
  });

  it('does not count time spent waiting', async () => {
    const start = mainThreadCpuMs()!;
    await sleep(300);
    expect(mainThreadCpuMs()! - start).toBeLessThan(100);
  });
});
