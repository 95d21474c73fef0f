'use strict';
const assert = require('node:assert/strict');
const { startTestSimulator, provisionRequest, rawProvision, connectDevice } = require('../helpers/simulator');
const { createCertificate } = require('../../nodes/simulator');

const PRE = { name: 'pre-profile', provisionDeviceKey: 'pre-key', provisionDeviceSecret: 'pre-secret', strategy: 'CHECK_PRE_PROVISIONED_DEVICES' };
const DISABLED = { name: 'disabled-profile', provisionDeviceKey: 'disabled-key', provisionDeviceSecret: 'disabled-secret', strategy: 'DISABLED' };
const preRequest = (fields) => ({ provisionDeviceKey: PRE.provisionDeviceKey, provisionDeviceSecret: PRE.provisionDeviceSecret, ...fields });

describe('simulator: provisioning strategies', function () {
  let sim;
  let preCert;
  before(async function () {
    preCert = await createCertificate({ commonName: 'pre-x509' });
    sim = await startTestSimulator({
      mqttsPort: null,
      profiles: [PRE, DISABLED],
      devices: [
        { name: 'pre-token', profile: 'pre-profile', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'pre-token-value' },
        { name: 'pre-basic', profile: 'pre-profile', credentialsType: 'MQTT_BASIC', clientId: 'pc', userName: 'pu', password: 'pp' },
        { name: 'pre-x509', profile: 'pre-profile', credentialsType: 'X509_CERTIFICATE', credentialsValue: preCert.certPem },
        { name: 'pre-done', profile: 'pre-profile', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'pre-done-token', provisionState: 'provisioned' },
        { name: 'pre-other-state', profile: 'pre-profile', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'pre-other-token', provisionState: 'waiting' },
        { name: 'in-default-profile', profile: 'test-profile', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'default-profile-token' },
      ],
    });
  });
  after(async function () {
    await sim.stop();
  });

  describe('ALLOW_CREATE_NEW_DEVICES', function () {
    it('creates the device; a device of the same name in another profile ⇒ FAILURE', async function () {
      assert.equal((await rawProvision(sim, provisionRequest({ deviceName: 'allow-new' }))).json.status, 'SUCCESS');
      assert.equal((await rawProvision(sim, provisionRequest({ deviceName: 'pre-token' }))).json.status, 'FAILURE');
    });
  });

  describe('CHECK_PRE_PROVISIONED_DEVICES (>= 4.2.1.1)', function () {
    it('returns the existing access token, ignores request credentials, and marks the device provisioned', async function () {
      const { body } = await rawProvision(sim, preRequest({ deviceName: 'pre-token', credentialsType: 'ACCESS_TOKEN', token: 'ignored-token' }));
      assert.equal(body.toString(), '{"credentialsValue":"pre-token-value","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
      assert.equal(sim.devices().find((d) => d.name === 'pre-token').provisionState, 'provisioned');
    });

    it('a second provisioning of the same device ⇒ FAILURE', async function () {
      assert.equal((await rawProvision(sim, preRequest({ deviceName: 'pre-token' }))).json.status, 'FAILURE');
    });

    it('returns existing MQTT_BASIC and X.509 credentials', async function () {
      let { body } = await rawProvision(sim, preRequest({ deviceName: 'pre-basic' }));
      assert.equal(body.toString(), '{"credentialsValue":{"clientId":"pc","userName":"pu","password":"pp"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}');
      ({ body } = await rawProvision(sim, preRequest({ deviceName: 'pre-x509' })));
      const trimmed = preCert.certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\n/g, '');
      assert.equal(body.toString(), `{"credentialsValue":"${trimmed}","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}`);
    });

    const failures = [
      ['name absent', {}],
      ['device missing', { deviceName: 'never-listed' }],
      ['device in another profile', { deviceName: 'in-default-profile' }],
      ['provisionState already provisioned', { deviceName: 'pre-done' }],
      ['provisionState with another value', { deviceName: 'pre-other-state' }],
    ];
    for (const [title, fields] of failures) {
      it(`${title} ⇒ FAILURE`, async function () {
        const { body } = await rawProvision(sim, preRequest(fields));
        assert.equal(body.toString(), '{"errorMsg":"Failed to provision device!","status":"FAILURE"}');
      });
    }

    it('wrong secret ⇒ NOT_FOUND', async function () {
      const { json } = await rawProvision(sim, preRequest({ deviceName: 'pre-done', provisionDeviceSecret: 'bad' }));
      assert.equal(json.status, 'NOT_FOUND');
    });

    it('checkPreRepeatable (before 4.2.1.1): a provisioned device can be provisioned again; another state still fails', async function () {
      sim.setFaults({ checkPreRepeatable: true });
      try {
        assert.equal((await rawProvision(sim, preRequest({ deviceName: 'pre-done' }))).json.status, 'SUCCESS');
        assert.equal((await rawProvision(sim, preRequest({ deviceName: 'pre-done' }))).json.status, 'SUCCESS');
        assert.equal((await rawProvision(sim, preRequest({ deviceName: 'pre-other-state' }))).json.status, 'FAILURE');
      } finally {
        sim.setFaults({});
      }
      assert.equal((await rawProvision(sim, preRequest({ deviceName: 'pre-done' }))).json.status, 'FAILURE');
    });

    it('the pre-provisioned token authenticates a device session', async function () {
      const { client } = await connectDevice(sim, { username: 'pre-token-value' });
      await client.endAsync();
    });
  });

  describe('DISABLED', function () {
    it('⇒ NOT_FOUND, with the right secret too', async function () {
      const { body } = await rawProvision(sim, {
        provisionDeviceKey: DISABLED.provisionDeviceKey,
        provisionDeviceSecret: DISABLED.provisionDeviceSecret,
        deviceName: 'disabled-1',
      });
      assert.equal(body.toString(), '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}');
      assert.equal(
        sim.devices().some((d) => d.name === 'disabled-1'),
        false,
      );
    });
  });

  describe('addProfile at runtime', function () {
    it('a profile added to a running simulator is used', async function () {
      sim.addProfile({ provisionDeviceKey: 'late-key', provisionDeviceSecret: 'late-secret' });
      const { json } = await rawProvision(sim, { provisionDeviceKey: 'late-key', provisionDeviceSecret: 'late-secret', deviceName: 'late-1' });
      assert.equal(json.status, 'SUCCESS');
      assert.equal(sim.devices().find((d) => d.name === 'late-1').profile, 'late-key');
    });
  });
});
