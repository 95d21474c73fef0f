'use strict';
// Item 6 of #10 (core side): TLS off against a port that speaks TLS is a setting problem (TLS, reason TLS_PORT),
// told apart from a plain server that just closes.
const assert = require('node:assert/strict');
const http = require('node:http');
const { provisionDevice } = require('../../nodes/provisioning');
const { startHostileServer } = require('../helpers/hostile-server');
const { rejectsWith } = require('../provisioning/support');
const { hostileOptions, removeTempDirs } = require('./support');

describe('hostile server: plain MQTT against a TLS port', () => {
  let server;
  after(removeTempDirs);
  afterEach(async () => {
    if (server) await server.stop();
    server = undefined;
  });

  it('a TLS alert in answer to the plain CONNECT: TLS (TLS_PORT) with the hint, nothing sent', async () => {
    server = await startHostileServer('tls-alert');
    const error = await rejectsWith(provisionDevice(hostileOptions(server, { credentialsType: 'ACCESS_TOKEN', keyAlgorithm: undefined })), 'TLS');
    assert.equal(error.details.reason, 'TLS_PORT');
    assert.equal(error.details.requestSent, false);
    assert.match(error.message, /speaks TLS, but TLS is off/);
  });

  it('a plain server closing without a byte is not taken for a TLS port: CONNECTION_CLOSED, nothing sent', async () => {
    server = await startHostileServer('close-on-connect');
    const error = await rejectsWith(provisionDevice(hostileOptions(server, { credentialsType: 'ACCESS_TOKEN', keyAlgorithm: undefined })), 'CONNECTION_CLOSED');
    assert.equal(error.details.requestSent, false);
    assert.equal(server.sessions.length, 2, 'the MQTT session, then the TLS question (a ClientHello, nothing else)');
  });

  it('an HTTP port (it answers the CONNECT with an HTTP error): CONNECTION_CLOSED "does not speak MQTT", reason NOT_MQTT, no undefined detail', async () => {
    const web = http.createServer((request, response) => response.writeHead(400).end('bad request'));
    await new Promise((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const options = { server: { host: '127.0.0.1', port: web.address().port, tls: false }, provisionDeviceKey: 'k', provisionDeviceSecret: 's' };
      const error = await rejectsWith(provisionDevice({ ...options, credentialsType: 'ACCESS_TOKEN', deviceName: 'http-port' }), 'CONNECTION_CLOSED');
      assert.equal(error.details.reason, 'NOT_MQTT');
      assert.equal(error.details.requestSent, false);
      assert.match(error.message, /does not speak MQTT/);
      assert.ok(
        Object.values(error.details).every((value) => value !== undefined),
        JSON.stringify(Object.keys(error.details)),
      );
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
  });
});
