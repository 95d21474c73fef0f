'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { helper, PROFILE, provisionFlow, load, expectCaught, expectOutput } = require('../helpers/node-red');
const { settledSnapshot, expectNothingLeft, tempDir } = require('../helpers/faults');
const { CASES, CONNECT_TIMEOUT_MS, ANSWER_TIMEOUT_MS, failureBoundMs } = require('./cases');
const { startFaultContext } = require('./context');

let counter = 0;
const nextMsg = () => ({ payload: { deviceName: `node-fault-${process.pid}-${++counter}` } });

/** The flow for one case: the server config node carries what differs (host, port, CA, timeouts). */
function flowFor(ctx, testCase, storeDir) {
  const { host, port, ca, ...rest } = testCase.server ? testCase.server(ctx) : {};
  assert.deepEqual(rest, {}, 'a case may only change host, port and CA');
  return provisionFlow(ctx.sim, {
    props: { storeDir, keyAlgorithm: 'p256' },
    server: {
      ...(host !== undefined ? { host } : {}),
      ...(port !== undefined ? { port } : {}),
      connectTimeout: CONNECT_TIMEOUT_MS / 1000,
      answerTimeout: (testCase.answerTimeoutMs ?? ANSWER_TIMEOUT_MS) / 1000,
    },
    serverCreds: { ca: ca ?? ctx.sim.caPem },
  });
}

function assertCoded(msg, testCase) {
  assert.equal(msg.error.code, testCase.code, msg.error.message);
  assert.equal(msg.gridlinksError.code, testCase.code);
  if (testCase.reason) assert.equal(msg.gridlinksError.details.reason, testCase.reason);
  assert.doesNotMatch(JSON.stringify(msg.gridlinksError), new RegExp(PROFILE.provisionDeviceSecret));
}

describe('faults through the Node-RED node: a coded error in a Catch node, and the node keeps working', function () {
  this.timeout(60_000);
  let ctx;
  let baseline;

  before(async function () {
    ctx = await startFaultContext();
  });
  after(async function () {
    await ctx?.stop();
  });
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    await helper.unload();
    ctx.sim.setFaults({});
    await expectNothingLeft(baseline);
  });

  for (const testCase of CASES) {
    it(`${testCase.title} → ${testCase.code}`, async function () {
      const storeDir = tempDir('node-fault');
      const { flow, credentials } = flowFor(ctx, testCase, storeDir);
      await load(flow, credentials);
      if (testCase.faults) ctx.sim.setFaults(testCase.faults);

      const started = Date.now();
      const caught = await expectCaught(nextMsg());
      assert.ok(Date.now() - started < failureBoundMs(testCase), `took ${Date.now() - started} ms`);
      assertCoded(caught, testCase);
      if (testCase.code === 'OUTCOME_UNKNOWN') {
        assert.match(fs.readFileSync(caught.gridlinksError.details.pendingKeyPath, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
      }

      if (testCase.faults) {
        // A server-side fault passes: the same node provisions the next message.
        ctx.sim.setFaults({});
        const out = await expectOutput(nextMsg());
        assert.equal(out.payload.credentialsType, 'X509_CERTIFICATE');
      } else {
        // A configuration fault stays: the next message fails the same way, the node is not wedged.
        assertCoded(await expectCaught(nextMsg()), testCase);
      }
    });
  }
});
