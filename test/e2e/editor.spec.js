'use strict';
// The editor in Chromium (Debian's /usr/bin/chromium driven by playwright-core): drag the provision node
// from the palette, configure a gridlinks-server in its dialog, wire, deploy, press inject, read the
// credentials in the debug sidebar; then a wrong secret shows NOT_FOUND on the node.
// Screenshots go to test/.tmp/screenshots; with UPDATE_SCREENSHOTS=1 also to docs/.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  PACKAGE_DIR,
  PACKAGE_NAME,
  DEMO_PROFILE,
  NodeRedAdmin,
  startNodeRed,
  startTestSimulator,
  freshDir,
  afterFlowsRestart,
  requireChromium,
  launchChromium,
} = require('../helpers/e2e');
const { runtimes, INSTALL_TIMEOUT_MS } = require('../helpers/runtimes');
const { clickEmptyCanvas, dragFromPalette, dragWire, openNodeEditor, deploy, statusText, pressInject, showSidebar } = require('./editor-actions');

const DEVICE_NAME = 'browser-device-1';
/** Screenshots of the newest editor go to docs/ (UPDATE_SCREENSHOTS=1); every version's go to test/.tmp. */
const DOCS_SCREENSHOTS_FROM = '4.1';

/** inject (payload {deviceName}) and debug, already deployed; the test adds the provision node between them. */
const STARTING_FLOW = [
  { id: 'e2e-tab', type: 'tab', label: 'GridLinks' },
  {
    id: 'e2e-inject',
    type: 'inject',
    z: 'e2e-tab',
    name: 'device name',
    props: [{ p: 'payload' }],
    payload: JSON.stringify({ deviceName: DEVICE_NAME }),
    payloadType: 'json',
    repeat: '',
    once: false,
    x: 140,
    y: 100,
    wires: [[]],
  },
  {
    id: 'e2e-debug',
    type: 'debug',
    z: 'e2e-tab',
    name: 'credentials',
    active: true,
    tosidebar: true,
    console: false,
    complete: 'payload',
    targetType: 'msg',
    x: 680,
    y: 100,
    wires: [],
  },
];

