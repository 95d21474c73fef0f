'use strict';
// Certificates that expire, in a real Node-RED runtime against the simulator over TLS: the provision
// node's deploy warning, msg.action = "renew", automatic renewal (no timer left after a redeploy or a
// close), and the device node's once-per-session warning.
const assert = require('node:assert/strict');
const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice, renewCertificate, certificateCredentialsId } = require('../../nodes/provisioning');
const { AUTO_RENEW_PERIOD_MS } = require('../../nodes/node-red/renew-action.js');
const { tlsServer, options } = require('../provisioning/support');
const { connectDevice } = require('../helpers/simulator');
const { useChainFleet } = require('../helpers/chain-fleet');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { helper, provisionFlow, serverNode, provisionWithTexts, load, expectOutput, expectCaught, nextMessage, waitUntil, TAB } = require('../helpers/node-red');
const serverModule = require('../../nodes/gridlinks-server.js');

const WARN = 30;
const CHAIN_PROPS = { credentialsType: 'X509_CERTIFICATE_CHAIN', certificateRegExPattern: '', signerCertType: 'cred', signerKeyType: 'cred' };

/** The live auto-renewal intervals (a daily period), followed through async_hooks: created at deploy, destroyed when cleared. */
function renewalTimers() {
  const live = new Set();
  const hook = asyncHooks
    .createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout' && resource._idleTimeout === AUTO_RENEW_PERIOD_MS) live.add(id);
      },
      destroy(id) {
        live.delete(id);
      },
    })
    .enable();
  // Destroy hooks run batched, after the current turn of the event loop.
  const count = () => new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(live.size))));
  return { count, stop: () => hook.disable() };
}

