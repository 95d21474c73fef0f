'use strict';
const { monitorEventLoopDelay, performance, PerformanceObserver, constants } = require('node:perf_hooks');

/**
 * Event-loop delay while `fn` runs, sampled every millisecond. Figures include the 1 ms sampling
 * interval itself, so ≈1.1–1.5 ms means nothing blocked. Also the loop's utilization: a long delay with
 * a low utilization means the thread was waiting for a CPU, not running our code.
 */
async function measureLoopDelay(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gcPauses = [];
  const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries()));
  gcObserver.observe({ entryTypes: ['gc'] });
  histogram.enable();
  const eluBefore = performance.eventLoopUtilization();
  let value;
  try {
    value = await fn();
  } finally {
    histogram.disable();
    gcPauses.push(...gcObserver.takeRecords());
    gcObserver.disconnect();
  }
  const elu = performance.eventLoopUtilization(eluBefore);
  const longestGc = gcPauses.reduce((longest, entry) => (entry.duration > (longest?.duration ?? -1) ? entry : longest), undefined);
  return {
    value,
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
    /** Share of the time the loop was running JavaScript or callbacks (0..1), not waiting. */
    utilization: elu.utilization,
    /** The longest garbage-collection pause (ms) and whether it was a major (mark-compact) one. */
    longestGcMs: longestGc?.duration ?? 0,
    longestGcMajor: longestGc !== undefined && (longestGc.detail?.kind ?? longestGc.kind) === constants.NODE_PERFORMANCE_GC_MAJOR,
  };
}

module.exports = { measureLoopDelay };