for (const runtime of runtimes('4.1', '5.0')) {
  describe(`editor in Chromium on Node-RED ${runtime.label} (Node ${runtime.node}): drag, configure, deploy, provision`, function () {
    this.timeout(120000);
    const screenshotDirs = [path.join(PACKAGE_DIR, 'test', '.tmp', 'screenshots', runtime.label)];
    if (process.env.UPDATE_SCREENSHOTS === '1' && runtime.label === DOCS_SCREENSHOTS_FROM) screenshotDirs.push(path.join(PACKAGE_DIR, 'docs'));
    let simulator;
    let nodeRed;
    let browser;
    let page;
    const pageErrors = [];

    async function screenshot(name) {
      // Notifications ("Successfully deployed") and scrolled dialogs would hide what the picture is for.
      await page.evaluate(() => {
        document.querySelectorAll('.red-ui-notification').forEach((el) => {
          el.style.visibility = 'hidden';
        });
        document.querySelectorAll('.red-ui-tray *').forEach((el) => {
          el.scrollTop = 0;
        });
        document.getElementById('red-ui-workspace-chart').scrollTop = 0;
        document.getElementById('red-ui-workspace-chart').scrollLeft = 0;
      });
      const shot = await page.screenshot();
      for (const dir of screenshotDirs) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, name), shot);
      }
    }

    before(async function () {
      requireChromium(this);
      this.timeout(INSTALL_TIMEOUT_MS + 60000);
      const { nodeRedDir, nodeExecutable, env } = await runtime.prepare();
      simulator = await startTestSimulator();
      const userDir = freshDir(`editor-node-red-${runtime.label}`);
      // The editor's rotating tips off (the anonymous user's settings): Node-RED 5.0 may start them before
      // the Info sidebar has made their box, and its timer then throws in the page (red.js setTip: tipBox.html).
      fs.writeFileSync(path.join(userDir, '.config.users.json'), JSON.stringify({ _: { editor: { view: { 'view-show-tips': false } } } }));
      nodeRed = await startNodeRed({
        userDir,
        nodeRedDir,
        nodeExecutable,
        env,
        linkPackageDir: PACKAGE_DIR,
        flows: STARTING_FLOW,
      });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      page.on('pageerror', (error) => pageErrors.push(error.stack || error.message));
      await page.goto(nodeRed.url);
      await page.waitForSelector(".red-ui-palette-node[data-palette-type='gridlinks-provision']", { timeout: 30000 });
    });

    after(async function () {
      await browser?.close();
      await nodeRed?.stop();
      await simulator?.stop();
    });

    it('shows provision, device and gateway in their own palette category, with help', async function () {
      const paletteNode = page.locator(".red-ui-palette-node[data-palette-type='gridlinks-provision']");
      await paletteNode.scrollIntoViewIfNeeded();
      assert.equal((await paletteNode.innerText()).trim(), 'provision');
      const category = await paletteNode.evaluate((el) => el.closest('.red-ui-palette-category').id);
      assert.match(category, /GridLinks/i);
      const inCategory = await paletteNode.evaluate((el) =>
        [...el.closest('.red-ui-palette-category').querySelectorAll('.red-ui-palette-node')].map((node) => node.getAttribute('data-palette-type')),
      );
      assert.deepEqual(inCategory.sort(), ['gridlinks-device', 'gridlinks-gateway', 'gridlinks-provision']);
      const icon = await paletteNode.locator('.red-ui-palette-icon').evaluate((el) => getComputedStyle(el).backgroundImage);
      assert.match(icon, /gridlinks\.svg/);
      // Its help, as a user finds it: Help sidebar → Node Help → the package → provision.
      await showSidebar(page, 'help');
      const contents = page.locator('.red-ui-sidebar-help-toc');
      await contents.getByText(PACKAGE_NAME, { exact: true }).click();
      await contents.getByText('provision', { exact: true }).click();
      const headings = page.locator('.red-ui-help-info-header');
      await headings.first().waitFor();
      assert.deepEqual((await headings.allInnerTexts()).map((text) => text.trim()).slice(0, 3), ['Inputs', 'Outputs', 'Details']);
      // The whole GridLinks category (provision, device, gateway) in the picture.
      await paletteNode.evaluate((el) => el.closest('.red-ui-palette-category').scrollIntoView({ block: 'start' }));
      await screenshot('editor-palette.png');
    });

    let provisionId;
    it('drags the node onto the canvas and configures a server with the CA pasted, key and secret', async function () {
      provisionId = await dragFromPalette(page, 'gridlinks-provision', { x: 420, y: 100 });
      await openNodeEditor(page, provisionId);
      assert.equal(await page.locator('#node-input-server').evaluate((el) => el.tagName), 'SELECT');
      await page.click('#node-input-btn-server-add');
      await page.waitForSelector('#node-config-input-host', { state: 'visible' });
      await page.fill('#node-config-input-name', 'local simulator');
      await page.fill('#node-config-input-host', simulator.host);
      await page.fill('#node-config-input-port', String(simulator.mqttsPort));
      assert.equal(await page.isChecked('#node-config-input-tls'), true);
      assert.equal(await page.isChecked('#node-config-input-verifyServerCert'), true);
      await page.fill('#node-config-input-ca', simulator.caPem);
      await screenshot('editor-server-dialog.png');
      await page.click('#node-config-dialog-ok');
      await page.waitForSelector('#node-config-input-host', { state: 'detached' });

      assert.match(await page.locator('#node-input-server option:checked').innerText(), /local simulator/);
      await page.fill('#node-input-name', 'provision X.509');
      await page.fill('#node-input-provisionDeviceKey', DEMO_PROFILE.provisionDeviceKey);
      await page.fill('#node-input-provisionDeviceSecret', DEMO_PROFILE.provisionDeviceSecret);
      await screenshot('editor-provision-dialog.png');
      await page.click('#node-dialog-ok');
      await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
    });

    it('wires inject → provision → debug by dragging, and deploys', async function () {
      await dragWire(page, 'e2e-inject', provisionId);
      await dragWire(page, provisionId, 'e2e-debug');
      await clickEmptyCanvas(page);
      const wires = await page.evaluate(
        (id) =>
          RED.nodes
            .filterLinks({})
            .map((link) => `${link.source.id}>${link.target.id}`)
            .filter((l) => l.includes(id)),
        provisionId,
      );
      assert.deepEqual(wires.sort(), [`${provisionId}>e2e-debug`, `e2e-inject>${provisionId}`].sort());
      await afterFlowsRestart(nodeRed, () => deploy(page));
      const flows = await new NodeRedAdmin(nodeRed.url).getJson('/flows');
      const server = flows.find((node) => node.type === 'gridlinks-server');
      assert.equal(server.host, simulator.host);
      assert.equal(Number(server.port), simulator.mqttsPort);
      assert.equal(server.ca, undefined, 'the CA is a credential, not a flow property');
      assert.equal(JSON.stringify(flows).includes(DEMO_PROFILE.provisionDeviceSecret), false, 'the secret must not be in the flow');
    });

    it('presses inject and shows the certificate and private key in the debug sidebar', async function () {
      await showSidebar(page, 'debug');
      await pressInject(page, 'e2e-inject');
      const message = page.locator('.red-ui-debug-msg').filter({ hasText: DEVICE_NAME }).first();
      await message.waitFor({ timeout: 30000 });
      assert.match(await message.innerText(), /X509_CERTIFICATE/);
      // Open the message, then its `credentials` property, as a user would to copy the certificate.
      await message.locator('.red-ui-debug-msg-object-handle').first().click();
      await message.locator('.red-ui-debug-msg-row:has(> .red-ui-debug-msg-object-key:text-is("credentials"))').first().click();
      await message
        .getByText(/BEGIN CERTIFICATE/)
        .first()
        .waitFor({ timeout: 5000 });
      assert.match(await message.innerText(), /BEGIN PRIVATE KEY/);
      await page.waitForFunction((id) => /browser-device-1/.test(document.getElementById(id)?.textContent || ''), provisionId);
      assert.equal(await statusText(page, provisionId), DEVICE_NAME);
      assert.deepEqual(
        simulator.devices().map((device) => [device.name, device.credentials.credentialsType]),
        [[DEVICE_NAME, 'X509_CERTIFICATE']],
      );
      await screenshot('editor-debug-result.png');
    });

    it('shows NOT_FOUND on the node when the secret is wrong', async function () {
      await openNodeEditor(page, provisionId);
      await page.fill('#node-input-provisionDeviceSecret', 'not-the-demo-secret');
      await page.click('#node-dialog-ok');
      await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
      await afterFlowsRestart(nodeRed, () => deploy(page));
      await pressInject(page, 'e2e-inject');
      await page.waitForFunction((id) => /NOT_FOUND/.test(document.getElementById(id)?.textContent || ''), provisionId, { timeout: 30000 });
      assert.equal(await statusText(page, provisionId), 'NOT_FOUND');
      const statusShape = await page.locator(`[id="${provisionId}"] .red-ui-flow-node-status`).getAttribute('class');
      assert.match(statusShape, /red-ui-flow-node-status-ring-red/);
      assert.equal(simulator.devices().length, 1, 'a wrong secret must not create a device');
      await screenshot('editor-not-found.png');
    });

    it('raised no error in the page', function () {
      assert.deepEqual(pageErrors, []);
    });
  });
}
