'use strict';
/**
 * Table 9's runtime: messages → gridlinks-device (node `dev`), and the same job done by the thinnest
 * possible node over the bench's bare mqtt.js clients (`bare`, bare-publish-node/).
 */
const path = require('node:path');
const { startEmbeddedNodeRed, serverNode, deviceNodeConfig } = require('./embedded-node-red');

function flowFor(sim, { tls, maxConnections }) {
  return [
    { id: 'tab', type: 'tab', label: 'bench devices' },
    serverNode(sim, tls),
    deviceNodeConfig('dev', { maxConnections }),
    { id: 'bare', type: 'bench-bare-publish', z: 'tab', name: '', wires: [[], []] },
  ];
}

/** Resolves { send(total, messageAt, window, through), nodeRedVersion, unload() }; `through` 'bare' sends to the bare node. */
async function loadDeviceFlow(sim, { tls = false, maxConnections = 1000 } = {}) {
  const runtime = await startEmbeddedNodeRed({
    flow: flowFor(sim, { tls, maxConnections }),
    credentials: { srv: { ca: sim.caPem } },
    benchModules: { 'gridlinks-bench-bare-publish': path.join(__dirname, 'bare-publish-node') },
    countedIds: ['dev', 'bare'],
  });
  return {
    nodeRedVersion: runtime.nodeRedVersion,
    send: (total, messageAt, window = total, through = 'dev') => runtime.send(through === 'bare' ? 'bare' : 'dev', total, messageAt, window),
    unload: () => runtime.unload(),
  };
}

module.exports = { loadDeviceFlow };
