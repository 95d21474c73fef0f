'use strict';
/**
 * A real Node-RED runtime embedded in this process (no editor, no HTTP) with this package linked into
 * its user folder, plus bench-only node modules; each message is counted where a counted node calls
 * done() (an onComplete hook), so no downstream node's cost is added to the node's own.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');

/**
 * Starts Node-RED with `flow` (and `credentials` by node id), waits for the nodes `countedIds` and
 * `waitFor`. `benchModules`: { moduleName: folder } linked beside the package; `settings`: more runtime
 * settings. Resolves { RED, nodes, nodeRedVersion, send(nodeId, total, messageAt, window), unload() }.
 */
async function startEmbeddedNodeRed({ flow, credentials = {}, benchModules = {}, countedIds = [], waitFor = [], settings = {} }) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-bench-nr-'));
  const scope = path.join(userDir, 'node_modules', '@gridlinks');
  fs.mkdirSync(scope, { recursive: true });
  fs.symlinkSync(PACKAGE_DIR, path.join(scope, 'node-red-gridlinks'), 'dir');
  for (const [name, dir] of Object.entries(benchModules)) fs.symlinkSync(dir, path.join(userDir, 'node_modules', name), 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));

  const counted = new Set(countedIds);
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
    ...settings,
  });
  RED.hooks.add('onComplete.gridlinksBench', (event) => {
    if (!counted.has(event.node.id)) return;
    if (event.error) handlers.failure(event.msg);
    else handlers.output(event.msg);
  });
  await RED.start();
  // The flows start asynchronously after RED.start().
  const wanted = new Set([...counted, ...waitFor]);
  const nodes = new Map();
  for (let i = 0; i < 500 && nodes.size < wanted.size; i++) {
    for (const id of wanted) if (!nodes.has(id) && RED.nodes.getNode(id)) nodes.set(id, RED.nodes.getNode(id));
    if (nodes.size < wanted.size) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const missing = [...wanted].filter((id) => !nodes.has(id));
  if (missing.length) throw new Error(`Node-RED did not start node(s) ${missing.join(', ')}: is the package built (npm run build)?`);

  return {
    RED,
    nodes,
    nodeRedVersion: RED.version(),
    /**
     * Sends `total` messages made by `messageAt(i)` to node `nodeId`, at most `window` not yet completed
     * (`perSecond`: instead, started on a 10 ms clock at that rate, however many are open); resolves when
     * every one completed (with the completed messages when `keep`), rejects naming the first failure.
     */
    send(nodeId, total, messageAt, window = total, { perSecond, keep = false } = {}) {
      const target = nodes.get(nodeId);
      return new Promise((resolve, reject) => {
        let started = 0;
        let finished = 0;
        let failure;
        let clock;
        const kept = [];
        const next = () => {
          if (started < total) target.receive(messageAt(started++));
        };
        const settle = (msg) => {
          finished++;
          if (keep) kept.push(msg);
          if (finished === total) {
            clearInterval(clock);
            return failure ? reject(new Error(`${failure.code}: ${failure.message}`)) : resolve(kept);
          }
          if (!perSecond) next();
        };
        handlers.output = settle;
        handlers.failure = (msg) => {
          failure ??= msg.gridlinksError ?? { code: '?', message: 'failed' };
          settle(msg);
        };
        if (perSecond) {
          const startedAt = performance.now();
          const tick = () => {
            const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * perSecond));
            while (started < due) next();
            if (started >= total) clearInterval(clock);
          };
          clock = setInterval(tick, 10);
          tick();
        } else {
          for (let i = 0; i < Math.min(window, total); i++) next();
        }
      });
    },
    async unload() {
      RED.hooks.remove('*.gridlinksBench');
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** The gridlinks-server config node of the bench flows. */
function serverNode(sim, tls) {
  return {
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
  };
}

/** A gridlinks-device node of the bench flows (no store folder, outbox off unless `overrides` say otherwise). */
function deviceNodeConfig(id, overrides = {}) {
  return {
    id,
    type: 'gridlinks-device',
    z: 'tab',
    name: '',
    server: 'srv',
    storeDir: '',
    receive: true,
    idleTimeout: 0,
    maxConnections: 1000,
    queueSize: 100000,
    ...overrides,
    wires: [[], []],
  };
}

/** A gridlinks-gateway node of the bench flows (5 ms batches, 64 KiB packets, no store folder; `overrides` add the outbox). */
function gatewayNodeConfig(id, overrides = {}) {
  return {
    id,
    type: 'gridlinks-gateway',
    z: 'tab',
    name: '',
    server: 'srv',
    storeDir: '',
    gatewayName: '',
    batchWindow: 5,
    maxPacketKiB: 64,
    childIdleTimeout: 3600,
    ...overrides,
    wires: [[], []],
  };
}

/** Starts `total` jobs, at most `window` unfinished at once: `startOne(i, finished)` calls finished(error) once. */
function windowed(total, window, startOne) {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const next = () => {
      if (started >= total) return;
      startOne(started++, (error) => {
        if (error) return reject(error);
        if (++finished === total) resolve();
        else next();
      });
    };
    for (let i = 0; i < Math.min(window, total); i++) next();
  });
}

module.exports = { startEmbeddedNodeRed, serverNode, deviceNodeConfig, gatewayNodeConfig, windowed };
