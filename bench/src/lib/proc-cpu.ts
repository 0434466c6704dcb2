import { readFileSync, readdirSync } from 'node:fs';

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ, 100 on every Linux Node supports). */
const MS_PER_TICK = 10;

/** utime, stime, cutime, cstime (ticks) and the parent's pid, from `/proc/PID/stat`. */
function readStat(pid: number): { ppid: number; own: number; reaped: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): ppid is the 4th, utime the 14th .. cstime the 17th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i]);
    return { ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, ms) of a process and its direct children: a
 * PostgreSQL postmaster and its backends, an nginx master and its worker.
 * Children that already exited count through the parent's reaped time
 * (cutime, cstime). Read from `/proc`, so Linux only: undefined elsewhere or
 * when the process is gone.
 */
export function processTreeCpuMs(rootPid: number | undefined): number | undefined {
  if (rootPid === undefined || rootPid <= 0) return undefined;
  const root = readStat(rootPid);
  if (!root) return undefined;
  let ticks = root.own + root.reaped;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const child = readStat(Number(entry));
    if (child?.ppid === rootPid) ticks += child.own;
  }
  return Number.isFinite(ticks) ? ticks * MS_PER_TICK : undefined;
}
