'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startTestSimulator, connectDevice } = require('../helpers/simulator');
const { helper, provisionFlow, load, expectOutput, expectCaught } = require('../helpers/node-red');
const { makeFleetPki, deviceCsr, openssl } = require('../helpers/chain-pki');

describe('gridlinks-provision: X.509 chain (signed here) against the simulator over TLS', function () {
  this.timeout(60_000);
  let pki;
  let sim;
  before(async function () {
    pki = makeFleetPki();
    sim = await startTestSimulator({
      mqttPort: null,
      profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem, certificateRegExPattern: '^gw-(.*)$' }],
    });
  });
  after(async function () {
    await sim.stop();
    pki.remove();
  });
  afterEach(async function () {
    await helper.unload();
  });

  const CHAIN_PROPS = { credentialsType: 'X509_CERTIFICATE_CHAIN', certificateRegExPattern: '^gw-(.*)$', signerCertType: 'cred', signerKeyType: 'cred' };
  const signerCredentials = () => ({ signerCertificate: pki.fleet.certPem, signerPrivateKey: pki.fleet.keyPem });
  const device = (name) => sim.devices().find((d) => d.name === name);

  it('signer as node credentials: provisions by chain; the output has leaf, key and chain; the device connects with them', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: CHAIN_PROPS, provisionCreds: signerCredentials() });
    await load(flow, credentials);
    const msg = await expectOutput({ payload: { deviceName: 'meter-1', commonName: 'gw-meter-1' } });
    const result = msg.payload;
    assert.equal(result.deviceName, 'meter-1');
    assert.equal(result.provisioned, true);
    assert.equal(result.credentials.chain, pki.fleet.certPem);
    assert.equal(device('meter-1').credentials.credentialsId, result.credentials.credentialsId);
    assert.doesNotMatch(JSON.stringify(msg), new RegExp(pki.fleet.keyPem.split('\n')[1].replace(/[+/]/g, '\\$&')));
    const { client } = await connectDevice(sim, { tls: true, cert: result.connectOptions.cert, key: result.credentials.privateKey });
    await client.endAsync();
  });

  it('msg.payload.csr: issues for the CSR (signer from msg and env), sends nothing; openssl verifies the certificate', async function () {
    process.env.GRIDLINKS_TEST_SIGNER_KEY = pki.fleet.keyPem;
    try {
      const props = { ...CHAIN_PROPS, signerCert: 'signer', signerCertType: 'msg', signerKey: 'GRIDLINKS_TEST_SIGNER_KEY', signerKeyType: 'env' };
      const { flow, credentials } = provisionFlow(sim, { props, provisionCreds: {} });
      await load(flow, credentials);
      const csr = deviceCsr(pki.dir, 'nr-csr', 'gw-meter-2');
      const count = sim.devices().length;
      const msg = await expectOutput({ payload: { csr: csr.csrPem }, signer: pki.fleet.certPem });
      assert.equal(msg.payload.provisioned, false);
      assert.equal(msg.payload.issued, true);
      assert.equal(msg.payload.deviceName, 'meter-2');
      assert.equal(msg.payload.credentials.privateKey, undefined);
      assert.equal(sim.devices().length, count);
      const leaf = new crypto.X509Certificate(msg.payload.credentials.certificate);
      assert.equal(leaf.publicKey.export({ type: 'spki', format: 'pem' }), openssl(['req', '-in', csr.csrFile, '-noout', '-pubkey']).toString());
      assert.equal(leaf.verify(new crypto.X509Certificate(pki.fleet.certPem).publicKey), true);
    } finally {
      delete process.env.GRIDLINKS_TEST_SIGNER_KEY;
    }
  });

  it('a refusal reaches Catch as CHAIN_REFUSED; a missing signer key as INVALID_INPUT; the node keeps working', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { ...CHAIN_PROPS, certificateRegExPattern: '' }, provisionCreds: signerCredentials() });
    await load(flow, credentials);
    const refused = await expectCaught({ payload: { deviceName: 'not-gw' } });
    assert.equal(refused.gridlinksError.code, 'CHAIN_REFUSED');
    assert.doesNotMatch(refused.gridlinksError.message, /PRIVATE KEY/);
    const ok = await expectOutput({ payload: { deviceName: 'gw-meter-3' } });
    assert.equal(ok.payload.deviceName, 'gw-meter-3');
    await helper.unload();

    const missing = provisionFlow(sim, { props: CHAIN_PROPS, provisionCreds: { signerCertificate: pki.fleet.certPem } });
    await load(missing.flow, missing.credentials);
    const caught = await expectCaught({ payload: { deviceName: 'gw-x' } });
    assert.equal(caught.gridlinksError.code, 'INVALID_INPUT');
    assert.equal(caught.gridlinksError.details.field, 'signerKey');
  });
});
