'use strict';
// RecentLogin: gridlinks-gateway resolves the msg.gateway object it saw last without checking and hashing
// it again, but only while every field of its login is what it was.
const assert = require('node:assert/strict');
const { RecentLogin } = require('../../nodes/node-red/recent-login');

describe('RecentLogin (the last msg.gateway object and its gateway)', function () {
  const login = () => ({ deviceName: 'gw', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 't1' } });

  it('the same object, unchanged, resolves; another object with the same fields does not', function () {
    const recent = new RecentLogin();
    const device = login();
    recent.set(device, 'gateway A');
    assert.equal(recent.get(device), 'gateway A');
    assert.equal(recent.get(login()), undefined, 'equal fields in another object: checked again by the caller');
    assert.equal(recent.get(undefined), undefined);
  });

  it('changed in place (name, type, credentials object, or any credential field) it does not resolve', function () {
    const changes = [
      (d) => (d.deviceName = 'gw2'),
      (d) => (d.credentialsType = 'MQTT_BASIC'),
      (d) => (d.credentials = { accessToken: 't1' }),
      (d) => (d.credentials.accessToken = 't2'),
      (d) => (d.credentials.certificate = '-----BEGIN CERTIFICATE-----'),
      (d) => (d.credentials.password = 'p'),
    ];
    for (const change of changes) {
      const recent = new RecentLogin();
      const device = login();
      recent.set(device, 'gateway A');
      change(device);
      assert.equal(recent.get(device), undefined, change.toString());
    }
  });

  it('clear() forgets it; a value that is not an object is never kept', function () {
    const recent = new RecentLogin();
    const device = login();
    recent.set(device, 'gateway A');
    recent.clear();
    assert.equal(recent.get(device), undefined);
    recent.set('text', 'gateway B');
    assert.equal(recent.get('text'), undefined);
  });
});
