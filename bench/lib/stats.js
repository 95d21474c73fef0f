'use strict';
/** Small statistics over arrays of milliseconds. */

function sorted(samples) {
  return [...samples].sort((a, b) => a - b);
}

function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const s = sorted(samples);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

function median(samples) {
  if (samples.length === 0) return NaN;
  const s = sorted(samples);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function summarize(samples) {
  return {
    n: samples.length,
    median: median(samples),
    p95: percentile(samples, 95),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
  };
}

/** Milliseconds elapsed since a process.hrtime.bigint() reading. */
function msSince(startNs) {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

async function timeAsync(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: msSince(start), value };
}

module.exports = { percentile, median, summarize, msSince, timeAsync };
