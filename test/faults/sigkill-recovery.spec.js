'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const { startSim, KEY, SECRET, tempDir } = require('../provisioning/support');

const { CLI } = require('../helpers/cli');
const CORE = path.resolve(__dirname, '..', '..', 'nodes', 'provisioning');
const ROUNDS = 5;
const DEVICES_PER_ROUND = 40;

/** A gateway run in a child process: provisions DEVICES names, 4 at a time, into the store. */
const GATEWAY_RUN = `
const { provisionDevice } = require(process.env.CORE);
const { names, server, storeDir } = JSON.parse(process.env.RUN);
let next = 0;
process.stdout.write('R');
const worker = async () => {
  while (next < names.length) {
    const deviceName = names[next++];
    await provisionDevice({ server, provisionDeviceKey: process.env.KEY, provisionDeviceSecret: process.env.SECRET, deviceName, keyAlgorithm: 'p256', storeDir }).then(
      () => process.stdout.write('.'),
      (error) => process.stdout.write(error.code + ' '),
    );
  }
};
Promise.all([worker(), worker(), worker(), worker()]);
`;

/** Runs a gateway child and SIGKILLs it `killAfterMs` after its `afterDevices`-th settled device. */
function runUntilKilled(run, { afterDevices, killAfterMs }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', GATEWAY_RUN], {
      env: { ...process.env, CORE, KEY, SECRET, RUN: JSON.stringify(run) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    let timer;
    // Counted in settled devices, then milliseconds: the kill lands inside the burst however loaded the machine is.
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const settled = output.replace(/^R/, '').split(/[. ]/).length - 1;
      if (timer === undefined && output.startsWith('R') && settled >= afterDevices) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function publicKeyOf(pem) {
  const key = pem.includes('CERTIFICATE') ? new crypto.X509Certificate(pem).publicKey : crypto.createPublicKey(pem);
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

function allFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).map((file) => path.join(dir, file));
}

describe('SIGKILL at random points, then one recovery run', function () {
  this.timeout(180_000);
  let sim;
  let storeDir;
  before(async () => {
    sim = await startSim();
    storeDir = tempDir('gl-sigkill-');
  });
  after(async () => {
    fs.rmSync(storeDir, { recursive: true, force: true });
    await sim.stop();
  });

  it('every device the server accepted ends up committed in the store with its own key; nothing left in temporaries or unknown', async () => {
    // Answers come 80 ms after the decision: kills land between "device created" and "answer read" too.
    sim.setFaults({ answerDelayMs: 80 });
    const server = { host: '127.0.0.1', port: sim.mqttsPort, tls: true, ca: sim.caPem, answerTimeoutMs: 5000 };
    const prefix = `kill-${process.pid}`;
    const killTimes = [];
    const outputs = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const names = Array.from({ length: DEVICES_PER_ROUND }, (_, i) => `${prefix}-${round}-${i}`);
      const kill = { afterDevices: Math.floor(Math.random() * 16), killAfterMs: Math.floor(Math.random() * 250) };
      killTimes.push(`${kill.afterDevices} devices + ${kill.killAfterMs}`);
      const run = await runUntilKilled({ names, server, storeDir }, kill);
      assert.equal(run.signal, 'SIGKILL', `round ${round} finished before the kill (${run.output}); the kill must come mid-burst`);
      outputs.push(run.output);
    }
    sim.setFaults({});
    const created = sim.devices().filter((device) => device.name.startsWith(prefix));
    assert.ok(created.length > 0, `no device was created before the kills (${killTimes.join(', ')} ms): ${outputs.join(' | ')}`);

    // One recovery run: leftovers first, then every pending entry settled.
    const recovery = await new Promise((resolve) =>
      execFile(
        process.execPath,
        [CLI, '--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile, '--resume', '--out', storeDir, '--json'],
        (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
      ),
    );
    assert.equal(recovery.code, 0, `kills at ${killTimes.join(', ')} ms\n${recovery.stdout}\n${recovery.stderr}`);

    for (const device of created) {
      const dir = path.join(storeDir, device.name);
      assert.ok(
        fs.existsSync(path.join(dir, 'credentials.json')),
        `${device.name} exists on the server but is not committed (kills at ${killTimes.join(', ')} ms)\n${recovery.stdout}`,
      );
      const record = JSON.parse(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'));
      assert.equal(record.credentials.credentialsId, device.credentials.credentialsId, device.name);
      const certificate = fs.readFileSync(path.join(dir, 'certificate.pem'), 'utf8');
      assert.equal(
        publicKeyOf(fs.readFileSync(path.join(dir, 'private-key.pem'), 'utf8')),
        publicKeyOf(certificate),
        `${device.name}: the key is the certificate's`,
      );
    }
    const createdNames = new Set(created.map((device) => device.name));
    const committed = fs.readdirSync(storeDir).filter((name) => !name.startsWith('.'));
    for (const name of committed) assert.ok(createdNames.has(name), `${name} is committed but the server never created it`);
    // Nothing left behind: no temporaries anywhere, nothing pending; what was set aside was never created.
    const leftovers = allFiles(storeDir).filter((file) => path.basename(file).startsWith('.tmp-'));
    assert.deepEqual(leftovers, []);
    assert.deepEqual(
      fs.readdirSync(path.join(storeDir, '.pending')).filter((name) => !name.startsWith('.')),
      [],
    );
    const asideDir = path.join(storeDir, '.pending', '.not-created');
    for (const file of fs.existsSync(asideDir) ? fs.readdirSync(asideDir) : []) {
      assert.ok(!createdNames.has(file.replace(/(~[0-9a-f]+)?\.(json|key\.pem)$/, '')), `${file} was set aside, but the server created it`);
    }
    console.log(
      `      ${ROUNDS} runs killed at ${killTimes.join(', ')} ms; ${created.length} devices created, all recovered; ${recovery.stdout.trim().split('\n').filter(Boolean).length} pending entries settled, ${recovery.stderr.split('\n').filter(Boolean).length} leftover(s) recovered`,
    );
  });
});
