'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestSimulator } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { helper, PROFILE, provisionFlow, load, expectCaught, expectOutput, waitUntil } = require('../helpers/node-red');

describe('gridlinks-provision: TypedInput sources for device name, key and secret', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    delete process.env.NR_TEST_GRIDLINKS_KEY;
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('key from env, secret from global context, device name from flow context', async function () {
    process.env.NR_TEST_GRIDLINKS_KEY = PROFILE.provisionDeviceKey;
    const { flow, credentials } = provisionFlow(sim, {
      props: {
        credentialsType: 'ACCESS_TOKEN',
        deviceName: 'nextDevice',
        deviceNameType: 'flow',
        provisionKey: 'NR_TEST_GRIDLINKS_KEY',
        provisionKeyType: 'env',
        provisionSecret: 'gridlinks.secret',
        provisionSecretType: 'global',
      },
      provisionCreds: {},
    });
    await load(flow, credentials);
    const prov = helper.getNode('prov');
    prov.context().global.set('gridlinks', { secret: PROFILE.provisionDeviceSecret });
    prov.context().flow.set('nextDevice', 'nr-from-flow');
    const msg = await expectOutput({ payload: 'ignored' });
    assert.equal(msg.payload.deviceName, 'nr-from-flow');
  });

  it('key and secret from msg properties, device name as a fixed string', async function () {
    const { flow, credentials } = provisionFlow(sim, {
      props: {
        credentialsType: 'ACCESS_TOKEN',
        deviceName: 'nr-fixed-name',
        deviceNameType: 'str',
        provisionKey: 'gl.key',
        provisionKeyType: 'msg',
        provisionSecret: 'gl.secret',
        provisionSecretType: 'msg',
      },
      provisionCreds: {},
    });
    await load(flow, credentials);
    const msg = await expectOutput({ gl: { key: PROFILE.provisionDeviceKey, secret: PROFILE.provisionDeviceSecret } });
    assert.equal(msg.payload.deviceName, 'nr-fixed-name');
  });

  it('device name from msg.payload (a plain string, as after a Split node)', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', deviceName: 'payload' } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: 'nr-string-payload' });
    assert.equal(msg.payload.deviceName, 'nr-string-payload');
  });

  it('a msg source that holds no value is reported, naming the field', async function () {
    const { flow, credentials } = provisionFlow(sim, {
      props: { provisionSecret: 'missing.secret', provisionSecretType: 'msg' },
    });
    await load(flow, credentials);
    const msg = await expectCaught({ payload: { deviceName: 'nr-missing-secret' } });
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.equal(msg.gridlinksError.details.field, 'provisionDeviceSecret');
  });
  it('an environment variable or context that is unset is named in the error (key, secret, device name)', async function () {
    delete process.env.NR_TEST_GRIDLINKS_UNSET;
    const { flow, credentials } = provisionFlow(sim, {
      props: { provisionKey: 'NR_TEST_GRIDLINKS_UNSET', provisionKeyType: 'env', provisionSecret: 'gridlinks.nothing', provisionSecretType: 'global' },
      provisionCreds: {},
    });
    await load(flow, credentials);
    let msg = await expectCaught({ payload: { deviceName: 'nr-unset-key' } });
    assert.equal(msg.gridlinksError.details.field, 'provisionDeviceKey');
    assert.match(msg.error.message, /environment variable NR_TEST_GRIDLINKS_UNSET, which is not set/);

    await helper.unload();
    const second = provisionFlow(sim, {
      props: { provisionSecret: 'gridlinks.nothing', provisionSecretType: 'global', deviceName: 'next', deviceNameType: 'flow' },
    });
    await load(second.flow, second.credentials);
    msg = await expectCaught({ payload: {} });
    assert.equal(msg.gridlinksError.details.field, 'deviceName');
    assert.match(msg.error.message, /flow context "next", which is empty/);
    msg = await expectCaught({ payload: { deviceName: 'nr-unset-secret' } });
    assert.equal(msg.gridlinksError.details.field, 'provisionDeviceSecret');
    assert.match(msg.error.message, /global context "gridlinks.nothing", which is empty/);
  });
});

