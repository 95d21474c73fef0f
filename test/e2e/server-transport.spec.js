'use strict';
// The gridlinks-server dialog in Chromium: the port follows Transport and TLS (8883/1883 ↔ 443/8080) until
// the user types one; the MQTT port row shows only for HTTP(S); the choice is saved in the flow.
const assert = require('node:assert/strict');
const { PACKAGE_DIR, NodeRedAdmin, startNodeRed, freshDir, afterFlowsRestart, requireChromium, launchChromium } = require('../helpers/e2e');
const { dragFromPalette, openNodeEditor, deploy } = require('./editor-actions');

describe('editor in Chromium: gridlinks-server Transport MQTT / HTTP(S)', function () {
  this.timeout(120000);
  let nodeRed;
  let browser;
  let page;
  const pageErrors = [];

  before(async function () {
    requireChromium(this);
    nodeRed = await startNodeRed({
      userDir: freshDir('editor-transport'),
      linkPackageDir: PACKAGE_DIR,
      flows: [{ id: 't-tab', type: 'tab', label: 'GridLinks' }],
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(nodeRed.url);
    await page.waitForSelector(".red-ui-palette-node[data-palette-type='gridlinks-provision']", { timeout: 30000 });
  });

  after(async function () {
    await browser?.close();
    await nodeRed?.stop();
  });

  it('switches the default port with transport and TLS, keeps a typed port, and saves transport and verifyPort', async function () {
    const provisionId = await dragFromPalette(page, 'gridlinks-provision', { x: 420, y: 100 });
    await openNodeEditor(page, provisionId);
    await page.click('#node-input-btn-server-add');
    await page.waitForSelector('#node-config-input-host', { state: 'visible' });
    const port = () => page.inputValue('#node-config-input-port');
    assert.equal(await port(), '8883');
    assert.equal(await page.isVisible('#node-config-input-verifyPort'), false);

    await page.selectOption('#node-config-input-transport', 'http');
    assert.equal(await port(), '443');
    assert.equal(await page.isVisible('#node-config-input-verifyPort'), true);
    await page.uncheck('#node-config-input-tls');
    assert.equal(await port(), '8080');
    assert.equal(await page.getAttribute('#node-config-input-verifyPort', 'placeholder'), '1883');
    await page.selectOption('#node-config-input-transport', 'mqtt');
    assert.equal(await port(), '1883');
    await page.check('#node-config-input-tls');
    assert.equal(await port(), '8883');

    await page.fill('#node-config-input-port', '9443');
    await page.selectOption('#node-config-input-transport', 'http');
    assert.equal(await port(), '9443', 'a typed port is kept');
    await page.fill('#node-config-input-verifyPort', '18883');
    await page.fill('#node-config-input-host', '127.0.0.1');
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-host', { state: 'detached' });
    await page.fill('#node-input-provisionDeviceKey', 'k');
    await page.fill('#node-input-provisionDeviceSecret', 's');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });

    await afterFlowsRestart(nodeRed, () => deploy(page));
    const server = (await new NodeRedAdmin(nodeRed.url).getJson('/flows')).find((node) => node.type === 'gridlinks-server');
    assert.equal(server.transport, 'http');
    assert.equal(Number(server.port), 9443);
    assert.equal(Number(server.verifyPort), 18883);
    assert.deepEqual(pageErrors, []);
  });
});
