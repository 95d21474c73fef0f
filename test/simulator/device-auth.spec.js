'use strict';
const assert = require('node:assert/strict');
const { startTestSimulator, provisionRequest, rawProvision, provisionOnce, connectDevice, RawSession } = require('../helpers/simulator');
const { createCertificate } = require('../../nodes/simulator');

async function refusedCode(sim, opts) {
  try {
    const { client } = await connectDevice(sim, opts);
    await client.endAsync();
  } catch (error) {
    return error.code;
  }
  return 0;
}

describe('simulator: device sessions after provisioning', function () {
  let sim;
  let deviceCert;
  let expiredCert;
  let strangerCert;
  before(async function () {
    [deviceCert, expiredCert, strangerCert] = await Promise.all([
      createCertificate({ commonName: 'device-x509' }),
      createCertificate({ commonName: 'expired', notBefore: new Date(Date.now() - 2 * 86400000), notAfter: new Date(Date.now() - 86400000) }),
      createCertificate({ commonName: 'stranger' }),
    ]);
    sim = await startTestSimulator();
    const requests = [
      provisionRequest({ deviceName: 'dev-token', token: 'dev-token-1' }),
      provisionRequest({ deviceName: 'dev-basic-full', credentialsType: 'MQTT_BASIC', clientId: 'bc1', username: 'bu1', password: 'bp1' }),
      provisionRequest({ deviceName: 'dev-basic-user', credentialsType: 'MQTT_BASIC', username: 'bu2', password: 'bp2' }),
      provisionRequest({ deviceName: 'dev-basic-client', credentialsType: 'MQTT_BASIC', clientId: 'bc3' }),
      provisionRequest({ deviceName: 'dev-x509', credentialsType: 'X509_CERTIFICATE', hash: deviceCert.certPem }),
      provisionRequest({ deviceName: 'dev-expired', credentialsType: 'X509_CERTIFICATE', hash: expiredCert.certPem }),
    ];
    for (const request of requests) assert.equal((await provisionOnce(sim, request)).status, 'SUCCESS');
  });
  after(async function () {
    await sim.stop();
  });

  describe('accepted', function () {
    const accepted = [
      ['access token on the plain listener', { username: 'dev-token-1' }, 'dev-token'],
      ['access token over one-way TLS, MQTT 5', { tls: true, username: 'dev-token-1', protocolVersion: 5 }, 'dev-token'],
      ['access token, MQTT 3.1 with a 30-character client id', { username: 'dev-token-1', protocolVersion: 3, clientId: 'c'.repeat(30) }, 'dev-token'],
      ['MQTT basic clientId + username + password', { clientId: 'bc1', username: 'bu1', password: 'bp1' }, 'dev-basic-full'],
      ['MQTT basic username + password, any client id', { clientId: 'anything', username: 'bu2', password: 'bp2' }, 'dev-basic-user'],
      ['MQTT basic clientId only', { clientId: 'bc3' }, 'dev-basic-client'],
      ['X.509 client certificate on the TLS listener', () => ({ tls: true, cert: deviceCert.certPem, key: deviceCert.keyPem }), 'dev-x509'],
      ['X.509 client certificate, MQTT 5', () => ({ tls: true, cert: deviceCert.certPem, key: deviceCert.keyPem, protocolVersion: 5 }), 'dev-x509'],
    ];
    for (const [title, opts, deviceName] of accepted) {
      it(`${title}: telemetry and attributes are kept for ${deviceName}`, async function () {
        const { client } = await connectDevice(sim, typeof opts === 'function' ? opts() : opts);
        const marker = Math.random();
        await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ marker }), { qos: 1 });
        await client.publishAsync('v1/devices/me/attributes', JSON.stringify({ fw: '1.0', marker }), { qos: 1 });
        await client.endAsync();
        const records = sim.telemetry(deviceName).filter((r) => r.payload.marker === marker);
        assert.deepEqual(
          records.map((r) => r.topic),
          ['v1/devices/me/telemetry', 'v1/devices/me/attributes'],
        );
        assert.equal(records[1].payload.fw, '1.0');
      });
    }

    it('a client certificate with username `provision` still gets a provisioning session', async function () {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'cert-provision' }), {
        tls: true,
        cert: deviceCert.certPem,
        key: deviceCert.keyPem,
        username: 'provision',
        clientId: 'x',
      });
      assert.equal(json.status, 'SUCCESS');
    });
  });

  describe('refused, with the CONNACK codes of protocol.md §5', function () {
    const refused = [
      ['unknown token', { username: 'no-such-token' }, 5, 0x86],
      ['MQTT basic wrong password', { clientId: 'bc1', username: 'bu1', password: 'wrong' }, 5, 0x86],
      ['MQTT basic missing password', { username: 'bu2' }, 5, 0x86],
      ['no username and an unknown client id', { clientId: 'nobody' }, 2, 0x85],
      ['X.509 certificate that matches no device', () => ({ tls: true, cert: strangerCert.certPem, key: strangerCert.keyPem }), 5, 0x87],
      [
        'X.509 certificate that matches no device although the username is a valid token',
        () => ({ tls: true, cert: strangerCert.certPem, key: strangerCert.keyPem, username: 'dev-token-1' }),
        5,
        0x87,
      ],
      ['expired X.509 certificate of a provisioned device', () => ({ tls: true, cert: expiredCert.certPem, key: expiredCert.keyPem }), 5, 0x87],
    ];
    for (const [title, opts, v3Code, v5Code] of refused) {
      it(`${title} ⇒ ${v3Code} on 3.1.1, 0x${v5Code.toString(16)} on MQTT 5`, async function () {
        const base = typeof opts === 'function' ? opts() : opts;
        assert.equal(await refusedCode(sim, { ...base, protocolVersion: 4 }), v3Code);
        assert.equal(await refusedCode(sim, { ...base, protocolVersion: 5 }), v5Code);
      });
    }

    it('the refusal CONNACK is followed by a close', async function () {
      const session = await RawSession.open(sim, { clientId: 'c', username: 'no-such-token' });
      assert.equal((await session.next('connack')).returnCode, 5);
      assert.equal(await session.waitClose(), true);
    });
  });
});
