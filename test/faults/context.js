'use strict';
/** What the fault specs share: a healthy simulator, two broken-TLS simulators and an unused port. */
const { startTestSimulator } = require('../helpers/simulator');
const { faultCertificates, unusedPort } = require('../helpers/faults');

async function startFaultContext() {
  const certs = await faultCertificates();
  const sim = await startTestSimulator({ mqttPort: null });
  const expiredSim = await startTestSimulator({ mqttPort: null, cert: certs.expired.certPem, key: certs.expired.keyPem });
  const selfSignedSim = await startTestSimulator({ mqttPort: null, cert: certs.selfSigned.certPem, key: certs.selfSigned.keyPem });
  return {
    certs,
    sim,
    expiredSim,
    selfSignedSim,
    unusedPort: await unusedPort(),
    async stop() {
      await Promise.all([sim.stop(), expiredSim.stop(), selfSignedSim.stop()]);
    },
  };
}

module.exports = { startFaultContext };
