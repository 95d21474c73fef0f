'use strict';
const assert = require('node:assert/strict');
const net = require('node:net');
const { getEventListeners } = require('node:events');
const { provisionDevice, generateDeviceCertificate } = require('../../nodes/provisioning');
const { startSim, options, uniqueName, rejectsWith, leakedSince, resourceBaseline, PRE_KEY, PRE_SECRET } = require('./support');

/** A TCP server that accepts and never says a word. */
async function silentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.emit('accepted', socket);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: server.address().port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('provisionDevice errors (simulator over TLS, real sockets)', function () {
  this.timeout(60_000);
  let sim;
  let baseline;
  let preCertificate;
  before(async () => {
    preCertificate = await generateDeviceCertificate({ commonName: 'pre-x509', validityDays: 10, keyAlgorithm: 'p256' });
    sim = await startSim({
      devices: [{ name: 'pre-x509', profile: 'pre', credentialsType: 'X509_CERTIFICATE', credentialsValue: preCertificate.certificate }],
    });
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.setFaults({});
    baseline = await resourceBaseline();
  });
  afterEach(async function () {
    sim.setFaults({});
    if (this.currentTest.state === 'passed') assert.deepEqual(await leakedSince(baseline), [], 'sockets or timers left open');
  });

  const fast = { connectTimeoutMs: 2_000, answerTimeoutMs: 400 };
  const token = (extra = {}) =>
    options(sim, { deviceName: uniqueName('err'), credentialsType: 'ACCESS_TOKEN', ...extra, server: { ...fast, ...extra.server } });
  const devicesNow = () => sim.devices().length;

  it('INVALID_INPUT: nothing is sent', async () => {
    const before = devicesNow();
    const error = await rejectsWith(provisionDevice(token({ credentialsType: 'MQTT_BASIC', clientId: 'c', password: 'p' })), 'INVALID_INPUT');
    assert.equal(error.details.field, 'password');
    assert.equal(devicesNow(), before);
  });

  it('NOT_FOUND: wrong secret, with the server message', async () => {
    const error = await rejectsWith(provisionDevice(token({ provisionDeviceSecret: 'wrong-secret-value' })), 'NOT_FOUND');
    assert.equal(error.details.serverMessage, 'Provision data was not found!');
    assert.ok(!error.message.includes('wrong-secret-value'));
  });

  it('FAILURE: the name is taken', async () => {
    const deviceName = uniqueName('taken');
    await provisionDevice(token({ deviceName }));
    const error = await rejectsWith(provisionDevice(token({ deviceName })), 'FAILURE');
    assert.equal(error.details.serverMessage, 'Failed to provision device!');
  });

  for (const protocolVersion of [4, 5]) {
    it(`CONNECTION_CLOSED: PUBACK then close without an answer (closeAfterPuback, MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      sim.setFaults({ closeAfterPuback: true });
      const error = await rejectsWith(provisionDevice(token({ server: { protocolVersion } })), 'CONNECTION_CLOSED');
      assert.equal(error.details.requestSent, true);
      if (protocolVersion === 5) assert.equal(error.details.returnCode, 0x83);
    });
  }

  it('OUTCOME_UNKNOWN: request sent and the connection dropped before any acknowledgement (closeAfterRequest)', async () => {
    sim.setFaults({ closeAfterRequest: true });
    const error = await rejectsWith(provisionDevice(token()), 'OUTCOME_UNKNOWN');
    assert.equal(error.details.requestSent, true);
    assert.match(error.message, /may now exist/);
  });

  it('OUTCOME_UNKNOWN: no answer within answerTimeoutMs (noAnswer, and answerDelayMs beyond the timeout)', async () => {
    sim.setFaults({ noAnswer: true });
    const deviceName = uniqueName('silent');
    await rejectsWith(provisionDevice(token({ deviceName })), 'OUTCOME_UNKNOWN');
    assert.ok(
      sim.devices().some((device) => device.name === deviceName),
      'the simulator did create the device',
    );
    sim.setFaults({ answerDelayMs: 3_000 });
    await rejectsWith(provisionDevice(token()), 'OUTCOME_UNKNOWN');
  });

  it('BAD_RESPONSE: an answer that is not JSON', async () => {
    sim.setFaults({ garbageAnswer: true });
    await rejectsWith(provisionDevice(token()), 'BAD_RESPONSE');
  });

  it('CREDENTIAL_MISMATCH: SUCCESS echoing another certificate', async () => {
    sim.setFaults({ rawAnswer: JSON.stringify({ credentialsValue: 'MIIBnotmine', credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' }) });
    await rejectsWith(provisionDevice(options(sim, { deviceName: uniqueName('mm'), keyAlgorithm: 'p256' })), 'CREDENTIAL_MISMATCH');
  });

  it('CREDENTIAL_MISMATCH: a pre-provisioned X.509 device answers with its own certificate', async () => {
    const pre = { provisionDeviceKey: PRE_KEY, provisionDeviceSecret: PRE_SECRET, deviceName: 'pre-x509' };
    const other = await rejectsWith(provisionDevice(options(sim, { ...pre, keyAlgorithm: 'p256' })), 'CREDENTIAL_MISMATCH');
    assert.match(other.message, /different certificate/);
  });

  it('CREDENTIAL_MISMATCH: X.509 returned for a device asked as ACCESS_TOKEN (no key held)', async () => {
    // CHECK_PRE: each pre-provisioned device answers once, so use a second simulator with a fresh registry.
    const second = await startSim({
      devices: [{ name: 'pre-x509', profile: 'pre', credentialsType: 'X509_CERTIFICATE', credentialsValue: preCertificate.certificate }],
    });
    try {
      const pre = { provisionDeviceKey: PRE_KEY, provisionDeviceSecret: PRE_SECRET, deviceName: 'pre-x509', credentialsType: 'ACCESS_TOKEN' };
      const error = await rejectsWith(provisionDevice(options(second, pre)), 'CREDENTIAL_MISMATCH');
      assert.match(error.message, /no private key/);
    } finally {
      await second.stop();
    }
  });

  for (const [protocolVersion, returnCode] of [
    [4, 5],
    [5, 0x87],
  ]) {
    it(`CONNECT_REFUSED with the CONNACK code (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}, code ${returnCode})`, async () => {
      sim.setFaults({ refuseConnect: returnCode });
      const error = await rejectsWith(provisionDevice(token({ server: { protocolVersion } })), 'CONNECT_REFUSED');
      assert.equal(error.details.returnCode, returnCode);
      assert.equal(error.details.requestSent, false);
    });
  }

  it('TLS: a CA that did not sign the server certificate', async () => {
    const stranger = await generateDeviceCertificate({ commonName: 'stranger CA', validityDays: 1, keyAlgorithm: 'p256' });
    const error = await rejectsWith(provisionDevice(token({ server: { ca: stranger.certificate } })), 'TLS');
    assert.match(error.details.reason, /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)$/);
    assert.match(error.message, /CA/);
    assert.equal(error.details.requestSent, false);
  });

  it('TLS: the system CAs do not know the simulator CA', async () => {
    const error = await rejectsWith(provisionDevice(token({ server: { ca: undefined } })), 'TLS');
    assert.ok(error.details.reason);
  });

  it('TLS: hostname mismatch (servername not in the certificate)', async () => {
    const error = await rejectsWith(provisionDevice(token({ server: { servername: 'wrong.example.com' } })), 'TLS');
    assert.equal(error.details.reason, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(error.message, /servername/);
  });

  it('UNREACHABLE: nothing listens on the port', async () => {
    const port = await closedPort();
    const error = await rejectsWith(provisionDevice(token({ server: { port } })), 'UNREACHABLE');
    assert.equal(error.details.reason, 'ECONNREFUSED');
  });

  it('UNREACHABLE: a host that does not resolve (*.invalid)', async () => {
    const error = await rejectsWith(provisionDevice(token({ server: { host: 'gridlinks.invalid' } })), 'UNREACHABLE');
    assert.match(error.details.reason, /^(ENOTFOUND|EAI_AGAIN)$/);
  });

  it('TIMEOUT: a server that accepts and never answers (TLS handshake, and plain MQTT CONNACK)', async () => {
    const silent = await silentServer();
    try {
      const tlsError = await rejectsWith(provisionDevice(token({ server: { port: silent.port, connectTimeoutMs: 300 } })), 'TIMEOUT');
      assert.equal(tlsError.details.requestSent, false);
      await rejectsWith(provisionDevice(token({ server: { port: silent.port, tls: false, connectTimeoutMs: 300 } })), 'TIMEOUT');
    } finally {
      await silent.close();
    }
  });

  it('TLS setting wrong for the port fails fast with a connection error, not a hang', async () => {
    const tlsToPlain = await rejectsWith(provisionDevice(token({ server: { port: sim.mqttPort } })), 'TLS');
    assert.equal(tlsToPlain.details.reason, 'ECONNRESET');
    // A setting problem (#10): the port is asked whether it speaks TLS, and the hint says to turn TLS on.
    const plainToTls = await rejectsWith(provisionDevice(token({ server: { port: sim.mqttsPort, tls: false } })), 'TLS');
    assert.equal(plainToTls.details.requestSent, false);
    assert.equal(plainToTls.details.reason, 'TLS_PORT');
    assert.match(plainToTls.message, /speaks TLS, but TLS is off/);
  });

  it('ABORTED: a signal aborted before the call sends nothing', async () => {
    const before = devicesNow();
    const error = await rejectsWith(provisionDevice(token(), AbortSignal.abort()), 'ABORTED');
    assert.equal(error.details.requestSent, false);
    assert.equal(devicesNow(), before);
  });

  it('ABORTED: while connecting (a silent server), the listener is removed afterwards', async () => {
    const silent = await silentServer();
    const controller = new AbortController();
    silent.server.once('accepted', () => controller.abort());
    try {
      const error = await rejectsWith(provisionDevice(token({ server: { port: silent.port, connectTimeoutMs: 10_000 } }), controller.signal), 'ABORTED');
      assert.equal(error.details.requestSent, false);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    } finally {
      await silent.close();
    }
  });

  it('ABORTED: after the request was sent says the device may exist', async () => {
    sim.setFaults({ noAnswer: true });
    const controller = new AbortController();
    sim.waitForLog(/not answering/).then(() => controller.abort());
    const error = await rejectsWith(provisionDevice(token({ server: { answerTimeoutMs: 20_000 } }), controller.signal), 'ABORTED');
    assert.equal(error.details.requestSent, true);
    assert.match(error.message, /may now exist/);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('a signal that is never aborted keeps no listener after success', async () => {
    const controller = new AbortController();
    await provisionDevice(token(), controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});
