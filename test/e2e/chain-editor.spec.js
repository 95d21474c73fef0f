'use strict';
// The "X.509 chain (signed here)" choice in the real editor: the signer rows replace the key/secret rows,
// the signer certificate and key are pasted as node credentials, the device is created by chain login,
// and neither the signer key nor the certificate ends up in the deployed or exported flow.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  PACKAGE_DIR,
  NodeRedAdmin,
  startNodeRed,
  startTestSimulator,
  freshDir,
  afterFlowsRestart,
  requireChromium,
  launchChromium,
  waitFor,
} = require('../helpers/e2e');
const { makeFleetPki } = require('../helpers/chain-pki');
const { openNodeEditor, deploy, statusText, pressInject } = require('./editor-actions');

const DEVICE_NAME = 'browser-chain-1';

describe('editor in Chromium: X.509 chain (signed here)', function () {
  this.timeout(120000);
  let pki;
  let simulator;
  let nodeRed;
  let userDir;
  let browser;
  let page;
  const pageErrors = [];

  before(async function () {
    requireChromium(this);
    pki = makeFleetPki();
    simulator = await startTestSimulator({ profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem }] });
    const flows = [
      { id: 'c-tab', type: 'tab', label: 'chain' },
      {
        id: 'c-srv',
        type: 'gridlinks-server',
        name: 'simulator',
        host: simulator.host,
        port: simulator.mqttsPort,
        tls: true,
        verifyServerCert: true,
        servername: '',
        protocolVersion: 4,
        caFile: simulator.caFile,
        connectTimeout: 10,
        answerTimeout: 15,
      },
      {
        id: 'c-inject',
        type: 'inject',
        z: 'c-tab',
        name: 'device name',
        props: [{ p: 'payload' }],
        payload: JSON.stringify({ deviceName: DEVICE_NAME }),
        payloadType: 'json',
        repeat: '',
        once: false,
        x: 140,
        y: 100,
        wires: [['c-prov']],
      },
      {
        id: 'c-prov',
        type: 'gridlinks-provision',
        z: 'c-tab',
        name: '',
        server: 'c-srv',
        credentialsType: 'X509_CERTIFICATE',
        keyAlgorithm: 'p256',
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
        x: 360,
        y: 100,
        wires: [[]],
      },
    ];
    userDir = freshDir('chain-editor-node-red');
    nodeRed = await startNodeRed({ userDir, linkPackageDir: PACKAGE_DIR, flows });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(nodeRed.url);
    await page.waitForSelector('[id="c-prov"]', { timeout: 30000 });
  });

  after(async function () {
    await browser?.close();
    await nodeRed?.stop();
    await simulator?.stop();
    pki?.remove();
  });

  it('choosing the chain shows the signer rows instead of the provision key and secret', async function () {
    await openNodeEditor(page, 'c-prov');
    assert.equal(await page.isVisible('#node-input-provisionDeviceKey'), true);
    assert.equal(await page.isVisible('#node-input-signerCertificate'), false);
    await page.selectOption('#node-input-credentialsType', 'X509_CERTIFICATE_CHAIN');
    assert.equal(await page.isVisible('#node-input-provisionDeviceKey'), false);
    assert.equal(await page.isVisible('#node-input-provisionDeviceSecret'), false);
    assert.equal(await page.isVisible('#node-input-signerCertificate'), true);
    assert.equal(await page.isVisible('#node-input-signerPrivateKey'), true);
    assert.equal(await page.isVisible('#node-input-keyAlgorithm'), true);
    await page.fill('#node-input-signerCertificate', pki.fleet.certPem);
    await page.fill('#node-input-signerPrivateKey', pki.fleet.keyPem);
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  });

  it('deploys, provisions by chain; the signer key and certificate are in no flow file or GET /flows', async function () {
    await afterFlowsRestart(nodeRed, () => deploy(page));
    await pressInject(page, 'c-inject');
    await page.waitForFunction((name) => document.getElementById('c-prov')?.textContent.includes(name), DEVICE_NAME, { timeout: 30000 });
    assert.equal(await statusText(page, 'c-prov'), DEVICE_NAME);
    assert.equal(simulator.devices().find((d) => d.name === DEVICE_NAME).profile, 'fleet');
    const keyLine = pki.fleet.keyPem.split('\n')[1];
    const certLine = pki.fleet.certPem.split('\n')[1];
    const exported = JSON.stringify(await new NodeRedAdmin(nodeRed.url).getJson('/flows'));
    assert.match(exported, /X509_CERTIFICATE_CHAIN/);
    for (const line of [keyLine, certLine]) assert.equal(exported.includes(line), false);
    const flowFile = fs.readdirSync(userDir).filter((f) => /^flows.*\.json$/.test(f) && !f.includes('_cred'));
    for (const file of flowFile) assert.equal(fs.readFileSync(path.join(userDir, file), 'utf8').includes(keyLine), false);
  });

  it('reopened, the stored key is not shown and is kept when the dialog is saved again (the next message rotates)', async function () {
    await openNodeEditor(page, 'c-prov');
    assert.equal(await page.isVisible('#node-input-signerPrivateKey'), true);
    assert.equal((await page.inputValue('#node-input-signerPrivateKey')).includes('PRIVATE KEY'), false);
    await page.fill('#node-input-name', 'fleet CA');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
    await afterFlowsRestart(nodeRed, () => deploy(page));
    const credentialsId = () => simulator.devices().find((d) => d.name === DEVICE_NAME).credentials.credentialsId;
    const first = credentialsId();
    await pressInject(page, 'c-inject');
    await waitFor('the certificate rotated by the second message', () => credentialsId() !== first);
  });

  it('raised no error in the page', function () {
    assert.deepEqual(pageErrors, []);
  });
});
