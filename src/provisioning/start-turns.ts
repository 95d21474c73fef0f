/**
 * One device start per turn of the event loop, process-wide. A burst of devices (a flow injecting
 * many messages at once, a bulk call, a warm key pool serving eight devices at once) would otherwise
 * run every device's synchronous start (validation, certificate, TLS context and socket set-up: a few
 * ms each) back to back in one turn, and every other flow would wait for all of them. Spread over
 * turns, timers and I/O of other flows run between two starts. A lone device waits one setImmediate.
 */
const waiting: Array<() => void> = [];
let scheduled = false;

export function nextStartTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(releaseOne);
}

/** Runs in the loop's check phase: the next one, scheduled from here, runs in the next turn. */
function releaseOne(): void {
  scheduled = false;
  waiting.shift()?.();
  if (waiting.length > 0) schedule();
}
