'use strict';
/**
 * Property-based fuzzing (fast-check) of HTTP provisioning: random answer bytes from the simulator's HTTP
 * listener into the core (always a result or a documented ProvisionError, nothing left open), and random
 * request bodies into the listener (always 200, 413 or 500; it keeps serving).
 */
const assert = require('node:assert/strict');
const http = require('node:http');
const fc = require('fast-check');
const { provisionDevice, ProvisionError, ERROR_CODES } = require('../../nodes/provisioning');
const { DEFAULT_PROFILE, startTestSimulator } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');

function post(sim, body) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: sim.host, port: sim.httpPort, path: '/api/v1/provision', method: 'POST', agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Request bodies: random bytes, random strings, lenient-looking objects with GridLinks' field names. */
const fieldName = fc.constantFrom(
  'deviceName',
  'provisionDeviceKey',
  'provisionDeviceSecret',
  'credentialsType',
  'token',
  'clientId',
  'username',
  'password',
  'hash',
  'gateway',
  '__proto__',
);
const fieldValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    `'${DEFAULT_PROFILE.provisionDeviceKey}'`,
    `"${DEFAULT_PROFILE.provisionDeviceSecret}"`,
    'ACCESS_TOKEN',
    'null',
    'true',
    '[1,2]',
    '{}',
    "'a\\u0000b'",
    '{{x}}',
  ),
);
const requestBody = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 256 }),
  fc.json({ maxDepth: 3 }),
  fc
    .array(fc.tuple(fieldName, fc.constantFrom(':', '=', '=>'), fieldValue), { maxLength: 8 })
    .chain((members) => fc.constantFrom(',', ';').map((separator) => `{${members.map(([name, colon, value]) => `${name}${colon}${value}`).join(separator)}}`)),
);

describe('fuzzing HTTP provisioning (fast-check)', function () {
  this.timeout(120_000);
  let sim;
  let baseline;
  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null, httpPort: 0 });
  });
  after(() => sim?.stop());
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    sim.setFaults({});
    await expectNothingLeft(baseline);
  });

  it('the answer bytes over HTTP: always a result or a coded error', async function () {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
          fc.json({ maxDepth: 3 }),
          fc.string({ maxLength: 512 }),
        ),
        async (rawAnswer) => {
          sim.setFaults({ rawAnswer });
          const outcome = await provisionDevice({
            server: {
              host: '127.0.0.1',
              transport: 'http',
              tls: false,
              port: sim.httpPort,
              connectTimeoutMs: 5000,
              answerTimeoutMs: 5000,
              maxAnswerBytes: 2048,
            },
            provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
            provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
            deviceName: `fuzz-http-${process.pid}-${++n}`,
            credentialsType: 'ACCESS_TOKEN',
          }).then(
            (result) => ({ result }),
            (error) => ({ error }),
          );
          if (outcome.error) {
            assert.ok(outcome.error instanceof ProvisionError, `not a ProvisionError: ${outcome.error.stack}`);
            assert.ok(ERROR_CODES.includes(outcome.error.code));
            assert.equal(outcome.error.details.requestSent, true);
          } else {
            assert.equal(outcome.result.credentialsType, 'ACCESS_TOKEN');
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('request bodies into the listener: always 200 with a status, 400 for an empty body (as GridLinks), or 500; it keeps serving', async function () {
    await fc.assert(
      fc.asyncProperty(requestBody, async (body) => {
        const answer = await post(sim, body);
        const expected = String(body).length === 0 ? [400] : [200, 500];
        assert.ok(expected.includes(answer.status), `${answer.status} for ${String(body).slice(0, 80)}`);
        if (answer.status === 200) assert.ok(['SUCCESS', 'NOT_FOUND', 'FAILURE'].includes(JSON.parse(answer.body).status));
      }),
      { numRuns: 300 },
    );
    const healthy = await post(
      sim,
      JSON.stringify({
        provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
        provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
        deviceName: `fuzz-after-${process.pid}`,
      }),
    );
    assert.equal(JSON.parse(healthy.body).status, 'SUCCESS');
  });
});
