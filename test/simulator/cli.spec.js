'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { startSimulatorCli, provisionOnce, rawProvision, connectDevice, CLI_PATH } = require('../helpers/simulator');

const run = promisify(execFile);

describe('simulator: gridlinks-sim command line', function () {
  let dataDir;
  let cli;
  beforeEach(function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-sim-cli-'));
  });
  afterEach(async function () {
    if (cli) await cli.stop('SIGKILL');
    cli = null;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('--help documents the options, the first line, the profiles file and every fault switch', async function () {
    const { stdout } = await run(process.execPath, [CLI_PATH, '--help']);
    for (const word of [
      '--port',
      '--tls-port',
      '--cert',
      '--key',
      '--profile KEY:SECRET[:STRATEGY]',
      '--profiles',
      '--data',
      '--fault-no-answer',
      '--fault-garbage',
      '--fault-no-suback',
      '--fault-delay',
      '--fault-close-after-request',
      '--fault-close-after-puback',
      '--fault-refuse-connect',
      '"mqttPort"',
      '"devices"',
      'CHECK_PRE_PROVISIONED_DEVICES',
    ]) {
      assert.ok(stdout.includes(word), `--help mentions ${word}`);
    }
  });

  it('an unknown option exits 2 with a message on stderr', async function () {
    await assert.rejects(
      run(process.execPath, [CLI_PATH, '--port', '0', '--bogus']),
      (error) => error.code === 2 && /unknown option --bogus/.test(error.stderr),
    );
  });

  it('prints the JSON first line, provisions over TLS, logs no secret, and exits 0 on SIGTERM', async function () {
    const profilesFile = path.join(dataDir, 'profiles.json');
    fs.writeFileSync(
      profilesFile,
      JSON.stringify({
        profiles: [{ name: 'Pre', provisionDeviceKey: 'file-key', provisionDeviceSecret: 'file-secret-XYZ', strategy: 'CHECK_PRE_PROVISIONED_DEVICES' }],
        devices: [{ name: 'listed-1', profile: 'Pre', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'listed-token-XYZ' }],
      }),
    );
    cli = await startSimulatorCli(['--port', '0', '--tls-port', '0', '--profile', 'cli-key:cli-secret-XYZ', '--profiles', profilesFile, '--data', dataDir]);
    assert.deepEqual(Object.keys(cli.info).sort(), ['caFile', 'host', 'httpPort', 'httpsPort', 'mqttPort', 'mqttsPort']);
    assert.equal(cli.info.host, '127.0.0.1');
    assert.ok(cli.info.mqttPort > 0 && cli.info.mqttsPort > 0);
    assert.equal(cli.info.caFile, path.join(dataDir, 'ca.pem'));

    const created = await provisionOnce(
      cli.sim,
      {
        provisionDeviceKey: 'cli-key',
        provisionDeviceSecret: 'cli-secret-XYZ',
        deviceName: 'cli-dev',
        credentialsType: 'MQTT_BASIC',
        username: 'u',
        password: 'password-XYZ',
      },
      { tls: true },
    );
    assert.equal(created.status, 'SUCCESS');
    const listed = await provisionOnce(cli.sim, { provisionDeviceKey: 'file-key', provisionDeviceSecret: 'file-secret-XYZ', deviceName: 'listed-1' });
    assert.equal(listed.credentialsValue, 'listed-token-XYZ');
    const { client } = await connectDevice(cli.sim, { username: 'listed-token-XYZ' });
    await client.endAsync();

    const code = await cli.stop('SIGTERM');
    assert.equal(code, 0);
    const output = cli.lines.join('\n');
    assert.match(output, /provision SUCCESS/);
    assert.match(output, /stopped/);
    assert.doesNotMatch(output, /XYZ/, 'no secret, token or password in the log');
    assert.doesNotMatch(cli.stderr, /XYZ/);
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, 'registry.json'), 'utf8'));
    assert.deepEqual(registry.devices.map((d) => d.name).sort(), ['cli-dev', 'listed-1']);
  });

  it('--tls-port off gives null mqttsPort and caFile; fault switches apply (--fault-refuse-connect)', async function () {
    cli = await startSimulatorCli(['--port', '0', '--tls-port', 'off', '--fault-refuse-connect', '5']);
    assert.equal(cli.info.mqttsPort, null);
    assert.equal(cli.info.caFile, null);
    await assert.rejects(connectDevice(cli.sim, { clientId: 'provision' }), (error) => error.code === 5);
    assert.equal(await cli.stop('SIGINT'), 0);
  });

  it('--fault-no-suback, --fault-delay and --fault-garbage are taken', async function () {
    cli = await startSimulatorCli(['--port', '0', '--tls-port', 'off', '--profile', 'k:s', '--fault-no-suback', '--fault-delay', '50', '--fault-garbage']);
    const { session, body } = await rawProvision(cli.sim, { provisionDeviceKey: 'k', provisionDeviceSecret: 's' }, { noSubackExpected: true });
    assert.deepEqual(
      session.packets.map((p) => p.cmd),
      ['connack', 'puback', 'publish'],
    );
    assert.throws(() => JSON.parse(body.toString('utf8')));
    assert.equal(await cli.stop(), 0);
  });
});
