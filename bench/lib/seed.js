'use strict';
/**
 * Runs the seed's own Python client (the ```python block of test/fixtures/seed, see its README) with Debian's paho-mqtt and cryptography, the way its guide says: in a folder holding
 * mqttserver.pub.pem, answering its prompts on stdin. The script never exits (it loops on the device
 * session), so the run ends once it has printed its outcome and, on success, its device session is up.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { msSince } = require('./stats');

const { seedScript, PYTHON } = require('../../test/helpers/seed-script');

// Lines the seed prints (its own words), used to tell where it is.
const MARK_SUCCESS = 'Provisioning 成功';
const MARK_FAILURE = ['Provisioning 失败', '无法连接', '返回的证书与发送的证书不一致', 'Traceback', '未创建客户端'];
const MARK_DEVICE_SESSION = '[ThingsBoard 客户端] 已使用凭据连接';

/** A fresh folder with the script and the CA, as the seed's guide prescribes. */
function prepareSeedFolder(script, caPem) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-seed-'));
  fs.writeFileSync(path.join(dir, 'provision.py'), script);
  fs.writeFileSync(path.join(dir, 'mqttserver.pub.pem'), caPem);
  return dir;
}

/**
 * One seed run. Resolves { outcome: 'success'|'failure'|'timeout', provisionedMs (spawn → success
 * line), sessionMs (spawn → device session connected), output }.
 */
function runSeedOnce({ script, caPem, host, port, provisionKey, provisionSecret, deviceName, timeoutMs = 30_000 }) {
  const dir = prepareSeedFolder(script, caPem);
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(PYTHON, ['-u', 'provision.py'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let provisionedMs = null;
    let sessionMs = null;
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      child.once('close', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve({ outcome, provisionedMs, sessionMs, output });
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onText = (chunk) => {
      output += chunk.toString('utf8');
      if (provisionedMs === null && output.includes(MARK_SUCCESS)) provisionedMs = msSince(start);
      if (output.includes(MARK_DEVICE_SESSION)) {
        sessionMs = msSince(start);
        finish('success');
      } else if (MARK_FAILURE.some((mark) => output.includes(mark))) {
        finish('failure');
      }
    };
    child.stdout.on('data', onText);
    child.stderr.on('data', onText);
    child.once('exit', () => finish(provisionedMs === null ? 'failure' : 'success'));
    child.stdin.end([host, String(port), provisionKey, provisionSecret, deviceName, ''].join('\n'));
  });
}

module.exports = { seedScript, runSeedOnce, PYTHON };
