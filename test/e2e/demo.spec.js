'use strict';
// `npm start` (nodes/demo/start.js) as a user runs it: it prints the editor URL, provisions a device
// through the deployed example within a minute, prints no secret, and Ctrl-C (SIGINT) stops it and
// its Node-RED. Run twice: the second run works with the same device names (the simulator starts empty).
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const path = require('node:path');
const { PACKAGE_DIR, DEMO_PROFILE, NodeRedAdmin, freshDir, waitFor } = require('../helpers/e2e');

const DEMO_SCRIPT = path.join(PACKAGE_DIR, 'nodes', 'demo', 'start.js');
/** Marks the demo's processes: the demo and the Node-RED it starts inherit it. */
const DEMO_MARK = `GRIDLINKS_DEMO_TEST_RUN=${process.pid}`;

/**
 * Processes whose environment holds `text` (read from /proc; Linux only). The environment, not the
 * command line: Node-RED sets process.title, which rewrites its command line to "node-red".
 */
function processesWithEnvironment(text) {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(text);
      } catch {
        return false;
      }
    });
}

function startDemo(demoDir) {
  const child = spawn(process.execPath, [DEMO_SCRIPT], {
    cwd: PACKAGE_DIR,
    env: {
      ...process.env,
      GRIDLINKS_DEMO_DIR: demoDir,
      GRIDLINKS_DEMO_TEST_RUN: String(process.pid),
      GRIDLINKS_DEMO_EDITOR_PORT: '0',
      GRIDLINKS_DEMO_MQTTS_PORT: '0',
      GRIDLINKS_DEMO_MQTT_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  child.stdout.on('data', (chunk) => (output.text += chunk));
  child.stderr.on('data', (chunk) => (output.text += chunk));
  return { child, output };
}

describe('npm start: the demo', function () {
  this.timeout(120000);
  let demoDir;
  before(function () {
    demoDir = freshDir('demo');
  });

  for (const run of ['first', 'second']) {
    it(`${run} run: prints the editor URL, provisions one device, prints no secret, stops on Ctrl-C`, async function () {
      const { child, output } = startDemo(demoDir);
      try {
        await waitFor('a provisioned device in the demo output', () => /Provisioned device "/.test(output.text) || child.exitCode !== null, 60000);
        assert.equal(child.exitCode, null, `the demo exited early:\n${output.text}`);
        assert.match(output.text, /starts EMPTY on every run/);
        assert.match(output.text, new RegExp(`provision key "${DEMO_PROFILE.provisionDeviceKey}"`));
        assert.match(output.text, /What to click:/);
        assert.match(output.text, /Provisioned device "[^"]+" \(X\.509 certificate/);
        assert.doesNotMatch(output.text, /not-provisioned|\[error\]/);

        const url = output.text.match(/Node-RED\s+(http:\/\/127\.0\.0\.1:\d+)/)[1];
        const flows = await new NodeRedAdmin(url).getJson('/flows');
        const server = flows.find((node) => node.type === 'gridlinks-server');
        assert.equal(server.host, '127.0.0.1');
        assert.equal(server.tls, true);
        assert.ok(fs.existsSync(server.caFile), 'the deployed server node points at the simulator CA file');
        assert.ok(flows.some((node) => node.type === 'gridlinks-provision'));
        assert.equal(processesWithEnvironment(DEMO_MARK).length, 2, 'the demo and its Node-RED');
      } finally {
        if (child.exitCode === null) child.kill('SIGINT');
      }
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, output.text);
      assert.match(output.text, /Stopped\./);
      for (const secret of [DEMO_PROFILE.provisionDeviceSecret, 'PRIVATE KEY', 'BEGIN CERTIFICATE']) {
        assert.ok(!output.text.includes(secret), `the terminal output shows "${secret}"`);
      }
      assert.deepEqual(processesWithEnvironment(DEMO_MARK), [], 'Node-RED outlived the demo');
    });
  }

  it('killed outright (SIGKILL, no clean stop), it still leaves no Node-RED behind', async function () {
    const { child, output } = startDemo(demoDir);
    await waitFor('the demo to start Node-RED', () => /What to click:/.test(output.text) || child.exitCode !== null, 60000);
    assert.equal(child.exitCode, null, output.text);
    assert.equal(processesWithEnvironment(DEMO_MARK).length, 2, 'the demo and its Node-RED');
    child.kill('SIGKILL');
    await once(child, 'exit');
    await waitFor('Node-RED to notice its parent is gone', () => processesWithEnvironment(DEMO_MARK).length === 0, 15000);
  });

  it('keeps the flows of the previous run as flows.previous.json', function () {
    assert.ok(fs.existsSync(path.join(demoDir, 'node-red', 'flows.previous.json')));
  });
});
