/**
 * Optional phase timing, for the benchmarks. Nothing is measured unless an observer is set:
 * `phaseLaps()` then returns undefined and every `laps?.lap(...)` call is a skipped optional chain.
 *
 * Usage in the core: `const laps = phaseLaps();` where a device's work starts, then
 * `laps?.lap('keygen')` etc. as each phase ends; a lap is the time since the previous lap.
 */
export type ProvisionPhase = 'keygen' | 'certificate' | 'connect' | 'answer' | 'disconnect';

export type PhaseObserver = (phase: ProvisionPhase, durationMs: number) => void;

export interface PhaseLaps {
  /** Report the time since the previous lap (or since `phaseLaps()`) as `phase`, and restart the clock. */
  lap(phase: ProvisionPhase): void;
  /** Restart the clock without reporting (time between phases that belongs to none). */
  restart(): void;
}

let observer: PhaseObserver | undefined;

/** Set (or, with no argument, clear) the process-wide observer. Benchmarks only. */
export function setPhaseObserver(next?: PhaseObserver): void {
  observer = next;
}

export function phaseLaps(): PhaseLaps | undefined {
  const report = observer;
  if (!report) return undefined;
  let since = process.hrtime.bigint();
  return {
    lap(phase) {
      const now = process.hrtime.bigint();
      report(phase, Number(now - since) / 1e6);
      since = now;
    },
    restart() {
      since = process.hrtime.bigint();
    },
  };
}
