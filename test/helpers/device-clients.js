'use strict';
// mqtt.js device and gateway sessions against the simulator, for the gateway and session-limit specs:
// connect by access token (MQTT 3.1.1 or 5), publish and learn what the PUBACK said, collect what the
// server sent, wait for the close.
const mqtt = require('mqtt');
const { connectDevice } = require('./simulator');

/** A device session by access token; `received` collects { topic, payload (parsed) }, `closed` resolves on close. */
async function openSession(sim, token, { protocolVersion = 4, clientId } = {}) {
  const { client } = await connectDevice(sim, { username: token, protocolVersion, clientId });
  const session = { client, received: [], disconnectPacket: null };
  client.on('message', (topic, payload) => session.received.push({ topic, payload: JSON.parse(payload.toString('utf8')) }));
  client.on('disconnect', (packet) => {
    session.disconnectPacket = packet;
  });
  client.on('error', () => {});
  session.closed = new Promise((resolve) => client.once('close', resolve));
  return session;
}

/** Publishes at QoS 1; resolves { ok } on a PUBACK 0, { reasonCode } on an MQTT 5 PUBACK refusal, { closed } if the session closes first. */
function publishAcked(session, topic, value) {
  const body = Buffer.isBuffer(value) || typeof value === 'string' ? value : JSON.stringify(value);
  return new Promise((resolve) => {
    session.closed.then(() => resolve({ closed: true }));
    session.client.publish(topic, body, { qos: 1 }, (error) => {
      if (!error) resolve({ ok: true });
      else if (error.code !== undefined) resolve({ reasonCode: error.code });
      else resolve({ closed: true, error });
    });
  });
}

function subscribe(session, topics, qos = 1) {
  return new Promise((resolve, reject) => session.client.subscribe(topics, { qos }, (error, granted) => (error ? reject(error) : resolve(granted))));
}

/** Waits until `received` holds a message on this topic matching the predicate; resolves it. */
async function nextMessage(session, topic, predicate = () => true, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = session.received.find((message) => message.topic === topic && predicate(message.payload));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no message on ${topic} within ${timeoutMs} ms; got ${JSON.stringify(session.received)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function closeSession(session) {
  return new Promise((resolve) => session.client.end(true, {}, resolve));
}

/** Resolves true if the session closes within timeoutMs. */
function closesWithin(session, timeoutMs = 3000) {
  return Promise.race([session.closed.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs).unref())]);
}

module.exports = { openSession, publishAcked, subscribe, nextMessage, closeSession, closesWithin, mqtt };
