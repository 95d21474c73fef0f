'use strict';
/** The gridlinks-provision node with a gridlinks-server set to Transport HTTP(S), in a real Node-RED runtime. */
const assert = require('node:assert/strict');
const net = require('node:net');
const { startTestSimulator } = require('../helpers/simulator');
const { helper, provisionFlow, load, expectCaught, expectOutput } = require('../helpers/node-red');

describe('gridlinks-provision over HTTP(S) (server node Transport: HTTP(S))', function () {
  let sim;
  let closedPort;
  before(async function () {
    sim = await startTestSimulator({ httpPort: 0, httpsPort: 0 });
    const probe = net.createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = probe.address().port;
    await new Promise((resolve) => probe.close(resolve));
  });
  after(() => sim.stop());
  afterEach(async function () {
    sim.setFaults({});
    await helper.unload();
  });

  const https = () => ({ transport: 'http', port: sim.httpsPort, verifyPort: sim.mqttsPort });
  const plain = () => ({ transport: 'http', tls: false, port: sim.httpPort, verifyPort: sim.mqttPort });

  it('HTTPS: provisions an access-token device; Verify connects over MQTT on the MQTT port; msg.broker points there', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', verify: true }, server: https() });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-https-1' } });
    assert.equal(msg.payload.deviceName, 'nr-https-1');
    assert.deepEqual(msg.payload.verification, { accepted: true });
    assert.equal(msg.payload.server.port, sim.mqttsPort);
    assert.equal(msg.broker.port, sim.mqttsPort);
    assert.equal(msg.broker.username, msg.payload.credentials.accessToken);
    assert.ok(sim.devices().some((device) => device.name === 'nr-https-1'));
  });

  it('HTTPS: an X.509 device (p256) provisions and verifies', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { verify: true }, server: https() });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-https-x509' } });
    assert.equal(msg.payload.credentialsType, 'X509_CERTIFICATE');
    assert.deepEqual(msg.payload.verification, { accepted: true });
  });

  it('plain HTTP: FAILURE for a taken name reaches Catch; the node keeps working for the next message', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, server: plain(), serverCreds: {} });
    await load(flow, credentials);
    await expectOutput({ payload: { deviceName: 'nr-http-taken' } });
    const caught = await expectCaught({ payload: { deviceName: 'nr-http-taken' } });
    assert.equal(caught.error.code, 'FAILURE');
    assert.equal(caught.gridlinksError.details.requestSent, true);
    const next = await expectOutput({ payload: { deviceName: 'nr-http-next' } });
    assert.equal(next.payload.server.port, sim.mqttPort);
  });

  it("plain HTTP: the server's core failure (HTTP 500) is CONNECTION_CLOSED with httpStatus", async function () {
    sim.setFaults({ closeAfterPuback: true });
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, server: plain(), serverCreds: {} });
    await load(flow, credentials);
    const caught = await expectCaught({ payload: { deviceName: 'nr-http-500' } });
    assert.equal(caught.error.code, 'CONNECTION_CLOSED');
    assert.equal(caught.gridlinksError.details.httpStatus, 500);
  });

  // Each outcome code through the node, over HTTP and HTTPS: [title, faults, server overrides, msg payload, code, requestSent].
  const outcomes = [
    [
      'wrong secret',
      {},
      {},
      { deviceName: 'nr-http-nf' },
      'NOT_FOUND',
      true,
      { provisionCreds: { provisionDeviceKey: 'test-provision-key', provisionDeviceSecret: 'not-it' } },
    ],
    ['no answer', { noAnswer: true }, { answerTimeout: 0.3 }, { deviceName: 'nr-http-silent' }, 'OUTCOME_UNKNOWN', true],
    ['garbage answer', { garbageAnswer: true }, {}, { deviceName: 'nr-http-garbage' }, 'BAD_RESPONSE', true],
    ['closed port', {}, { port: () => closedPort }, { deviceName: 'nr-http-unreachable' }, 'UNREACHABLE', false],
  ];
  for (const variant of ['HTTP', 'HTTPS']) {
    for (const [title, faults, serverProps, payload, code, requestSent, extra = {}] of outcomes) {
      it(`${variant}: ${title} ⇒ ${code} at Catch (requestSent ${requestSent})`, async function () {
        sim.setFaults(faults);
        const resolved = Object.fromEntries(Object.entries(serverProps).map(([key, value]) => [key, typeof value === 'function' ? value() : value]));
        const server = { ...(variant === 'HTTP' ? plain() : https()), ...resolved };
        const { flow, credentials } = provisionFlow(sim, {
          props: { credentialsType: 'ACCESS_TOKEN' },
          server,
          ...(variant === 'HTTP' ? { serverCreds: {} } : {}),
          ...extra,
        });
        await load(flow, credentials);
        const caught = await expectCaught({ payload: { deviceName: `${payload.deviceName}-${variant}` } });
        assert.equal(caught.error.code, code);
        assert.equal(caught.gridlinksError.details.requestSent, requestSent);
      });
    }
  }

  it('HTTPS: a CA that did not sign the server certificate ⇒ TLS, nothing sent', async function () {
    const other = await startTestSimulator({ mqttPort: null, httpsPort: 0 });
    try {
      const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, server: https(), serverCreds: { ca: other.caPem } });
      await load(flow, credentials);
      const caught = await expectCaught({ payload: { deviceName: 'nr-https-tls' } });
      assert.equal(caught.error.code, 'TLS');
      assert.equal(caught.gridlinksError.details.requestSent, false);
    } finally {
      await other.stop();
    }
  });

  it('a bad transport or MQTT port in the server node: INVALID_INPUT naming the field; nothing sent', async function () {
    for (const [server, field] of [
      [{ transport: 'coap' }, 'transport'],
      [{ ...https(), verifyPort: 'x' }, 'verifyPort'],
    ]) {
      const before = sim.devices().length;
      const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, server });
      await load(flow, credentials);
      const caught = await expectCaught({ payload: { deviceName: 'nr-http-bad' } });
      assert.equal(caught.error.code, 'INVALID_INPUT');
      assert.equal(caught.gridlinksError.details.field, field);
      assert.equal(sim.devices().length, before);
      await helper.unload();
    }
  });
});
