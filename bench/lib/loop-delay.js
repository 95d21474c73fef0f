'use strict';
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

/**
 * Event-loop delay while `fn` runs, sampled every millisecond. Figures include the 1 ms sampling
 * interval itself, so ≈1.1–1.5 ms means nothing blocked. Also the loop's utilization: a long delay with
 * a low utilization means the thread was waiting for a CPU, not running our code.
 */
async function measureLoopDelay(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const eluBefore = performance.eventLoopUtilization();
  let value;
  try {
    value = await fn();
  } finally {
    histogram.disable();
  }
  const elu = performance.eventLoopUtilization(eluBefore);
  return {
    value,
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
    /** Share of the time the loop was running JavaScript or callbacks (0..1), not waiting. */
    utilization: elu.utilization,
  };
}

module.exports = { measureLoopDelay };
