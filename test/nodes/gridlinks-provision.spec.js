'use strict';
const assert = require('node:assert/strict');
const { X509Certificate } = require('node:crypto');
const { generateDeviceCertificate, certificateCredentialsId } = require('../../nodes/provisioning/index.js');
const { startTestSimulator, connectDevice } = require('../helpers/simulator');
const { helper, PROFILE, provisionFlow, load, expectOutput, expectCaught } = require('../helpers/node-red');

describe('gridlinks-provision: credential types against the simulator over TLS', function () {
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

  it('loads both nodes and labels the server host:port', async function () {
    const { flow, credentials } = provisionFlow(sim);
    await load(flow, credentials);
    assert.equal(helper.getNode('prov').type, 'gridlinks-provision');
    assert.equal(helper.getNode('srv').type, 'gridlinks-server');
    assert.equal(helper.getNode('srv').serverOptions().ok, true);
  });

  it('X509_CERTIFICATE: makes a key pair, sends the certificate, outputs PEMs the device can connect with', async function () {
    const { flow, credentials } = provisionFlow(sim);
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-x509-1' }, topic: 'kept' });
    const result = msg.payload;
    assert.equal(msg.topic, 'kept');
    assert.equal(result.deviceName, 'nr-x509-1');
    assert.equal(result.credentialsType, 'X509_CERTIFICATE');
    assert.match(result.credentials.privateKey, /-----BEGIN PRIVATE KEY-----/);
    assert.equal(new X509Certificate(result.credentials.certificate).subject.includes('nr-x509-1'), true);
    assert.match(result.credentials.credentialsId, /^[0-9a-f]{64}$/);
    assert.equal(result.connectOptions.key, result.credentials.privateKey);
    assert.equal(msg.broker, undefined, 'the core mqtt node cannot take a client certificate: no msg.broker');
    const device = sim.devices().find((d) => d.name === 'nr-x509-1');
    assert.equal(device.credentials.credentialsType, 'X509_CERTIFICATE');
    const { client } = await connectDevice(sim, { tls: true, cert: result.credentials.certificate, key: result.credentials.privateKey });
    await client.endAsync();
  });

  it('X509_CERTIFICATE with "include private key" off: no key anywhere in the message', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { includePrivateKey: false } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-x509-nokey' } });
    assert.equal(msg.payload.credentials.privateKey, undefined);
    assert.equal(msg.payload.connectOptions.key, undefined);
    assert.doesNotMatch(JSON.stringify(msg), /PRIVATE KEY/);
  });

  it('ACCESS_TOKEN (configured): outputs the token and msg.broker for the core mqtt node', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-token-1', token: 'nr-token-value-1' } });
    assert.equal(msg.payload.credentialsType, 'ACCESS_TOKEN');
    assert.equal(msg.payload.credentials.accessToken, 'nr-token-value-1');
    assert.deepEqual(msg.broker, {
      broker: '127.0.0.1',
      port: sim.mqttsPort,
      usetls: true,
      verifyservercert: true,
      protocolVersion: 4,
      clientid: '',
      username: 'nr-token-value-1',
      password: '',
      force: true,
    });
  });

  it('MQTT_BASIC (msg override of the configured X.509): outputs the basic credentials and msg.broker', async function () {
    const { flow, credentials } = provisionFlow(sim);
    await load(flow, credentials);
    const msg = await expectOutput({
      payload: { deviceName: 'nr-basic-1', credentialsType: 'MQTT_BASIC', clientId: 'nr-c1', username: 'nr-u1', password: 'nr-p1' },
    });
    assert.equal(msg.payload.credentialsType, 'MQTT_BASIC');
    assert.deepEqual(msg.payload.credentials, { clientId: 'nr-c1', userName: 'nr-u1', password: 'nr-p1' });
    assert.equal(msg.broker.clientid, 'nr-c1');
    assert.equal(msg.broker.username, 'nr-u1');
    assert.equal(msg.broker.password, 'nr-p1');
    assert.equal(sim.devices().find((d) => d.name === 'nr-basic-1').credentials.credentialsType, 'MQTT_BASIC');
  });

  it('msg.payload overrides key, secret, key algorithm and gateway; output goes to the configured property', async function () {
    const { flow, credentials } = provisionFlow(sim, {
      props: { outputProperty: 'device.result' },
      provisionCreds: { provisionDeviceKey: 'wrong-key', provisionDeviceSecret: 'wrong-secret' },
    });
    await load(flow, credentials);
    const msg = await expectOutput({
      payload: {
        deviceName: 'nr-override-1',
        provisionDeviceKey: PROFILE.provisionDeviceKey,
        provisionDeviceSecret: PROFILE.provisionDeviceSecret,
        keyAlgorithm: 'rsa2048',
        gateway: true,
      },
    });
    const result = msg.device.result;
    assert.equal(result.deviceName, 'nr-override-1');
    assert.equal(new X509Certificate(result.credentials.certificate).publicKey.asymmetricKeyType, 'rsa');
    assert.equal(typeof msg.payload, 'object', 'msg.payload is left as it came');
    assert.equal(sim.devices().find((d) => d.name === 'nr-override-1').gateway, true);
  });

  it('X509_CERTIFICATE, bring your own certificate and key in msg.payload', async function () {
    const { flow, credentials } = provisionFlow(sim);
    await load(flow, credentials);
    const own = await generateDeviceCertificate({ keyAlgorithm: 'p256', commonName: 'nr-byo-1', validityDays: 30 });
    const msg = await expectOutput({ payload: { deviceName: 'nr-byo-1', certificate: own.certificate, privateKey: own.privateKey } });
    assert.equal(msg.payload.credentials.certificate, own.certificate);
    assert.equal(msg.payload.credentials.privateKey, own.privateKey);
    assert.equal(msg.payload.credentials.credentialsId, certificateCredentialsId(own.certificate));
  });

  it('MQTT 5 and an explicit server name (SNI) that the server certificate carries', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, server: { protocolVersion: 5, servername: 'localhost' } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-v5-sni' } });
    assert.equal(msg.payload.server.servername, 'localhost');
    assert.equal(msg.broker.protocolVersion, 5);
  });

  it('verify on: connects once with the new credentials and reports acceptance', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { verify: true, credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-verify-1' } });
    assert.equal(msg.payload.verification.accepted, true);
  });

  it('the next message works after a failure', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    await expectOutput({ payload: { deviceName: 'nr-twice' } });
    const caught = await expectCaught({ payload: { deviceName: 'nr-twice' } });
    assert.equal(caught.error.code, 'FAILURE');
    const msg = await expectOutput({ payload: { deviceName: 'nr-twice-2' } });
    assert.equal(msg.payload.deviceName, 'nr-twice-2');
  });
});
