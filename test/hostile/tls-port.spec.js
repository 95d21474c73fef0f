'use strict';
// Item 6 of #10 (core side): TLS off against a port that speaks TLS is a setting problem (TLS, reason TLS_PORT),
// told apart from a plain server that just closes.
const assert = require('node:assert/strict');
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
});
