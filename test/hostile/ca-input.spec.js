'use strict';
// Item 5 of #10: the CA input accepts certificates only; no key ever reaches a result.
const assert = require('node:assert/strict');
const { generateKeyPairSync } = require('node:crypto');
const { provisionDevice, validateServer } = require('../../nodes/provisioning');
const { startSim, options, rejectsWith } = require('../provisioning/support');
const { startTestSimulator } = require('../helpers/simulator');
const { helper, provisionFlow, load, expectCaught, expectOutput, waitUntil } = require('../helpers/node-red');

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' });
const RSA_KEY_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' });
const KEY_MATERIAL = KEY_PEM.split('\n')[1];

describe('hostile input: the CA accepts certificates only', () => {
  let sim;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.stop());

  const refused = [
    ['a bundle that also holds a PKCS#8 private key', () => `${sim.caPem}${KEY_PEM}`, /contains a private key \("PRIVATE KEY" PEM block\)/],
    ['a key before the certificate (PKCS#1)', () => `${RSA_KEY_PEM}${sim.caPem}`, /contains a private key \("RSA PRIVATE KEY" PEM block\)/],
    ['another kind of PEM block', () => `${sim.caPem}-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n`, /"X509 CRL" PEM block/],
    ['a cut-off certificate', () => sim.caPem.slice(0, sim.caPem.length - 30), /incomplete PEM block/],
  ];
  for (const [title, bundle, message] of refused) {
    it(`core: ${title} is INVALID_INPUT naming the problem, never quoting the key`, () => {
      assert.throws(
        () => validateServer({ host: 'h', ca: bundle() }),
        (error) =>
          error.code === 'INVALID_INPUT' && error.details.field === 'server.ca' && message.test(error.message) && !error.message.includes(KEY_MATERIAL),
      );
    });
  }

  it('core: titles around the certificates are allowed and left out; the result carries the certificates only', async () => {
    const bundle = `# GridLinks test CA\n${sim.caPem}\nsome notes\n`;
    const result = await provisionDevice(options(sim, { server: { ca: bundle }, credentialsType: 'ACCESS_TOKEN' }));
    assert.equal(result.connectOptions.ca, sim.caPem.replace(/\r\n/g, '\n'));
    const error = await rejectsWith(
      provisionDevice(options(sim, { server: { ca: `${sim.caPem}${KEY_PEM}` }, credentialsType: 'ACCESS_TOKEN' })),
      'INVALID_INPUT',
    );
    assert.equal(error.details.requestSent, undefined);
  });
});

describe('hostile input: the gridlinks-server CA with a private key', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('is refused at deploy (INVALID_INPUT, CA status), and the key is in no message or log', async function () {
    const { flow, credentials } = provisionFlow(sim, { serverCreds: { ca: `${sim.caPem}${KEY_PEM}` } });
    await load(flow, credentials);
    const srv = helper.getNode('srv');
    const prov = helper.getNode('prov');
    assert.equal(srv.error.callCount, 1);
    await waitUntil(() => prov.status.callCount > 0);
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'CA' });
    const msg = await expectCaught({ payload: { deviceName: 'nr-ca-with-key' } });
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.match(msg.error.message, /private key/);
    assert.equal(JSON.stringify(msg).includes(KEY_MATERIAL), false);
    assert.equal(JSON.stringify(srv.error.args).includes(KEY_MATERIAL), false);
  });

  it('a bundle with titles works, and the result holds the certificates only', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' }, serverCreds: { ca: `GridLinks CA\n${sim.caPem}` } });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'nr-ca-titles' } });
    assert.equal(msg.payload.connectOptions.ca.startsWith('-----BEGIN CERTIFICATE-----'), true);
    assert.equal(msg.payload.connectOptions.ca.includes('GridLinks CA'), false);
  });
});