describe('certificates that expire in the nodes (Node-RED runtime, simulator over TLS)', function () {
  this.timeout(60_000);
  const fleet = useChainFleet('gl-expiry-');
  const { storeDir, chainDevice } = fleet;
  afterEach(async function () {
    await helper.unload();
  });

  const plainDevice = (dir, deviceName, validityDays) => provisionDevice(options(fleet.sim, { deviceName, keyAlgorithm: 'p256', validityDays, storeDir: dir }));
  /** `tag` + soon-a (3 days), soon-b (5 days), later (the signer's 30 days): chain; plain-soon (2 days): key/secret X.509; token-1. */
  async function mixedStore(tag) {
    const dir = storeDir();
    await chainDevice(dir, `${tag}soon-a`, 3);
    await chainDevice(dir, `${tag}soon-b`, 5);
    await chainDevice(dir, `${tag}later`);
    await plainDevice(dir, `${tag}plain-soon`, 2);
    await provisionDevice(options(fleet.sim, { deviceName: `${tag}token-1`, credentialsType: 'ACCESS_TOKEN', storeDir: dir }));
    return dir;
  }
  const read = (dir, name, file) => fs.readFileSync(path.join(dir, name, file), 'utf8');
  const notAfter = (dir, name) => JSON.parse(read(dir, name, 'credentials.json')).notAfter;
  const logsIn = (cert, key) =>
    connectDevice(fleet.sim, { tls: true, cert, key }).then(
      ({ client }) => {
        client.end(true);
        return true;
      },
      () => false,
    );
  const storedLogsIn = (dir, name) => logsIn(read(dir, name, 'certificate.pem') + read(dir, name, 'chain.pem'), read(dir, name, 'private-key.pem'));
  /** The node's warnings so far (node.warn goes to the runtime's log, which the test helper spies on). */
  const warningsOf = (id) =>
    helper
      .log()
      .args.map(([entry]) => entry)
      .filter((entry) => entry.level === WARN && entry.id === id)
      .map((entry) => String(entry.msg));

  /** The provision flow with the signer, `props` on the node, and a Status node → `statuses` watching it. */
  function chainFlow(props) {
    const { flow, credentials } = provisionFlow(fleet.sim, {
      props: { ...CHAIN_PROPS, ...props },
      provisionCreds: { signerCertificate: fleet.pki.fleet.certPem, signerPrivateKey: fleet.pki.fleet.keyPem },
    });
    flow.push({ id: 'watch', type: 'status', z: TAB, scope: ['prov'], wires: [['statuses']] }, { id: 'statuses', type: 'helper', z: TAB });
    return { flow, credentials };
  }
  const loadWithTexts = ({ flow, credentials }) => helper.load([serverModule, provisionWithTexts], flow, credentials);

  it('at deploy the provision node names each certificate of its store ending within its window (node.warn) and counts them in its status', async function () {
    const dir = await mixedStore('w-');
    const status = new Promise((resolve) => {
      const watch = (msg) => /expire/.test(msg.status.text) && resolve(msg.status);
      loadWithTexts(chainFlow({ storeDir: dir, expiryWarningDays: 10 })).then(() => helper.getNode('statuses').on('input', watch));
    });
    const { fill, shape, text } = await status;
    assert.deepEqual({ fill, shape, text }, { fill: 'yellow', shape: 'ring', text: '3 certificate(s) expire within 10 days' });
    const warnings = warningsOf('prov');
    assert.equal(warnings.length, 3, warnings.join('\n'));
    for (const [name, days] of [
      ['w-soon-a', 3],
      ['w-soon-b', 5],
      ['w-plain-soon', 2],
    ]) {
      const warning = warnings.find((text) => text.includes(`"${name}"`));
      assert.match(warning, new RegExp(`expires on \\S+ \\(in ${days} day\\(s\\)\\)`));
    }
    assert.ok(!warnings.some((text) => /later|token-1|PRIVATE KEY/.test(text)));
  });

  it('msg.action "renew": a chain device of the store folder renews (output 1; the old leaf refused, the new one logs in); a key/secret device reaches Catch as NOT_RENEWABLE', async function () {
    const dir = storeDir();
    await load(...Object.values(chainFlow({ storeDir: dir })));
    const provisioned = await expectOutput({ payload: { deviceName: 'pump-1' } });
    const oldLeaf = provisioned.payload.credentials.certificate;
    const key = provisioned.payload.credentials.privateKey;
    await plainDevice(dir, 'plain-1', 20);

    const renewed = await expectOutput({ action: 'renew', deviceName: 'pump-1' });
    assert.equal(renewed.payload.renewed, true);
    assert.equal(renewed.payload.deviceName, 'pump-1');
    assert.equal(renewed.payload.verified, true);
    assert.notEqual(read(dir, 'pump-1', 'certificate.pem'), oldLeaf);
    assert.equal(fleet.sim.devices().find((d) => d.name === 'pump-1').credentials.credentialsId, renewed.payload.credentialsId);
    // The leaf alone: with the chain it would rotate the device back.
    assert.equal(await logsIn(oldLeaf, key), false, 'the old certificate is refused');
    assert.equal(await storedLogsIn(dir, 'pump-1'), true, 'the new one logs in');
    assert.doesNotMatch(JSON.stringify(renewed.payload), /PRIVATE KEY/);

    const refused = await expectCaught({ action: 'renew', payload: { deviceName: 'plain-1' } });
    assert.equal(refused.gridlinksError.code, 'NOT_RENEWABLE');
    assert.match(refused.gridlinksError.message, /administrator update its credentials/);
    assert.equal(refused.gridlinksError.details.requestSent, false);
  });

  it('automatic renewal renews exactly the chain devices inside the window, one at a time, each on output 1 with renewed: true; a redeploy or a close leaves no timer', async function () {
    const dir = await mixedStore('r-');
    const before = { later: notAfter(dir, 'r-later'), plain: notAfter(dir, 'r-plain-soon'), a: notAfter(dir, 'r-soon-a'), b: notAfter(dir, 'r-soon-b') };
    const baseline = await settledSnapshot();
    const timers = renewalTimers();
    try {
      const { flow, credentials } = chainFlow({ storeDir: dir, expiryWarningDays: 10, autoRenew: true });
      const outputs = [];
      const caught = [];
      const twoRenewed = new Promise((resolve) => {
        load(flow, credentials).then(() => {
          helper.getNode('caught').on('input', (msg) => caught.push(msg));
          helper.getNode('out').on('input', (msg) => {
            // One at a time: when a renewal is reported, no other renewal has begun in the store.
            const begun = ['r-soon-a', 'r-soon-b'].filter((name) => fs.existsSync(path.join(dir, name, 'certificate.next.pem')));
            outputs.push({ msg, begun });
            if (outputs.length === 2) resolve();
          });
        });
      });
      await twoRenewed;
      assert.deepEqual(caught, []);
      assert.deepEqual(
        outputs.map(({ msg }) => [msg.deviceName, msg.renewed, msg.payload.renewed, msg.payload.verified]),
        [
          ['r-soon-a', true, true, true],
          ['r-soon-b', true, true, true],
        ],
      );
      assert.deepEqual(outputs[0].begun, [], 'soon-b had not begun when soon-a was reported');
      assert.ok(notAfter(dir, 'r-soon-a') > before.a && notAfter(dir, 'r-soon-b') > before.b);
      assert.equal(notAfter(dir, 'r-later'), before.later);
      assert.equal(notAfter(dir, 'r-plain-soon'), before.plain);
      assert.equal(await storedLogsIn(dir, 'r-soon-a'), true);
      assert.equal(await timers.count(), 1);

      // Redeploy: the old node's timer is cleared, the new node checks again and finds only plain-soon (not renewable) inside the window.
      await helper.setFlows(flow, 'full', credentials);
      assert.equal(await timers.count(), 1);
      await waitUntil(() => warningsOf('prov').filter((text) => text.includes('"r-plain-soon"')).length === 2);
      await helper.unload();
      assert.equal(await timers.count(), 0);
      assert.equal(outputs.length, 2);
      await expectNothingLeft(baseline);
    } finally {
      timers.stop();
    }
  });

  it('the device node names at deploy each certificate of its store inside its window and says how many, then warns once per session, and never about one outside', async function () {
    const dir = storeDir();
    await chainDevice(dir, 'soon-d', 4);
    await chainDevice(dir, 'later-d');
    const srv = serverNode(fleet.sim);
    const flow = [
      { id: TAB, type: 'tab', label: 'device expiry' },
      srv.node,
      { id: 'dev', type: 'gridlinks-device', z: TAB, server: 'srv', storeDir: dir, expiryWarningDays: 10, receive: false, wires: [['sent'], []] },
      { id: 'sent', type: 'helper', z: TAB },
      { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: TAB },
    ];
    await load(flow, { srv: srv.credentials });
    await waitUntil(() => warningsOf('dev').length === 2);
    const atDeploy = warningsOf('dev');
    assert.match(atDeploy[0], /"soon-d" expires on \S+ \(in 4 day\(s\)\)/);
    assert.match(atDeploy[1], /^1 certificate\(s\) in .* expire within 10 day\(s\)\.$/);
    await waitUntil(() => helper.getNode('dev').status.callCount > 0);
    assert.deepEqual(helper.getNode('dev').status.firstCall.args[0], { fill: 'yellow', shape: 'ring', text: '1 certificate(s) expire within 10 days' });
    const publish = async (deviceName) => {
      const sent = nextMessage('sent');
      helper.getNode('dev').receive({ deviceName, payload: { t: 1 } });
      return sent;
    };
    for (let i = 0; i < 3; i += 1) await publish('soon-d');
    await publish('later-d');
    assert.equal(fleet.sim.telemetry('soon-d').length, 3);
    const warnings = warningsOf('dev').slice(2);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /"soon-d" expires on \S+ \(in 4 day\(s\)\)/);
    assert.ok(!warningsOf('dev').some((text) => text.includes('later-d')));
    // A device given as msg.device (the provision result): warned about once too.
    const soon = await chainDevice(storeDir(), 'soon-m', 3);
    for (let i = 0; i < 3; i += 1) {
      const sent = nextMessage('sent');
      helper.getNode('dev').receive({ device: soon, payload: { t: 1 } });
      await sent;
    }
    const aboutMsgDevice = warningsOf('dev').filter((text) => text.includes('"soon-m"'));
    assert.equal(aboutMsgDevice.length, 1, aboutMsgDevice.join('\n'));
    assert.match(aboutMsgDevice[0], /"soon-m" expires on \S+ \(in 3 day\(s\)\)/);
  });

  /** gridlinks-device with the store folder `dir` (output 1 → `sent`, output 2 → `received`, Catch → `caught`) connected as `deviceName` by one message. */
  async function renewedDeviceFlow(dir, deviceName, protocolVersion) {
    const srv = serverNode(fleet.sim, { protocolVersion });
    const flow = [
      { id: TAB, type: 'tab', label: 'device renewed' },
      srv.node,
      { id: 'dev', type: 'gridlinks-device', z: TAB, server: 'srv', storeDir: dir, receive: true, wires: [['sent'], ['received']] },
      { id: 'sent', type: 'helper', z: TAB },
      { id: 'received', type: 'helper', z: TAB },
      { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: TAB },
    ];
    await load(flow, { srv: srv.credentials });
    const caught = [];
    helper.getNode('caught').on('input', (msg) => caught.push(msg.gridlinksError));
    const publish = async (n) => {
      const sent = nextMessage('sent');
      helper.getNode('dev').receive({ deviceName, payload: { n } });
      return sent;
    };
    await publish(1);
    const renew = () =>
      renewCertificate({
        server: tlsServer(fleet.sim),
        storeDir: dir,
        deviceName,
        signerCertificate: fleet.pki.fleet.certPem,
        signerKey: fleet.pki.fleet.keyPem,
      });
    return { caught, publish, renew };
  }
  const heldCredentialsId = (deviceName) => fleet.sim.devices().find((d) => d.name === deviceName).credentials.credentialsId;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  it('MQTT 3.1.1: the session of a renewed device, closed by GridLinks, reads the store again before it reconnects: GridLinks keeps the new certificate, and the device publishes with it', async function () {
    const dir = storeDir();
    await chainDevice(dir, 'renewed-v4');
    const { caught, publish, renew } = await renewedDeviceFlow(dir, 'renewed-v4', 4);
    const oldId = heldCredentialsId('renewed-v4');
    const renewed = await renew();
    assert.equal(renewed.credentialsId, certificateCredentialsId(read(dir, 'renewed-v4', 'certificate.pem')));
    assert.notEqual(renewed.credentialsId, oldId);
    // The reconnects after the close (and after the renewal's own check login) are over.
    await waitUntil(() => fleet.sim.isSubscribedToRpc('renewed-v4'));
    await pause(3_000);
    await waitUntil(() => fleet.sim.isSubscribedToRpc('renewed-v4'));
    assert.equal(heldCredentialsId('renewed-v4'), renewed.credentialsId, 'the old leaf and its chain did not rotate the device back');
    await publish(2);
    assert.equal(heldCredentialsId('renewed-v4'), renewed.credentialsId);
    assert.deepEqual(
      fleet.sim.telemetry('renewed-v4').map((record) => record.payload.values?.n ?? record.payload.n),
      [1, 2],
    );
    assert.equal(await storedLogsIn(dir, 'renewed-v4'), true);
    assert.deepEqual(caught, []);
  });

  it('MQTT 5: the session of a renewed device, closed by DISCONNECT 0x98, reconnects by itself with the renewed certificate from the store: it receives an RPC before any new message, and publishes', async function () {
    const dir = storeDir();
    await chainDevice(dir, 'renewed-v5');
    const { caught, publish, renew } = await renewedDeviceFlow(dir, 'renewed-v5', 5);
    const renewed = await renew();
    assert.equal(renewed.credentialsId, certificateCredentialsId(read(dir, 'renewed-v5', 'certificate.pem')));
    await waitUntil(() => fleet.sim.isSubscribedToRpc('renewed-v5'));
    const rpcIn = nextMessage('received');
    const rpcAnswer = fleet.sim.sendRpc('renewed-v5', { method: 'getState', params: {} });
    const request = await rpcIn;
    const answered = nextMessage('sent');
    helper.getNode('dev').receive({ deviceName: 'renewed-v5', requestId: request.requestId, topic: 'rpc/response', payload: { state: 'on' } });
    await answered;
    assert.deepEqual(await rpcAnswer, { state: 'on' });
    await publish(2);
    assert.deepEqual(
      fleet.sim.telemetry('renewed-v5').map((record) => record.payload.values?.n ?? record.payload.n),
      [1, 2],
    );
    assert.equal(heldCredentialsId('renewed-v5'), renewed.credentialsId);
    assert.deepEqual(caught, []);
  });
});
