'use strict';
/**
 * A real Node-RED runtime (node-red-node-test-helper on the installed node-red) running the flow
 * messages → gridlinks-provision → count, with a Catch node counting failures.
 */
const helper = require('node-red-node-test-helper');

helper.init(require.resolve('node-red'));

const MODULES = [
  require('../../nodes/gridlinks-server.js'),
  require('../../nodes/gridlinks-provision.js'),
  require('@node-red/nodes/core/common/25-catch.js'),
];

function flowFor(sim, { keyAlgorithm, maxParallel }) {
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'srv', type: 'gridlinks-server', host: sim.host, port: sim.port, tls: true, verifyServerCert: true,
      servername: '', protocolVersion: 4, caFile: '', connectTimeout: 10, answerTimeout: 15,
    },
    {
      id: 'prov', type: 'gridlinks-provision', z: 'tab', name: '', server: 'srv',
      credentialsType: 'X509_CERTIFICATE', keyAlgorithm,
      deviceName: 'payload.deviceName', deviceNameType: 'msg',
      provisionKey: '', provisionKeyType: 'cred', provisionSecret: '', provisionSecretType: 'cred',
      verify: false, storeDir: '', includePrivateKey: true, maxParallel, outputProperty: 'payload',
      wires: [['count']],
    },
    { id: 'count', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['failed']] },
    { id: 'failed', type: 'helper', z: 'tab' },
  ];
}

/** Loads the flow; resolves { provisionAll(names), unload() }. */
async function loadProvisionFlow(sim, { keyAlgorithm = 'p256', maxParallel = 8 } = {}) {
  await helper.load(MODULES, flowFor(sim, { keyAlgorithm, maxParallel }), {
    srv: { ca: sim.caPem },
    prov: { provisionDeviceKey: sim.provisionKey, provisionDeviceSecret: sim.provisionSecret },
  });
  const prov = helper.getNode('prov');
  const count = helper.getNode('count');
  const failed = helper.getNode('failed');
  return {
    /** Sends one message per name at once and resolves when every one has come out (or failed). */
    provisionAll(names, onProgress = () => {}) {
      return new Promise((resolve, reject) => {
        let done = 0;
        const failures = [];
        const settle = () => {
          done++;
          onProgress(done);
          if (done < names.length) return;
          count.removeListener('input', onOutput);
          failed.removeListener('input', onFailure);
          if (failures.length) reject(new Error(`${failures.length} messages failed: ${failures[0].error.code} ${failures[0].error.message}`));
          else resolve(done);
        };
        const onOutput = () => settle();
        const onFailure = (msg) => {
          failures.push(msg);
          settle();
        };
        count.on('input', onOutput);
        failed.on('input', onFailure);
        for (const name of names) prov.receive({ payload: { deviceName: name } });
      });
    },
    unload: () => helper.unload(),
  };
}

module.exports = { loadProvisionFlow };
