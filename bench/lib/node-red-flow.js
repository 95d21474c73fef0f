'use strict';
/**
 * A real Node-RED runtime embedded in this process (require('node-red'), no editor, no HTTP), with this
 * package installed in its user folder as `npm install <folder>` would link it, running the flow
 * messages → gridlinks-provision → count, and a Catch node counting failures. (Not the test helper: it
 * wraps node methods in sinon spies that keep every message, which would show up as a leak.)
 */
const { startEmbeddedNodeRed } = require('./embedded-node-red');

const COUNT_OUTPUT = "global.get('benchOutput')(msg); return null;";
const COUNT_FAILURE = "global.get('benchFailure')(msg); return null;";

/** The provision node's properties; keyPool undefined = the node's default. */
function provisionNode(id, { keyAlgorithm, maxParallel, keyPool }) {
  return {
    id,
    type: 'gridlinks-provision',
    z: 'tab',
    name: '',
    server: 'srv',
    credentialsType: 'X509_CERTIFICATE',
    keyAlgorithm,
    deviceName: 'payload.deviceName',
    deviceNameType: 'msg',
    provisionKey: '',
    provisionKeyType: 'cred',
    provisionSecret: '',
    provisionSecretType: 'cred',
    verify: false,
    storeDir: '',
    includePrivateKey: true,
    maxParallel,
    outputProperty: 'payload',
    ...(keyPool === undefined ? {} : { keyPool }),
    wires: [['count']],
  };
}

/** `pooled` (optional): a second provision node `prov-pool` with these overrides (e.g. { keyPool: 8 }). */
function flowFor(sim, { keyAlgorithm, maxParallel, keyPool, pooled }) {
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'srv',
      type: 'gridlinks-server',
      host: sim.host,
      port: sim.port,
      tls: true,
      verifyServerCert: true,
      servername: '',
      protocolVersion: 4,
      caFile: '',
      connectTimeout: 10,
      answerTimeout: 15,
    },
    provisionNode('prov', { keyAlgorithm, maxParallel, keyPool }),
    ...(pooled ? [provisionNode('prov-pool', { keyAlgorithm, maxParallel, ...pooled })] : []),
    { id: 'count', type: 'function', z: 'tab', func: COUNT_OUTPUT, outputs: 0, wires: [] },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['failed']] },
    { id: 'failed', type: 'function', z: 'tab', func: COUNT_FAILURE, outputs: 0, wires: [] },
  ];
}

/** Starts Node-RED with the flow; resolves { provisionAll(names, onProgress), unload() }. */
async function loadProvisionFlow(sim, { keyAlgorithm = 'p256', maxParallel = 8, keyPool, pooled } = {}) {
  const handlers = { output: () => {}, failure: () => {} };
  const provisionSecrets = { provisionDeviceKey: sim.provisionKey, provisionDeviceSecret: sim.provisionSecret };
  const runtime = await startEmbeddedNodeRed({
    flow: flowFor(sim, { keyAlgorithm, maxParallel, keyPool, pooled }),
    credentials: { srv: { ca: sim.caPem }, prov: provisionSecrets, 'prov-pool': provisionSecrets },
    waitFor: pooled ? ['prov', 'prov-pool'] : ['prov'],
    settings: {
      functionGlobalContext: {
        benchOutput: (msg) => handlers.output(msg),
        benchFailure: (msg) => handlers.failure(msg),
      },
    },
  });

  return {
    nodeRedVersion: runtime.nodeRedVersion,
    /**
     * Sends one message per name (a string, or a payload object) at once to node `target` and resolves
     * when every one has come out (or failed).
     */
    provisionAll(names, onProgress = () => {}, target = 'prov') {
      const prov = runtime.nodes.get(target);
      return new Promise((resolve, reject) => {
        let done = 0;
        const failures = [];
        const settle = () => {
          done++;
          onProgress(done);
          if (done < names.length) return;
          if (failures.length) reject(new Error(`${failures.length} messages failed: ${failures[0].error.code} ${failures[0].error.message}`));
          else resolve(done);
        };
        handlers.output = () => settle();
        handlers.failure = (msg) => {
          failures.push(msg);
          settle();
        };
        for (const name of names) prov.receive({ payload: typeof name === 'string' ? { deviceName: name } : name });
      });
    },
    unload: () => runtime.unload(),
  };
}

module.exports = { loadProvisionFlow };
