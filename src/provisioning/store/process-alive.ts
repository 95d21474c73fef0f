import { readFileSync } from 'node:fs';

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux's USER_HZ: the unit of /proc/<pid>/stat's start time, 100 on every architecture Node supports. */
const USER_HZ = 100;

/**
 * When a process started (ms since the epoch), on Linux from /proc/<pid>/stat (start time in ticks since
 * boot) and /proc/stat (boot time); undefined elsewhere or when it cannot be read. Accurate to about 1 s.
 */
export function processStartedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (the command) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22 overall
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(bootSeconds)) return undefined;
    return bootSeconds * 1000 + (ticks / USER_HZ) * 1000;
  } catch {
    return undefined;
  }
}
