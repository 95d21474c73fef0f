'use strict';
const assert = require('node:assert/strict');
const { startTestSimulator, connectDevice, connectOutcome } = require('../helpers/simulator');
const { makeFleetPki } = require('../helpers/chain-pki');
const { createCertificate } = require('../../nodes/simulator');

const DAY = 86_400_000;

describe('simulator: chain device names, validity and credentials updates as GridLinks handles them', function () {
  this.timeout(60_000);
  let pki;
  let sim;
  let fleet;
  before(async function () {
    pki = makeFleetPki();
    fleet = { certPem: pki.fleet.certPem, keyPem: pki.fleet.keyPem };
    sim = await startTestSimulator({
      mqttPort: null,
      profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem, certificateRegExPattern: '^acme-(.*)$' }],
      devices: [{ name: 'tok-1', profile: 'fleet', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'TOK1' }],
    });
  });
  after(async function () {
    await sim.stop();
    pki.remove();
  });
  const device = (name) => sim.devices().find((d) => d.name === name);
  const leafFor = (commonName, dates = {}) => createCertificate({ commonName, issuer: fleet, ...dates });
  const login = (leaf, extra = {}) => ({ cert: leaf.certPem + pki.fleet.certPem, key: leaf.keyPem, ...extra });

  it('names the device from the CN as BouncyCastle reads it: acme-meter,7 creates "meter\\,7"', async function () {
    assert.equal(await connectOutcome(sim, login(await leafFor('acme-meter,7'))), 0);
    assert.ok(device('meter\\,7'), JSON.stringify(sim.devices().map((d) => d.name)));
    assert.equal(device('meter,7'), undefined);
    assert.equal(await connectOutcome(sim, login(await leafFor('acme- lead+trail '))), 0);
    // Only the whole CN's own leading/trailing spaces are escaped: this space follows "acme-".
    assert.ok(device(' lead\\+trail\\ '));
  });

  it('group 1 empty: the device is created under a random 20-character name, not refused', async function () {
    const before = sim.devices().length;
    assert.equal(await connectOutcome(sim, login(await leafFor('acme-'))), 0);
    const created = sim.devices().slice(before);
    assert.equal(created.length, 1);
    assert.match(created[0].name, /^[A-Za-z0-9]{20}$/);
  });

  it('an expired or not-yet-valid leaf creates the device during the handshake, then the CONNECT is refused', async function () {
    const now = Date.now();
    const expired = await leafFor('acme-expired-1', { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now - DAY) });
    assert.equal(await connectOutcome(sim, login(expired)), 5);
    assert.ok(device('expired-1'));
    const early = await leafFor('acme-early-1', { notBefore: new Date(now + 3_600_000), notAfter: new Date(now + 2 * DAY) });
    assert.equal(await connectOutcome(sim, login(early, { protocolVersion: 5 })), 0x87);
    assert.ok(device('early-1'));
  });

  it('a same-named device with an ACCESS_TOKEN keeps its token; the CONNECT is refused', async function () {
    assert.equal(await connectOutcome(sim, login(await leafFor('acme-tok-1'))), 5);
    assert.equal(device('tok-1').credentials.credentialsType, 'ACCESS_TOKEN');
    assert.equal(device('tok-1').credentials.credentialsValue, 'TOK1');
  });

  for (const protocolVersion of [5, 4]) {
    it(`a rotation by chain closes the device's open sessions (MQTT ${protocolVersion === 5 ? '5: DISCONNECT 0x98' : '3.1.1: closed'})`, async function () {
      const name = `rotated-v${protocolVersion}`;
      const first = await leafFor(`acme-${name}`);
      const { client } = await connectDevice(sim, { tls: true, ...login(first, { protocolVersion }) });
      const disconnect = new Promise((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode)));
      const closed = new Promise((resolve) => client.once('close', resolve));
      assert.equal(await connectOutcome(sim, login(await leafFor(`acme-${name}`))), 0);
      await closed;
      if (protocolVersion === 5) assert.equal(await disconnect, 0x98);
      client.end(true);
    });
  }
});
