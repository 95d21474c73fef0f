'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { certificateCredentialsId } = require('../../nodes/provisioning');
const { startTestSimulator } = require('../helpers/simulator');
const { countingProxy } = require('../helpers/session-counter');
const { helper, provisionFlow, load, waitUntil, delay, nextMessage } = require('../helpers/node-red');

/** Warnings logged by nodes since the flow was loaded (the helper spies on the runtime's log). */
function warnings() {
  const spy = helper.log();
  return spy
    .getCalls()
    .map((call) => call.args[0])
    .filter((entry) => entry.level === spy.WARN)
    .map((entry) => String(entry.msg));
}

/** Listens on the current flow's `out` and `caught` helper nodes. */
function collect() {
  const seen = { out: [], caught: [] };
  helper.getNode('out').on('input', (msg) => seen.out.push(msg));
  helper.getNode('caught').on('input', (msg) => seen.caught.push(msg));
  return seen;
}

/** Where a device's private key is on disk, and the certificate it belongs to: committed, or pending. */
function keptOnDisk(storeDir, name) {
  const committed = path.join(storeDir, name);
  if (fs.existsSync(path.join(committed, 'credentials.json'))) {
    return {
      key: fs.readFileSync(path.join(committed, 'private-key.pem'), 'utf8'),
      certificate: fs.readFileSync(path.join(committed, 'certificate.pem'), 'utf8'),
    };
  }
  const record = path.join(storeDir, '.pending', `${name}.json`);
  if (fs.existsSync(record)) {
    return {
      key: fs.readFileSync(path.join(storeDir, '.pending', `${name}.key.pem`), 'utf8'),
      certificate: JSON.parse(fs.readFileSync(record, 'utf8')).certificate,
    };
  }
  return undefined;
}

