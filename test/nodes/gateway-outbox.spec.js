'use strict';
// gridlinks-gateway with its outbox (issue 23) in a real Node-RED runtime against the simulator, paused
// (server down, same ports) and resumed: every reading of many children arrives in order per child, the
// backlog survives a redeploy, drops are warned, refuse-new reaches Catch, purge and flush, msg.persist =
// false, a device node and a gateway node on one folder, and nothing is left open after unload.
const assert = require('node:assert/strict');
const { tempDir, settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { helper, load, provisionFlow, waitUntil, TAB } = require('../helpers/node-red');
const { watch, provisioned, readings, firstArrivals, range, simulatorPerTest, record } = require('../helpers/outbox-flow');

const GATEWAY_NODE = { id: 'gw', type: 'gridlinks-gateway', z: TAB, server: 'srv', batchWindow: 5, maxPacketKiB: 64, childIdleTimeout: 3600 };

/** provisionFlow's `prov` (→ `out`, ACCESS_TOKEN into the store folder) and Catch (→ `caught`); gateway node `gw` (→ `sent`), more nodes in `extra`. */
function outboxFlow(sim, storeDir, gateway, extra = []) {
  const { flow, credentials } = provisionFlow(sim, { props: { storeDir, credentialsType: 'ACCESS_TOKEN' } });
  flow.push({ ...GATEWAY_NODE, storeDir, wires: [['sent'], []], ...gateway }, { id: 'sent', type: 'helper', z: TAB }, ...extra);
  return { flow, credentials };
}

describe('gridlinks-gateway: outbox keys', function () {
  const { gatewayChildKey, parseGatewayChildKey } = require('../../nodes/node-red/node-outbox');
  const { deviceOutboxLink } = require('../../nodes/node-red/device-outbox');

  it('a child’s key names its gateway and itself, apart from any device name; the device node does not own it', function () {
    const key = gatewayChildKey('gw "1"', 'child/2');
    assert.deepEqual(parseGatewayChildKey(key), { gatewayName: 'gw "1"', child: 'child/2' });
    assert.notEqual(key, gatewayChildKey('gw "1"', 'child/3'));
    assert.equal(parseGatewayChildKey('gateway["gw","child"]'), undefined, 'a device name');
    const link = deviceOutboxLink({}, async () => undefined);
    assert.deepEqual([link.owns(key), link.owns('pump-7')], [false, true]);
  });
});

describe('gridlinks-gateway: the outbox (children’s messages kept while offline)', function () {
  this.timeout(30_000);
  let sim;
  simulatorPerTest((started) => (sim = started));

  /** A stored gateway (store folder + gateway name) provisioned by the flow, `extra(storeDir)` nodes beside it; children named `<gateway>-child-<n>`. */
  async function storedGateway(tag, options = {}, extra = () => []) {
    const storeDir = tempDir(`gateway-outbox-${tag}`);
    const gatewayName = `gw-outbox-${tag}-${Date.now()}`;
    const { flow, credentials } = outboxFlow(sim, storeDir, { gatewayName, ...options }, extra(storeDir));
    await load(flow, credentials);
    await provisioned({ deviceName: gatewayName, gateway: true });
    const child = (n) => `${gatewayName}-child-${n}`;
    return { storeDir, gatewayName, child, flow, credentials, seen: watch() };
  }

  /** Child 0's seq 0 sent and acknowledged, then the server down and `seqs` sent for each child; resolves when each left output 1 or reached Catch. */
  async function sentThenDown(child, seen, children, seqs) {
    const node = helper.getNode('gw');
    node.receive({ deviceName: child(0), payload: { seq: 0 } });
    await waitUntil(() => seen.sent.length === 1);
    await sim.pause();
    for (const seq of seqs) for (const n of range(0, children)) node.receive({ deviceName: child(n), deviceType: 'meter', payload: { seq } });
    await waitUntil(() => seen.sent.length + seen.caught.length === 1 + seqs.length * children);
    return node;
  }

  it('server down then up: every reading of 20 children arrives, in order per child, with the ts of when it was kept', async function () {
    const { child, seen } = await storedGateway('outage');
    const before = Date.now();
    await sentThenDown(child, seen, 20, range(1, 16));
    assert.equal(seen.caught.length, 0, 'a message on disk never reaches Catch');
    assert.equal(seen.sent[0].queued, false, 'sent and acknowledged while the server was up');
    assert.ok(
      seen.sent.slice(1).some((msg) => msg.queued === true),
      'kept while the server is down',
    );
    await sim.resume();
    await waitUntil(() => range(0, 20).every((n) => firstArrivals(sim, child(n)).length === (n === 0 ? 16 : 15)));
    assert.deepEqual(firstArrivals(sim, child(0)), range(0, 16));
    for (const n of range(1, 20)) assert.deepEqual(firstArrivals(sim, child(n)), range(1, 16), `child ${n} in order`);
    const kept = readings(sim, child(7)).find((reading) => reading.values?.seq === 1);
    assert.ok(kept.ts >= before && kept.ts <= Date.now(), 'a reading without ts gets the time it was stored');
    assert.equal(sim.devices().find((d) => d.name === child(7)).type, 'meter', 'announced with its type before its backlog');
    helper.getNode('gw').receive({ deviceName: child(3), payload: { seq: 16 } });
    await waitUntil(() => firstArrivals(sim, child(3)).length === 16);
    assert.deepEqual(firstArrivals(sim, child(3)), range(1, 17), 'live messages after the backlog');
  });

  it('a redeploy during the outage keeps the backlog; the stored gateway drains it once the server is back, each new child with its type', async function () {
    const { child, flow, credentials, seen } = await storedGateway('redeploy');
    await sentThenDown(child, seen, 3, range(1, 11));
    await helper.unload();
    await load(flow, credentials);
    const statuses = [];
    record(helper.getNode('gw'), 'status', statuses);
    await waitUntil(() => statuses.some((s) => /^gateway offline, 30 waiting \(oldest 0 min\)$/.test(s.text)));
    await sim.resume();
    await waitUntil(() => range(0, 3).every((n) => firstArrivals(sim, child(n)).length === (n === 0 ? 11 : 10)));
    assert.deepEqual(firstArrivals(sim, child(0)), range(0, 11));
    assert.deepEqual(firstArrivals(sim, child(2)), range(1, 11));
    // Children 1 and 2 were first named during the outage: created after the redeploy with the type their messages gave.
    assert.deepEqual(
      [1, 2].map((n) => sim.devices().find((device) => device.name === child(n)).type),
      ['meter', 'meter'],
    );
    await waitUntil(() => statuses.at(-1)?.text === 'gateway connected, 3 children, 0 queued');
  });

  it('a gateway given by msg.gateway: its backlog left by a redeploy is taken on by its next message and sent before it', async function () {
    const { child, flow, credentials, seen } = await storedGateway('msg-gateway', { gatewayName: '' });
    const gateway = await provisioned({ deviceName: `msg-gw-${Date.now()}`, gateway: true });
    const node = helper.getNode('gw');
    node.receive({ gateway, deviceName: child(0), payload: { seq: 0 } });
    await waitUntil(() => seen.sent.length === 1);
    await sim.pause();
    for (const seq of range(1, 6)) node.receive({ gateway, deviceName: child(0), payload: { seq } });
    await waitUntil(() => seen.sent.length === 6);
    await helper.unload();
    await load(flow, credentials);
    const after = watch();
    await sim.resume();
    helper.getNode('gw').receive({ gateway, deviceName: child(0), payload: { seq: 6 } });
    await waitUntil(() => firstArrivals(sim, child(0)).length === 7);
    assert.deepEqual(firstArrivals(sim, child(0)), range(0, 7));
    assert.equal(after.sent[0].queued, true, 'behind the backlog it found');
  });

  it('drop-oldest: a full outbox drops the oldest, said in a warning naming the child and the count', async function () {
    const { child, gatewayName, seen } = await storedGateway('drop', { outboxSizeMB: 0.001 });
    const warnings = [];
    record(helper.getNode('gw'), 'warn', warnings);
    await sentThenDown(child, seen, 1, range(1, 11));
    assert.equal(seen.caught.length, 0);
    const warned = () => warnings.map(String).find((text) => text.includes(`child "${child(0)}" (gateway "${gatewayName}")`));
    await waitUntil(() => warned() !== undefined);
    assert.match(warned(), /^\d+ stored message\(s\) of child .* dropped unsent \(maxBytes\)$/);
    await sim.resume();
    await waitUntil(() => firstArrivals(sim, child(0)).at(-1) === 10);
    const arrived = firstArrivals(sim, child(0));
    assert.deepEqual(arrived.slice(1), range(11 - (arrived.length - 1), 11), 'the newest kept, in order');
  });

  it('refuse-new: a message that does not fit reaches Catch with QUEUE_FULL', async function () {
    const { child, seen } = await storedGateway('refuse', { outboxSizeMB: 0.001, outboxFullPolicy: 'refuse-new' });
    await sentThenDown(child, seen, 1, range(1, 11));
    assert.ok(seen.caught.length > 0, 'some were refused');
    const refused = seen.caught[0].gridlinksError;
    assert.deepEqual([refused.code, refused.details.field], ['QUEUE_FULL', 'maxBytes']);
  });

  it('msg.action purge drops one child’s backlog (reported with the count), flush sends the rest now', async function () {
    const { child, seen } = await storedGateway('purge');
    const node = await sentThenDown(child, seen, 2, range(100, 105));
    node.receive({ action: 'purge', deviceName: child(1) });
    await waitUntil(() => seen.sent.length === 12);
    assert.deepEqual(seen.sent[11].payload, { action: 'purge', purged: 5, deviceName: child(1) });
    await sim.resume();
    node.receive({ action: 'flush' });
    await waitUntil(() => seen.sent.length === 13);
    assert.deepEqual(seen.sent[12].payload, { action: 'flush', waiting: 0 });
    assert.deepEqual(firstArrivals(sim, child(0)), [0, ...range(100, 105)]);
    assert.deepEqual(firstArrivals(sim, child(1)), [], 'the purged readings never arrive');
    node.receive({ action: 'purge' });
    await waitUntil(() => seen.sent.length === 14);
    assert.deepEqual(seen.sent[13].payload, { action: 'purge', purged: 0 });
  });

  it('msg.persist = false skips the outbox: with the server down it fails to Catch', async function () {
    const { child, seen } = await storedGateway('persist');
    const node = await sentThenDown(child, seen, 1, []);
    node.receive({ deviceName: child(0), persist: false, payload: { seq: 1 } });
    await waitUntil(() => seen.caught.length === 1);
    assert.notEqual(seen.caught[0].gridlinksError.code, 'QUEUE_FULL');
    node.receive({ action: 'flush' });
    await waitUntil(() => seen.sent.length === 2);
    assert.deepEqual(seen.sent[1].payload, { action: 'flush', waiting: 0 }, 'nothing was kept');
  });

  it('a device node and a gateway node on one store folder share its database: each drains, counts and purges only its own', async function () {
    const { child, seen, flow, credentials } = await storedGateway('shared', {}, (storeDir) => [
      { id: 'dev', type: 'gridlinks-device', z: TAB, server: 'srv', receive: false, storeDir, wires: [['devSent'], []] },
      { id: 'devSent', type: 'helper', z: TAB },
    ]);
    const deviceName = `shared-device-${Date.now()}`;
    await provisioned({ deviceName });
    const devSent = [];
    helper.getNode('devSent').on('input', (msg) => devSent.push(msg));
    helper.getNode('dev').receive({ deviceName, payload: { seq: 0 } });
    await waitUntil(() => devSent.length === 1);
    await sentThenDown(child, seen, 2, range(1, 6));
    for (const seq of range(1, 6)) helper.getNode('dev').receive({ deviceName, payload: { seq } });
    await waitUntil(() => devSent.length === 6);

    await helper.unload();
    await load(flow, credentials);
    const statuses = { gw: [], dev: [] };
    record(helper.getNode('gw'), 'status', statuses.gw);
    record(helper.getNode('dev'), 'status', statuses.dev);
    await waitUntil(() => statuses.gw.some((s) => /^gateway offline, 10 waiting/.test(s.text)));
    await waitUntil(() => statuses.dev.some((s) => /^offline, 5 waiting/.test(s.text)));
    const purged = new Promise((resolve) => helper.getNode('devSent').once('input', resolve));
    helper.getNode('dev').receive({ action: 'purge' });
    assert.deepEqual((await purged).payload, { action: 'purge', purged: 5 }, 'the device node purges its own records only');

    await sim.resume();
    await waitUntil(() => firstArrivals(sim, child(1)).length === 5);
    assert.deepEqual(firstArrivals(sim, child(0)), range(0, 6));
    assert.deepEqual(firstArrivals(sim, child(1)), range(1, 6));
    assert.deepEqual(firstArrivals(sim, deviceName), [0], 'the purged device readings never arrive');
  });

  it('nothing is left open after unload with a backlog waiting for the server', async function () {
    const { child, flow, credentials } = await storedGateway('leak');
    await helper.unload();
    const baseline = await settledSnapshot();
    await load(flow, credentials);
    await sentThenDown(child, watch(), 3, range(1, 4));
    helper.getNode('gw').receive({ action: 'flush' });
    await helper.unload();
    await expectNothingLeft(baseline);
    await load(flow, credentials);
    await sim.resume();
    await waitUntil(() => firstArrivals(sim, child(2)).length === 3);
    assert.deepEqual(firstArrivals(sim, child(0)), range(0, 4));
  });
});
