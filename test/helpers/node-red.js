'use strict';
/**
 * Node-RED test runtime for test/nodes: node-red-node-test-helper on the installed node-red, the two
 * GridLinks node modules, flow builders (a tab + `z` on every node, so Catch/Status nodes work) and
 * small waiting helpers.
 */
const helper = require('node-red-node-test-helper');
const { DEFAULT_PROFILE: PROFILE } = require('./simulator');

helper.init(require.resolve('node-red'));

const serverModule = require('../../nodes/gridlinks-server.js');
const provisionModule = require('../../nodes/gridlinks-provision.js');
const deviceModule = require('../../nodes/gridlinks-device.js');
const gatewayModule = require('../../nodes/gridlinks-gateway.js');
/** Core node modules by type, for flows that use them (the helper only registers what it is given). */
const CORE = (file) => require(`@node-red/nodes/core/${file}`);
const CORE_NODES = {
  comment: () => CORE('common/90-comment.js'),
  inject: () => CORE('common/20-inject.js'),
  debug: () => CORE('common/21-debug.js'),
  change: () => CORE('function/15-change.js'),
  switch: () => CORE('function/10-switch.js'),
  function: () => CORE('function/10-function.js'),
  split: () => CORE('sequence/17-split.js'),
  'mqtt out': () => CORE('network/10-mqtt.js'),
  'tls-config': () => CORE('network/05-tls.js'),
  file: () => CORE('storage/10-file.js'),
};
// catch, status and complete are registered by the test helper itself, from the runtime it was init'ed with.
const NODE_MODULES = [serverModule, provisionModule, deviceModule, gatewayModule];

/** The GridLinks modules plus the core modules that `flow` uses. */
function modulesFor(flow) {
  const modules = new Set(NODE_MODULES);
  for (const node of flow) {
    const core = CORE_NODES[node.type] || (node.type === 'mqtt-broker' ? CORE_NODES['mqtt out'] : undefined);
    if (core) modules.add(core());
  }
  return [...modules];
}

const TAB = 'tab1';

/** A gridlinks-server node (id `srv`) for the simulator's TLS port, and its credentials. */
function serverNode(sim, props = {}) {
  return {
    node: {
      id: 'srv',
      type: 'gridlinks-server',
      host: '127.0.0.1',
      port: sim.mqttsPort,
      tls: true,
      verifyServerCert: true,
      servername: '',
      protocolVersion: 4,
      caFile: '',
      connectTimeout: 5,
      answerTimeout: 5,
      ...props,
    },
    credentials: { ca: sim.caPem },
  };
}

/**
 * Flow: provision node `prov` (stored key/secret of PROFILE) → helper `out`, a Catch node `catcher` → helper `caught`.
 * `props` override provision properties, `provisionCreds` its credentials, `server` the server node/credentials.
 */
function provisionFlow(sim, { props = {}, provisionCreds, server = {}, serverCreds } = {}) {
  const srv = serverNode(sim, server);
  const flow = [
    { id: TAB, type: 'tab', label: 'tests' },
    srv.node,
    {
      id: 'prov',
      type: 'gridlinks-provision',
      z: TAB,
      name: '',
      server: 'srv',
      credentialsType: 'X509_CERTIFICATE',
      keyAlgorithm: 'p256',
      deviceName: 'payload.deviceName',
      deviceNameType: 'msg',
      provisionKey: '',
      provisionKeyType: 'cred',
      provisionSecret: '',
      provisionSecretType: 'cred',
      verify: false,
      storeDir: '',
      includePrivateKey: true,
      maxParallel: 4,
      outputProperty: 'payload',
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper', z: TAB },
    { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: TAB },
  ];
  const credentials = {
    srv: serverCreds === undefined ? srv.credentials : serverCreds,
    prov:
      provisionCreds === undefined ? { provisionDeviceKey: PROFILE.provisionDeviceKey, provisionDeviceSecret: PROFILE.provisionDeviceSecret } : provisionCreds,
  };
  return { flow, credentials };
}

/** Node-RED's message lookup for one of our catalogs (the test helper's RED._ returns the key as is). */
function translator(language, catalogName = 'gridlinks-provision') {
  const catalog = require(`../../nodes/locales/${language}/${catalogName}.json`);
  return (key, substitutions = {}) => {
    const text = key.split('.').reduce((node, part) => node?.[part], catalog);
    if (typeof text !== 'string') throw new Error(`no message ${key}`);
    return text.replace(/__(\w+)__/g, (_, name) => String(substitutions[name]));
  };
}

/** The provision node module with real en-US texts in its status. */
function provisionWithTexts(RED) {
  const red = Object.create(RED);
  red._ = translator('en-US');
  return provisionModule(red);
}

async function load(flow, credentials) {
  await helper.load(modulesFor(flow), flow, credentials);
}

/** Resolves with the next message that reaches helper node `id`. */
function nextMessage(id) {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
}

/** Resolves with the first message reaching either `out` or `caught` (whichever comes first), tagged. */
function nextOutcome() {
  return new Promise((resolve) => {
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');
    const onOut = (msg) => finish({ ok: true, msg });
    const onCaught = (msg) => finish({ ok: false, msg });
    function finish(outcome) {
      out.removeListener('input', onOut);
      caught.removeListener('input', onCaught);
      resolve(outcome);
    }
    out.on('input', onOut);
    caught.on('input', onCaught);
  });
}

/** Sends `msg` to the provision node and resolves with its outcome. */
async function provisionOnce(msg) {
  const outcome = nextOutcome();
  helper.getNode('prov').receive(msg);
  return outcome;
}

/** Resolves with the Catch message; fails the test if the message went out instead. */
async function expectCaught(msg) {
  const outcome = await provisionOnce(msg);
  if (outcome.ok) throw new Error(`expected a failure, got output ${JSON.stringify(outcome.msg.payload).slice(0, 200)}`);
  return outcome.msg;
}

async function expectOutput(msg) {
  const outcome = await provisionOnce(msg);
  if (!outcome.ok) throw new Error(`expected output, got ${outcome.msg.error.code}: ${outcome.msg.error.message}`);
  return outcome.msg;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` every 20 ms until it is true (the mocha timeout bounds the wait). */
async function waitUntil(predicate) {
  while (!(await predicate())) await delay(20);
}

module.exports = {
  helper,
  NODE_MODULES,
  modulesFor,
  PROFILE,
  TAB,
  serverNode,
  provisionFlow,
  translator,
  provisionWithTexts,
  load,
  nextMessage,
  nextOutcome,
  provisionOnce,
  expectCaught,
  expectOutput,
  delay,
  waitUntil,
};
