'use strict';
// Item 7 of #10 (and the matching rows of #12's fidelity list): the simulator's packet size limit applies
// while reading; GridLinks has no keepalive check of its own (protocol-more.md §3), so the simulator closes a
// session silent for 1.5 × its keepalive only with the keepaliveClose option.
const assert = require('node:assert/strict');
const mqttPacket = require('mqtt-packet');
const { startTestSimulator, RawSession, provisionRequest, provisionOnce } = require('../helpers/simulator');

/** A PUBLISH fixed header announcing `remainingLength` bytes; the body never follows. */
function announcement(remainingLength) {
  const bytes = [0x32];
  let left = remainingLength;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return Buffer.from(bytes);
}

async function openSession(sim, { protocolVersion = 4, keepalive = 60, clientId = 'provision', username } = {}) {
  const session = await RawSession.open(sim, { protocolVersion, connect: false });
  session.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clean: true, keepalive, clientId, username });
  const connack = await session.next('connack');
  assert.equal(protocolVersion === 5 ? connack.reasonCode : connack.returnCode, 0);
  return session;
}

/** A real request PUBLISH (QoS 1), padded with spaces so that the whole packet is exactly `packetBytes` long. */
function requestOfSize(protocolVersion, packetBytes, deviceName) {
  const request = Buffer.from(JSON.stringify(provisionRequest({ deviceName, credentialsType: 'ACCESS_TOKEN' })));
  const packet = { cmd: 'publish', topic: '/provision/request', qos: 1, messageId: 2, retain: false, dup: false, payload: Buffer.alloc(0) };
  const overhead = mqttPacket.generate(packet, { protocolVersion }).length + 2; // Remaining Length grows to 3 bytes
  packet.payload = Buffer.alloc(packetBytes - overhead, 0x20);
  request.copy(packet.payload);
  const bytes = mqttPacket.generate(packet, { protocolVersion });
  assert.equal(bytes.length, packetBytes);
  return bytes;
}

