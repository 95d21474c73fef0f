'use strict';
// Item 1 of #10: the answer size limit (maxAnswerBytes, default 64 KiB, whole packet). A bigger packet ends
// the session as soon as its header arrives: the client never reads (or buffers) the rest.
const assert = require('node:assert/strict');
const { provisionDevice, validateServer } = require('../../nodes/provisioning');
const { startHostileServer } = require('../helpers/hostile-server');
const { rejectsWith, resourceBaseline, leakedSince } = require('../provisioning/support');
const { hostileOptions, assertKeptKeyNamed, removeTempDirs } = require('./support');

describe('hostile server: answer size limit', () => {
  let server;
  after(removeTempDirs);
  afterEach(async () => {
    if (server) await server.stop();
    server = undefined;
  });

  for (const protocolVersion of [4, 5]) {
    it(`MQTT ${protocolVersion}: a packet announced as 200 MB ends the session at once with BAD_RESPONSE naming the kept key`, async () => {
      server = await startHostileServer('huge-announced');
      const baseline = await resourceBaseline();
      const error = await rejectsWith(provisionDevice(hostileOptions(server, { server: { protocolVersion } })), 'BAD_RESPONSE');
      assert.match(error.message, /2097152\d\d bytes, more than the limit of 65536/);
      assert.match(error.message, /request had been sent/);
      assertKeptKeyNamed(error);
      assert.deepEqual(await leakedSince(baseline), []);
    });
  }

  // The memory this takes (none beyond the limit) is measured in bench/tables/hostile.js, not here.
  for (const mode of ['huge-answer', 'huge-error', 'huge-token']) {
    it(`${mode}: a real 8 MB answer is refused from its header with BAD_RESPONSE naming the kept key`, async () => {
      server = await startHostileServer(mode, { size: 8 << 20 });
      const error = await rejectsWith(provisionDevice(hostileOptions(server)), 'BAD_RESPONSE');
      assert.match(error.message, /sent a packet of 838\d{4} bytes/);
      assertKeptKeyNamed(error);
    });
  }

  it('a huge packet before the request was published: BAD_RESPONSE, nothing sent, no key kept', async () => {
    server = await startHostileServer('huge-announced-early');
    const error = await rejectsWith(provisionDevice(hostileOptions(server)), 'BAD_RESPONSE');
    assert.equal(error.details.requestSent, false);
    assert.equal(error.details.pendingKeyPath, undefined);
    assert.match(error.message, /Nothing was sent/);
    assert.equal(server.sessions[0].requests.length, 0);
  });

  it('the limit is an option: a 100 KB errorMsg passes with maxAnswerBytes 200000 and is shown shortened', async () => {
    server = await startHostileServer('huge-error', { size: 100_000 });
    const small = await rejectsWith(provisionDevice(hostileOptions(server)), 'BAD_RESPONSE');
    assert.match(small.message, /more than the limit of 65536/);
    const error = await rejectsWith(provisionDevice(hostileOptions(server, { server: { maxAnswerBytes: 200_000 } })), 'FAILURE');
    assert.ok(error.message.length < 2000, `message of ${error.message.length} characters`);
    assert.match(error.message, /\(99966 characters in all\)/);
    assert.equal(error.details.serverMessage.length, 99_966, 'details keep the exact text');
  });

  it('maxAnswerBytes is checked like every option', () => {
    assert.equal(validateServer({ host: 'h' }).maxAnswerBytes, 65536);
    assert.equal(validateServer({ host: 'h', maxAnswerBytes: 4096 }).maxAnswerBytes, 4096);
    for (const bad of [0, 1023, 1.5, 'lots', 268_435_456]) {
      assert.throws(
        () => validateServer({ host: 'h', maxAnswerBytes: bad }),
        (error) => error.code === 'INVALID_INPUT' && error.details.field === 'server.maxAnswerBytes',
      );
    }
  });
});