describe('gridlinks-server: CA sources, bad CA, insecure mode', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    delete process.env.NR_TEST_GRIDLINKS_CA_FILE;
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('reads the CA from caFile, given as ${ENV_VAR}', async function () {
    const folder = tempDir('nr-ca');
    const caFile = path.join(folder, 'ca.pem');
    fs.writeFileSync(caFile, sim.caPem);
    process.env.NR_TEST_GRIDLINKS_CA_FILE = caFile;
    const { flow, credentials } = provisionFlow(sim, {
      props: { credentialsType: 'ACCESS_TOKEN' },
      server: { caFile: '${NR_TEST_GRIDLINKS_CA_FILE}' },
      serverCreds: {},
    });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-ca-file' } });
    assert.equal(msg.payload.deviceName, 'nr-ca-file');
  });

  const badCas = [
    ['a pasted CA that is not PEM', { serverCreds: { ca: 'hello, not a certificate' } }, 'ca'],
    ['a pasted PEM block that does not parse', { serverCreds: { ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }, 'ca'],
    ['an unreadable CA file', { serverCreds: {}, server: { caFile: '/nonexistent/gridlinks-ca.pem' } }, 'caFile'],
    [
      'a CA file that never ends (/dev/zero: its size says 0; it used to be read without bound)',
      { serverCreds: {}, server: { caFile: '/dev/zero' } },
      'caFile',
      /not a regular file/,
    ],
    [
      'a CA file from an environment variable that is not set',
      { serverCreds: {}, server: { caFile: '${NR_TEST_UNSET_CA_VARIABLE}' } },
      'caFile',
      /NR_TEST_UNSET_CA_VARIABLE, which is not set/,
    ],
  ];
  for (const [title, options, field, messagePattern] of badCas) {
    it(`${title}: logged at deploy, CA status on the provision node, messages fail with INVALID_INPUT`, async function () {
      const { flow, credentials } = provisionFlow(sim, options);
      await load(flow, credentials);
      const srv = helper.getNode('srv');
      const prov = helper.getNode('prov');
      assert.equal(srv.error.callCount, 1);
      assert.match(String(srv.error.firstCall.args[0]), /bad-config/);
      await waitUntil(() => prov.status.callCount > 0);
      assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'CA' });
      const msg = await expectCaught({ payload: { deviceName: 'nr-bad-ca' } });
      assert.equal(msg.error.code, 'INVALID_INPUT');
      assert.equal(msg.gridlinksError.details.field, field);
      if (messagePattern) assert.match(msg.error.message, messagePattern);
      await waitUntil(() => prov.status.callCount > 1);
      assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'CA' }, 'still CA after a message');
    });
  }

  for (const field of ['host', 'port']) {
    it(`a ${field} from an environment variable that is not set: messages fail with INVALID_INPUT naming the variable`, async function () {
      const { flow, credentials } = provisionFlow(sim, { server: { [field]: '${NR_TEST_UNSET_' + field.toUpperCase() + '}' } });
      await load(flow, credentials);
      const msg = await expectCaught({ payload: { deviceName: `nr-unset-${field}` } });
      assert.equal(msg.error.code, 'INVALID_INPUT');
      assert.equal(msg.gridlinksError.details.field, field);
      assert.match(msg.error.message, new RegExp(`NR_TEST_UNSET_${field.toUpperCase()}, which is not set for the Node-RED process`));
    });
  }

  it('verifyServerCert off: warns at deploy, and the result carries a warning', async function () {
    const { flow, credentials } = provisionFlow(sim, {
      props: { credentialsType: 'ACCESS_TOKEN' },
      server: { verifyServerCert: false },
      serverCreds: {},
    });
    await load(flow, credentials);
    const srv = helper.getNode('srv');
    assert.equal(srv.warn.callCount, 1);
    assert.match(String(srv.warn.firstCall.args[0]), /no-verify/);
    const msg = await expectOutput({ payload: { deviceName: 'nr-insecure' } });
    assert.equal(msg.payload.warnings.length, 1);
    assert.equal(msg.broker.verifyservercert, false);
  });

  it('a provision node without a server shows it and fails its messages', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { server: '' } });
    await load(flow, credentials);
    const prov = helper.getNode('prov');
    await waitUntil(() => prov.status.callCount > 0);
    assert.equal(prov.status.lastCall.args[0].fill, 'red');
    const msg = await expectCaught({ payload: { deviceName: 'nr-no-server' } });
    assert.equal(msg.gridlinksError.details.field, 'server');
  });
});

describe('gridlinks-provision: device name absent', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('a configured source without a value is INVALID_INPUT, not a device with a generated name', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    const before = sim.devices().length;
    const msg = await expectCaught({ payload: 'a string has no deviceName' });
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.equal(msg.gridlinksError.details.field, 'deviceName');
    assert.equal(sim.devices().length, before);
  });

  it('no device name and "Allow unnamed devices" off: INVALID_INPUT, nothing created; a blank name from the message or a bulk list: INVALID_INPUT even when allowed', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', deviceName: '', deviceNameType: 'str' } });
    await load(flow, credentials);
    const before = sim.devices().length;
    let msg = await expectCaught({ payload: {} });
    assert.equal(msg.gridlinksError.details.field, 'deviceName');
    assert.match(msg.error.message, /Allow unnamed devices/);
    msg = await expectCaught({ payload: { deviceName: '  ' } });
    assert.match(msg.error.message, /msg.payload.deviceName is empty/);
    await helper.unload();
    const bulk = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', deviceName: 'payload', allowUnnamed: true } });
    await load(bulk.flow, bulk.credentials);
    msg = await expectCaught({ payload: '' });
    assert.match(msg.error.message, /device name from msg.payload is empty/);
    assert.equal(sim.devices().length, before);
  });

  it('Device name set to an empty string with "Allow unnamed devices": GridLinks generates the name, the output says null, status says provisioned', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', deviceName: '', deviceNameType: 'str', allowUnnamed: true } });
    await load(flow, credentials);
    const before = sim.devices().length;
    const msg = await expectOutput({ payload: {} });
    assert.equal(msg.payload.deviceName, null);
    assert.equal(sim.devices().length, before + 1);
    const prov = helper.getNode('prov');
    await waitUntil(() => prov.status.lastCall && prov.status.lastCall.args[0].fill === 'green');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: 'gridlinks-provision.status.provisioned' });
  });
});
