'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startNodeRed } = require('../../nodes/demo/node-red-process');
const { NodeRedAdmin } = require('../../nodes/demo/admin-api');
const { tempDir } = require('../helpers/faults');

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
const SECRET = 'nr-export-secret-do-not-leak';
const KEY = 'nr-export-key-do-not-leak';
const CA_MARKER = 'MIIBnr-export-ca-marker';
const CA = `-----BEGIN CERTIFICATE-----\n${CA_MARKER}\n-----END CERTIFICATE-----\n`;
const SIGNER_KEY_MARKER = 'MIIEnr-export-signer-key-do-not-leak';
const SIGNER_KEY = `-----BEGIN PRIVATE KEY-----\n${SIGNER_KEY_MARKER}\n-----END PRIVATE KEY-----\n`;

/** What the editor deploys: nodes with their credentials inline. */
const DEPLOYED = [
  { id: 'tab1', type: 'tab', label: 'export' },
  {
    id: 'srv',
    type: 'gridlinks-server',
    host: '127.0.0.1',
    port: 8883,
    tls: true,
    verifyServerCert: true,
    servername: '',
    protocolVersion: 4,
    caFile: '',
    connectTimeout: 10,
    answerTimeout: 15,
    name: '',
    credentials: { ca: CA },
  },
  {
    id: 'prov',
    type: 'gridlinks-provision',
    z: 'tab1',
    name: '',
    server: 'srv',
    credentialsType: 'X509_CERTIFICATE',
    keyAlgorithm: 'rsa2048',
    deviceName: 'payload.deviceName',
    deviceNameType: 'msg',
    provisionKey: '',
    provisionKeyType: 'cred',
    provisionSecret: '',
    provisionSecretType: 'cred',
    verify: false,
    storeDir: '',
    includePrivateKey: true,
    maxParallel: 4,
    outputProperty: 'payload',
    x: 200,
    y: 100,
    wires: [[]],
    credentials: { provisionDeviceKey: KEY, provisionDeviceSecret: SECRET, signerPrivateKey: SIGNER_KEY },
  },
];

describe('exported flow and flow file carry no secret (real Node-RED process)', function () {
  this.timeout(90000);
  let nodeRed;
  let admin;
  let userDir;
  before(async function () {
    userDir = tempDir('nr-export');
    nodeRed = await startNodeRed({ userDir, uiPort: 0, linkPackageDir: PACKAGE_DIR });
    admin = new NodeRedAdmin(nodeRed.url);
    await admin.deploy(DEPLOYED);
  });
  after(async function () {
    if (nodeRed) await nodeRed.stop();
  });

  it('GET /flows (what Export gives) has neither the key, the secret nor the CA', async function () {
    const text = JSON.stringify(await admin.getJson('/flows'));
    assert.match(text, /gridlinks-provision/);
    for (const needle of [SECRET, KEY, CA_MARKER, SIGNER_KEY_MARKER]) assert.equal(text.includes(needle), false, `${needle} in GET /flows`);
  });

  it('flows.json has none of them; they live in flows_cred.json', async function () {
    const flowFile = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    for (const needle of [SECRET, KEY, CA_MARKER, SIGNER_KEY_MARKER]) assert.equal(flowFile.includes(needle), false, `${needle} in flows.json`);
    const credFile = JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8'));
    assert.equal(credFile.prov.provisionDeviceSecret, SECRET);
    assert.equal(credFile.srv.ca, CA);
  });

  it('the editor gets has_<secret> flags for the password credentials, never their values', async function () {
    const creds = await admin.getJson('/credentials/gridlinks-provision/prov');
    // The signer certificate is a public CA certificate (a text credential, shown back in the editor); its key is not.
    assert.deepEqual(creds, { has_provisionDeviceKey: true, has_provisionDeviceSecret: true, has_signerPrivateKey: true, signerCertificate: '' });
  });

  it('the bad (placeholder) CA is reported in the log without its content', async function () {
    const line = await nodeRed.waitForLine(/gridlinks-server/i);
    assert.equal(nodeRed.lines.join('\n').includes(CA_MARKER), false);
    assert.match(line, /\[error\].*cannot be parsed/);
  });
});
