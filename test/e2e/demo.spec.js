'use strict';
// `npm start` (nodes/demo/start.js) as a user runs it: it prints the editor URL, provisions a device
// through the deployed example within a minute, prints no secret, and Ctrl-C (SIGINT) stops it and
// its Node-RED. Run twice: the second run works with the same device names (the simulator starts empty).
// Then every way of stopping `npm start` (signals to npm, its process group, start.js; `timeout`) stops
// all of it: no process left, every port free.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const path = require('node:path');
const { PACKAGE_DIR, DEMO_PROFILE, NodeRedAdmin, freshDir, waitFor } = require('../helpers/e2e');
const { listExamples } = require('../../nodes/demo/demo-flow');
const { portIsFree } = require('../../nodes/demo/ports');
const { removeAbandonedTempFolders } = require('../../nodes/simulator/temp-folders');

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

/**
 * Runs the demo: `node start.js` by default, or `command` (e.g. npm start) in its own process group,
 * as a terminal runs a command. `output.closed` resolves once every process holding its output is gone.
 */
function startDemo(demoDir, { command = [process.execPath, DEMO_SCRIPT], env = {} } = {}) {
  const child = spawn(command[0], command.slice(1), {
    cwd: PACKAGE_DIR,
    env: {
      ...process.env,
      GRIDLINKS_DEMO_DIR: demoDir,
      GRIDLINKS_DEMO_TEST_RUN: String(process.pid),
      GRIDLINKS_DEMO_EDITOR_PORT: '0',
      GRIDLINKS_DEMO_MQTTS_PORT: '0',
      GRIDLINKS_DEMO_MQTT_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: command[0] !== process.execPath,
  });
  const output = { text: '' };
  child.stdout.on('data', (chunk) => (output.text += chunk));
  child.stderr.on('data', (chunk) => (output.text += chunk));
  output.closed = Promise.all([once(child.stdout, 'close'), once(child.stderr, 'close')]);
  return { child, output };
}

/** The ports the demo says it listens on: editor, MQTT over TLS, plain MQTT. */
function announcedPorts(text) {
  return [/Node-RED\s+http:\/\/127\.0\.0\.1:(\d+)/, /mqtts:\/\/127\.0\.0\.1:(\d+)/, /mqtt:\/\/127\.0\.0\.1:(\d+)/].map((pattern) =>
    Number(text.match(pattern)[1]),
  );
}

/** The pid of start.js among the demo's processes (Node-RED renames itself "node-red"; npm's command line names npm). */
function startScriptPid() {
  const pids = processesWithEnvironment(DEMO_MARK).filter((pid) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .some((arg) => path.resolve(PACKAGE_DIR, arg) === DEMO_SCRIPT);
    } catch {
      return false;
    }
  });
  assert.equal(pids.length, 1, 'one start.js process');
  return Number(pids[0]);
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
        assert.match(output.text, /node-red \| .*\[info\] Started flows/);

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
    // The simulator inside the demo could not remove its temp CA folder; the next one to start does.
    const caFolder = path.dirname(output.text.match(/\(CA (\S+)\)/)[1]);
    assert.ok(fs.existsSync(caFolder), 'the killed demo left its simulator CA folder');
    assert.ok((await removeAbandonedTempFolders()).includes(caFolder));
    assert.equal(fs.existsSync(caFolder), false);
  });

  it('keeps the flows of the previous run as flows.previous.json', function () {
    assert.ok(fs.existsSync(path.join(demoDir, 'node-red', 'flows.previous.json')));
  });

  it('names the valid examples when GRIDLINKS_DEMO_EXAMPLE names none, and starts nothing', async function () {
    const { child, output } = startDemo(demoDir, { env: { GRIDLINKS_DEMO_EXAMPLE: 'no-such-example' } });
    const [code] = await once(child, 'exit');
    await output.closed;
    assert.equal(code, 1, output.text);
    assert.match(output.text, /GRIDLINKS_DEMO_EXAMPLE="no-such-example" names no example/);
    for (const example of listExamples(path.join(PACKAGE_DIR, 'examples'))) assert.ok(output.text.includes(example), `${example} is not listed`);
    assert.doesNotMatch(output.text, /GridLinks demo is running/);
  });

  it('with the access-token example, the welcome speaks of access tokens, not certificates, and shows the flow lines', async function () {
    const { child, output } = startDemo(demoDir, { env: { GRIDLINKS_DEMO_EXAMPLE: '02-access-token-then-telemetry' } });
    try {
      await waitFor('a provisioned device in the demo output', () => /Provisioned device "/.test(output.text) || child.exitCode !== null, 60000);
      assert.match(output.text, /Flow\s+examples\/02-access-token-then-telemetry\.json/);
      assert.match(output.text, /3\. Open the Debug sidebar.*"provisioned device".*Each device gets an access token\./);
      assert.doesNotMatch(output.text, /certificate|private key/i);
      assert.match(output.text, /Provisioned device "[^"]+" \(access token\)/);
      assert.match(output.text, /node-red \| .*\[info\] Started flows/);
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
    }
    await once(child, 'exit');
    await output.closed;
    assert.match(output.text, /node-red \| .*\[info\] Stopped flows/);
  });

  describe('stops completely however `npm start` is stopped', function () {
    const NPM_START = ['npm', 'start', '--ignore-scripts']; // `npm test` built already: no prestart build
    /** SIGALRM is what `timeout` gets when its time is up: it then sends SIGTERM to npm and to its process group. */
    const ways = [
      { way: 'SIGINT to npm', command: NPM_START, stop: (child) => process.kill(child.pid, 'SIGINT') },
      { way: 'SIGTERM to npm', command: NPM_START, stop: (child) => process.kill(child.pid, 'SIGTERM') },
      { way: 'SIGINT to its process group (Ctrl-C in a terminal)', command: NPM_START, stop: (child) => process.kill(-child.pid, 'SIGINT') },
      { way: 'SIGTERM to its process group', command: NPM_START, stop: (child) => process.kill(-child.pid, 'SIGTERM') },
      { way: 'SIGINT to start.js', command: NPM_START, stop: () => process.kill(startScriptPid(), 'SIGINT') },
      { way: 'SIGTERM to start.js', command: NPM_START, stop: () => process.kill(startScriptPid(), 'SIGTERM') },
      { way: 'npm killed outright (SIGKILL): start.js sees it is orphaned', command: NPM_START, stop: (child) => process.kill(child.pid, 'SIGKILL') },
      { way: '`timeout 600 npm start` when the time is up', command: ['timeout', '600', ...NPM_START], stop: (child) => process.kill(child.pid, 'SIGALRM') },
    ];
    for (const { way, command, stop } of ways) {
      it(way, async function () {
        const { child, output } = startDemo(demoDir, { command });
        try {
          await waitFor('the demo to be running', () => /What to click:/.test(output.text) || child.exitCode !== null, 60000);
          assert.equal(child.exitCode, null, output.text);
          const expected = command[0] === 'timeout' ? 'timeout, npm, start.js and Node-RED' : 'npm, start.js and Node-RED';
          assert.equal(processesWithEnvironment(DEMO_MARK).length, expected.split(/, | and /).length, expected);
          const ports = announcedPorts(output.text);
          stop(child);
          await once(child, 'exit');
          await output.closed;
          assert.match(output.text, /Stopped\./);
          assert.deepEqual(processesWithEnvironment(DEMO_MARK), [], 'a process of the demo outlived it');
          for (const port of ports) assert.equal(await portIsFree(port), true, `port ${port} is still held`);
        } finally {
          if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
        }
      });
    }
  });
});
