'use strict';
/** Shared by the provisioning and CLI specs: a simulator over TLS, option builders, leak checks. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { startSimulator } = require('../../nodes/simulator');

const KEY = 'u7piawkboq8v32dmcmpp';
const SECRET = 'jpmwdn8ptlswmf4m29bw';
const PRE_KEY = 'checkpreprovisionkey';
const PRE_SECRET = 'checkpreprovisionsec';

let nameCounter = 0;
function uniqueName(prefix = 'dev') {
  nameCounter += 1;
  return `${prefix}-${process.pid}-${nameCounter}`;
}

/** A simulator with an ALLOW_CREATE profile (KEY/SECRET) and a CHECK_PRE profile; `lines` collects its log. */
async function startSim(extra = {}) {
  const lines = [];
  const listeners = [];
  const sim = await startSimulator({
    profiles: [
      { name: 'open', provisionDeviceKey: KEY, provisionDeviceSecret: SECRET, strategy: 'ALLOW_CREATE_NEW_DEVICES' },
      { name: 'pre', provisionDeviceKey: PRE_KEY, provisionDeviceSecret: PRE_SECRET, strategy: 'CHECK_PRE_PROVISIONED_DEVICES' },
    ],
    log: (line) => {
      lines.push(line);
      for (const listener of listeners) listener(line);
    },
    ...extra,
  });
  sim.lines = lines;
  /** Resolves when a log line matches. */
  sim.waitForLog = (pattern) =>
    new Promise((resolve) => {
      const listener = (line) => {
        if (pattern.test(line)) {
          listeners.splice(listeners.indexOf(listener), 1);
          resolve(line);
        }
      };
      listeners.push(listener);
    });
  return sim;
}

/** TLS only: the key/secret profile `open` and a chain profile `fleet` whose CA is `fleetCertPem`. */
function startChainSim(fleetCertPem) {
  return startSim({
    mqttPort: null,
    profiles: [
      { name: 'open', provisionDeviceKey: KEY, provisionDeviceSecret: SECRET, strategy: 'ALLOW_CREATE_NEW_DEVICES' },
      { name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: fleetCertPem },
    ],
  });
}

function tlsServer(sim, extra = {}) {
  return { host: '127.0.0.1', port: sim.mqttsPort, tls: true, ca: sim.caPem, ...extra };
}

function options(sim, extra = {}) {
  const { server, ...rest } = extra;
  return { server: tlsServer(sim, server), provisionDeviceKey: KEY, provisionDeviceSecret: SECRET, ...rest };
}

/** Asserts that a promise rejects with a ProvisionError of `code`; returns the error. */
async function rejectsWith(promise, code) {
  let caught;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, `expected ${code}, but it resolved`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  assert.equal(caught.name, 'ProvisionError');
  return caught;
}

function countBy(items) {
  const counts = {};
  for (const item of items) counts[item] = (counts[item] || 0) + 1;
  return counts;
}

/** Active resources (sockets, timers, ...) beyond `baseline`, after letting pending callbacks run. */
async function leakedSince(baseline) {
  let extra = [];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = countBy(process.getActiveResourcesInfo());
    extra = Object.entries(now)
      .filter(([kind, n]) => n > (baseline[kind] || 0))
      .map(([kind, n]) => `${n - (baseline[kind] || 0)} × ${kind}`);
    if (extra.length === 0) return extra;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return extra;
}

/** Taken after a turn of the event loop: mocha arms an async test's own timer only after the test function returned. */
async function resourceBaseline() {
  await new Promise((resolve) => setImmediate(resolve));
  return countBy(process.getActiveResourcesInfo());
}

function tempDir(prefix = 'gl-prov-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function mode(file) {
  return fs.statSync(file).mode & 0o777;
}

module.exports = {
  KEY,
  SECRET,
  PRE_KEY,
  PRE_SECRET,
  uniqueName,
  startSim,
  startChainSim,
  tlsServer,
  options,
  rejectsWith,
  leakedSince,
  resourceBaseline,
  tempDir,
  mode,
};
