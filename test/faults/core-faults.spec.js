'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice, ProvisionError } = require('../../nodes/provisioning');
const { DEFAULT_PROFILE } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft, tempDir } = require('../helpers/faults');
const { CASES, CONNECT_TIMEOUT_MS, ANSWER_TIMEOUT_MS, failureBoundMs } = require('./cases');
const { startFaultContext } = require('./context');

let counter = 0;
const nextName = () => `core-fault-${process.pid}-${++counter}`;

function options(ctx, testCase, storeDir) {
  return {
    server: {
      host: '127.0.0.1',
      port: ctx.sim.mqttsPort,
      tls: true,
      ca: ctx.sim.caPem,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      answerTimeoutMs: testCase?.answerTimeoutMs ?? ANSWER_TIMEOUT_MS,
      ...(testCase?.server ? testCase.server(ctx) : {}),
    },
    provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
    provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
    deviceName: nextName(),
    credentialsType: 'X509_CERTIFICATE',
    keyAlgorithm: 'p256',
    storeDir,
  };
}

function pendingFiles(storeDir) {
  const pending = path.join(storeDir, '.pending');
  return fs.existsSync(pending) ? fs.readdirSync(pending) : [];
}

describe('faults through the core: a coded error within its timeout, then the next provisioning works', function () {
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
    ctx.sim.setFaults({});
    await expectNothingLeft(baseline);
  });

  for (const testCase of CASES) {
    it(`${testCase.title} → ${testCase.code}`, async function () {
      const storeDir = tempDir('core-fault');
      if (testCase.faults) ctx.sim.setFaults(testCase.faults);
      const failing = options(ctx, testCase, storeDir);
      const started = Date.now();
      const error = await provisionDevice(failing).then(
        (result) => assert.fail(`expected ${testCase.code}, got a result for ${result.deviceName}`),
        (caught) => caught,
      );
      const elapsed = Date.now() - started;
      assert.ok(error instanceof ProvisionError, `not a ProvisionError: ${error && error.stack}`);
      assert.equal(error.code, testCase.code, error.message);
      if (testCase.reason) assert.equal(error.details.reason, testCase.reason, error.message);
      assert.equal(error.details.requestSent === true, testCase.requestSent, `requestSent: ${error.message}`);
      assert.ok(elapsed < failureBoundMs(testCase), `took ${elapsed} ms`);
      assert.doesNotMatch(error.message, new RegExp(DEFAULT_PROFILE.provisionDeviceSecret));

      if (testCase.code === 'OUTCOME_UNKNOWN') {
        // The server may have the certificate now: its private key must survive.
        assert.ok(error.details.pendingKeyPath, error.message);
        assert.match(fs.readFileSync(error.details.pendingKeyPath, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
      } else if (!testCase.requestSent) {
        assert.deepEqual(pendingFiles(storeDir), [], 'nothing was sent, so no pending key may stay');
      }

      ctx.sim.setFaults({});
      const next = await provisionDevice(options(ctx, undefined, storeDir));
      assert.equal(next.credentialsType, 'X509_CERTIFICATE');
      assert.ok(next.stored && next.stored.files.length > 0);
    });
  }
});
