'use strict';
// Item 3 of #10: only an answer that arrives after our request was published counts.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { provisionDevice } = require('../../nodes/provisioning');
const { startHostileServer } = require('../helpers/hostile-server');
const { rejectsWith } = require('../provisioning/support');
const { hostileOptions, removeTempDirs } = require('./support');

describe('hostile server: an answer before the request', () => {
  let server;
  after(removeTempDirs);
  afterEach(async () => {
    if (server) await server.stop();
    server = undefined;
  });

  it('is ignored, said so in the warnings, and the answer to our request is the one used and stored', async () => {
    server = await startHostileServer('early-answer');
    const options = hostileOptions(server, { credentialsType: 'ACCESS_TOKEN', keyAlgorithm: undefined });
    const result = await provisionDevice(options);
    assert.equal(result.credentials.accessToken, 'real-token');
    assert.ok(
      result.warnings.some((text) => /before the request was published and acknowledged; it was ignored/.test(text)),
      result.warnings.join('\n'),
    );
    const stored = fs.readFileSync(`${result.stored.dir}/credentials.json`, 'utf8');
    assert.ok(!stored.includes('forged-early-token'));
  });

  it('alone, it is never taken for the credentials: the request stays unanswered (OUTCOME_UNKNOWN), nothing is committed', async () => {
    server = await startHostileServer('early-only');
    const options = hostileOptions(server, { server: { answerTimeoutMs: 300 } });
    const error = await rejectsWith(provisionDevice(options), 'OUTCOME_UNKNOWN');
    assert.ok(error.details.pendingKeyPath);
    assert.deepEqual(
      fs.readdirSync(options.storeDir).filter((name) => name !== '.pending'),
      [],
    );
    assert.equal(server.sessions[0].requests.length, 1);
  });
});
