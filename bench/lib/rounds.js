'use strict';
/**
 * Paired, interleaved rounds: each round runs every path once, back to back, in a new (seeded) random
 * order, so drifts in machine load hit them alike; ratios are taken within each round and their median
 * reported with the middle half and the whole range.
 */
const { timeAsync, median, percentile } = require('./stats');
const { fmt } = require('./markdown');

/** Deterministic (mulberry32), so that a run can be repeated with the same orders. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `items` in random order (Fisher–Yates). */
function shuffled(items, random) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * Runs `run[path]()` for every path of `order` in each of `rounds` rounds; `units` (messages, readings)
 * per run. `between(path)` (optional) runs after a path, outside the measurement. Resolves
 * { rate, perCpuSecond } (arrays per path, one value per round) with helpers over them.
 */
async function pairedRounds({ order, run, rounds, units, seed, log, between = async () => {} }) {
  const random = seededRandom(seed);
  const rate = Object.fromEntries(order.map((which) => [which, []]));
  const perCpuSecond = Object.fromEntries(order.map((which) => [which, []]));
  for (let round = 0; round < rounds; round++) {
    // A new order every round: a path runs faster right after one that used the same objects (warm caches), so a
    // fixed or rotating order would favour some pairs every time.
    for (const which of shuffled(order, random)) {
      const cpuBefore = process.cpuUsage();
      const { ms } = await timeAsync(run[which]);
      const cpu = process.cpuUsage(cpuBefore);
      rate[which].push(units / (ms / 1000));
      perCpuSecond[which].push(units / ((cpu.user + cpu.system) / 1e6));
      await between(which);
    }
    log(`round ${round + 1}, per CPU second: ${order.map((which) => `${which} ${perCpuSecond[which].at(-1).toFixed(0)}`).join(', ')}`);
  }
  const medians = (values) => Object.fromEntries(order.map((which) => [which, median(values[which])]));
  const ratios = (values, a, b) => values[a].map((value, round) => value / values[b][round]);
  return {
    rate,
    perCpuSecond,
    medians,
    /** The median of the rounds' paired ratios a / b. */
    paired: (values, a, b) => median(ratios(values, a, b)),
    /** That median with the middle half and the whole range of the ratios, as text. */
    spread(values, a, b) {
      const each = ratios(values, a, b);
      return `${fmt(median(each), 2)} (middle half ${fmt(percentile(each, 25), 2)}–${fmt(percentile(each, 75), 2)}, all ${fmt(Math.min(...each), 2)}–${fmt(Math.max(...each), 2)})`;
    },
  };
}

module.exports = { pairedRounds, seededRandom, shuffled };
