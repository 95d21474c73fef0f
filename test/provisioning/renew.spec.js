'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { provisionDevice, renewCertificate, inspectStore, expiringWithin, resumePending } = require('../../nodes/provisioning');
const { beginRenewal } = require('../../nodes/provisioning/store');
const { tlsServer, rejectsWith, options } = require('./support');
const { connectDevice } = require('../helpers/simulator');
const { deviceCsr } = require('../helpers/chain-pki');
const { useChainFleet } = require('../helpers/chain-fleet');

const DAY_MS = 86_400_000;

describe('certificates that expire: listing and renewal of chain devices (core against the simulator over TLS)', function () {
  this.timeout(60_000);
  const fleet = useChainFleet();
  const { storeDir: tempDir, signer, chainDevice } = fleet;
  const renew = (storeDir, deviceName, extra = {}) => renewCertificate({ server: tlsServer(fleet.sim), storeDir, deviceName, ...signer(), ...extra });
  const files = (storeDir, name) => fs.readdirSync(path.join(storeDir, name)).sort();
  const read = (storeDir, name, file) => fs.readFileSync(path.join(storeDir, name, file), 'utf8');
  /** A TLS login with this certificate (+ the chain) and key: resolves true when accepted. */
  const logsIn = (cert, key, protocolVersion = 4) =>
    connectDevice(fleet.sim, { tls: true, cert, key, protocolVersion }).then(
      ({ client }) => {
        client.end(true);
        return true;
      },
      () => false,
    );
  const storedLogsIn = (storeDir, name) =>
    logsIn(read(storeDir, name, 'certificate.pem') + read(storeDir, name, 'chain.pem'), read(storeDir, name, 'private-key.pem'));

  it('lists every device with type, expiry and state; a 20-day window picks the one ending in 5 days, not the one ending with its 30-day signer', async function () {
    const dir = tempDir();
    await chainDevice(dir, 'soon-1', 5);
    await chainDevice(dir, 'later-1', 3650);
    await provisionDevice(options(fleet.sim, { deviceName: 'token-1', credentialsType: 'ACCESS_TOKEN', storeDir: dir }));
    const record = JSON.parse(read(dir, 'soon-1', 'credentials.json'));
    assert.equal(record.notAfter, new Date(new crypto.X509Certificate(read(dir, 'soon-1', 'certificate.pem')).validTo).toISOString());
    // An entry written before notAfter was recorded: read from the certificate.
    delete record.notAfter;
    fs.writeFileSync(path.join(dir, 'soon-1', 'credentials.json'), JSON.stringify(record));
    fs.writeFileSync(
      path.join(dir, '.pending', 'lost-1.json'),
      JSON.stringify({ version: 1, deviceName: 'lost-1', credentialsType: 'ACCESS_TOKEN', server: { host: 'h', port: 1, tls: true } }),
    );
    const { devices } = await inspectStore(dir);
    assert.deepEqual(
      devices.map((d) => [d.entry, d.credentialsType, d.state, d.chain === true, d.notAfter !== undefined]),
      [
        ['later-1', 'X509_CERTIFICATE', 'committed', true, true],
        ['lost-1', 'ACCESS_TOKEN', 'pending', false, false],
        ['soon-1', 'X509_CERTIFICATE', 'committed', true, true],
        ['token-1', 'ACCESS_TOKEN', 'committed', false, false],
      ],
    );
    const soon = devices.find((d) => d.entry === 'soon-1');
    assert.ok(Math.abs(Date.parse(soon.notAfter) - Date.now() - 5 * DAY_MS) < DAY_MS);
    assert.deepEqual(
      expiringWithin(devices, 20 * DAY_MS).map((d) => d.entry),
      ['soon-1'],
    );
  });

  it('renews: the device logs in before, its open session is closed by the rotation (MQTT 5 0x98), the old certificate then fails and the stored new one logs in', async function () {
    const dir = tempDir();
    const first = await chainDevice(dir, 'pump-1', 10);
    const oldLeaf = read(dir, 'pump-1', 'certificate.pem');
    const oldCert = oldLeaf + read(dir, 'pump-1', 'chain.pem');
    const key = read(dir, 'pump-1', 'private-key.pem');
    assert.equal(await storedLogsIn(dir, 'pump-1'), true);
    const { client } = await connectDevice(fleet.sim, { tls: true, cert: oldCert, key, protocolVersion: 5 });
    const disconnected = new Promise((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode)));
    const result = await renew(dir, 'pump-1', { validityDays: 365 });
    assert.equal(await disconnected, 0x98);
    client.end(true);
    assert.equal(result.renewed, true);
    assert.equal(result.verified, true);
    assert.equal(result.newKey, false);
    assert.ok(Date.parse(result.notAfter) > Date.parse(result.previousNotAfter));
    assert.equal(result.previousNotAfter, new Date(new crypto.X509Certificate(first.credentials.certificate).validTo).toISOString());
    assert.equal(read(dir, 'pump-1', 'private-key.pem'), key, 'same key by default');
    assert.deepEqual(files(dir, 'pump-1'), ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
    const stored = JSON.parse(read(dir, 'pump-1', 'credentials.json'));
    assert.equal(stored.credentials.credentialsId, result.credentialsId);
    assert.equal(stored.notAfter, result.notAfter);
    assert.equal(fleet.sim.devices().find((d) => d.name === 'pump-1').credentials.credentialsId, result.credentialsId);
    // The leaf alone: with the chain it would rotate the device back (as GridLinks does).
    assert.equal(await logsIn(oldLeaf, key), false, 'the old certificate no longer logs in');
    assert.equal(await storedLogsIn(dir, 'pump-1'), true);
  });

  it('a CN GridLinks reads escaped (meter,7 is the device meter\\,7): the new leaf carries the same CN, and the same device is rotated', async function () {
    const dir = tempDir();
    const provisioned = await chainDevice(dir, 'meter,7;x', 10);
    assert.equal(provisioned.deviceName, 'meter\\,7\\;x');
    const result = await renew(dir, provisioned.deviceName);
    assert.equal(result.verified, true);
    const named = fleet.sim.devices().filter((device) => device.name.startsWith('meter'));
    assert.deepEqual(
      named.map((device) => device.name),
      ['meter\\,7\\;x'],
      'no second device',
    );
    assert.equal(named[0].credentials.credentialsId, result.credentialsId);
    const [entry] = fs.readdirSync(dir).filter((name) => !name.startsWith('.'));
    const subject = (pem) => new crypto.X509Certificate(pem).subject;
    assert.equal(subject(read(dir, entry, 'certificate.pem')), subject(provisioned.credentials.certificate), 'the same CN as written');
  });

  it('renews with a new key when asked', async function () {
    const dir = tempDir();
    await chainDevice(dir, 'pump-2', 10);
    const key = read(dir, 'pump-2', 'private-key.pem');
    const result = await renew(dir, 'pump-2', { newKey: true, keyAlgorithm: 'p256' });
    assert.equal(result.newKey, true);
    assert.notEqual(read(dir, 'pump-2', 'private-key.pem'), key);
    assert.deepEqual(files(dir, 'pump-2'), ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
    assert.equal(await storedLogsIn(dir, 'pump-2'), true);
  });

  it('a run killed after the next key but before the next certificate: the orphan key is dropped by the next renewal, with or without a new key', async function () {
    for (const newKey of [false, true]) {
      const dir = tempDir();
      const name = `pump-orphan-${newKey}`;
      await chainDevice(dir, name, 10);
      // What such a kill leaves: the record and a complete next key, no next certificate (nothing reached GridLinks).
      fs.writeFileSync(path.join(dir, name, 'renewal.json'), `${JSON.stringify({ version: 1, pid: 1, createdAt: new Date().toISOString(), newKey: true })}\n`);
      fs.writeFileSync(
        path.join(dir, name, 'private-key.next.pem'),
        crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      // ...and a half-written temporary of a process that is gone, left after this process opened the store.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid;
      const temporary = `.tmp-${gone}-private-key.next.pem-${crypto.randomBytes(6).toString('hex')}`;
      fs.writeFileSync(path.join(dir, name, temporary), '-----BEGIN PRIVATE KEY-----\nMIG');
      const result = await renew(dir, name, newKey ? { newKey: true, keyAlgorithm: 'p256' } : {});
      assert.equal(result.verified, true);
      assert.ok(
        result.warnings.some((warning) => warning.includes(temporary)),
        JSON.stringify(result.warnings),
      );
      assert.deepEqual(files(dir, name), ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
      assert.equal(await storedLogsIn(dir, name), true);
    }
  });

  it('a device not made by chain gets NOT_RENEWABLE with the advice, and nothing is sent', async function () {
    const dir = tempDir();
    await provisionDevice(options(fleet.sim, { deviceName: 'x509-ks', keyAlgorithm: 'p256', storeDir: dir }));
    await provisionDevice(options(fleet.sim, { deviceName: 'token-2', credentialsType: 'ACCESS_TOKEN', storeDir: dir }));
    for (const name of ['x509-ks', 'token-2']) {
      const error = await rejectsWith(renew(dir, name), 'NOT_RENEWABLE');
      assert.match(error.message, /administrator update its credentials/);
      assert.match(error.message, /chain profile/);
      assert.equal(error.details.requestSent, false);
    }
  });

  it('a kill at a random point of a renewal leaves a device that logs in with one of its two certificates; renewing again settles it', async function () {
    this.timeout(120_000);
    const dir = tempDir();
    await chainDevice(dir, 'pump-k', 10);
    const script = path.join(__dirname, '..', 'helpers', 'renew-child.js');
    for (let run = 0; run < 6; run += 1) {
      const child = spawn(process.execPath, [script], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          RENEW_ARGS: JSON.stringify({
            server: tlsServer(fleet.sim),
            storeDir: dir,
            deviceName: 'pump-k',
            ...signer(),
            newKey: run % 2 === 1,
            keyAlgorithm: 'p256',
          }),
        },
      });
      // Killed once it starts (the first line) plus 0-40 ms: before, during or after the login and the swap.
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, crypto.randomInt(0, 40)));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const folder = path.join(dir, 'pump-k');
      const pairs = [['certificate.pem', 'private-key.pem']];
      if (fs.existsSync(path.join(folder, 'certificate.next.pem')))
        pairs.push(['certificate.next.pem', fs.existsSync(path.join(folder, 'private-key.next.pem')) ? 'private-key.next.pem' : 'private-key.pem']);
      if (fs.existsSync(path.join(folder, 'certificate.previous.pem')))
        pairs.push(['certificate.previous.pem', fs.existsSync(path.join(folder, 'private-key.previous.pem')) ? 'private-key.previous.pem' : 'private-key.pem']);
      // Without the chain: only a certificate GridLinks holds logs in (the chain would rotate).
      const works = [];
      for (const [cert, key] of pairs) works.push(await logsIn(read(dir, 'pump-k', cert), read(dir, 'pump-k', key)));
      assert.ok(works.includes(true), `run ${run}: one of ${JSON.stringify(pairs)} logs in (${works})`);
    }
    const result = await renew(dir, 'pump-k');
    assert.equal(result.verified, true);
    assert.equal(await storedLogsIn(dir, 'pump-k'), true);
    assert.deepEqual(files(dir, 'pump-k'), ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
  });

  it('resumePending settles a renewal a killed run left, as the next renewal would: finished when GridLinks takes the next certificate, abandoned when it refuses it', async function () {
    const dir = tempDir();
    await chainDevice(dir, 'pump-r', 10);
    await chainDevice(dir, 'pump-s', 10);
    // What a run killed after writing the next certificate (with a new key) leaves.
    const next = (name, issuer) => {
      const csr = deviceCsr(fleet.pki.dir, name, name);
      return { certificate: csr.leaf(issuer), privateKey: csr.keyPem };
    };
    const taken = next('pump-r', fleet.pki.fleet);
    await beginRenewal(path.join(dir, 'pump-r'), taken);
    await beginRenewal(path.join(dir, 'pump-s'), next('pump-s', fleet.pki.other));
    const { entries } = await resumePending({ server: tlsServer(fleet.sim), storeDir: dir });
    assert.deepEqual(
      entries.map((entry) => [entry.entry, entry.deviceName, entry.outcome]),
      [
        ['pump-r', 'pump-r', 'renewal-finished'],
        ['pump-s', 'pump-s', 'renewal-abandoned'],
      ],
    );
    assert.equal(read(dir, 'pump-r', 'certificate.pem'), taken.certificate);
    assert.equal(read(dir, 'pump-r', 'private-key.pem'), taken.privateKey);
    assert.ok(!files(dir, 'pump-r').some((file) => file.includes('.next.') || file === 'renewal.json'));
    assert.equal(
      fleet.sim.devices().find((d) => d.name === 'pump-r').credentials.credentialsId,
      JSON.parse(read(dir, 'pump-r', 'credentials.json')).credentials.credentialsId,
    );
    assert.deepEqual(files(dir, 'pump-s'), ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
    assert.equal(await storedLogsIn(dir, 'pump-r'), true);
    assert.equal(await storedLogsIn(dir, 'pump-s'), true);
    assert.equal((await resumePending({ server: tlsServer(fleet.sim), storeDir: dir })).entries.length, 0, 'nothing left to settle');
  });

  it('the leftover cleanup removes the temporaries a killed renewal left in a device folder, and only those', async function () {
    const made = tempDir();
    await chainDevice(made, 'pump-t', 10);
    // Another folder: this process recovered `made` already (once per folder and process), a restarted one would not have.
    const dir = tempDir();
    fs.cpSync(made, dir, { recursive: true });
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const leftover = `.tmp-${deadPid}-certificate.next.pem-0123456789ab`;
    const kept = [`.tmp-${process.pid}-certificate.next.pem-0123456789ab`, `.tmp-${deadPid}-notes.txt-0123456789ab`, '.tmp-mine'];
    for (const name of [leftover, ...kept]) fs.writeFileSync(path.join(dir, 'pump-t', name), '-----BEGIN CERTIFICATE-----\n');
    const { warnings } = await inspectStore(dir);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /renewal stopped while writing certificate\.next\.pem/);
    assert.deepEqual(files(dir, 'pump-t'), [...kept, 'certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem'].sort());
    assert.equal(await storedLogsIn(dir, 'pump-t'), true);
  });
});
