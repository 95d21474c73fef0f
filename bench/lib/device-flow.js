'use strict';
/**
 * A real Node-RED runtime embedded in this process (as node-red-flow.js does for the provision node)
 * running messages → gridlinks-device, each message counted when the node completes it (onComplete hook).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');

function flowFor(sim, { tls, maxConnections }) {
  return [
    { id: 'tab', type: 'tab', label: 'bench devices' },
    {
      id: 'srv',
      type: 'gridlinks-server',
      host: sim.host,
      port: tls ? sim.port : sim.plainPort,
      tls,
      verifyServerCert: true,
      servername: '',
      protocolVersion: 4,
      caFile: '',
      connectTimeout: 30,
      answerTimeout: 30,
    },
    {
      id: 'dev',
      type: 'gridlinks-device',
      z: 'tab',
      name: '',
      server: 'srv',
      storeDir: '',
      receive: true,
      idleTimeout: 0,
      maxConnections,
      queueSize: 100000,
      wires: [[], []],
    },
    // The same job done by the thinnest possible node over the bench's bare mqtt.js clients (bare-publish-node/).
    { id: 'bare', type: 'bench-bare-publish', z: 'tab', name: '', wires: [[], []] },
  ];
}

/** Starts Node-RED with the flow; resolves { send(messages, messageAt, window, through), nodeRedVersion, unload() }. */
async function loadDeviceFlow(sim, { tls = false, maxConnections = 1000 } = {}) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-bench-dev-'));
  const scope = path.join(userDir, 'node_modules', '@gridlinks');
  fs.mkdirSync(scope, { recursive: true });
  fs.symlinkSync(PACKAGE_DIR, path.join(scope, 'node-red-gridlinks'), 'dir');
  fs.symlinkSync(path.join(__dirname, 'bare-publish-node'), path.join(userDir, 'node_modules', 'gridlinks-bench-bare-publish'), 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flowFor(sim, { tls, maxConnections })));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ srv: { ca: sim.caPem } }));

  const handlers = { output: () => {}, failure: () => {} };
  const RED = require('node-red');
  RED.init(http.createServer(), {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: { enabled: false },
    logging: { console: { level: 'error', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false } },
  });
  // Counted where the node calls done(): no downstream node's cost is added to the node's own.
  RED.hooks.add('onComplete.gridlinksBench', (event) => {
    if (event.node.id !== 'dev' && event.node.id !== 'bare') return;
    if (event.error) handlers.failure(event.msg);
    else handlers.output(event.msg);
  });
  await RED.start();
  let node;
  for (let i = 0; i < 500 && !node; i++) {
    node = RED.nodes.getNode('dev');
    if (!node) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!node) throw new Error('Node-RED did not start the gridlinks-device node: is the package built?');
  const bareNode = RED.nodes.getNode('bare');
  if (!bareNode) throw new Error('Node-RED did not start the bench-bare-publish node');

  return {
    nodeRedVersion: RED.version(),
    /**
     * Sends `total` messages made by `messageAt(i)` to the gridlinks-device node (`through` 'bare': to
     * the bench-bare-publish node), at most `window` unacknowledged at once; resolves when every one
     * came out of output 1, rejects naming the first failure.
     */
    send(total, messageAt, window = total, through = 'dev') {
      const target = through === 'bare' ? bareNode : node;
      return new Promise((resolve, reject) => {
        let started = 0;
        let finished = 0;
        let failure;
        const next = () => {
          if (started < total) target.receive(messageAt(started++));
        };
        const settle = () => {
          finished++;
          if (finished === total) return failure ? reject(new Error(`${failure.code}: ${failure.message}`)) : resolve();
          next();
        };
        handlers.output = settle;
        handlers.failure = (msg) => {
          failure ??= msg.gridlinksError ?? { code: '?', message: 'failed' };
          settle();
        };
        for (let i = 0; i < Math.min(window, total); i++) next();
      });
    },
    async unload() {
      RED.hooks.remove('*.gridlinksBench');
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

module.exports = { loadDeviceFlow };
