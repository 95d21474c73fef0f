'use strict';
/**
 * Property-based fuzzing (fast-check): random input messages into the Node-RED node, random answer
 * bytes from the simulator into the core. Never a crash, an unhandled rejection or a hang: always a
 * result or a ProvisionError with a documented code.
 */
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { provisionDevice, ProvisionError, ERROR_CODES } = require('../../nodes/provisioning');
const { DEFAULT_PROFILE, startTestSimulator } = require('../helpers/simulator');
const { helper, provisionFlow, load, nextOutcome } = require('../helpers/node-red');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');

const HANG_LIMIT_MS = 20_000;
const ANYTHING = {
  maxDepth: 3,
  withNullPrototype: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withBoxedValues: true,
  withObjectString: true,
};
const JSON_SAFE = { maxDepth: 3, withObjectString: true };

/** Strings from empty to 1 MB (most small, some huge). */
const sizedString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }).chain((n) => fc.constantFrom('a', 'é', '\u0000', '<', '\n').map((c) => c.repeat(n))) },
);
const maybe = (arbitrary) => fc.oneof({ weight: 3, arbitrary }, { weight: 1, arbitrary: sizedString }, { weight: 1, arbitrary: fc.anything(ANYTHING) });

/** Mostly absent: a field appears (with a plausible or a random value) about one time in ten. */
const sometimes = (arbitrary) => fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: maybe(arbitrary) });

/** A GridLinks-style payload, valid unless some fields came out random; absent fields are dropped. */
const payloadLikeGridLinks = fc
  .record({
    deviceName: sometimes(fc.string({ minLength: 1, maxLength: 40 })),
    provisionDeviceKey: sometimes(fc.constant(DEFAULT_PROFILE.provisionDeviceKey)),
    provisionDeviceSecret: sometimes(fc.constant(DEFAULT_PROFILE.provisionDeviceSecret)),
    credentialsType: sometimes(fc.constantFrom('X509_CERTIFICATE', 'ACCESS_TOKEN', 'MQTT_BASIC', 'LWM2M_CREDENTIALS', 'x509', '')),
    token: sometimes(fc.string()),
    clientId: sometimes(fc.string()),
    username: sometimes(fc.string()),
    password: sometimes(fc.string()),
    certificate: sometimes(fc.constant('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')),
    privateKey: sometimes(fc.string()),
    keyAlgorithm: sometimes(fc.constantFrom('rsa2048', 'p256', 'p384', 'ed25519')),
    gateway: sometimes(fc.boolean()),
  })
  .map((fields) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)));

const inputMessage = fc.record(
  {
    payload: fc.oneof({ weight: 3, arbitrary: payloadLikeGridLinks }, { weight: 1, arbitrary: fc.anything(ANYTHING) }, { weight: 1, arbitrary: sizedString }),
    topic: fc.anything(ANYTHING),
    deviceName: fc.anything(ANYTHING),
    parts: fc.anything(ANYTHING),
  },
  // A msg object itself with a null prototype cannot reach a Catch node (Node-RED's Flow.handleError
  // calls msg.hasOwnProperty); the node logs such a failure instead, tested in test/nodes/errors.spec.js.
  { requiredKeys: ['payload'], noNullPrototype: true },
);

const answerBytes = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 512 }),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        status: fc.oneof(fc.constantFrom('SUCCESS', 'NOT_FOUND', 'FAILURE', 'success', ''), fc.anything(JSON_SAFE)),
        provisionDeviceStatus: fc.constantFrom('SUCCESS', 'FAILURE'),
        credentialsType: fc.oneof(fc.constantFrom('ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE', 'LWM2M_CREDENTIALS'), fc.anything(JSON_SAFE)),
        credentialsValue: fc.oneof(
          fc.string(),
          fc.record({ clientId: fc.anything(JSON_SAFE), userName: fc.anything(JSON_SAFE), password: fc.anything(JSON_SAFE) }, { requiredKeys: [] }),
          fc.anything(JSON_SAFE),
        ),
        errorMsg: fc.anything(JSON_SAFE),
      },
      { requiredKeys: [] },
    )
    .map((answer) => JSON.stringify(answer)),
);

const isPlainObject = (value) => value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;

function withinHangLimit(promise, what) {
  let timer;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result and no error within ${HANG_LIMIT_MS} ms`)), HANG_LIMIT_MS);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** Collects unhandled rejections while a property runs. */
function watchUnhandled() {
  const seen = [];
  const listener = (reason) => seen.push(reason);
  process.on('unhandledRejection', listener);
  return {
    seen,
    stop: () => process.removeListener('unhandledRejection', listener),
  };
}

describe('fuzzing (fast-check): always a result or a coded error', function () {
  this.timeout(120_000);
  let sim;
  let baseline;

  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    await sim?.stop();
  });
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    sim.setFaults({});
    await expectNothingLeft(baseline);
  });

  it("the node's input message: random shapes, types and sizes up to 1 MB", async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'p256', maxParallel: 4 }, server: { connectTimeout: 5, answerTimeout: 3 } });
    await load(flow, credentials);
    const unhandled = watchUnhandled();
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(inputMessage, async (msg) => {
          // A payload without a device name gets a fresh one, so most messages reach the server.
          if (isPlainObject(msg.payload) && !('deviceName' in msg.payload)) msg.payload.deviceName = `fuzz-node-${process.pid}-${++n}`;
          const outcome = nextOutcome();
          helper.getNode('prov').receive(msg);
          const { ok, msg: out } = await withinHangLimit(outcome, 'node message');
          if (!ok) assert.ok(ERROR_CODES.includes(out.error.code), `uncoded error: ${out.error.message}`);
          else assert.ok(out.payload && typeof out.payload.credentialsType === 'string');
          assert.deepEqual(unhandled.seen, []);
        }),
        { numRuns: 200 },
      );
    } finally {
      unhandled.stop();
      await helper.unload();
    }
  });

  it('the answer bytes the server returns', async function () {
    const unhandled = watchUnhandled();
    let n = 0;
    const kinds = [
      { credentialsType: 'ACCESS_TOKEN' },
      { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' },
      { credentialsType: 'MQTT_BASIC', clientId: 'c', username: 'u', password: 'p' },
    ];
    try {
      await fc.assert(
        fc.asyncProperty(answerBytes, fc.constantFrom(...kinds), async (rawAnswer, kind) => {
          sim.setFaults({ rawAnswer });
          const options = {
            server: { host: '127.0.0.1', port: sim.mqttsPort, tls: true, ca: sim.caPem, connectTimeoutMs: 5000, answerTimeoutMs: 3000 },
            provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
            provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
            deviceName: `fuzz-answer-${process.pid}-${++n}`,
            ...kind,
          };
          const outcome = await withinHangLimit(
            provisionDevice(options).then(
              (result) => ({ result }),
              (error) => ({ error }),
            ),
            'core',
          );
          if (outcome.error) {
            assert.ok(outcome.error instanceof ProvisionError, `not a ProvisionError: ${outcome.error.stack}`);
            assert.ok(ERROR_CODES.includes(outcome.error.code));
          } else {
            assert.ok(typeof outcome.result.credentialsType === 'string');
          }
          assert.deepEqual(unhandled.seen, []);
        }),
        { numRuns: 300 },
      );
    } finally {
      unhandled.stop();
    }
  });
});
