'use strict';
const assert = require('node:assert/strict');
const net = require('node:net');
const { startTestSimulator } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { freePort } = require('../../nodes/demo/ports');
const { helper, PROFILE, provisionFlow, load, expectCaught, expectOutput } = require('../helpers/node-red');

const PRE_PROFILE = {
  name: 'nr-pre-profile',
  provisionDeviceKey: 'nr-pre-key',
  provisionDeviceSecret: 'nr-pre-secret',
  strategy: 'CHECK_PRE_PROVISIONED_DEVICES',
};

/** A TCP server that accepts connections and never says a word (TLS handshake never completes). */
async function silentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Asserts the Catch node got `code` in msg.error.code and msg.gridlinksError, with no secret in the text. */
function assertCaught(msg, code) {
  assert.equal(msg.error.code, code, `${msg.error.code}: ${msg.error.message}`);
  assert.equal(msg.gridlinksError.code, code);
  assert.equal(msg.error.source.id, 'prov');
  const text = JSON.stringify({ error: msg.error.message, details: msg.gridlinksError });
  assert.doesNotMatch(text, new RegExp(PROFILE.provisionDeviceSecret));
  assert.doesNotMatch(text, /PRIVATE KEY/);
}

describe('gridlinks-provision: every error code reaches a Catch node with msg.error.code', function () {
  let sim;
  before(async function () {
    const otherCert = await startTestSimulator({ mqttPort: null });
    const devicePem = otherCert.caPem;
    await otherCert.stop();
    sim = await startTestSimulator({
      mqttPort: null,
      profiles: [PRE_PROFILE],
      devices: [{ name: 'nr-pre-x509', profile: PRE_PROFILE.name, credentialsType: 'X509_CERTIFICATE', credentialsValue: devicePem }],
    });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    sim.setFaults({});
    await helper.unload();
  });

  async function loadWith(options) {
    const { flow, credentials } = provisionFlow(sim, options);
    await load(flow, credentials);
  }

  describe('INVALID_INPUT, naming the field', function () {
    beforeEach(() => loadWith({ props: { credentialsType: 'ACCESS_TOKEN' } }));

    const cases = [
      ['a 1 MB device name', { deviceName: 'x'.repeat(1024 * 1024) }, 'deviceName'],
      ['a number as device name', { deviceName: 42 }, 'deviceName'],
      ['gateway that is not a boolean', { deviceName: 'nr-bad-gw', gateway: 'yes' }, 'gateway'],
      ['an unknown credentials type', { deviceName: 'nr-bad-type', credentialsType: 'PASSWORD' }, 'credentialsType'],
      ['an unknown key algorithm', { deviceName: 'nr-bad-alg', keyAlgorithm: 'dsa' }, 'keyAlgorithm'],
      ['a 1 MB password', { deviceName: 'nr-big-pw', credentialsType: 'MQTT_BASIC', username: 'u', password: 'p'.repeat(1024 * 1024) }, 'password'],
      ['a certificate object', { deviceName: 'nr-bad-cert', credentialsType: 'X509_CERTIFICATE', certificate: { pem: 1 } }, 'certificate'],
      ['an empty secret in msg', { deviceName: 'nr-empty-secret', provisionDeviceSecret: '' }, 'provisionDeviceSecret'],
    ];
    for (const [title, payload, field] of cases) {
      it(title, async function () {
        const msg = await expectCaught({ payload });
        assertCaught(msg, 'INVALID_INPUT');
        assert.equal(msg.gridlinksError.details.field, field);
        assert.ok(msg.error.message.length < 300, 'the message does not echo the value');
      });
    }

    it('no key or secret configured anywhere', async function () {
      await helper.unload();
      await loadWith({ provisionCreds: {} });
      const msg = await expectCaught({ payload: { deviceName: 'nr-no-key' } });
      assertCaught(msg, 'INVALID_INPUT');
      assert.equal(msg.gridlinksError.details.field, 'provisionDeviceKey');
    });
  });

  it('a msg without Object.prototype that fails is logged (not lost), and the next message works', async function () {
    await loadWith({ props: { credentialsType: 'ACCESS_TOKEN' } });
    const prov = helper.getNode('prov');
    const logged = new Promise((resolve) => prov.once('call:error', resolve));
    const odd = Object.create(null);
    odd.payload = { deviceName: 42 };
    prov.receive(odd);
    const call = await logged;
    assert.equal(call.args[0].code, 'INVALID_INPUT');
    const next = await expectOutput({ payload: { deviceName: `nr-after-odd-${process.pid}` } });
    assert.equal(next.payload.credentialsType, 'ACCESS_TOKEN');
  });

  it('NOT_FOUND: wrong secret', async function () {
    await loadWith({ provisionCreds: { provisionDeviceKey: PROFILE.provisionDeviceKey, provisionDeviceSecret: 'wrong-secret' } });
    const msg = await expectCaught({ payload: { deviceName: 'nr-wrong-secret' } });
    assertCaught(msg, 'NOT_FOUND');
    assert.equal(msg.gridlinksError.details.serverMessage, 'Provision data was not found!');
  });

  it('FAILURE: the device name exists', async function () {
    await loadWith({ props: { credentialsType: 'ACCESS_TOKEN' } });
    await expectOutput({ payload: { deviceName: 'nr-dup' } });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-dup' } }), 'FAILURE');
  });

  it('CONNECTION_CLOSED: the server takes the request and closes without an answer', async function () {
    await loadWith({ props: { credentialsType: 'ACCESS_TOKEN' }, server: { protocolVersion: 5 } });
    sim.setFaults({ closeAfterPuback: true });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-closed' } }), 'CONNECTION_CLOSED');
  });

  it('TIMEOUT: no MQTT connection within the connect timeout', async function () {
    const silent = await silentServer();
    try {
      await loadWith({ server: { port: silent.port, connectTimeout: 0.3 } });
      assertCaught(await expectCaught({ payload: { deviceName: 'nr-timeout' } }), 'TIMEOUT');
    } finally {
      await silent.close();
    }
  });

  it('UNREACHABLE: nothing listens on the port', async function () {
    await loadWith({ server: { port: await freePort() } });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-unreachable' } }), 'UNREACHABLE');
  });

  it('TLS: the server certificate is not signed by the configured CA', async function () {
    const other = await startTestSimulator({ mqttPort: null });
    const wrongCa = other.caPem;
    await other.stop();
    await loadWith({ serverCreds: { ca: wrongCa } });
    const msg = await expectCaught({ payload: { deviceName: 'nr-tls' } });
    assertCaught(msg, 'TLS');
    assert.ok(msg.gridlinksError.details.reason);
  });

  it('TLS: the configured server name is not in the server certificate', async function () {
    await loadWith({ server: { servername: 'not-the-server.example' } });
    const msg = await expectCaught({ payload: { deviceName: 'nr-tls-name' } });
    assertCaught(msg, 'TLS');
    assert.equal(msg.gridlinksError.details.reason, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('CONNECT_REFUSED: the server refuses the CONNECT', async function () {
    await loadWith({});
    sim.setFaults({ refuseConnect: 3 });
    const msg = await expectCaught({ payload: { deviceName: 'nr-refused' } });
    assertCaught(msg, 'CONNECT_REFUSED');
    assert.equal(msg.gridlinksError.details.returnCode, 3);
  });

  it('BAD_RESPONSE: the answer is not JSON', async function () {
    await loadWith({ props: { credentialsType: 'ACCESS_TOKEN' } });
    sim.setFaults({ garbageAnswer: true });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-garbage' } }), 'BAD_RESPONSE');
  });

  it('CREDENTIAL_MISMATCH: a pre-provisioned device keeps its own certificate', async function () {
    await loadWith({ provisionCreds: { provisionDeviceKey: PRE_PROFILE.provisionDeviceKey, provisionDeviceSecret: PRE_PROFILE.provisionDeviceSecret } });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-pre-x509' } }), 'CREDENTIAL_MISMATCH');
  });

  it('OUTCOME_UNKNOWN: the request went out and no answer came', async function () {
    await loadWith({ props: { credentialsType: 'ACCESS_TOKEN' }, server: { answerTimeout: 0.3 } });
    sim.setFaults({ noAnswer: true });
    const msg = await expectCaught({ payload: { deviceName: 'nr-no-answer' } });
    assertCaught(msg, 'OUTCOME_UNKNOWN');
    assert.equal(msg.gridlinksError.details.requestSent, true);
  });

  it('STORE: the store folder cannot be created', async function () {
    const folder = tempDir('nr-store');
    const blocker = require('node:path').join(folder, 'a-file');
    require('node:fs').writeFileSync(blocker, 'not a folder');
    await loadWith({ props: { storeDir: blocker } });
    assertCaught(await expectCaught({ payload: { deviceName: 'nr-store' } }), 'STORE');
  });

  // ABORTED cannot reach a Catch node: on close the node drops its messages silently (see close.spec.js);
  // the core's own tests cover ABORTED from provisionDevice(options, signal).
});
