/**
 * When the demo must stop: Ctrl-C (SIGINT), SIGTERM or SIGHUP, whether sent to this process, to npm
 * (which forwards SIGINT/SIGTERM to its script) or to the whole process group (`kill -- -PGID`,
 * `timeout npm start`), so the same stop can be asked for two or three times at once: only the first
 * counts. When whatever started us is gone (npm killed outright, or a shell between npm and us stopped
 * by the signal without passing it on) we become an orphan: that counts as a stop request too.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How often the parent process is checked; a stop within this time of the parent going is soon enough. */
const PARENT_CHECK_MS = 500;

export type StopReason = (typeof STOP_SIGNALS)[number] | 'parent gone';

export function onStopRequest(stop: (reason: StopReason) => void): void {
  let requested = false;
  const request = (reason: StopReason): void => {
    if (requested) return;
    requested = true;
    clearInterval(parentCheck);
    stop(reason);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => request(signal));
  const parentPid = process.ppid;
  const parentCheck = setInterval(() => {
    if (process.ppid !== parentPid) request('parent gone');
  }, PARENT_CHECK_MS);
  parentCheck.unref();
}
