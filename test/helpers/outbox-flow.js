'use strict';
// What the device and gateway outbox specs share: output 1 and Catch watched, a device provisioned by
// the flow's `prov`, the readings the simulator received in order.
const { helper } = require('./node-red');
const { startTestSimulator } = require('./simulator');

/** Collects what leaves output 1 (`sent`) and what reaches Catch (`caught`), fresh after every load. */
function watch() {
  const seen = { sent: [], caught: [] };
  helper.getNode('sent').on('input', (msg) => seen.sent.push(msg));
  helper.getNode('caught').on('input', (msg) => seen.caught.push(msg));
  return seen;
}

/** Provisions through provisionFlow's `prov` (→ `out`): the provision result. */
async function provisioned(payload) {
  const result = new Promise((resolve) => helper.getNode('out').once('input', resolve));
  helper.getNode('prov').receive({ payload });
  return (await result).payload;
}

/** Every reading the simulator received for a device or a gateway's child (a gateway publishes a child's readings as an array). */
function readings(sim, deviceName) {
  return sim.telemetry(deviceName).flatMap((record) => [record.payload].flat());
}

/** The seq values the simulator received for a device or child, first arrivals only (at-least-once may repeat a batch). */
function firstArrivals(sim, deviceName) {
  const seen = new Set();
  const order = [];
  for (const reading of readings(sim, deviceName)) {
    const seq = reading?.values?.seq ?? reading?.seq;
    if (seq === undefined || seen.has(seq)) continue;
    seen.add(seq);
    order.push(seq);
  }
  return order;
}

/** A fresh simulator for every test of the suite, given to `started`; after each test the flow is unloaded, then the simulator stopped. */
function simulatorPerTest(started) {
  let sim;
  beforeEach(async () => {
    sim = await startTestSimulator();
    started(sim);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });
}

/** Replaces a node's `method` (warn, status) with one that also records what it was given. */
function record(node, method, into) {
  const original = node[method].bind(node);
  node[method] = (value) => {
    into.push(value);
    original(value);
  };
}

const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

module.exports = { watch, provisioned, readings, firstArrivals, range, simulatorPerTest, record };
