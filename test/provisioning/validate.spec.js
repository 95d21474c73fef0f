'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { validateOptions, ProvisionError, generateDeviceCertificate } = require('../../nodes/provisioning');

const base = () => ({ server: { host: 'gl.example', port: 8883 }, provisionDeviceKey: 'K', provisionDeviceSecret: 'S' });

function invalid(options, field) {
  let caught;
  try {
    validateOptions(options);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ProvisionError, `expected INVALID_INPUT for ${field}`);
  assert.equal(caught.code, 'INVALID_INPUT');
  assert.equal(caught.details.field, field);
  assert.ok(!/\bS\b/.test(caught.message) || field === 'provisionDeviceSecret', 'message must not echo the secret');
  return caught;
}

describe('provisioning/validateOptions', () => {
  it('fills the defaults: X.509, rsa2048, 3650 days, TLS, MQTT 3.1.1, verified server certificate', () => {
    const resolved = validateOptions(base());
    assert.equal(resolved.credentialsType, 'X509_CERTIFICATE');
    assert.equal(resolved.keyAlgorithm, 'rsa2048');
    assert.equal(resolved.validityDays, 3650);
    assert.equal(resolved.server.tls, true);
    assert.equal(resolved.server.protocolVersion, 4);
    assert.equal(resolved.server.rejectUnauthorized, true);
    assert.equal(resolved.deviceName, undefined);
    assert.equal(resolved.gateway, false);
  });

  it('default port follows TLS (8883 / 1883); trims the device name; empty strings mean absent, except a blank device name', () => {
    assert.equal(validateOptions({ ...base(), server: { host: 'h' } }).server.port, 8883);
    assert.equal(validateOptions({ ...base(), server: { host: 'h', tls: false } }).server.port, 1883);
    assert.equal(validateOptions({ ...base(), deviceName: '  pump 1 ' }).deviceName, 'pump 1');
    const resolved = validateOptions({ ...base(), deviceName: undefined, credentialsType: 'ACCESS_TOKEN', token: '' });
    assert.equal(resolved.deviceName, undefined);
    assert.equal(resolved.token, undefined);
    // A name given but blank would create a device under a generated name nobody can find.
    invalid({ ...base(), deviceName: '' }, 'deviceName');
    invalid({ ...base(), deviceName: '   ' }, 'deviceName');
  });

  it("trims the device name as GridLinks does (Java String.trim(): code points up to U+0020 only), so the name predicted is the server's", () => {
    assert.equal(validateOptions({ ...base(), deviceName: '\u00a0pump\u2028' }).deviceName, '\u00a0pump\u2028');
    assert.equal(validateOptions({ ...base(), deviceName: '\ufeffpump 2\u3000' }).deviceName, '\ufeffpump 2\u3000');
    assert.equal(validateOptions({ ...base(), deviceName: ' \u0001pump 3\t\r\n' }).deviceName, 'pump 3');
  });

  it('rejects missing or malformed connection settings with the field name', () => {
    invalid({ ...base(), server: undefined }, 'server');
    invalid({ ...base(), server: { port: 1 } }, 'server.host');
    invalid({ ...base(), server: { host: 'mqtts://h' } }, 'server.host');
    invalid({ ...base(), server: { host: 'h', port: 70000 } }, 'server.port');
    invalid({ ...base(), server: { host: 'h', port: 1.5 } }, 'server.port');
    invalid({ ...base(), server: { host: 'h', protocolVersion: 3 } }, 'server.protocolVersion');
    invalid({ ...base(), server: { host: 'h', ca: '/etc/ca.pem' } }, 'server.ca');
    invalid({ ...base(), server: { host: 'h', tls: 'yes' } }, 'server.tls');
    invalid({ ...base(), server: { host: 'h', connectTimeoutMs: 0 } }, 'server.connectTimeoutMs');
  });

  it('requires key and secret, checks name and type', () => {
    invalid({ ...base(), provisionDeviceKey: '' }, 'provisionDeviceKey');
    invalid({ ...base(), provisionDeviceSecret: undefined }, 'provisionDeviceSecret');
    invalid({ ...base(), provisionDeviceKey: 42 }, 'provisionDeviceKey');
    invalid({ ...base(), deviceName: '   ' }, 'deviceName');
    invalid({ ...base(), deviceName: 'x'.repeat(256) }, 'deviceName');
    invalid({ ...base(), deviceName: 'a\u0001b' }, 'deviceName');
    invalid({ ...base(), credentialsType: 'x509' }, 'credentialsType');
    invalid({ ...base(), keyAlgorithm: 'rsa1024' }, 'keyAlgorithm');
    invalid({ ...base(), validityDays: 0 }, 'validityDays');
    invalid({ ...base(), verify: 'yes' }, 'verify');
  });

  it("applies GridLinks' MQTT_BASIC validator rules before sending", () => {
    const basic = (fields) => ({ ...base(), credentialsType: 'MQTT_BASIC', ...fields });
    invalid(basic({}), 'clientId');
    invalid(basic({ password: 'p' }), 'clientId');
    invalid(basic({ clientId: 'c', password: 'p' }), 'password');
    invalid(basic({ username: 'u\n' }), 'username');
    assert.deepEqual((({ clientId, username, password }) => ({ clientId, username, password }))(validateOptions(basic({ clientId: 'c', username: '' }))), {
      clientId: 'c',
      username: undefined,
      password: undefined,
    });
    validateOptions(basic({ username: 'u', password: 'p' }));
    validateOptions(basic({ clientId: 'c', username: 'u', password: 'p' }));
  });

  it('a private key alone (the certificate is made for it): RSA >= 2048 with e = 65537 or EC P-256/P-384 only', () => {
    const pem = (type, options) => crypto.generateKeyPairSync(type, options).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const rsa = pem('rsa', { modulusLength: 2048 });
    assert.equal(validateOptions({ ...base(), privateKey: rsa }).privateKey, rsa);
    assert.equal(validateOptions({ ...base(), privateKey: pem('ec', { namedCurve: 'secp384r1' }) }).certificate, undefined);
    invalid({ ...base(), privateKey: pem('rsa', { modulusLength: 1024 }) }, 'privateKey');
    invalid({ ...base(), privateKey: pem('ec', { namedCurve: 'secp256k1' }) }, 'privateKey');
    invalid({ ...base(), privateKey: pem('ed25519') }, 'privateKey');
    assert.throws(() => validateOptions({ ...base(), privateKey: pem('rsa', { modulusLength: 2048, publicExponent: 3 }) }), /RSA 2048-bit with exponent 3/);
  });

  it('refuses fields that belong to another credentials type', () => {
    invalid({ ...base(), token: 't' }, 'token');
    invalid({ ...base(), credentialsType: 'ACCESS_TOKEN', username: 'u' }, 'username');
    invalid({ ...base(), credentialsType: 'MQTT_BASIC', clientId: 'c', certificate: 'x' }, 'certificate');
  });

  it('tokens: control characters refused (GridLinks answers FAILURE), a space allowed (GridLinks stores it, it works as the MQTT user name)', () => {
    invalid({ ...base(), credentialsType: 'ACCESS_TOKEN', token: 'has\ttab' }, 'token');
    invalid({ ...base(), credentialsType: 'ACCESS_TOKEN', token: 'x'.repeat(256) }, 'token');
    assert.equal(validateOptions({ ...base(), credentialsType: 'ACCESS_TOKEN', token: 'has space' }).token, 'has space');
  });

  it('checks a BYO certificate and key, and re-encodes the certificate as canonical PEM', async () => {
    const mine = await generateDeviceCertificate({ commonName: 'byo', validityDays: 1, keyAlgorithm: 'p256' });
    const other = await generateDeviceCertificate({ commonName: 'other', validityDays: 1, keyAlgorithm: 'p256' });
    invalid({ ...base(), certificate: 'not a certificate' }, 'certificate');
    invalid({ ...base(), privateKey: 'garbage' }, 'privateKey');
    invalid({ ...base(), certificate: mine.certificate, privateKey: other.privateKey }, 'privateKey');
    invalid({ ...base(), certificate: mine.certificate, privateKey: 'garbage' }, 'privateKey');
    invalid({ ...base(), certificate: mine.certificate, commonName: 'x' }, 'commonName');
    const messy = `\r\n${mine.certificate.replace(/\n/g, '\r\n')}  `;
    assert.equal(validateOptions({ ...base(), certificate: messy }).certificate, mine.certificate);
    assert.equal(validateOptions({ ...base(), certificate: mine.certificate, privateKey: mine.privateKey }).privateKey, mine.privateKey);
  });
});
