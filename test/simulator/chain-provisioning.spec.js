'use strict';
const assert = require('node:assert/strict');
const tls = require('node:tls');
const { startTestSimulator, connectOutcome, startSimulatorCli, DEFAULT_PROFILE } = require('../helpers/simulator');
const { makeFleetPki, deviceCsr } = require('../helpers/chain-pki');
const { certTrimNewLines, sha3Hex } = require('../../nodes/simulator');

const credentialsIdOf = (pem) => sha3Hex(certTrimNewLines(pem));

describe('simulator: X.509 certificate-chain profiles (certificates made by openssl x509 -req)', function () {
  this.timeout(60_000);
  let pki;
  let sim;
  let closedDevice;
  before(async function () {
    pki = makeFleetPki();
    closedDevice = deviceCsr(pki.dir, 'closed-0', 'closed-0');
    sim = await startTestSimulator({
      mqttPort: null,
      devices: [{ name: 'closed-0', profile: 'closed', credentialsType: 'X509_CERTIFICATE', credentialsValue: closedDevice.leaf(pki.fleetEc, '-old') }],
      profiles: [
        { name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem, certificateRegExPattern: 'fleet-(sensor-\\d+)' },
        { name: 'closed', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleetEc.certFile, allowCreateNewDevices: false },
        { name: 'impostor', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.impostor.certPem },
      ],
    });
  });
  after(async function () {
    await sim.stop();
    pki.remove();
  });

  it('creates the device on its first TLS connection, named by group(1) of a partial match of the CN, its credential the leaf', async function () {
    const device = deviceCsr(pki.dir, 'create', 'acme-fleet-sensor-1-rev2');
    const leaf = device.leaf(pki.fleet);
    assert.equal(await connectOutcome(sim, { cert: leaf + pki.fleet.certPem, key: device.keyPem, clientId: 'anything' }), 0);
    const created = sim.devices().find((d) => d.name === 'sensor-1');
    assert.ok(created, JSON.stringify(sim.devices().map((d) => d.name)));
    assert.equal(created.profile, 'fleet');
    assert.equal(created.credentials.credentialsType, 'X509_CERTIFICATE');
    assert.equal(created.credentials.credentialsId, credentialsIdOf(leaf));
    // Known now: the leaf alone logs in (normal X.509 login by the leaf's hash).
    assert.equal(await connectOutcome(sim, { cert: leaf, key: device.keyPem }), 0);
  });

  it('the root above the profile CA may be presented too', async function () {
    const device = deviceCsr(pki.dir, 'with-root', 'fleet-sensor-2');
    assert.equal(await connectOutcome(sim, { cert: device.leaf(pki.fleet) + pki.fleet.certPem + pki.root.certPem, key: device.keyPem, protocolVersion: 5 }), 0);
    assert.ok(sim.devices().some((d) => d.name === 'sensor-2'));
  });

  it('rotates: a new leaf with the same CN replaces the credential of the existing device; the old leaf stops working', async function () {
    const device = deviceCsr(pki.dir, 'rotate', 'fleet-sensor-3');
    const first = device.leaf(pki.fleet, '-1');
    assert.equal(await connectOutcome(sim, { cert: first + pki.fleet.certPem, key: device.keyPem }), 0);
    const before = sim.devices().find((d) => d.name === 'sensor-3');
    const second = device.leaf(pki.fleet, '-2');
    assert.equal(await connectOutcome(sim, { cert: second + pki.fleet.certPem, key: device.keyPem }), 0);
    const after = sim.devices().find((d) => d.name === 'sensor-3');
    assert.equal(after.createdTime, before.createdTime);
    assert.equal(after.credentials.credentialsId, credentialsIdOf(second));
    assert.notEqual(before.credentials.credentialsId, after.credentials.credentialsId);
    assert.equal(sim.devices().filter((d) => d.name === 'sensor-3').length, 1);
    assert.ok(sim.logLines.some((line) => /device sensor-3 created by chain profile fleet during the TLS handshake/.test(line)));
    assert.ok(sim.logLines.some((line) => /device sensor-3 certificate rotated by chain profile fleet during the TLS handshake/.test(line)));
    assert.equal(await connectOutcome(sim, { cert: first, key: device.keyPem }), 5);
  });

  it("the device exists once the TLS handshake is done, before any CONNECT (as in GridLinks' trust manager)", async function () {
    const device = deviceCsr(pki.dir, 'handshake', 'fleet-sensor-4');
    const socket = tls.connect({
      host: sim.host,
      port: sim.mqttsPort,
      ca: sim.caPem,
      servername: 'localhost',
      cert: device.leaf(pki.fleet) + pki.fleet.certPem,
      key: device.keyPem,
    });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    while (!sim.devices().some((d) => d.name === 'sensor-4')) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    assert.equal(sim.devices().find((d) => d.name === 'sensor-4').profile, 'fleet');
  });

  it('refuses with CONNACK not authorized (5; MQTT 5: 0x87) when the CN does not match the pattern', async function () {
    const device = deviceCsr(pki.dir, 'regex', 'acme-pump-7');
    const cert = device.leaf(pki.fleet) + pki.fleet.certPem;
    const count = sim.devices().length;
    assert.equal(await connectOutcome(sim, { cert, key: device.keyPem }), 5);
    assert.equal(await connectOutcome(sim, { cert, key: device.keyPem, protocolVersion: 5 }), 0x87);
    assert.equal(sim.devices().length, count);
  });

  it('"allow create" off: a new device is refused; an existing one of the profile still rotates', async function () {
    const device = deviceCsr(pki.dir, 'closed', 'closed-1');
    assert.equal(await connectOutcome(sim, { cert: device.leaf(pki.fleetEc) + pki.fleetEc.certPem, key: device.keyPem }), 5);
    assert.equal(
      sim.devices().some((d) => d.name === 'closed-1'),
      false,
    );
    const renewed = closedDevice.leaf(pki.fleetEc, '-new');
    assert.equal(await connectOutcome(sim, { cert: renewed + pki.fleetEc.certPem, key: closedDevice.keyPem }), 0);
    assert.equal(sim.devices().find((d) => d.name === 'closed-0').credentials.credentialsId, credentialsIdOf(renewed));
  });

  it('refuses a leaf whose chain reaches no profile CA (signed by another CA)', async function () {
    const device = deviceCsr(pki.dir, 'other', 'fleet-sensor-9');
    assert.equal(await connectOutcome(sim, { cert: device.leaf(pki.other) + pki.other.certPem, key: device.keyPem }), 5);
    assert.equal(
      sim.devices().some((d) => d.name === 'sensor-9'),
      false,
    );
  });

  it('drops the connection before any CONNACK when a link of the presented chain does not verify', async function () {
    // The leaf is signed by the fleet CA but presented with the impostor (same name and key id, other key):
    // the impostor's hash is a profile CA, so only the signature check stands between it and a new device.
    const device = deviceCsr(pki.dir, 'broken', 'broken-1');
    const lines = sim.logLines.length;
    assert.equal(await connectOutcome(sim, { cert: device.leaf(pki.fleet) + pki.impostor.certPem, key: device.keyPem }), 'dropped');
    assert.equal(
      sim.devices().some((d) => d.name === 'broken-1'),
      false,
    );
    assert.ok(
      sim.logLines.slice(lines).some((line) => /TLS client certificate chain refused/.test(line)),
      sim.logLines.slice(lines).join('\n'),
    );
  });

  it('gridlinks-sim --chain-profile FILE --chain-cn-regex P [--chain-no-create] adds chain profiles from the command line', async function () {
    const cli = await startSimulatorCli([
      '--port',
      'off',
      '--tls-port',
      '0',
      '--chain-profile',
      pki.fleet.certFile,
      '--chain-cn-regex',
      '^cli-(.*)$',
      '--chain-profile',
      pki.fleetEc.certFile,
      '--chain-no-create',
    ]);
    try {
      const device = deviceCsr(pki.dir, 'cli', 'cli-device-1');
      assert.equal(await connectOutcome(cli.sim, { cert: device.leaf(pki.fleet) + pki.fleet.certPem, key: device.keyPem }), 0);
      const refused = deviceCsr(pki.dir, 'cli-closed', 'cli-device-2');
      assert.equal(await connectOutcome(cli.sim, { cert: refused.leaf(pki.fleetEc) + pki.fleetEc.certPem, key: refused.keyPem }), 5);
      assert.ok(
        cli.lines.some((line) => /device device-1 created by chain profile/.test(line)),
        cli.lines.join('\n'),
      );
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it('refuses a well-known public root CA as a chain profile CA, and a second profile with the same CA or key (as GridLinks does)', function () {
    const publicRoot = tls.rootCertificates[0];
    assert.throws(
      () => sim.addProfile({ name: 'public', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: publicRoot }),
      /chain profile public: Device profile certificate cannot be well known root CA!/,
    );
    assert.throws(
      () => sim.addProfile({ name: 'fleet-again', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem }),
      /chain profile fleet-again: Device profile with such certificate hash already exists! \(profile fleet has the same CA certificate\)/,
    );
    assert.throws(
      () => sim.addProfile({ name: 'copy', provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey, provisionDeviceSecret: 'other' }),
      new RegExp(`profile copy: profile ${DEFAULT_PROFILE.name} already has this provisionDeviceKey`),
    );
  });

  it('after those refusals the profile in place still provisions for its CA', async function () {
    const device = deviceCsr(pki.dir, 'after-refusals', 'fleet-sensor-77');
    assert.equal(await connectOutcome(sim, { cert: device.leaf(pki.fleet) + pki.fleet.certPem, key: device.keyPem }), 0);
    assert.equal(sim.devices().find((d) => d.name === 'sensor-77')?.profile, 'fleet');
  });

  it('gridlinks-sim refuses --chain-cn-regex without a --chain-profile before it', async function () {
    await assert.rejects(startSimulatorCli(['--chain-cn-regex', '(.*)']), /applies to the --chain-profile/);
  });
});
