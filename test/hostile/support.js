'use strict';
/** Shared by test/hostile: provisioning options aimed at a hostile server, and the pending-key check. */
const fs = require('node:fs');
const assert = require('node:assert/strict');
const { uniqueName, tempDir } = require('../provisioning/support');

const created = [];

/** A temp folder (under the test run's TMPDIR) that removeTempDirs() deletes. */
function hostileTempDir() {
  const dir = tempDir('gl-hostile-');
  created.push(dir);
  return dir;
}

/** For an `after` hook: the run's temp directory must be left empty. */
function removeTempDirs() {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Plain MQTT to the hostile server; X.509 with a fast P-256 key and a store, so a kept key can be named. */
function hostileOptions(server, extra = {}) {
  const { server: serverExtra, ...rest } = extra;
  return {
    server: { host: '127.0.0.1', port: server.port, tls: false, connectTimeoutMs: 5000, answerTimeoutMs: 5000, ...serverExtra },
    provisionDeviceKey: 'hostile-key',
    provisionDeviceSecret: 'hostile-secret',
    deviceName: uniqueName('hostile'),
    keyAlgorithm: 'p256',
    storeDir: hostileTempDir(),
    ...rest,
  };
}

/** The error names the pending key, which is on disk: the server may have accepted it. */
function assertKeptKeyNamed(error) {
  const keyPath = error.details.pendingKeyPath;
  assert.ok(keyPath, `no kept key in ${error.code}: ${error.message}`);
  assert.ok(error.message.includes(keyPath), error.message);
  assert.ok(fs.existsSync(keyPath));
  assert.equal(error.details.requestSent, true);
}

module.exports = { hostileOptions, assertKeptKeyNamed, hostileTempDir, removeTempDirs };
