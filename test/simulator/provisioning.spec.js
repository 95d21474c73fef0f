'use strict';
const assert = require('node:assert/strict');
const { createHash } = require('node:crypto');
const { startTestSimulator, provisionRequest, RawSession, rawProvision, provisionOnce } = require('../helpers/simulator');
const { createCertificate } = require('../../nodes/simulator');

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';
const sha3 = (text) => createHash('sha3-256').update(text).digest('hex');

describe('simulator: provisioning sessions', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ sessionCloseAfterAnswerMs: 60000 });
  });
  after(async function () {
    await sim.stop();
  });

  describe('answers (exact bytes, key order)', function () {
    it('ACCESS_TOKEN with a generated token: credentialsValue, credentialsType, status', async function () {
      const { body, connack, suback, puback, answer } = await rawProvision(sim, provisionRequest({ deviceName: 'tok-generated' }));
      assert.equal(connack.returnCode, 0);
      assert.deepEqual(suback.granted, [1]);
      assert.equal(puback.messageId, 2);
      assert.equal(answer.topic, '/provision/response');
      assert.equal(answer.qos, 1);
      assert.equal(answer.retain, false);
      assert.match(body.toString(), /^\{"credentialsValue":"[A-Za-z0-9]{20}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$/);
      const device = sim.devices().find((d) => d.name === 'tok-generated');
      assert.equal(device.credentials.credentialsId, JSON.parse(body).credentialsValue);
      assert.equal(device.provisionState, 'provisioned');
      assert.equal(device.profile, 'test-profile');
    });

    it('ACCESS_TOKEN chosen by the device', async function () {
      const { body } = await rawProvision(sim, provisionRequest({ deviceName: 'tok-own', credentialsType: 'ACCESS_TOKEN', token: 'my_token_1' }));
      assert.equal(body.toString(), '{"credentialsValue":"my_token_1","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    });

    it('MQTT_BASIC: nested object with clientId, userName, password in that order; absent fields are ""', async function () {
      let { body } = await rawProvision(
        sim,
        provisionRequest({ deviceName: 'basic-1', credentialsType: 'MQTT_BASIC', clientId: 'c1', username: 'u1', password: 'p1' }),
      );
      assert.equal(body.toString(), '{"credentialsValue":{"clientId":"c1","userName":"u1","password":"p1"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}');
      ({ body } = await rawProvision(sim, provisionRequest({ deviceName: 'basic-2', credentialsType: 'MQTT_BASIC', username: 'only-user-2' })));
      assert.equal(
        body.toString(),
        '{"credentialsValue":{"clientId":"","userName":"only-user-2","password":""},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
      );
      const ids = Object.fromEntries(sim.devices().map((d) => [d.name, d.credentials.credentialsId]));
      assert.equal(ids['basic-1'], sha3('c1|u1'));
      assert.equal(ids['basic-2'], 'only-user-2');
    });

    it('X509_CERTIFICATE: value is the PEM minus BEGIN/END lines and CR/LF; credentialsId is its SHA3-256', async function () {
      const { certPem } = await createCertificate({ commonName: 'x509-device' });
      const crlfPem = certPem.replace(/\n/g, '\r\n');
      const { body } = await rawProvision(sim, provisionRequest({ deviceName: 'x509-1', credentialsType: 'X509_CERTIFICATE', hash: crlfPem }));
      const trimmed = certPem.replace('-----BEGIN CERTIFICATE-----', '').replace('-----END CERTIFICATE-----', '').replace(/\n/g, '');
      assert.equal(body.toString(), `{"credentialsValue":"${trimmed}","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}`);
      assert.equal(sim.devices().find((d) => d.name === 'x509-1').credentials.credentialsId, sha3(trimmed));
    });

    it('X.509 hash is never validated at provisioning time (garbage is stored as is)', async function () {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'x509-garbage', credentialsType: 'X509_CERTIFICATE', hash: 'testHash' }));
      assert.deepEqual(json, { credentialsValue: 'testHash', credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' });
    });

    it('no credential fields: generated access token and type ACCESS_TOKEN even if another type was asked', async function () {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'asked-basic', credentialsType: 'MQTT_BASIC' }));
      assert.equal(json.credentialsType, 'ACCESS_TOKEN');
      assert.match(json.credentialsValue, /^[A-Za-z0-9]{20}$/);
    });

    it('deviceName absent ⇒ a 20-character [A-Za-z0-9] name', async function () {
      const before = new Set(sim.devices().map((d) => d.name));
      const { json } = await rawProvision(sim, provisionRequest());
      assert.equal(json.status, 'SUCCESS');
      const added = sim.devices().filter((d) => !before.has(d.name));
      assert.equal(added.length, 1);
      assert.match(added[0].name, /^[A-Za-z0-9]{20}$/);
    });

    it('gateway: true is kept; deviceName is trimmed; numbers are coerced and one-element arrays unwrapped', async function () {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: ['  gw-1  '], gateway: true, credentialsType: 'ACCESS_TOKEN', token: 12345 }));
      assert.deepEqual(json, { credentialsValue: '12345', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' });
      const device = sim.devices().find((d) => d.name === 'gw-1');
      assert.equal(device.gateway, true);
    });
  });

  describe('NOT_FOUND and FAILURE (the two errorMsg strings)', function () {
    const cases = [
      ['empty key', { provisionDeviceKey: '', provisionDeviceSecret: 'x', deviceName: 'nf-1' }, NOT_FOUND],
      ['empty secret', provisionRequest({ provisionDeviceSecret: '', deviceName: 'nf-2' }), NOT_FOUND],
      ['unknown key', { provisionDeviceKey: 'nope', provisionDeviceSecret: 'x', deviceName: 'nf-3' }, NOT_FOUND],
      ['wrong secret', provisionRequest({ provisionDeviceSecret: 'wrong', deviceName: 'nf-4' }), NOT_FOUND],
      ['whitespace-only name', provisionRequest({ deviceName: '   ' }), FAILURE],
      ['token of another device', provisionRequest({ deviceName: 'clash-1', token: 'my_token_1' }), FAILURE],
      ['MQTT_BASIC without clientId and username', provisionRequest({ deviceName: 'bad-basic-1', credentialsType: 'MQTT_BASIC', password: 'p' }), FAILURE],
      [
        'MQTT_BASIC password with clientId only',
        provisionRequest({ deviceName: 'bad-basic-2', credentialsType: 'MQTT_BASIC', clientId: 'c9', password: 'p' }),
        FAILURE,
      ],
      ['MQTT_BASIC control character', provisionRequest({ deviceName: 'bad-basic-3', credentialsType: 'MQTT_BASIC', username: 'u\u0001' }), FAILURE],
      ['ACCESS_TOKEN type with only a username', provisionRequest({ deviceName: 'mismatch-1', credentialsType: 'ACCESS_TOKEN', username: 'u' }), FAILURE],
      ['name longer than 255', provisionRequest({ deviceName: 'n'.repeat(256) }), FAILURE],
    ];
    for (const [title, request, expected] of cases) {
      it(`${title} ⇒ ${expected === NOT_FOUND ? 'NOT_FOUND' : 'FAILURE'}`, async function () {
        const count = sim.devices().length;
        const { body } = await rawProvision(sim, request);
        assert.equal(body.toString(), expected);
        assert.equal(sim.devices().length, count, 'no device was created');
      });
    }

    it('an existing name ⇒ FAILURE (re-provisioning is refused)', async function () {
      assert.equal((await provisionOnce(sim, provisionRequest({ deviceName: 'twice' }))).status, 'SUCCESS');
      const { body } = await rawProvision(sim, provisionRequest({ deviceName: 'twice' }));
      assert.equal(body.toString(), FAILURE);
    });

    it('a credential clash rolls the new device back', async function () {
      await rawProvision(sim, provisionRequest({ deviceName: 'clash-a', credentialsType: 'MQTT_BASIC', username: 'shared-id' }));
      const { body } = await rawProvision(sim, provisionRequest({ deviceName: 'clash-b', token: 'shared-id' }));
      assert.equal(body.toString(), FAILURE);
      assert.equal(
        sim.devices().some((d) => d.name === 'clash-b'),
        false,
      );
    });
  });

  describe('session rules', function () {
    it('clientId `provision` without username is a provisioning session; CONNACK sessionPresent = !clean', async function () {
      const session = await RawSession.open(sim, { clientId: 'provision', clean: false });
      const connack = await session.next('connack');
      assert.equal(connack.returnCode, 0);
      assert.equal(connack.sessionPresent, true);
      await session.destroy();
    });

    it('username `provision` with another client id; any password is ignored', async function () {
      const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'by-username' }), {
        clientId: 'whatever',
        username: 'provision',
        password: 'ignored',
      });
      assert.equal(json.status, 'SUCCESS');
    });

    it('only /provision/response is granted (3.1.1: 0x80 otherwise); QoS is capped at 1', async function () {
      const session = await RawSession.open(sim);
      await session.next('connack');
      session.send({
        cmd: 'subscribe',
        messageId: 7,
        subscriptions: [
          { topic: '/provision/response', qos: 2 },
          { topic: 'v1/devices/me/rpc/request/+', qos: 1 },
        ],
      });
      const suback = await session.next('suback');
      assert.equal(suback.messageId, 7);
      assert.deepEqual(suback.granted, [1, 0x80]);
      session.send({ cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['/provision/response'] });
      assert.equal((await session.next('unsuback')).messageId, 8);
      session.send({ cmd: 'pingreq' });
      assert.ok(await session.next('pingresp'));
      await session.destroy();
    });

    it('MQTT 5: another filter gets 0x8F', async function () {
      const session = await RawSession.open(sim, { protocolVersion: 5 });
      assert.equal((await session.next('connack')).reasonCode, 0);
      session.send({
        cmd: 'subscribe',
        messageId: 3,
        subscriptions: [
          { topic: '/provision/response', qos: 0 },
          { topic: 'x', qos: 0 },
        ],
      });
      assert.deepEqual((await session.next('suback')).granted, [0, 0x8f]);
      await session.destroy();
    });

    it('answer QoS = granted QoS (0), and QoS 1 when the client never subscribed', async function () {
      let result = await rawProvision(sim, provisionRequest({ deviceName: 'qos0-sub' }), { subQos: 0 });
      assert.equal(result.answer.qos, 0);
      result = await rawProvision(sim, provisionRequest({ deviceName: 'no-sub' }), { subscribe: false });
      assert.equal(result.answer.qos, 1);
      assert.equal(result.answer.messageId, 1);
    });

    it('a QoS 0 request gets no PUBACK, only the answer', async function () {
      const { puback, json } = await rawProvision(sim, provisionRequest({ deviceName: 'qos0-req' }), { qos: 0 });
      assert.equal(puback, null);
      assert.equal(json.status, 'SUCCESS');
    });

    it('PUBACK comes before the answer PUBLISH', async function () {
      const { session } = await rawProvision(sim, provisionRequest({ deviceName: 'order-1' }));
      const cmds = session.packets.map((p) => p.cmd);
      assert.deepEqual(cmds, ['connack', 'suback', 'puback', 'publish']);
    });

    it('publishing to another topic (e.g. /provision) ⇒ PUBACK then close; MQTT 5 sees 0x90 and DISCONNECT 0x90', async function () {
      let session = await RawSession.open(sim);
      await session.next('connack');
      session.publish(provisionRequest({ deviceName: 'wrong-topic' }), { topic: '/provision' });
      assert.ok(await session.next('puback'));
      assert.equal(await session.waitClose(), true);
      session = await RawSession.open(sim, { protocolVersion: 5 });
      await session.next('connack');
      session.publish(provisionRequest({ deviceName: 'wrong-topic' }), { topic: 'v1/devices/me/telemetry' });
      assert.equal((await session.next('puback')).reasonCode, 0x90);
      assert.equal((await session.next('disconnect')).reasonCode, 0x90);
      assert.equal(await session.waitClose(), true);
      assert.equal(
        sim.devices().some((d) => d.name === 'wrong-topic'),
        false,
      );
    });

    const structural = [
      ['missing provisionDeviceKey', { provisionDeviceSecret: 'x', deviceName: 'st-1' }],
      ['missing provisionDeviceSecret', { provisionDeviceKey: 'test-provision-key', deviceName: 'st-2' }],
      ['null value', provisionRequest({ deviceName: null })],
      ['object value', provisionRequest({ deviceName: { a: 1 } })],
      ['unknown credentialsType', provisionRequest({ deviceName: 'st-5', credentialsType: 'access_token' })],
      ['gateway null', provisionRequest({ deviceName: 'st-6', gateway: null })],
    ];
    for (const [title, request] of structural) {
      it(`${title} ⇒ no answer, connection dropped (3.1.1 bare PUBACK; MQTT 5 PUBACK 0x83 + DISCONNECT 0x83)`, async function () {
        let session = await RawSession.open(sim);
        await session.next('connack');
        session.publish(request);
        assert.equal(await session.waitClose(), true);
        assert.deepEqual(
          session.packets.map((p) => p.cmd),
          ['connack', 'puback'],
        );
        session = await RawSession.open(sim, { protocolVersion: 5 });
        await session.next('connack');
        session.publish(request);
        assert.equal((await session.next('puback')).reasonCode, 0x83);
        assert.equal((await session.next('disconnect')).reasonCode, 0x83);
        assert.equal(await session.waitClose(), true);
        assert.equal(
          session.packets.some((p) => p.cmd === 'publish'),
          false,
        );
      });
    }

    for (const payload of ['{bad json', 'hello', '[1,2]', '{"provisionDeviceKey":["a","b"],"provisionDeviceSecret":"x"}']) {
      it(`undecodable payload ${payload} ⇒ 3.1.1 closed without PUBACK; MQTT 5 PUBACK 0x99 and the session stays open`, async function () {
        let session = await RawSession.open(sim);
        await session.next('connack');
        session.publish(payload);
        assert.equal(await session.waitClose(), true);
        assert.equal(
          session.packets.some((p) => p.cmd === 'puback'),
          false,
        );
        session = await RawSession.open(sim, { protocolVersion: 5 });
        await session.next('connack');
        session.publish(payload);
        assert.equal((await session.next('puback')).reasonCode, 0x99);
        session.send({ cmd: 'pingreq' });
        assert.ok(await session.next('pingresp'), 'still open');
        await session.destroy();
      });
    }

    it('a request over 65536 bytes closes the connection without an answer', async function () {
      const session = await RawSession.open(sim);
      await session.next('connack');
      session.publish(provisionRequest({ deviceName: 'too-big', filler: 'x'.repeat(65536) }));
      assert.equal(await session.waitClose(), true);
      assert.deepEqual(
        session.packets.map((p) => p.cmd),
        ['connack'],
      );
      assert.equal(
        sim.devices().some((d) => d.name === 'too-big'),
        false,
      );
    });

    it('an empty payload is answered NOT_FOUND in protobuf (08 02)', async function () {
      const { body } = await rawProvision(sim, Buffer.alloc(0));
      assert.deepEqual(body, Buffer.from([0x08, 0x02]));
    });

    it('more requests on the same session are allowed', async function () {
      const { session } = await rawProvision(sim, provisionRequest({ deviceName: 'same-session-1' }), { keepOpen: true });
      session.publish(provisionRequest({ deviceName: 'same-session-2' }), { messageId: 9 });
      const second = await session.next('publish');
      assert.equal(JSON.parse(second.payload).status, 'SUCCESS');
      assert.equal(second.messageId, 2);
      await session.destroy();
    });
  });

  describe('protobuf fallback (payload that is not JSON but a ProvisionDeviceRequestMsg)', function () {
    const field = (number, bytes) => Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
    const text = (value) => Buffer.from(value, 'utf8');
    const pbRequest = ({ name, key = 'test-provision-key', secret = 'test-provision-secret', type, token, basic }) =>
      Buffer.concat([
        name ? field(1, text(name)) : Buffer.alloc(0),
        type ? Buffer.from([0x10, type]) : Buffer.alloc(0),
        field(3, Buffer.concat([field(1, text(key)), field(2, text(secret))])),
        token ? field(4, field(1, field(1, text(token)))) : Buffer.alloc(0),
        basic ? field(4, field(3, Buffer.concat([field(1, text(basic[0])), field(2, text(basic[1])), field(3, text(basic[2]))]))) : Buffer.alloc(0),
      ]);

    it('answers in protobuf, and keeps doing so for JSON requests later in the session', async function () {
      const { body, session } = await rawProvision(sim, pbRequest({ name: 'pb-1', token: 'pb-token-1' }), { keepOpen: true });
      assert.deepEqual(body, Buffer.concat([Buffer.from([0x08, 0x01, 0x1a, 10]), text('pb-token-1')]));
      session.publish(provisionRequest({ deviceName: 'pb-1' }), { messageId: 5 });
      assert.deepEqual(Buffer.from((await session.next('publish')).payload), Buffer.from([0x08, 0x03]));
      await session.destroy();
    });

    it('MQTT_BASIC in protobuf: credentialsType 2 and the credentials JSON as credentialsValue', async function () {
      const { body } = await rawProvision(sim, pbRequest({ name: 'pb-basic', type: 2, basic: ['pc', 'pu', 'pp'] }));
      const value = '{"clientId":"pc","userName":"pu","password":"pp"}';
      assert.deepEqual(body, Buffer.concat([Buffer.from([0x08, 0x01, 0x10, 0x02, 0x1a, value.length]), text(value)]));
    });

    it('wrong secret in protobuf ⇒ 08 02', async function () {
      const { body } = await rawProvision(sim, pbRequest({ name: 'pb-2', secret: 'nope' }));
      assert.deepEqual(body, Buffer.from([0x08, 0x02]));
    });
  });

  describe('close after the answer', function () {
    it('closes the session sessionCloseAfterAnswerMs after the answer, without DISCONNECT (3.1.1 and 5)', async function () {
      const quick = await startTestSimulator({ sessionCloseAfterAnswerMs: 200, mqttsPort: null });
      try {
        for (const protocolVersion of [4, 5]) {
          const { session, json } = await rawProvision(quick, provisionRequest({ deviceName: `close-${protocolVersion}` }), {
            keepOpen: true,
            protocolVersion,
          });
          assert.equal(json.status, 'SUCCESS');
          assert.equal(await session.waitClose(5000), true);
          assert.equal(
            session.packets.some((p) => p.cmd === 'disconnect'),
            false,
          );
        }
      } finally {
        await quick.stop();
      }
    });
  });
});
