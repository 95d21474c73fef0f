'use strict';
// One fleet for a suite of chain-provisioning tests: the fleet PKI, a simulator over TLS that trusts
// its CA, store folders removed at the end, and chain devices made with the fleet's signer.
const fs = require('node:fs');
const { provisionDevice } = require('../../nodes/provisioning');
const { startChainSim, tlsServer, tempDir } = require('../provisioning/support');
const { makeFleetPki } = require('./chain-pki');

/** Call inside a describe: its before/after hooks start and stop the fleet; `pki` and `sim` are set once before has run. */
function useChainFleet(prefix) {
  const dirs = [];
  const fleet = {
    pki: undefined,
    sim: undefined,
    storeDir() {
      dirs.push(tempDir(prefix));
      return dirs[dirs.length - 1];
    },
    signer: () => ({ signerCertificate: fleet.pki.fleet.certPem, signerKey: fleet.pki.fleet.keyPem }),
    /** A chain device (P-256 key) stored in `storeDir`; `validityDays` undefined: the signer's own end date. */
    chainDevice: (storeDir, deviceName, validityDays) =>
      provisionDevice({
        server: tlsServer(fleet.sim),
        credentialsType: 'X509_CERTIFICATE_CHAIN',
        ...fleet.signer(),
        deviceName,
        validityDays,
        storeDir,
        keyAlgorithm: 'p256',
      }),
  };
  before(async function () {
    fleet.pki = makeFleetPki();
    fleet.sim = await startChainSim(fleet.pki.fleet.certPem);
  });
  after(async function () {
    await fleet.sim?.stop();
    fleet.pki?.remove();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return fleet;
}

module.exports = { useChainFleet };
