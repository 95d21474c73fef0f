'use strict';
// #10 in the Node-RED runtime: the answer limit (config node option), malformed answers and server text,
// as the provision node reports them (Catch, status).
const assert = require('node:assert/strict');
const { startHostileServer } = require('../helpers/hostile-server');
const { helper, provisionFlow, load, expectCaught, expectOutput, waitUntil } = require('../helpers/node-red');
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/;

function hostileFlow(server, { props = {}, serverProps = {} } = {}) {
  return provisionFlow(
    { mqttsPort: server.port },
    {
      props: { credentialsType: 'ACCESS_TOKEN', ...props },
      server: { tls: false, answerTimeout: 5, ...serverProps },
      serverCreds: {},
    },
  );
}

describe('hostile server: the gridlinks-provision node', function () {
  let server;
  afterEach(async function () {
    await helper.unload();
    if (server) await server.stop();
    server = undefined;
  });

  it('a 200 MB announcement: BAD_RESPONSE to Catch, status BAD_RESPONSE; the node works for the next message', async function () {
    server = await startHostileServer('huge-announced');
    const { flow, credentials } = hostileFlow(server);
    await load(flow, credentials);
    const prov = helper.getNode('prov');
    for (const deviceName of ['nr-huge-1', 'nr-huge-2']) {
      const msg = await expectCaught({ payload: { deviceName } });
      assert.equal(msg.error.code, 'BAD_RESPONSE');
      assert.equal(msg.gridlinksError.details.requestSent, true);
    }
    await waitUntil(() => prov.status.lastCall && prov.status.lastCall.args[0].text === 'BAD_RESPONSE');
  });

  it('Max. answer (KiB) on the server node raises the limit: a 100 KB FAILURE is read and its text shortened', async function () {
    server = await startHostileServer('huge-error', { size: 100_000 });
    const { flow, credentials } = hostileFlow(server, { serverProps: { maxAnswerKiB: 200 } });
    await load(flow, credentials);
    const msg = await expectCaught({ payload: { deviceName: 'nr-long-error' } });
    assert.equal(msg.error.code, 'FAILURE');
    assert.match(msg.error.message, /… \(99966 characters in all\)/);
  });

  it('a bad Max. answer is a configuration error (INVALID_INPUT, field maxAnswerKiB)', async function () {
    server = await startHostileServer('honest-token');
    const { flow, credentials } = hostileFlow(server, { serverProps: { maxAnswerKiB: 0.5 } });
    await load(flow, credentials);
    const msg = await expectCaught({ payload: { deviceName: 'nr-bad-limit' } });
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.equal(msg.gridlinksError.details.field, 'maxAnswerKiB');
  });

  it('16 KB of nesting: BAD_RESPONSE (not INVALID_INPUT, not "nothing sent")', async function () {
    server = await startHostileServer('deep-nesting');
    const { flow, credentials } = hostileFlow(server);
    await load(flow, credentials);
    const msg = await expectCaught({ payload: { deviceName: 'nr-nested' } });
    assert.equal(msg.error.code, 'BAD_RESPONSE');
    assert.equal(msg.gridlinksError.details.requestSent, true);
  });

  it('errorMsg with escape sequences: escaped in the error message, exact in gridlinksError.details', async function () {
    server = await startHostileServer('escape-error');
    const { flow, credentials } = hostileFlow(server);
    await load(flow, credentials);
    const msg = await expectCaught({ payload: { deviceName: 'nr-escapes' } });
    assert.equal(msg.error.code, 'FAILURE');
    assert.doesNotMatch(msg.error.message, RAW_CONTROL);
    assert.match(msg.error.message, /\\x1b\[2J/);
    // eslint-disable-next-line no-control-regex -- the raw escape sequence the server sent
    assert.match(msg.gridlinksError.details.serverMessage, /\u001b\[2J/);
  });

  it('an early answer is not taken: the output carries the real token and says the early one was ignored', async function () {
    server = await startHostileServer('early-answer');
    const { flow, credentials } = hostileFlow(server);
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-early' } });
    assert.equal(msg.payload.credentials.accessToken, 'real-token');
    assert.ok(msg.payload.warnings.some((text) => /it was ignored/.test(text)));
  });
});
