'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startSim, uniqueName, tempDir, KEY, SECRET } = require('../provisioning/support');
const { startSocksProxy } = require('../helpers/socks-proxy');
const { runCli } = require('../helpers/cli');

describe('gridlinks-provision CLI through a SOCKS proxy (MQTTJS_SOCKS_PROXY, as mqtt.js honours it)', function () {
  this.timeout(60_000);
  let sim;
  let proxy;
  let dir;
  before(async () => {
    sim = await startSim();
    proxy = await startSocksProxy();
    dir = tempDir('gl-cli-socks-');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await proxy.stop();
    await sim.stop();
  });

  for (const [what, port, tlsArgs] of [
    ['TLS', () => sim.mqttsPort, () => ['--ca', sim.caFile]],
    ['plain MQTT', () => sim.mqttPort, () => ['--no-tls']],
  ]) {
    it(`${what}: the provisioning session and the --verify login both go through the proxy`, async () => {
      const name = uniqueName('cli-socks');
      const run = await runCli(
        [
          '--host',
          '127.0.0.1',
          '--port',
          String(port()),
          ...tlsArgs(),
          '--provision-key',
          KEY,
          '--provision-secret',
          SECRET,
          '--device-name',
          name,
          '--type',
          'access-token',
          '--verify',
          '--json',
        ],
        { env: { MQTTJS_SOCKS_PROXY: proxy.url } },
      );
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout);
      assert.equal(result.deviceName, name);
      assert.equal(result.verification.accepted, true);
      assert.deepEqual(proxy.connections.splice(0), [`127.0.0.1:${port()}`, `127.0.0.1:${port()}`]);
    });
  }
});
