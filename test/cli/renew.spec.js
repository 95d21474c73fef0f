'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice } = require('../../nodes/provisioning');
const { options } = require('../provisioning/support');
const { useChainFleet } = require('../helpers/chain-fleet');
const { runCli } = require('../helpers/cli');

describe('gridlinks-provision --list, --renew, --renew-expiring against the simulator (TLS)', function () {
  this.timeout(60_000);
  const fleet = useChainFleet();
  let dir;
  let connection;
  let signer;
  before(async function () {
    dir = fleet.storeDir();
    await fleet.chainDevice(dir, 'soon-a', 3);
    await fleet.chainDevice(dir, 'soon-b', 5);
    await fleet.chainDevice(dir, 'later');
    await provisionDevice(options(fleet.sim, { deviceName: 'plain-x509', keyAlgorithm: 'p256', validityDays: 2, storeDir: dir }));
    connection = ['--host', '127.0.0.1', '--port', String(fleet.sim.mqttsPort), '--ca', fleet.sim.caFile];
    signer = ['--signer-cert', fleet.pki.fleet.certFile, '--signer-key', fleet.pki.fleet.keyFile];
  });

  const notAfter = (name) => JSON.parse(fs.readFileSync(path.join(dir, name, 'credentials.json'), 'utf8')).notAfter;

  it('--list prints a table, --json the devices', async function () {
    const table = await runCli(['--list', '--out', dir]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME +TYPE +EXPIRES +STATE\n/);
    assert.match(table.stdout, /soon-a +X509 \(chain\) +\d{4}-\d\d-\d\d \(2 d\) +committed/);
    assert.match(table.stdout, /plain-x509 +X509_CERTIFICATE +\d{4}-\d\d-\d\d \(1 d\) +committed/);
    const json = await runCli(['--list', '--out', dir, '--json']);
    const { devices } = JSON.parse(json.stdout);
    assert.deepEqual(
      devices.map((d) => d.entry),
      ['later', 'plain-x509', 'soon-a', 'soon-b'],
    );
    assert.ok(!json.stdout.includes('PRIVATE KEY'));
  });

  it('--renew-expiring 10d renews exactly the chain devices inside the window; the key/secret one is not touched', async function () {
    const before = { a: notAfter('soon-a'), b: notAfter('soon-b'), later: notAfter('later'), plain: notAfter('plain-x509') };
    const { code, stdout, stderr } = await runCli(['--renew-expiring', '10d', '--out', dir, ...connection, ...signer, '--validity-days', '20', '--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).deviceName),
      ['soon-a', 'soon-b'],
    );
    assert.ok(notAfter('soon-a') > before.a && notAfter('soon-b') > before.b);
    assert.equal(notAfter('later'), before.later);
    assert.equal(notAfter('plain-x509'), before.plain);
  });

  it('--renew --device-name of a key/secret device: NOT_RENEWABLE, exit 3, with the advice', async function () {
    const { code, stderr } = await runCli(['--renew', '--device-name', 'plain-x509', '--out', dir, ...connection, ...signer]);
    assert.equal(code, 3);
    assert.match(stderr, /NOT_RENEWABLE/);
    assert.match(stderr, /administrator/);
  });

  it('--renew --device-name --new-key renews one device', async function () {
    const key = fs.readFileSync(path.join(dir, 'later', 'private-key.pem'), 'utf8');
    const { code, stdout, stderr } = await runCli([
      '--renew',
      '--device-name',
      'later',
      '--new-key',
      '--key-type',
      'p256',
      '--out',
      dir,
      ...connection,
      ...signer,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^renewed +"later": valid until /);
    assert.notEqual(fs.readFileSync(path.join(dir, 'later', 'private-key.pem'), 'utf8'), key);
  });
});
