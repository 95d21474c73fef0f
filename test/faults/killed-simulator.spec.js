'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice, ProvisionError, ERROR_CODES } = require('../../nodes/provisioning');
const { settledSnapshot, expectNothingLeft, tempDir, startSimulatorProcess } = require('../helpers/faults');

const KEY = 'killed-sim-provision-key';
const SECRET = 'killed-sim-provision-secret';
const DEVICES = 200;
const IN_FLIGHT = 8;
// Answers wait this long after the decision is saved, so a kill right after a decision always leaves
// requests the server has acted on but never answered.
const ANSWER_DELAY_MS = 1000;
const KILL_AFTER_DECISIONS = 24;

function startSim(dataDir, extra = []) {
  return startSimulatorProcess(['--host', '127.0.0.1', '--port', 'off', '--tls-port', '0', '--profile', `${KEY}:${SECRET}`, '--data', dataDir, ...extra]);
}

function options(simProcess, caPem, deviceName, storeDir) {
  return {
    server: { host: '127.0.0.1', port: simProcess.info.mqttsPort, tls: true, ca: caPem, connectTimeoutMs: 5000, answerTimeoutMs: 5000 },
    provisionDeviceKey: KEY,
    provisionDeviceSecret: SECRET,
    deviceName,
    credentialsType: 'X509_CERTIFICATE',
    keyAlgorithm: 'p256',
    storeDir,
  };
}

/** SPKI DER of a certificate as the registry stores it (base64 body, no PEM armour). */
function registryPublicKey(credentialsValue) {
  const pem = `-----BEGIN CERTIFICATE-----\n${credentialsValue.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  return new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
}

function publicKeyOfPrivate(privateKeyPem) {
  return crypto.createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
}

const trimmed = (pem) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/[\r\n]/g, '');

describe('the simulator SIGKILLed in the middle of a 200-device bulk run through the core', function () {
  this.timeout(120_000);

  it('ends every device in a result or a coded error, keeps every unanswered key, retries nothing', async function () {
    const baseline = await settledSnapshot();
    const dataDir = tempDir('killed-sim-data');
    const storeDir = tempDir('killed-sim-store');
    const names = Array.from({ length: DEVICES }, (_, i) => `killed-${process.pid}-${i}`);
    let sim = await startSim(dataDir, ['--fault-delay', String(ANSWER_DELAY_MS)]);
    const caPem = fs.readFileSync(sim.info.caFile, 'utf8');

    let decisions = 0;
    let killed = null;
    const stopWatching = sim.onLine((line) => {
      if (/provision (SUCCESS|FAILURE|NOT_FOUND)/.test(line)) decisions++;
      if (decisions >= KILL_AFTER_DECISIONS && !killed) killed = sim.kill('SIGKILL');
    });

    const outcomes = new Array(DEVICES);
    const lanes = Array.from({ length: IN_FLIGHT }, async (_, lane) => {
      for (let i = lane; i < DEVICES; i += IN_FLIGHT) {
        outcomes[i] = await provisionDevice(options(sim, caPem, names[i], storeDir)).then(
          (result) => ({ result }),
          (error) => ({ error }),
        );
      }
    });
    await Promise.all(lanes);
    stopWatching();
    assert.ok(killed, `the simulator was never killed (only ${decisions} decisions)`);
    assert.equal((await killed).signal, 'SIGKILL');

    // 1. Every device ended in a result or a ProvisionError with a known code.
    for (const [i, outcome] of outcomes.entries()) {
      assert.ok(outcome, `device ${i} never settled`);
      if (outcome.error) {
        assert.ok(outcome.error instanceof ProvisionError, `device ${i}: ${outcome.error.stack}`);
        assert.ok(ERROR_CODES.includes(outcome.error.code), outcome.error.code);
      }
    }
    const byName = new Map(names.map((name, i) => [name, outcomes[i]]));
    const succeeded = names.filter((n) => byName.get(n).result);
    const unknown = names.filter((n) => byName.get(n).error?.code === 'OUTCOME_UNKNOWN');
    assert.ok(succeeded.length >= KILL_AFTER_DECISIONS - 2 * IN_FLIGHT, `only ${succeeded.length} succeeded before the kill`);
    assert.ok(unknown.length >= 1, 'a kill right after a decision must leave at least one unanswered request');

    // 2. Every unanswered request kept its private key in the store, and says so.
    for (const name of unknown) {
      const { error } = byName.get(name);
      assert.equal(error.details.requestSent, true);
      assert.ok(error.details.pendingKeyPath, `${name}: ${error.message}`);
      assert.match(fs.readFileSync(error.details.pendingKeyPath, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
    }
    // ... and only those: a device whose request never went out leaves no key behind.
    for (const name of names.filter((n) => byName.get(n).error && byName.get(n).error.code !== 'OUTCOME_UNKNOWN')) {
      const { error } = byName.get(name);
      assert.notEqual(error.details.requestSent, true, `${name}: ${error.code} after the request was sent: ${error.message}`);
      assert.equal(error.details.pendingKeyPath, undefined);
    }

    // 3. The server's persisted registry against the results: nothing it accepted is lost.
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, 'registry.json'), 'utf8')).devices;
    const registered = new Map(registry.map((device) => [device.name, device]));
    assert.equal(registered.size, registry.length, 'a device name appears twice in the registry');
    for (const name of succeeded) {
      assert.ok(registered.has(name), `${name} succeeded but is not in the registry`);
      assert.equal(registered.get(name).credentials.credentialsValue, trimmed(byName.get(name).result.credentials.certificate));
    }
    for (const device of registry) {
      const outcome = byName.get(device.name);
      assert.ok(outcome, `unexpected device ${device.name} in the registry`);
      assert.ok(
        outcome.result || outcome.error.code === 'OUTCOME_UNKNOWN',
        `${device.name} exists on the server but was reported ${outcome.error && outcome.error.code}`,
      );
      if (outcome.error) {
        // The kept key is the one the server's certificate holds.
        const keyPem = fs.readFileSync(outcome.error.details.pendingKeyPath, 'utf8');
        assert.deepEqual(publicKeyOfPrivate(keyPem), registryPublicKey(device.credentials.credentialsValue), `${device.name}: kept key does not match`);
      }
    }

    // 4. Nothing was retried: each name reached a decision at most once, and none was refused as taken.
    const decided = sim.logLines.filter((line) => /provision (SUCCESS|FAILURE|NOT_FOUND)/.test(line));
    assert.equal(decided.filter((line) => /FAILURE|NOT_FOUND/.test(line)).length, 0, decided.join('\n'));
    const perName = new Map();
    for (const line of decided) {
      const name = /device (\S+) provisioned/.exec(line)?.[1];
      perName.set(name, (perName.get(name) || 0) + 1);
    }
    for (const [name, times] of perName) assert.equal(times, 1, `${name} was decided ${times} times`);

    // 5. The next provisioning works once the server is back (same registry); an unanswered device exists there.
    sim = await startSim(dataDir);
    try {
      const restartedCa = fs.readFileSync(sim.info.caFile, 'utf8');
      const next = await provisionDevice(options(sim, restartedCa, `killed-${process.pid}-after`, storeDir));
      assert.equal(next.credentialsType, 'X509_CERTIFICATE');
      const unknownButRegistered = unknown.find((name) => registered.has(name));
      if (unknownButRegistered) {
        await assert.rejects(provisionDevice(options(sim, restartedCa, unknownButRegistered, tempDir('killed-sim-retry'))), { code: 'FAILURE' });
      }
    } finally {
      await sim.kill('SIGTERM');
    }
    await expectNothingLeft(baseline);
  });
});
