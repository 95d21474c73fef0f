'use strict';
/** gridlinks-provision --transport http against the simulator's HTTP(S) listener (real sockets, a real child process). */
const assert = require('node:assert/strict');
const { startSim, uniqueName, KEY, SECRET } = require('../provisioning/support');

const { runCli } = require('../helpers/cli');

describe('gridlinks-provision --transport http', function () {
  this.timeout(60_000);
  let sim;
  before(async () => {
    sim = await startSim({ httpPort: 0, httpsPort: 0 });
  });
  after(() => sim.stop());
  afterEach(() => sim.setFaults({}));

  const secrets = ['--provision-key', KEY, '--provision-secret', SECRET, '--allow-unnamed'];

  it('--help documents --transport and --verify-port', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const text of ['--transport mqtt|http', '--verify-port P', '/api/v1/provision']) assert.ok(stdout.includes(text), text);
  });

  it('HTTPS: provisions, then --verify connects over MQTT on --verify-port; exit 0', async () => {
    const deviceName = uniqueName('cli-https');
    const { code, stdout, stderr } = await runCli([
      '--host',
      '127.0.0.1',
      '--transport',
      'http',
      '--port',
      String(sim.httpsPort),
      '--ca',
      sim.caFile,
      '--verify-port',
      String(sim.mqttsPort),
      ...secrets,
      '--device-name',
      deviceName,
      '--key-type',
      'p256',
      '--verify',
      '--json',
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.credentialsType, 'X509_CERTIFICATE');
    assert.deepEqual(result.server, { host: '127.0.0.1', port: sim.mqttsPort, tls: true });
    assert.deepEqual(result.verification, { accepted: true });
    assert.ok(sim.devices().some((device) => device.name === deviceName));
  });

  it('plain HTTP: NOT_FOUND exits 3 with the JSON error', async () => {
    const { code, stdout } = await runCli([
      '--host',
      '127.0.0.1',
      '--transport',
      'http',
      '--no-tls',
      '--port',
      String(sim.httpPort),
      '--provision-key',
      KEY,
      '--provision-secret',
      'not-the-secret',
      '--type',
      'access-token',
      '--allow-unnamed',
      '--json',
    ]);
    assert.equal(code, 3);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.details.requestSent, true);
  });

  it('plain HTTP: no answer within --timeout is OUTCOME_UNKNOWN, exit 5', async () => {
    sim.setFaults({ noAnswer: true });
    const { code, stdout } = await runCli([
      '--host',
      '127.0.0.1',
      '--transport',
      'http',
      '--no-tls',
      '--port',
      String(sim.httpPort),
      ...secrets,
      '--device-name',
      uniqueName('cli-silent'),
      '--type',
      'access-token',
      '--timeout',
      '0.3',
      '--json',
    ]);
    assert.equal(code, 5);
    assert.equal(JSON.parse(stdout).error.code, 'OUTCOME_UNKNOWN');
  });

  it('a bad --transport, or --verify-port without --transport http, is INVALID_INPUT (exit 2); nothing sent', async () => {
    const before = sim.devices().length;
    const bogus = await runCli(['--host', '127.0.0.1', '--transport', 'coap', ...secrets, '--json']);
    assert.equal(bogus.code, 2);
    assert.equal(JSON.parse(bogus.stdout).error.details.field, 'transport');
    const stray = await runCli(['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--verify-port', '1883', ...secrets, '--json']);
    assert.equal(stray.code, 2);
    assert.match(JSON.parse(stray.stdout).error.message, /--verify-port only applies with --transport http/);
    assert.equal(sim.devices().length, before);
  });
});
