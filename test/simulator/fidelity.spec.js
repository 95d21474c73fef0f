'use strict';
/**
 * The simulator on the edges where it copies GridLinks' server (protocol-more.md §3); each test names the
 * server behaviour it copies. Real sockets on 127.0.0.1, raw MQTT packets where the packet is the point.
 */
const assert = require('node:assert/strict');
const http = require('node:http');
const { startTestSimulator, provisionRequest, rawProvision, RawSession, DEFAULT_PROFILE, connectDevice } = require('../helpers/simulator');
const { createCertificate } = require('../../nodes/simulator');
const { provisionDevice } = require('../../nodes/provisioning');

/** POST /api/v1/provision with exactly these body bytes; resolves { status, body }. */
function postProvision(sim, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: sim.host, port: sim.httpPort, path: '/api/v1/provision', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function connackOf(sim, opts) {
  const session = await RawSession.open(sim, opts);
  const connack = await session.next('connack');
  await session.destroy();
  return connack;
}

describe('simulator fidelity: edges copied from the GridLinks server', function () {
  this.timeout(30_000);
  let sim;
  before(async function () {
    sim = await startTestSimulator({
      httpPort: 0,
      profiles: [{ name: 'pre', provisionDeviceKey: 'fid-pre-key', provisionDeviceSecret: 'fid-pre-secret', strategy: 'CHECK_PRE_PROVISIONED_DEVICES' }],
      devices: [{ name: 'pre-basic-client-only', profile: 'pre', credentialsType: 'MQTT_BASIC', clientId: 'fid-client-only' }],
    });
  });
  after(() => sim.stop());

  describe('device names (DeviceDataValidator + NoXssValidator): blank, U+0000, templates and markup refused; zone=1 accepted', function () {
    const refused = [
      ['blank', '   '],
      ['U+0000', 'sensor\u0000one'],
      ['a template', 'x{{constructor.constructor("alert(1)")()}}'],
      ['a script tag', 'bam<script>alert(1)</script>'],
      ['an element with an event handler', '9090<body onload=alert(1)>90'],
      ['a comment', 'a<!-- b -->'],
    ];
    for (const [what, deviceName] of refused) {
      it(`${what} ⇒ FAILURE, no device`, async function () {
        const { json } = await rawProvision(sim, provisionRequest({ deviceName }));
        assert.deepEqual(json, { errorMsg: 'Failed to provision device!', status: 'FAILURE' });
        assert.equal(
          sim.devices().some((device) => device.name === deviceName.trim()),
          false,
        );
      });
    }
    for (const deviceName of ['zone=1', 'a < b', 'onload=1', 'javascript:x']) {
      it(`"${deviceName}" is plain text the sanitizer keeps ⇒ SUCCESS`, async function () {
        const { json } = await rawProvision(sim, provisionRequest({ deviceName }));
        assert.equal(json.status, 'SUCCESS');
        assert.ok(sim.devices().some((device) => device.name === deviceName));
      });
    }
  });

  it('device names are trimmed as Java String.trim() does (code points up to U+0020), not as JavaScript trim()', async function () {
    for (const [given, stored] of [
      ['\u00a0nbsp\u00a0', '\u00a0nbsp\u00a0'],
      ['\u2028sep', '\u2028sep'],
      [' \u0001ctl\t', 'ctl'],
    ]) {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: given }));
      assert.equal(json.status, 'SUCCESS', JSON.stringify(given));
      assert.ok(
        sim.devices().some((device) => device.name === stored),
        JSON.stringify(stored),
      );
    }
  });

  it('X.509 request with "hash": "" next to another credential field ⇒ stored as given, SUCCESS (DeviceProvisionServiceImpl)', async function () {
    const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'x509-empty-hash', credentialsType: 'X509_CERTIFICATE', hash: '', token: 'tok' }));
    assert.deepEqual(json, { credentialsValue: '', credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' });
    const device = sim.devices().find((d) => d.name === 'x509-empty-hash');
    assert.equal(device.credentials.credentialsType, 'X509_CERTIFICATE');
    assert.equal(device.credentials.credentialsValue, '');
  });

  it('the 65536-byte limit is on the Remaining Length (Netty MqttDecoder): the fixed header is not counted, topic and packet id are', async function () {
    await rawProvision(sim, provisionRequest({ deviceName: 'size-limit', credentialsType: 'ACCESS_TOKEN', token: 'size-limit-token' }));
    const topic = 'v1/devices/me/telemetry';
    // MQTT 5 QoS 1 PUBLISH: topic length (2) + topic + packet id (2) + properties length (1) + payload.
    // A JSON body ({"v":"xx…"}, 8 bytes around the filler) of the size that makes that Remaining Length.
    const bodyFor = (remainingLength) => Buffer.from(JSON.stringify({ v: 'x'.repeat(remainingLength - (2 + topic.length + 2 + 1) - 8) }));
    const { client } = await connectDevice(sim, { username: 'size-limit-token', protocolVersion: 5 });
    try {
      await client.publishAsync(topic, bodyFor(65536), { qos: 1 });
      const disconnect = new Promise((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode)));
      client.publish(topic, bodyFor(65537), { qos: 1 }, () => {});
      assert.equal(await disconnect, 0x81);
    } finally {
      client.end(true);
    }
  });

  describe('device sessions (MqttTransportHandler.processPublish / processSubscribe, JsonConverter)', function () {
    let token;
    before(async function () {
      token = 'dev-session-token';
      await rawProvision(sim, provisionRequest({ deviceName: 'dev-session', credentialsType: 'ACCESS_TOKEN', token }));
    });
    const raw = async (protocolVersion) => {
      const session = await RawSession.open(sim, { protocolVersion, clientId: `dev-session-${protocolVersion}`, username: token });
      await session.next('connack');
      return session;
    };
    const publish = (session, topic, payload, messageId) =>
      session.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId, retain: false, dup: false });

    it('MQTT 5: a publish on an unknown topic gets PUBACK 0x90 and the session goes on', async function () {
      const session = await raw(5);
      try {
        publish(session, 'v1/devices/me/unknown', '{"a":1}', 7);
        const refused = await session.next('puback');
        assert.deepEqual([refused.messageId, refused.reasonCode], [7, 0x90]);
        publish(session, 'v1/devices/me/telemetry', '{"a":1}', 8);
        const ok = await session.next('puback');
        assert.equal(ok.messageId, 8);
        assert.ok(!ok.reasonCode);
      } finally {
        session.destroy();
      }
    });

    it('a telemetry body it cannot parse: MQTT 5 PUBACK 0x99 and a close; 3.1.1 closed without PUBACK', async function () {
      const v5 = await raw(5);
      publish(v5, 'v1/devices/me/telemetry', 'not json', 9);
      assert.equal((await v5.next('puback')).reasonCode, 0x99);
      assert.equal(await v5.waitClose(), true);
      const v4 = await raw(4);
      publish(v4, 'v1/devices/me/telemetry', 'not json', 10);
      assert.equal(await v4.waitClose(), true);
      assert.equal(
        v4.packets.some((packet) => packet.cmd === 'puback'),
        false,
      );
    });

    it('a subscription it does not serve is refused in the SUBACK: 3.1.1 0x80, MQTT 5 0x8F; supported ones granted', async function () {
      for (const [protocolVersion, refusedCode] of [
        [4, 0x80],
        [5, 0x8f],
      ]) {
        const session = await raw(protocolVersion);
        try {
          session.send({
            cmd: 'subscribe',
            messageId: 2,
            subscriptions: [
              { topic: 'v1/devices/me/rpc/request/+', qos: 1 },
              { topic: 'some/other/#', qos: 1 },
            ],
          });
          assert.deepEqual((await session.next('suback')).granted, [1, refusedCode]);
        } finally {
          session.destroy();
        }
      }
    });

    it('an attribute response goes out at QoS 1 without a subscription; a shared-attribute update carries "deleted"', async function () {
      const session = await raw(4);
      try {
        session.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'v1/devices/me/attributes', qos: 1 }] });
        await session.next('suback');
        publish(session, 'v1/devices/me/attributes/request/3', '{"sharedKeys":"a"}', 11);
        const response = await session.next('publish');
        assert.deepEqual([response.topic, response.qos], ['v1/devices/me/attributes/response/3', 1]);
        sim.setSharedAttributes('dev-session', { b: 2 }, ['a']);
        const update = await session.next('publish');
        assert.deepEqual(JSON.parse(update.payload.toString()), { b: 2, deleted: ['a'] });
      } finally {
        session.destroy();
      }
    });
  });

  it('an access token with a control character ⇒ FAILURE (DeviceCredentialsDataValidator); a space inside is stored', async function () {
    const bad = await rawProvision(sim, provisionRequest({ deviceName: 'tok-ctl', credentialsType: 'ACCESS_TOKEN', token: 'abc\u0007def' }));
    assert.equal(bad.json.status, 'FAILURE');
    const spaced = await rawProvision(sim, provisionRequest({ deviceName: 'tok-space', credentialsType: 'ACCESS_TOKEN', token: 'abc def' }));
    assert.deepEqual(spaced.json, { credentialsValue: 'abc def', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' });
  });

  it('requests are parsed leniently as Gson does (unquoted keys, single quotes), over MQTT and HTTP', async function () {
    const key = DEFAULT_PROFILE.provisionDeviceKey;
    const secret = DEFAULT_PROFILE.provisionDeviceSecret;
    const overMqtt = await rawProvision(
      sim,
      `{provisionDeviceKey: '${key}', provisionDeviceSecret: '${secret}', deviceName: 'lenient-mqtt', credentialsType: ACCESS_TOKEN}`,
    );
    assert.equal(overMqtt.json.status, 'SUCCESS');
    const overHttp = await postProvision(sim, `{'provisionDeviceKey':'${key}', provisionDeviceSecret='${secret}'; deviceName: "lenient-http" # comment\n}`);
    assert.equal(overHttp.status, 200);
    assert.equal(JSON.parse(overHttp.body).status, 'SUCCESS');
    assert.ok(sim.devices().some((device) => device.name === 'lenient-http'));
    const notJson = await postProvision(sim, '{deviceName: }');
    assert.equal(notJson.status, 500, 'a body it cannot parse is HTTP 500');
  });

  describe('fields are read in the order deviceName, credentialsType, credential fields, key, secret; the first bad one decides (JsonConverter)', function () {
    async function pubackFor(request) {
      const session = await RawSession.open(sim, { protocolVersion: 5 });
      await session.next('connack');
      session.publish(JSON.stringify(request));
      const puback = await session.next('puback');
      await session.destroy();
      return puback.reasonCode;
    }
    it('a two-element deviceName array (undecodable, 0x99) wins over a missing provisionDeviceKey (server error, 0x83)', async function () {
      assert.equal(await pubackFor({ deviceName: ['a', 'b'], provisionDeviceSecret: 's' }), 0x99);
      assert.equal(await pubackFor({ deviceName: 'a', provisionDeviceSecret: 's' }), 0x83);
    });
    it('an unknown credentialsType (0x83) wins over a two-element token array (0x99); a bad token wins over a missing key', async function () {
      assert.equal(await pubackFor({ credentialsType: 'NOPE', token: ['a', 'b'] }), 0x83);
      assert.equal(await pubackFor({ credentialsType: 'ACCESS_TOKEN', token: ['a', 'b'] }), 0x99);
    });
  });

  it('MQTT 5: a QoS 0 payload it cannot decode ⇒ DISCONNECT 0x99 and close (no PUBACK to carry the reason)', async function () {
    const session = await RawSession.open(sim, { protocolVersion: 5 });
    await session.next('connack');
    session.publish('{bad json', { qos: 0 });
    const disconnect = await session.next('disconnect');
    assert.equal(disconnect.reasonCode, 0x99);
    assert.equal(await session.waitClose(), true);
  });

  it('MQTT 5: UNSUBACK carries 0x00 for the subscribed response topic and 0x11 (no subscription existed) for others', async function () {
    const session = await RawSession.open(sim, { protocolVersion: 5 });
    await session.next('connack');
    session.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['/provision/response'] });
    assert.deepEqual((await session.next('unsuback')).granted, [0x11], 'not subscribed yet');
    session.subscribe();
    await session.next('suback');
    session.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['/provision/response', 'v1/devices/me/rpc/request/+'] });
    assert.deepEqual((await session.next('unsuback')).granted, [0x00, 0x11]);
    await session.destroy();
  });

  describe('a client certificate chain whose links do not verify fails TLS (ThingsboardMqttX509TrustManager)', function () {
    let fleetCa;
    let impostorCa;
    let leaf;
    before(async function () {
      [fleetCa, impostorCa] = await Promise.all([
        createCertificate({ commonName: 'Fleet CA', isCA: true }),
        createCertificate({ commonName: 'Fleet CA', isCA: true }),
      ]);
      leaf = await createCertificate({ commonName: 'chain-device', issuer: fleetCa });
    });
    it('leaf + a CA of the same name but another key: closed right after the handshake, no CONNACK', async function () {
      const session = await RawSession.open(sim, { tls: true, cert: leaf.certPem + impostorCa.certPem, key: leaf.keyPem, clientId: 'c', username: 'u' });
      assert.equal(await session.next('connack'), null);
      assert.ok(sim.logLines.some((line) => /TLS client certificate chain refused/.test(line)));
    });
    it('leaf + the CA that signed it: the chain passes TLS and the CONNECT is decided (unknown device ⇒ 5)', async function () {
      const connack = await connackOf(sim, { tls: true, cert: leaf.certPem + fleetCa.certPem, key: leaf.keyPem, clientId: 'c', username: 'u' });
      assert.equal(connack.returnCode, 5);
    });
  });

  describe('CONNACK refusal codes by CONNECT fields (MqttTransportHandler)', function () {
    it('MQTT 5: a password without a user name ⇒ 0x86', async function () {
      // mqtt-packet will not write this CONNECT (MQTT 5 allows it), so it is laid out by hand.
      const field = (text) => Buffer.concat([Buffer.from([0, Buffer.byteLength(text)]), Buffer.from(text)]);
      const body = Buffer.concat([field('MQTT'), Buffer.from([5, 0x40 | 0x02, 0, 60, 0]), field('some-client'), field('secret')]);
      const session = await RawSession.open(sim, { protocolVersion: 5, connect: false });
      session.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
      assert.equal((await session.next('connack')).reasonCode, 0x86);
      await session.destroy();
    });
    it('no user name, no password and an empty client id ⇒ 0x87 on MQTT 5, 5 on 3.1.1', async function () {
      assert.equal((await connackOf(sim, { protocolVersion: 5, clientId: '' })).reasonCode, 0x87);
      assert.equal((await connackOf(sim, { protocolVersion: 4, clientId: '' })).returnCode, 5);
    });
  });

  it('a pre-provisioned MQTT_BASIC device with null fields answers "userName":null (not ""); the client takes it', async function () {
    const { body } = await rawProvision(sim, {
      provisionDeviceKey: 'fid-pre-key',
      provisionDeviceSecret: 'fid-pre-secret',
      deviceName: 'pre-basic-client-only',
    });
    assert.equal(
      body.toString('utf8'),
      '{"credentialsValue":{"clientId":"fid-client-only","userName":null,"password":null},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
    const second = await startTestSimulator({
      mqttsPort: null,
      profiles: [{ name: 'pre', provisionDeviceKey: 'fid-pre-key', provisionDeviceSecret: 'fid-pre-secret', strategy: 'CHECK_PRE_PROVISIONED_DEVICES' }],
      devices: [{ name: 'pre-basic-client-only', profile: 'pre', credentialsType: 'MQTT_BASIC', clientId: 'fid-client-only' }],
    });
    try {
      const result = await provisionDevice({
        server: { host: '127.0.0.1', port: second.mqttPort, tls: false },
        provisionDeviceKey: 'fid-pre-key',
        provisionDeviceSecret: 'fid-pre-secret',
        deviceName: 'pre-basic-client-only',
        credentialsType: 'MQTT_BASIC',
        clientId: 'fid-client-only',
      });
      assert.deepEqual(result.credentials, { clientId: 'fid-client-only' });
    } finally {
      await second.stop();
    }
  });
});
