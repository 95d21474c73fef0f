'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { helper, load, waitUntil } = require('../helpers/node-red');
const { makeFleetPki } = require('../helpers/chain-pki');

const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', 'examples');
const ENV = ['GRIDLINKS_CA_FILE', 'GRIDLINKS_PROVISION_KEY', 'GRIDLINKS_PROVISION_SECRET', 'GRIDLINKS_SIGNER_CERT', 'GRIDLINKS_SIGNER_KEY'];

function loadExample(file) {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
}

/** The example as imported, with the simulator's random TLS port instead of 8883 (the only change). */
function pointAt(flow, sim) {
  return flow.map((node) => (node.type === 'gridlinks-server' ? { ...node, port: sim.mqttsPort } : node));
}

/** Collects what reaches each debug node (by name). */
function watchDebugNodes(flow) {
  const seen = {};
  for (const node of flow.filter((n) => n.type === 'debug')) {
    seen[node.name] = [];
    helper.getNode(node.id).on('input', (msg) => seen[node.name].push(msg));
  }
  return seen;
}

/** What a debug node shows in the sidebar for `msg` (its "Output" setting: whole message, one property, or JSONata). */
function debugDisplay(debugNode, msg) {
  const { util } = require('@node-red/util');
  if (debugNode.targetType === 'full') return Promise.resolve(msg);
  if (debugNode.targetType === 'jsonata') {
    const expression = util.prepareJSONataExpression(debugNode.complete, {});
    return new Promise((resolve, reject) => util.evaluateJSONataExpression(expression, msg, (error, value) => (error ? reject(error) : resolve(value))));
  }
  return Promise.resolve(util.getMessageProperty(msg, debugNode.complete));
}

/** Fails when a Debug node of the flow showed one of `secrets` in the sidebar for a message it got. */
async function assertNoSecretShown(flow, seen, secrets) {
  assert.ok(secrets.length > 0 && secrets.every((secret) => typeof secret === 'string' && secret.length > 0), 'secrets to look for');
  for (const debugNode of flow.filter((n) => n.type === 'debug')) {
    for (const msg of seen[debugNode.name]) {
      const shown = JSON.stringify(await debugDisplay(debugNode, msg));
      assert.ok(!secrets.some((secret) => shown.includes(secret)), `debug "${debugNode.name}" shows a device secret`);
    }
  }
}

function byName(flow, type, name) {
  const node = flow.find((n) => n.type === type && (name === undefined || n.name === name));
  assert.ok(node, `no ${type} ${name ?? ''} in the example`);
  return node;
}

