'use strict';
/**
 * A replay publisher over a real MQTT session (mqtt.js, QoS 1), for the replay specs and the drain
 * child: `publish(deviceKey, entries)` resolves once every PUBLISH of the batch has its PUBACK.
 */
const mqtt = require('mqtt');

const TOPICS = { telemetry: 'v1/devices/me/telemetry', attributes: 'v1/devices/me/attributes' };

function connectToken(sim, token) {
  const client = mqtt.connect({ host: sim.host, port: sim.mqttPort, username: token, reconnectPeriod: 0, connectTimeout: 5000 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** One session per device, opened on first use; a lost session rejects the batch under way. */
function mqttPublisher(sim, tokens) {
  const clients = new Map();
  const clientFor = async (deviceKey) => {
    if (!clients.has(deviceKey)) clients.set(deviceKey, connectToken(sim, tokens[deviceKey]));
    return clients.get(deviceKey);
  };
  const publish = async (deviceKey, entries) => {
    const client = await clientFor(deviceKey);
    // mqtt.js keeps an unacknowledged PUBLISH for a reconnect and never calls back when there is none.
    let onClose;
    const lost = new Promise((_, reject) => {
      onClose = () => reject(new Error(`session of ${deviceKey} lost`));
      if (!client.connected) onClose();
      client.once('close', onClose);
    });
    try {
      await Promise.race([
        lost,
        Promise.all(
          entries.map(
            (entry) =>
              new Promise((resolve, reject) => client.publish(TOPICS[entry.kind], entry.body, { qos: 1 }, (error) => (error ? reject(error) : resolve()))),
          ),
        ),
      ]);
    } finally {
      client.removeListener('close', onClose);
    }
  };
  const close = async () => {
    for (const pending of clients.values()) {
      const client = await pending.catch(() => undefined);
      if (client) await new Promise((resolve) => setImmediate(() => client.end(true, {}, resolve)));
    }
    clients.clear();
  };
  /** Forgets a lost session so the next batch opens a new one. */
  const forget = (deviceKey) => {
    const pending = clients.get(deviceKey);
    clients.delete(deviceKey);
    if (pending)
      void pending.then(
        (client) => client.end(true),
        () => {},
      );
  };
  return { publish, close, forget };
}

module.exports = { mqttPublisher };
