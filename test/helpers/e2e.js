'use strict';
// Shared by test/e2e/*.spec.js: a simulator with the demo profile, Node-RED processes, the npm
// tarball, Chromium through playwright-core (the Node-RED versions: test/helpers/runtimes.js). Owner: the demo/packaging/browser task.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');

const execFileAsync = promisify(execFile);

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
const TMP_DIR = path.join(PACKAGE_DIR, 'test', '.tmp');
const PACKAGE_NAME = require(path.join(PACKAGE_DIR, 'package.json')).name;

const { startSimulator } = require('../../nodes/simulator');
const { startNodeRed } = require('../../nodes/demo/node-red-process');
const { NodeRedAdmin } = require('../../nodes/demo/admin-api');
const { DEMO_PROFILE } = require('../../nodes/demo/demo-settings');

/** A fresh, empty folder under test/.tmp (git-ignored). */
function freshDir(name) {
  const dir = path.join(TMP_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The simulator on 127.0.0.1, TLS on a free port, in memory, with the demo profile (and any extra options). */
function startTestSimulator(extra = {}) {
  return startSimulator({
    host: '127.0.0.1',
    mqttsPort: 0,
    mqttPort: 0,
    profiles: [{ ...DEMO_PROFILE, strategy: 'ALLOW_CREATE_NEW_DEVICES' }],
    ...extra,
  });
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
async function waitFor(what, probe, timeoutMs = 20000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `npm pack` of this repo (already built by `npm test`), into `destDir`; returns the tarball's path. */
async function packPackage(destDir) {
  const { stdout } = await execFileAsync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destDir], {
    cwd: PACKAGE_DIR,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout);
  return { tarball: path.join(destDir, packed.filename), files: packed.files.map((file) => file.path) };
}

/** `npm install <tarball>` into a Node-RED user folder, as a user would; dependencies come from the npm cache. */
async function installTarball(userDir, tarball) {
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }, null, 2));
  await execFileAsync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: userDir,
    maxBuffer: 16 * 1024 * 1024,
  });
}

const CHROMIUM_PATH = '/usr/bin/chromium';
/** conventions §6.3: without the networking flags Chromium keeps trying to reach Google on this closed network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Skips the calling suite when Chromium is missing on a developer machine; under CI a missing Chromium fails. */
function requireChromium(context) {
  if (fs.existsSync(CHROMIUM_PATH)) return;
  if (process.env.CI) throw new Error(`${CHROMIUM_PATH} is missing, and CI is set: .ci/run should have installed the chromium package.`);
  console.log(`      (skipped: ${CHROMIUM_PATH} is missing; apt-get install chromium to run the editor test)`);
  context.skip();
}

function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Runs `deploy` (an admin API call or a click on Deploy) and resolves once Node-RED has started the new
 * flows: POST /flows answers when the old flows have stopped, before the new ones start, so an inject
 * pressed at once could answer 404.
 */
async function afterFlowsRestart(nodeRed, deploy) {
  const startedLines = () => nodeRed.lines.filter((line) => /Started (modified )?(flows|nodes)/.test(line)).length;
  const before = startedLines();
  await deploy();
  await waitFor('Node-RED to start the deployed flows', () => startedLines() > before, 20000, 50);
}

/** Full deploy of `flows` through the admin API, resolved once they run. */
function deployAndWait(nodeRed, flows) {
  return afterFlowsRestart(nodeRed, () => new NodeRedAdmin(nodeRed.url).deploy(flows));
}

/** Node-RED log lines that are errors or warnings, less the two every test start prints. */
function problemLines(nodeRed) {
  return nodeRed.lines.filter((line) => /\[(warn|error)\]/.test(line) && !/Projects disabled|Using unencrypted credentials/.test(line));
}

module.exports = {
  PACKAGE_DIR,
  PACKAGE_NAME,
  DEMO_PROFILE,
  NodeRedAdmin,
  startNodeRed,
  startTestSimulator,
  freshDir,
  waitFor,
  deployAndWait,
  afterFlowsRestart,
  packPackage,
  installTarball,
  requireChromium,
  launchChromium,
  problemLines,
};