describe('gridlinks-provision: close drains, store reuse, resume action', function () {
  this.timeout(120_000);
  let sim;
  let proxy;
  let storeDir;
  before(async () => {
    sim = await startTestSimulator({ mqttPort: null, sessionCloseAfterAnswerMs: 1000 });
    proxy = await countingProxy(sim.mqttsPort);
  });
  after(async () => {
    await proxy.close();
    await sim.stop();
  });
  beforeEach(() => {
    storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-drain-'));
  });
  afterEach(async () => {
    sim.setFaults({});
    await helper.unload();
    fs.rmSync(storeDir, { recursive: true, force: true });
  });

  const flowFor = (props = {}, server = {}) =>
    provisionFlow(sim, { props: { storeDir, includePrivateKey: false, ...props }, server: { port: proxy.port, ...server } });

  it('a burst of 100 with a redeploy in the middle: every device the server created shows up in an output, a Catch or a named warning, its key on disk; the same flow run again provisions nothing', async function () {
    const BURST = 100;
    const prefix = `drain-${process.pid}-`;
    const names = Array.from({ length: BURST }, (_, i) => `${prefix}${i}`);
    const { flow, credentials } = flowFor({ maxParallel: 4 });
    await load(flow, credentials);
    sim.setFaults({ answerDelayMs: 150 });
    let seen = collect();
    const prov = helper.getNode('prov');
    for (const deviceName of names) prov.receive({ payload: { deviceName } });
    await waitUntil(() => seen.out.length >= 20);

    await helper.setFlows(flow, 'full', credentials); // redeploy while 4 exchanges are under way
    const warned = warnings();
    const created = sim.devices().filter((device) => device.name.startsWith(prefix));
    assert.ok(created.length < BURST, 'the redeploy cut the burst');
    const accounted = new Set([...seen.out, ...seen.caught].map((msg) => msg.payload.deviceName));
    const named = (name) => warned.some((text) => text.includes(`"${name}"`));
    for (const device of created) {
      assert.ok(accounted.has(device.name) || named(device.name), `${device.name} was created but is in no output, Catch or warning`);
      const kept = keptOnDisk(storeDir, device.name);
      assert.ok(kept, `${device.name}: no key on disk`);
      assert.equal(certificateCredentialsId(kept.certificate), device.credentials.credentialsId, `${device.name}: the kept certificate is the server's`);
    }
    assert.ok(
      warned.some((text) => /queued message\(s\) had not started/.test(text)),
      warned.join('\n'),
    );
    assert.ok(
      warned.some((text) => /was provisioned while the node was stopping .*saved at/.test(text)),
      'exchanges under way finished during the drain',
    );
    assert.deepEqual(
      seen.caught.map((msg) => msg.error.message),
      [],
    );

    // The same 100 messages to the redeployed flow: stored devices come from the store, the rest are provisioned.
    sim.setFaults({});
    seen = collect();
    for (const deviceName of names) helper.getNode('prov').receive({ payload: { deviceName } });
    await waitUntil(() => seen.out.length + seen.caught.length === BURST);
    assert.deepEqual(
      seen.caught.map((msg) => `${msg.payload.deviceName}: ${msg.error.message}`),
      [],
    );
    assert.equal(sim.devices().filter((device) => device.name.startsWith(prefix)).length, BURST);
    assert.equal(
      seen.out.filter((msg) => msg.payload.fromStore).length,
      created.length - fs.readdirSync(path.join(storeDir, '.pending')).filter((n) => n.endsWith('.json')).length,
    );

    // And once more: nothing is provisioned, no connection is opened, every device comes from the store.
    const devices = sim.devices().length;
    const connections = proxy.connections();
    seen = collect();
    for (const deviceName of names) helper.getNode('prov').receive({ payload: { deviceName } });
    await waitUntil(() => seen.out.length + seen.caught.length === BURST);
    assert.deepEqual(seen.caught, []);
    assert.ok(seen.out.every((msg) => msg.payload.fromStore === true));
    assert.deepEqual(new Set(seen.out.map((msg) => msg.payload.deviceName)), new Set(names));
    assert.equal(sim.devices().length, devices);
    assert.equal(proxy.connections(), connections, 'no connection was opened');
  });

  it('without a store folder too: every device created before a redeploy mid-burst is in an output, a Catch or a named warning', async function () {
    const prefix = `drain-nostore-${process.pid}-`;
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', maxParallel: 4 } });
    await load(flow, credentials);
    sim.setFaults({ answerDelayMs: 150 });
    const seen = collect();
    for (let i = 0; i < 100; i += 1) helper.getNode('prov').receive({ payload: { deviceName: `${prefix}${i}` } });
    await waitUntil(() => seen.out.length >= 10);
    await helper.setFlows(flow, 'full', credentials);
    const warned = warnings();
    const created = sim.devices().filter((device) => device.name.startsWith(prefix));
    const accounted = new Set([...seen.out, ...seen.caught].map((msg) => msg.payload.deviceName));
    for (const device of created) {
      const warning = warned.find((text) => text.includes(`"${device.name}"`));
      assert.ok(accounted.has(device.name) || warning, `${device.name} was created but is in no output, Catch or warning`);
      if (warning) assert.match(warning, /exist only in that message \(no store folder\)|Nothing was kept/);
    }
    assert.ok(created.length < 100);
  });

  it('an exchange still waiting at the drain limit is cut and named in a warning with where its key is; close time is printed (worst case)', async function () {
    const { flow, credentials } = flowFor({ maxParallel: 2 }, { answerTimeout: 60 });
    await load(flow, credentials);
    sim.setFaults({ noAnswer: true });
    const prov = helper.getNode('prov');
    const deviceNames = [`cut-${process.pid}-a`, `cut-${process.pid}-b`, `cut-${process.pid}-c`];
    for (const deviceName of deviceNames) prov.receive({ payload: { deviceName } });
    await waitUntil(() => sim.logLines.filter((line) => /not answering/.test(line)).length >= 2);
    const started = process.hrtime.bigint();
    await helper.setFlows(flow, 'full', credentials);
    const closeMs = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      close with 2 exchanges waiting for an answer (answer timeout 60 s): redeploy took ${Math.round(closeMs)} ms`);
    const warned = warnings();
    for (const deviceName of deviceNames.slice(0, 2)) {
      const text = warned.find((line) => line.includes(`"${deviceName}"`));
      assert.ok(text, `no warning names ${deviceName}: ${warned.join('\n')}`);
      assert.match(text, /ABORTED.*after its request was sent/);
      assert.ok(text.includes(path.join(storeDir, '.pending', `${deviceName}.json`)), text);
    }
    assert.ok(
      warned.some((line) => line.startsWith('1 queued message(s)')),
      warned.join('\n'),
    );
    assert.ok(!warned.join('\n').includes('PRIVATE KEY'));
  });

  it('msg.action = "resume" without a store folder is INVALID_INPUT; an unsafe store folder shows STORE at deploy', async function () {
    let built = provisionFlow(sim, { props: { storeDir: '' } });
    await load(built.flow, built.credentials);
    const caught = nextMessage('caught');
    helper.getNode('prov').receive({ action: 'resume' });
    const msg = await caught;
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.equal(msg.gridlinksError.details.field, 'storeDir');
    await helper.unload();

    fs.chmodSync(storeDir, 0o777);
    built = flowFor();
    await load(built.flow, built.credentials);
    const prov = helper.getNode('prov');
    await waitUntil(() => prov.status.getCalls().some((call) => call.args[0].text === 'STORE'));
    assert.ok(
      warnings().some((text) => /can be changed by other users.*chmod 700/.test(text)),
      warnings().join('\n'),
    );
  });

  it('deploy shows the pending count; msg.action = "resume" commits a lost answer and reports every entry', async function () {
    sim.setFaults({ noAnswer: true });
    let built = flowFor({}, { answerTimeout: 1 });
    await load(built.flow, built.credentials);
    const deviceName = `resume-node-${process.pid}`;
    const caught = nextMessage('caught');
    helper.getNode('prov').receive({ payload: { deviceName } });
    assert.equal((await caught).error.code, 'OUTCOME_UNKNOWN');
    sim.setFaults({});
    await helper.unload();

    built = flowFor();
    await load(built.flow, built.credentials);
    const prov = helper.getNode('prov');
    await waitUntil(() => prov.status.getCalls().some((call) => call.args[0].text === 'gridlinks-provision.status.pending'));
    assert.ok(
      warnings().some((text) => text.startsWith(`1 provisioning request(s) whose answer was lost wait in ${storeDir}/.pending`)),
      warnings().join('\n'),
    );

    const output = nextMessage('out');
    prov.receive({ action: 'resume' });
    const { payload } = await output;
    assert.equal(payload.length, 1);
    assert.equal(payload[0].outcome, 'provisioned', payload[0].message);
    assert.equal(payload[0].deviceName, deviceName);
    assert.equal(payload[0].result.credentials.privateKey, undefined, 'includePrivateKey off applies to resumed results');
    assert.ok(fs.existsSync(path.join(storeDir, deviceName, 'private-key.pem')));
    await waitUntil(() => prov.status.lastCall.args[0].text === 'gridlinks-provision.status.resumed');
    assert.equal(prov.status.lastCall.args[0].fill, 'green');
    await delay(10);
  });
});
