'use strict';
// Item 2 of #10: any malformed answer is BAD_RESPONSE with the kept key named; never a RangeError or an internal error.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { acceptAnswer } = require('../../nodes/provisioning/mqtt');
const { provisionDevice } = require('../../nodes/provisioning');
const { startHostileServer } = require('../helpers/hostile-server');
const { rejectsWith } = require('../provisioning/support');
const { hostileOptions, assertKeptKeyNamed, removeTempDirs } = require('./support');

const OUTCOMES_OF_AN_ANSWER = new Set(['BAD_RESPONSE', 'NOT_FOUND', 'FAILURE', 'CREDENTIAL_MISMATCH']);

describe('hostile server: malformed answers', () => {
  let server;
  after(removeTempDirs);
  afterEach(async () => {
    if (server) await server.stop();
    server = undefined;
  });

  for (const field of ['status', 'credentialsValue', 'credentialsType', 'errorMsg', 'bare']) {
    it(`16 KB of nesting in ${field}: BAD_RESPONSE naming the kept key`, async () => {
      server = await startHostileServer('deep-nesting', { field });
      const error = await rejectsWith(provisionDevice(hostileOptions(server)), 'BAD_RESPONSE');
      assertKeptKeyNamed(error);
    });
  }

  it('a token that is not UTF-8: BAD_RESPONSE (not a token with U+FFFD in it)', async () => {
    server = await startHostileServer('non-utf8');
    const error = await rejectsWith(provisionDevice(hostileOptions(server)), 'BAD_RESPONSE');
    assert.match(error.message, /not UTF-8/);
    assertKeptKeyNamed(error);
  });

  it('a token with a terminal escape sequence: BAD_RESPONSE, no device can use it', async () => {
    server = await startHostileServer('control-token');
    const error = await rejectsWith(provisionDevice(hostileOptions(server, { credentialsType: 'ACCESS_TOKEN', keyAlgorithm: undefined })), 'BAD_RESPONSE');
    assert.match(error.message, /control characters/);
  });

  it('credentials no device can use (a 5,000-character token, control characters in a user name): BAD_RESPONSE', () => {
    const token = { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 't'.repeat(5000) };
    assert.throws(
      () => acceptAnswer(Buffer.from(JSON.stringify(token)), { requested: 'ACCESS_TOKEN' }),
      (error) => error.code === 'BAD_RESPONSE' && /5000 characters/.test(error.message),
    );
    const basic = { status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: { userName: 'u\u0007', password: 'p' } };
    assert.throws(
      () => acceptAnswer(Buffer.from(JSON.stringify(basic)), { requested: 'MQTT_BASIC' }),
      (error) => error.code === 'BAD_RESPONSE' && /control characters/.test(error.message),
    );
  });

  it('any JSON value in any field is an answer outcome (never another error), and nothing thrown is not a ProvisionError', () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const field = fc.oneof(anyJson, fc.constantFrom('SUCCESS', 'FAILURE', 'NOT_FOUND', 'ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE'));
    const answer = fc.record(
      { status: field, provisionDeviceStatus: field, credentialsType: field, credentialsValue: field, errorMsg: field },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(answer, fc.constantFrom('ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE'), (fields, requested) => {
        try {
          acceptAnswer(Buffer.from(JSON.stringify(fields)), { requested });
        } catch (error) {
          assert.equal(error.name, 'ProvisionError', String(error));
          assert.ok(OUTCOMES_OF_AN_ANSWER.has(error.code), error.code);
          assert.equal(error.details.requestSent, true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('nesting 200 000 deep in every field, and bytes that are not JSON or not UTF-8: BAD_RESPONSE', () => {
    const nested = '['.repeat(200_000) + ']'.repeat(200_000);
    const bodies = [
      `{"status":${nested}}`,
      `{"status":"SUCCESS","credentialsType":"MQTT_BASIC","credentialsValue":${nested}}`,
      `{"status":"SUCCESS","credentialsType":${nested}}`,
      `{"status":"FAILURE","errorMsg":${nested}}`,
      '['.repeat(16 * 1024),
      Buffer.from([0x7b, 0xff, 0x7d]),
    ];
    for (const body of bodies) {
      assert.throws(
        () => acceptAnswer(Buffer.from(body), { requested: 'MQTT_BASIC' }),
        (error) => error.code === 'BAD_RESPONSE',
      );
    }
  });
});