describe('simulator: packet size limit while reading, keepalive in every session', function () {
  let sim;
  let token;
  before(async function () {
    sim = await startTestSimulator();
    token = `limits-token-${process.pid}`;
    const answer = await provisionOnce(sim, provisionRequest({ deviceName: `limits-${process.pid}`, credentialsType: 'ACCESS_TOKEN', token }));
    assert.equal(answer.status, 'SUCCESS');
  });
  after(async function () {
    await sim.stop();
  });

  // GridLinks (ThingsBoard MqttTransportHandler / Netty MqttDecoder, NETTY_MAX_PAYLOAD_SIZE 65536): the size is
  // read from the fixed header and an oversized packet is refused before its body is buffered; MQTT 5 gets
  // DISCONNECT 0x81 (malformed packet), then the connection is closed. Only a header is sent here: a
  // simulator that waited for the body would never answer.
  it('MQTT 5 provisioning session: a 200 MB announcement gets DISCONNECT 0x81 and a close, at once', async function () {
    const session = await openSession(sim, { protocolVersion: 5 });
    session.write(announcement(200 << 20));
    const disconnect = await session.next('disconnect');
    assert.equal(disconnect.reasonCode, 0x81);
    assert.equal(await session.waitClose(), true);
    assert.ok(sim.logLines.some((line) => /a Remaining Length of 2097152\d\d bytes announced, more than 65536; closing/.test(line)));
  });

  // ThingsBoard, MQTT 3.1.1: the decoder failure just closes the channel (3.1.1 has no DISCONNECT from the server).
  it('MQTT 3.1.1 provisioning session: closed without a packet', async function () {
    const session = await openSession(sim);
    session.write(announcement(200 << 20));
    assert.equal(await session.waitClose(), true);
    assert.deepEqual(
      session.packets.map((packet) => packet.cmd),
      ['connack'],
    );
  });

  // The limit covers the Remaining Length (Netty's MqttDecoder), not the fixed header (here 4 bytes): a Remaining
  // Length of 65536 passes, 65537 does not.
  it('the limit is the Remaining Length: 65536 of it are read (and answered), 65537 close the session', async function () {
    const fits = await openSession(sim);
    fits.write(requestOfSize(4, 65536 + 4, `limits-fits-${process.pid}`));
    assert.ok(await fits.next('puback'), 'a 65536-byte request is read and answered');
    fits.destroy();
    const over = await openSession(sim);
    over.write(requestOfSize(4, 65537 + 4, `limits-over-${process.pid}`));
    assert.equal(await over.waitClose(), true);
    assert.equal(
      over.packets.some((packet) => packet.cmd === 'puback'),
      false,
    );
  });

  // The decoder runs before the CONNECT is read, too: a huge CONNECT is dropped (no CONNACK, no version known yet).
  it('an oversized CONNECT is dropped without an answer', async function () {
    const session = await RawSession.open(sim, { connect: false });
    session.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    assert.equal(await session.waitClose(), true);
    assert.equal(session.packets.length, 0);
  });

  // Device sessions go through the same decoder in GridLinks: same limit, same DISCONNECT 0x81 on MQTT 5.
  for (const protocolVersion of [4, 5]) {
    it(`MQTT ${protocolVersion} device session (aedes behind the gate): an oversized packet is refused from its header`, async function () {
      const session = await openSession(sim, { protocolVersion, clientId: 'limits-device', username: token });
      session.write(announcement(100 << 20));
      if (protocolVersion === 5) assert.equal((await session.next('disconnect')).reasonCode, 0x81);
      assert.equal(await session.waitClose(), true);
    });
  }

  // GridLinks' MQTT transport only answers PINGREQ; a silent session expires after 600 s (inactivity_timeout).
  it('by default no session is closed for keepalive silence (GridLinks has no idle check): provisioning and device, MQTT 4 and 5', async function () {
    this.timeout(10_000);
    // One session per device: the MQTT 5 session is another device's.
    const token5 = `limits-quiet-token-${process.pid}`;
    assert.equal(
      (await provisionOnce(sim, provisionRequest({ deviceName: `limits-quiet-${process.pid}`, credentialsType: 'ACCESS_TOKEN', token: token5 }))).status,
      'SUCCESS',
    );
    const sessions = [
      await openSession(sim, { keepalive: 1 }),
      await openSession(sim, { protocolVersion: 4, keepalive: 1, clientId: 'limits-quiet-4', username: token }),
      await openSession(sim, { protocolVersion: 5, keepalive: 1, clientId: 'limits-quiet-5', username: token5 }),
    ];
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.deepEqual(
        sessions.map((session) => session.isClosed),
        [false, false, false],
      );
    } finally {
      for (const session of sessions) session.destroy();
    }
  });

  describe('with keepaliveClose (the MQTT standard: 1.5 × keepalive of silence closes a session)', function () {
    let strict;
    let strictToken;
    before(async function () {
      strict = await startTestSimulator({ keepaliveClose: true });
      strictToken = `limits-strict-token-${process.pid}`;
      const answer = await provisionOnce(
        strict,
        provisionRequest({ deviceName: `limits-strict-${process.pid}`, credentialsType: 'ACCESS_TOKEN', token: strictToken }),
      );
      assert.equal(answer.status, 'SUCCESS');
    });
    after(async function () {
      await strict.stop();
    });
    it('a provisioning session silent for 1.5 × its keepalive is closed; one that pings stays open', async function () {
      const silent = await openSession(strict, { keepalive: 1 });
      const pinging = await openSession(strict, { keepalive: 1 });
      const pinger = setInterval(() => pinging.send({ cmd: 'pingreq' }), 300);
      try {
        assert.equal(await silent.waitClose(), true);
        assert.ok(strict.logLines.some((line) => /nothing received for 1.5 × keepalive \(1500 ms\); closing/.test(line)));
        assert.equal(pinging.isClosed, false, 'the session that pings is still open after the silent one was closed');
        assert.ok(await pinging.next('pingresp'));
      } finally {
        clearInterval(pinger);
        pinging.destroy();
      }
    });

    it('keepalive 0 means no limit: a provisioning session with keepalive 0 is not closed for silence', async function () {
      const unlimited = await openSession(strict, { keepalive: 0 });
      const limited = await openSession(strict, { keepalive: 1 });
      assert.equal(await limited.waitClose(), true);
      assert.equal(unlimited.isClosed, false);
      unlimited.destroy();
    });

    // Same rule for device sessions (served by aedes, which closes after 1.5 × keepalive as MQTT requires).
    for (const protocolVersion of [4, 5]) {
      it(`MQTT ${protocolVersion}: a silent device session with keepalive 1 is closed`, async function () {
        const session = await openSession(strict, { protocolVersion, keepalive: 1, clientId: `limits-silent-${protocolVersion}`, username: strictToken });
        assert.equal(await session.waitClose(), true);
      });
    }
  });
});
