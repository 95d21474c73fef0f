'use strict';
const assert = require('node:assert/strict');
const { validateOptions, buildProvisionRequest } = require('../../nodes/provisioning');

const base = (extra) => validateOptions({ server: { host: 'h' }, provisionDeviceKey: 'K', provisionDeviceSecret: 'S', ...extra });

describe('provisioning/buildProvisionRequest', () => {
  it('X.509: sends the PEM as `hash`, name first', () => {
    const request = buildProvisionRequest(base({ deviceName: 'd' }), 'PEM');
    assert.deepEqual(request, { deviceName: 'd', provisionDeviceKey: 'K', provisionDeviceSecret: 'S', credentialsType: 'X509_CERTIFICATE', hash: 'PEM' });
    assert.deepEqual(Object.keys(request), ['deviceName', 'provisionDeviceKey', 'provisionDeviceSecret', 'credentialsType', 'hash']);
  });

  it('omits the device name when absent (the server generates one)', () => {
    assert.equal('deviceName' in buildProvisionRequest(base({ credentialsType: 'ACCESS_TOKEN' })), false);
  });

  it('ACCESS_TOKEN with and without a token', () => {
    assert.deepEqual(buildProvisionRequest(base({ credentialsType: 'ACCESS_TOKEN', token: 'tok' })), {
      provisionDeviceKey: 'K',
      provisionDeviceSecret: 'S',
      credentialsType: 'ACCESS_TOKEN',
      token: 'tok',
    });
    assert.equal('token' in buildProvisionRequest(base({ credentialsType: 'ACCESS_TOKEN' })), false);
  });

  it('MQTT_BASIC omits absent fields and never sends null', () => {
    const request = buildProvisionRequest(base({ credentialsType: 'MQTT_BASIC', username: 'u', password: 'p' }));
    assert.deepEqual(request, { provisionDeviceKey: 'K', provisionDeviceSecret: 'S', credentialsType: 'MQTT_BASIC', username: 'u', password: 'p' });
    assert.ok(!JSON.stringify(request).includes('null'));
  });

  it('gateway only when true', () => {
    assert.equal(buildProvisionRequest(base({ credentialsType: 'ACCESS_TOKEN', gateway: true })).gateway, true);
    assert.equal('gateway' in buildProvisionRequest(base({ credentialsType: 'ACCESS_TOKEN', gateway: false })), false);
  });
});
