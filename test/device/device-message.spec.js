'use strict';
// What a message becomes on the wire (src/device/device-message.ts, topics.ts, device-identity.ts).
const assert = require('node:assert/strict');
const { buildDeviceAction, identityFromMessage, sessionOptions, parseIncoming } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

const invalid = (field) => (error) => error.code === 'INVALID_INPUT' && error.details.field === field && error.details.deviceName === 'd1';

describe('device messages: msg.topic / msg.payload → GridLinks device API topic and JSON', function () {
  it('telemetry is the default (no, empty or "telemetry" topic): an object, {ts, values}, or an array of those', function () {
    for (const topic of [undefined, null, '', 'telemetry']) {
      assert.deepEqual(buildDeviceAction(topic, { t: 1 }, undefined, 'd1'), { kind: 'telemetry', topic: 'v1/devices/me/telemetry', body: '{"t":1}' });
    }
    const series = [
      { ts: 1, values: { t: 1 } },
      { ts: 2, values: { t: 2 } },
    ];
    assert.equal(buildDeviceAction('telemetry', series, undefined, 'd1').body, JSON.stringify(series));
    for (const payload of ['21.5', 21.5, null, [], [1], Buffer.from('{}')]) {
      assert.throws(() => buildDeviceAction('telemetry', payload, undefined, 'd1'), invalid('payload'), String(payload));
    }
  });

  it('attributes: an object on v1/devices/me/attributes', function () {
    assert.deepEqual(buildDeviceAction('attributes', { fw: '1' }, undefined, 'd1'), {
      kind: 'attributes',
      topic: 'v1/devices/me/attributes',
      body: '{"fw":"1"}',
    });
    assert.throws(() => buildDeviceAction('attributes', [{ fw: 1 }], undefined, 'd1'), invalid('payload'));
  });

  it('attributes/request: clientKeys / sharedKeys as arrays or comma lists, as GridLinks reads them', function () {
    assert.deepEqual(buildDeviceAction('attributes/request', { clientKeys: ['a', ' b'], sharedKeys: 'c,d' }, undefined, 'd1'), {
      kind: 'attributes/request',
      body: '{"clientKeys":"a,b","sharedKeys":"c,d"}',
    });
    assert.equal(buildDeviceAction('attributes/request', undefined, undefined, 'd1').body, '{}');
    assert.throws(() => buildDeviceAction('attributes/request', { clientKeys: [1] }, undefined, 'd1'), invalid('clientKeys'));
    assert.throws(() => buildDeviceAction('attributes/request', { sharedKeys: ['a,b'] }, undefined, 'd1'), invalid('sharedKeys'));
  });

  it('rpc/response: the answer on v1/devices/me/rpc/response/{requestId}; the id must be a whole number', function () {
    assert.deepEqual(buildDeviceAction('rpc/response', { ok: true }, 7, 'd1'), {
      kind: 'rpc/response',
      topic: 'v1/devices/me/rpc/response/7',
      body: '{"ok":true}',
    });
    assert.equal(buildDeviceAction('rpc/response', 'done', '12', 'd1').topic, 'v1/devices/me/rpc/response/12');
    assert.equal(buildDeviceAction('rpc/response', undefined, 1, 'd1').body, 'null');
    for (const id of [undefined, -1, 1.5, '1/2', '../x']) assert.throws(() => buildDeviceAction('rpc/response', {}, id, 'd1'), invalid('requestId'));
  });

  it('an unknown topic, a payload without JSON form or over 64 KB is INVALID_INPUT naming the device', function () {
    assert.throws(() => buildDeviceAction('v1/devices/me/telemetry', {}, undefined, 'd1'), invalid('topic'));
    const circular = {};
    circular.self = circular;
    assert.throws(() => buildDeviceAction('telemetry', circular, undefined, 'd1'), invalid('payload'));
    assert.throws(() => buildDeviceAction('telemetry', { big: 'x'.repeat(70 * 1024) }, undefined, 'd1'), invalid('payload'));
  });

  it('incoming topics: RPC requests and attribute answers with their ids, shared-attribute updates; others ignored', function () {
    assert.deepEqual(parseIncoming('v1/devices/me/rpc/request/42', Buffer.from('{"method":"m","params":{}}')), {
      kind: 'rpc/request',
      requestId: 42,
      payload: { method: 'm', params: {} },
    });
    assert.deepEqual(parseIncoming('v1/devices/me/attributes', Buffer.from('{"a":1}')), { kind: 'attributes', payload: { a: 1 } });
    assert.deepEqual(parseIncoming('v1/devices/me/attributes/response/3', Buffer.from('{}')), { kind: 'attributes/response', requestId: 3, payload: {} });
    assert.equal(parseIncoming('v1/devices/me/rpc/request/x', Buffer.from('{}')), null);
    assert.equal(parseIncoming('v1/gateway/rpc', Buffer.from('{}')), null);
  });
});

describe('device identity: msg.device → how the session logs in', function () {
  const server = validateServer({ host: '127.0.0.1', port: 8883, tls: true, ca: undefined });

  it('a provision result (extra fields ignored) for each credentials type', function () {
    const token = identityFromMessage({
      deviceName: 't',
      credentialsType: 'ACCESS_TOKEN',
      credentials: { accessToken: 'T' },
      connectOptions: {},
      warnings: [],
    });
    assert.equal(sessionOptions(server, token).username, 'T');
    const basic = identityFromMessage({ deviceName: 'b', credentialsType: 'MQTT_BASIC', credentials: { clientId: 'c', userName: 'u', password: 'p' } });
    assert.deepEqual([sessionOptions(server, basic).clientId, sessionOptions(server, basic).username, sessionOptions(server, basic).password], ['c', 'u', 'p']);
  });

  it('X.509: certificate, key, and a chain sent after the leaf', function () {
    const leaf = '-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n';
    const chain = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
    const identity = identityFromMessage({
      deviceName: 'x',
      credentialsType: 'X509_CERTIFICATE',
      credentials: { certificate: leaf, privateKey: 'KEY', chain },
    });
    const options = sessionOptions(server, identity);
    assert.equal(options.cert, `${leaf.trimEnd()}\n${chain.trim()}\n`);
    assert.equal(options.key, 'KEY');
    const alone = identityFromMessage({ deviceName: 'x', credentialsType: 'X509_CERTIFICATE', credentials: { certificate: leaf, privateKey: 'KEY' } });
    assert.equal(sessionOptions(server, alone).cert, leaf);
  });

  it('missing or incomplete devices are INVALID_INPUT (field device), never a crash', function () {
    const cases = [
      undefined,
      'device-1',
      { deviceName: 'x', credentialsType: 'PSK', credentials: {} },
      { deviceName: 'x', credentialsType: 'ACCESS_TOKEN', credentials: {} },
      { deviceName: 'x', credentialsType: 'MQTT_BASIC', credentials: { password: 'p' } },
      { deviceName: 'x', credentialsType: 'X509_CERTIFICATE', credentials: { certificate: 'C' } },
    ];
    for (const device of cases) {
      assert.throws(
        () => identityFromMessage(device),
        (error) => error.code === 'INVALID_INPUT' && error.details.field === 'device',
        JSON.stringify(device),
      );
    }
  });
});
