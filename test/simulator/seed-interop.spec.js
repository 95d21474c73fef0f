'use strict';
// The seed guide's own Python client (test/fixtures/seed, its ```python block) against the simulator over TLS.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { seedScript, PYTHON } = require('../helpers/seed-script');

/**
 * Runs the seed script in a fresh folder holding mqttserver.pub.pem, answers its five prompts on stdin and
 * resolves its stdout once `until(stdout)` holds (then kills it: after connecting it loops forever) or it exits.
 */
function runSeed(sim, answers, until, timeoutMs = 40000) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-seed-'));
  fs.writeFileSync(path.join(dir, 'seed.py'), seedScript());
  fs.writeFileSync(path.join(dir, 'mqttserver.pub.pem'), sim.caPem);
  const child = spawn(PYTHON, ['seed.py'], { cwd: dir, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdin.end(`${answers.join('\n')}\n`);
  return new Promise((resolve, reject) => {
    const finish = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      if (error) reject(error);
      else resolve(stdout);
    };
    const timer = setTimeout(() => finish(new Error(`seed script did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (until(stdout)) finish();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', (error) => finish(new Error(`cannot run ${PYTHON}: ${error.message}`)));
    child.once('exit', () => setImmediate(() => (until(stdout) ? finish() : finish(new Error(`seed script exited\nstdout:\n${stdout}\nstderr:\n${stderr}`)))));
  });
}

describe("simulator: interop with the seed guide's Python X.509 client", function () {
  this.timeout(120000);
  let sim;
  before(async function () {
    seedScript();
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    if (sim) await sim.stop();
  });

  const answers = (secret, name) => ['127.0.0.1', String(sim.mqttsPort), DEFAULT_PROFILE.provisionDeviceKey, secret, name];

  it('provisions an X.509 device over TLS, then connects with its certificate', async function () {
    const connected = (out) => out.includes('[ThingsBoard 客户端] 已使用凭据连接到 GridLinks');
    const stdout = await runSeed(sim, answers(DEFAULT_PROFILE.provisionDeviceSecret, 'seed-device'), connected);
    assert.match(stdout, /Provisioning 成功！证书已保存。/);
    const device = sim.devices().find((d) => d.name === 'seed-device');
    assert.equal(device.credentials.credentialsType, 'X509_CERTIFICATE');
    assert.ok(sim.logLines.includes('device seed-device connected (X509_CERTIFICATE)'), 'the simulator saw the certificate session');
  });

  it('a duplicate name gets FAILURE', async function () {
    const stdout = await runSeed(sim, answers(DEFAULT_PROFILE.provisionDeviceSecret, 'seed-device'), (out) => out.includes('未创建客户端'));
    assert.match(stdout, /Provisioning 失败，状态 FAILURE，消息: Failed to provision device!/);
  });

  it('a wrong secret gets NOT_FOUND', async function () {
    const stdout = await runSeed(sim, answers('wrong-secret', 'seed-device-2'), (out) => out.includes('未创建客户端'));
    assert.match(stdout, /Provisioning 失败，状态 NOT_FOUND，消息: Provision data was not found!/);
    assert.equal(
      sim.devices().some((d) => d.name === 'seed-device-2'),
      false,
    );
  });
});
