'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');

/**
 * Event-loop delay while `fn` runs, sampled every millisecond. Figures include the 1 ms sampling
 * interval itself, so ≈1.1–1.5 ms means nothing blocked.
 */
async function measureLoopDelay(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let value;
  try {
    value = await fn();
  } finally {
    histogram.disable();
  }
  return {
    value,
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
  };
}

module.exports = { measureLoopDelay };
