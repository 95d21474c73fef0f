'use strict';
/**
 * Table 12: the gateway job done with bare mqtt.js and nothing else: each child announced once per
 * session with v1/gateway/connect, readings arriving within `windowMs` sent as one QoS 1
 * v1/gateway/telemetry publish ({child: [reading, ...]}), closed early before it passes `maxBytes`;
 * every reading's callback called at its publish's PUBACK. Used by the bench-bare-gateway node (in
 * Node-RED) and by the table's bare script (no Node-RED).
 */
class BareGatewayBatcher {
  constructor(client, { windowMs = 5, maxBytes = 60 * 1024 } = {}) {
    this.client = client;
    this.windowMs = windowMs;
    this.maxBytes = maxBytes;
    this.announced = new Set();
    this.open();
  }

  open() {
    this.byChild = new Map();
    this.callbacks = [];
    this.bytes = 2;
    this.timer = undefined;
  }

  add(child, reading, acknowledged) {
    if (!this.announced.has(child)) {
      this.announced.add(child);
      this.client.publish('v1/gateway/connect', JSON.stringify({ device: child, type: 'default' }), { qos: 1 });
    }
    const part = JSON.stringify(reading);
    const readings = this.byChild.get(child);
    const grows = part.length + 1 + (readings ? 0 : child.length + 6);
    if (this.callbacks.length > 0 && this.bytes + grows > this.maxBytes) this.flush();
    if (readings) readings.push(part);
    else this.byChild.set(child, [part]);
    this.bytes += grows;
    this.callbacks.push(acknowledged);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  flush() {
    clearTimeout(this.timer);
    const { byChild, callbacks } = this;
    this.open();
    if (callbacks.length === 0) return;
    const body = `{${Array.from(byChild, ([child, parts]) => `${JSON.stringify(child)}:[${parts.join(',')}]`).join(',')}}`;
    this.client.publish('v1/gateway/telemetry', body, { qos: 1 }, (error) => {
      for (const acknowledged of callbacks) acknowledged(error);
    });
  }
}

/** The batcher the bench-bare-gateway node uses (set by the table once its client is connected). */
const shared = { batcher: undefined };

module.exports = { BareGatewayBatcher, shared };