describe('examples: each one imported into the test runtime and run against the simulator', function () {
  let sim;
  let pki;
  const saved = {};
  before(async function () {
    pki = makeFleetPki();
    sim = await startTestSimulator({ mqttPort: null, profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem }] });
    const caFile = path.join(tempDir('nr-examples'), 'ca.pem');
    fs.writeFileSync(caFile, sim.caPem);
    for (const name of ENV) saved[name] = process.env[name];
    process.env.GRIDLINKS_CA_FILE = caFile;
    process.env.GRIDLINKS_PROVISION_KEY = DEFAULT_PROFILE.provisionDeviceKey;
    process.env.GRIDLINKS_PROVISION_SECRET = DEFAULT_PROFILE.provisionDeviceSecret;
    process.env.GRIDLINKS_SIGNER_CERT = pki.fleet.certPem;
    process.env.GRIDLINKS_SIGNER_KEY = pki.fleet.keyPem;
  });
  after(async function () {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await sim.stop();
    pki.remove();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('every example is a JSON array with a Comment node and a gridlinks-server for 127.0.0.1:8883, no secret inside', function () {
    const files = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const flow = loadExample(file);
      assert.ok(Array.isArray(flow), file);
      assert.ok(
        flow.some((n) => n.type === 'comment' && n.info),
        `${file}: comment`,
      );
      const server = byName(flow, 'gridlinks-server');
      assert.deepEqual([server.host, server.port, server.caFile], ['127.0.0.1', 8883, '${GRIDLINKS_CA_FILE}'], file);
      assert.ok(
        flow.every((n) => n.credentials === undefined),
        `${file}: no credentials`,
      );
      const text = JSON.stringify(flow);
      assert.equal(text.includes(DEFAULT_PROFILE.provisionDeviceSecret), false, file);
    }
  });

  it('01: provisions an X.509 device and shows its credentials in the Debug node', async function () {
    const flow = pointAt(loadExample('01-provision-x509-device.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    helper.getNode(byName(flow, 'inject').id).receive({});
    await waitUntil(() => seen.credentials.length + seen['provisioning failed'].length > 0);
    assert.deepEqual(seen['provisioning failed'], []);
    const result = seen.credentials[0].payload;
    assert.equal(result.credentialsType, 'X509_CERTIFICATE');
    assert.match(result.deviceName, /^x509-demo-\d+$/);
    assert.match(result.credentials.certificate, /BEGIN CERTIFICATE/);
    assert.match(result.credentials.privateKey, /BEGIN PRIVATE KEY/);
    assert.equal(sim.devices().find((d) => d.name === result.deviceName).credentials.credentialsType, 'X509_CERTIFICATE');
  });

  it('02: provisions an access token, connects the core mqtt out node as the device and publishes telemetry', async function () {
    const flow = pointAt(loadExample('02-access-token-then-telemetry.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    helper.getNode(byName(flow, 'inject').id).receive({});
    await waitUntil(() => seen['telemetry sent'].length + seen.failed.length > 0);
    assert.deepEqual(seen.failed, []);
    const deviceName = seen['provisioned device'][0].payload.deviceName;
    assert.match(deviceName, /^token-demo-\d+$/);
    await waitUntil(() => sim.telemetry(deviceName).length > 0);
    assert.deepEqual(sim.telemetry(deviceName)[0].payload, { temperature: 21.5, humidity: 48 });
    assert.equal(sim.telemetry(deviceName)[0].topic, 'v1/devices/me/telemetry');
    await assertNoSecretShown(flow, seen, [seen['provisioned device'][0].payload.credentials.accessToken]);
  });

  it('03: provisions a list through Split, saves credentials in flow context, the repeated name reaches the Catch branch', async function () {
    const flow = pointAt(loadExample('03-gateway-bulk-provisioning.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    helper.getNode(byName(flow, 'inject', 'device list').id).receive({});
    await waitUntil(() => seen.provisioned.length + seen.failures.length === 5);
    assert.equal(seen.provisioned.length, 4);
    assert.equal(seen.failures.length, 1);
    assert.equal(seen.failures[0].payload.code, 'FAILURE');
    assert.match(seen.failures[0].payload.deviceName, /^line1-sensor-4-\d+$/);
    helper.getNode(byName(flow, 'inject', 'show saved credentials').id).receive({});
    await waitUntil(() => seen['saved devices'].length > 0);
    const saved = seen['saved devices'][0].payload;
    assert.equal(Object.keys(saved).length, 4);
    for (const [name, credentials] of Object.entries(saved)) {
      assert.match(name, /^line1-sensor-\d-\d+$/);
      assert.equal(typeof credentials.accessToken, 'string');
    }
    await assertNoSecretShown(
      flow,
      seen,
      Object.values(saved).map((credentials) => credentials.accessToken),
    );
  });

  it('04: the gateway issues chain certificates for a list; each device is created by its TLS login and connects with its own certificate', async function () {
    const flow = pointAt(loadExample('04-gateway-issues-chain-certificates.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    helper.getNode(byName(flow, 'inject', 'device list').id).receive({});
    await waitUntil(() => seen['devices connected'].length + seen['issued, not connected'].length + seen.failures.length === 3);
    assert.deepEqual(seen.failures, []);
    assert.deepEqual(seen['issued, not connected'], []);
    const names = seen['devices connected'].map((msg) => msg.payload.deviceName).sort();
    assert.deepEqual(names, ['meter-1', 'meter-2', 'meter-3']);
    for (const msg of seen['devices connected']) {
      const device = sim.devices().find((d) => d.name === msg.payload.deviceName);
      assert.equal(device.profile, 'fleet');
      assert.equal(device.credentials.credentialsId, msg.payload.credentials.credentialsId);
      assert.equal(msg.payload.credentials.chain, pki.fleet.certPem);
    }
    await assertNoSecretShown(
      flow,
      seen,
      seen['devices connected'].map((msg) => msg.payload.credentials.privateKey),
    );
  });

  it('05: provisions X.509, token and basic devices, publishes a reading as each through one device node, answers an RPC', async function () {
    const flow = pointAt(loadExample('05-devices-telemetry-and-rpc.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    helper.getNode(byName(flow, 'inject').id).receive({});
    await waitUntil(() => seen.acknowledged.length + seen.failed.length >= 3);
    assert.deepEqual(seen.failed, []);
    const byType = {};
    for (const msg of seen.acknowledged) {
      assert.equal(msg.topic, 'telemetry');
      byType[msg.device.credentialsType] = msg.deviceName;
      const records = sim.telemetry(msg.deviceName);
      assert.equal(records.length, 1);
      assert.equal(typeof records[0].payload.temperature, 'number');
      assert.deepEqual(records[0].payload, msg.payload);
    }
    assert.deepEqual(Object.keys(byType).sort(), ['ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE']);
    for (const deviceName of Object.values(byType)) {
      assert.ok(sim.connectedDevices().includes(deviceName), `${deviceName} stays connected`);
    }
    const x509Device = byType.X509_CERTIFICATE;
    const answer = await sim.sendRpc(x509Device, { method: 'reboot', params: { delay: 1 } });
    assert.deepEqual(answer, { ok: true, method: 'reboot' });
    assert.equal(seen.received.at(-1).deviceName, x509Device);
    assert.equal(seen.received.at(-1).topic, 'rpc/request');
    await waitUntil(() => seen.acknowledged.length === 4);
    assert.equal(seen.acknowledged[3].topic, 'rpc/response');

    // What the sidebar shows holds no device secret (the messages themselves carry msg.device).
    const secrets = seen.acknowledged
      .flatMap(({ device }) => (device ? [device.credentials.privateKey, device.credentials.accessToken, device.credentials.password] : []))
      .filter(Boolean);
    assert.equal(secrets.length, 2, 'the X.509 private key and the access token went through');
    await assertNoSecretShown(flow, seen, secrets);
  });

  it('06: provisions a gateway, sends readings for 20 meters over one session, answers an RPC per meter; no credential on a Debug node', async function () {
    const flow = pointAt(loadExample('06-gateway-many-devices.json'), sim);
    await load(flow);
    const seen = watchDebugNodes(flow);
    const provisioned = [];
    helper.getNode(byName(flow, 'gridlinks-provision').id).on('call:send', (call) => provisioned.push(call.args[0]));
    helper.getNode(byName(flow, 'inject').id).receive({});
    await waitUntil(() => seen.acknowledged.length + seen.failed.length >= 20);
    assert.deepEqual(seen.failed, []);
    const gatewayName = sim.devices().find((d) => d.gateway && /^gateway-/.test(d.name)).name;
    const meters = seen.acknowledged.map((msg) => msg.deviceName).sort();
    assert.deepEqual(
      meters,
      Array.from({ length: 20 }, (_, i) => `meter-${String(i + 1).padStart(2, '0')}`),
    );
    assert.equal(sim.connectedChildren()[gatewayName].length, 20);
    assert.equal(sim.devices().find((d) => d.name === 'meter-07').type, 'meter');
    assert.equal(typeof sim.telemetry('meter-07').at(-1).payload[0].kwh, 'number');
    for (const meter of ['meter-01', 'meter-20']) {
      assert.deepEqual(await sim.sendChildRpc(meter, { method: 'reset', params: {} }), { ok: true, meter, method: 'reset' });
    }
    await waitUntil(() => seen.acknowledged.length === 22);
    assert.equal(seen.received.at(-1).topic, 'rpc/request');

    const token = provisioned[0]?.payload?.credentials?.accessToken ?? sim.devices().find((d) => d.name === gatewayName).credentials.credentialsValue;
    assert.equal(typeof token, 'string');
    for (const debugNode of flow.filter((n) => n.type === 'debug')) {
      for (const msg of seen[debugNode.name]) {
        const shown = JSON.stringify(await debugDisplay(debugNode, msg));
        assert.ok(!shown.includes(token), `debug "${debugNode.name}" shows the gateway's access token`);
      }
    }
  });
});
