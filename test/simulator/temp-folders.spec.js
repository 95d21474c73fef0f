'use strict';
// The simulator's throw-away CA lives in a temp folder named after its process. A simulator killed
// outright (SIGKILL) cannot remove it; the next simulator to start removes it, and leaves alone the
// folder of a simulator that is still running.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startSimulatorProcess, tempDir } = require('../helpers/faults');
const { startTestSimulator } = require('../helpers/simulator');

const CLI_ARGS = ['--host', '127.0.0.1', '--port', 'off', '--tls-port', '0'];

describe('simulator temp CA folders', function () {
  let tempRoot;
  let savedTmpdir;
  const running = [];

  before(function () {
    // A temp root of our own: the simulators (this process's and the children) make their folders there.
    tempRoot = tempDir('sim-temp-root');
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = tempRoot;
  });

  after(async function () {
    for (const sim of running) await sim.kill('SIGTERM');
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    fs.rmSync(tempRoot, { recursive: true, force: true });
  });

  const simulatorFolders = () =>
    fs
      .readdirSync(tempRoot)
      .filter((entry) => entry.startsWith('gridlinks-sim-'))
      .sort();

  it('names the folder after the owning process and removes it on a clean stop', async function () {
    const sim = await startSimulatorProcess(CLI_ARGS);
    const folder = path.basename(path.dirname(sim.info.caFile));
    assert.equal(path.dirname(path.dirname(sim.info.caFile)), tempRoot);
    assert.match(folder, new RegExp(`^gridlinks-sim-${sim.child.pid}-`));
    assert.ok(fs.existsSync(path.join(tempRoot, folder, 'ca.key.pem')));
    await sim.kill('SIGTERM');
    assert.deepEqual(simulatorFolders(), []);
  });

  it("a killed simulator's folder is removed when the next one starts; a running one's is kept", async function () {
    const killed = await startSimulatorProcess(CLI_ARGS);
    const killedFolder = path.dirname(killed.info.caFile);
    await killed.kill('SIGKILL');
    assert.ok(fs.existsSync(killedFolder), 'SIGKILL leaves the folder (nothing could remove it)');

    const alive = await startSimulatorProcess(CLI_ARGS);
    running.push(alive);
    const aliveFolder = path.dirname(alive.info.caFile);
    assert.equal(fs.existsSync(killedFolder), false, "the next simulator removed the killed one's folder");

    const inProcess = await startTestSimulator({ host: '127.0.0.1', mqttPort: null, mqttsPort: 0 });
    try {
      assert.deepEqual(simulatorFolders(), [path.basename(aliveFolder), path.basename(path.dirname(inProcess.caFile))].sort());
    } finally {
      await inProcess.stop();
    }
    await alive.kill('SIGTERM');
    assert.deepEqual(simulatorFolders(), []);
  });
});
