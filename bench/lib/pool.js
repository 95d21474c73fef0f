'use strict';
/** Run `worker(item, index)` over items with at most `parallelism` in flight; results keep input order. */
async function runPool(items, parallelism, worker) {
  const results = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await worker(items[index], index) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallelism, items.length) }, lane));
  return results;
}

module.exports = { runPool };
