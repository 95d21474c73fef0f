'use strict';
/** The compiled core, and one bench device provisioned through it. */
const crypto = require('node:crypto');
const core = require('../../nodes/provisioning');

const runId = crypto.randomBytes(3).toString('hex');

/** A device name no other run on this simulator has used. */
function deviceName(tag, index) {
  return `bench-${runId}-${tag}-${index}`;
}

/** `kind` is 'ACCESS_TOKEN' or a key algorithm (X.509). */
function provisionOptions(sim, kind, name, extra = {}) {
  const typeOptions = kind === 'ACCESS_TOKEN' ? { credentialsType: 'ACCESS_TOKEN' } : { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: kind };
  return {
    server: sim.server,
    provisionDeviceKey: sim.provisionKey,
    provisionDeviceSecret: sim.provisionSecret,
    deviceName: name,
    ...typeOptions,
    ...extra,
  };
}

function provisionOne(sim, kind, name, extra) {
  return core.provisionDevice(provisionOptions(sim, kind, name, extra));
}

/** The provisioning request a minimal client publishes for the same kind of device. */
function bareRequest(sim, kind, name, certificatePem) {
  const request = { deviceName: name, provisionDeviceKey: sim.provisionKey, provisionDeviceSecret: sim.provisionSecret };
  if (kind === 'ACCESS_TOKEN') return { ...request, credentialsType: 'ACCESS_TOKEN' };
  return { ...request, credentialsType: 'X509_CERTIFICATE', hash: certificatePem };
}

module.exports = { core, deviceName, provisionOptions, provisionOne, bareRequest };
