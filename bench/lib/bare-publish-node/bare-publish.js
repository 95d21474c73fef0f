'use strict';
/**
 * Bench only (table 9): the thinnest node that does the same job as gridlinks-device: each message is
 * published as QoS 1 through the bench's bare mqtt.js client for msg.device, and leaves output 1 once
 * acknowledged. Node-RED's own per-message work (receive, send, done) with bare mqtt.js under it.
 */
const { clientsByDeviceName } = require('../bare-clients');

module.exports = function (RED) {
  function BenchBarePublish(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      clientsByDeviceName.get(msg.device.deviceName).publish('v1/devices/me/telemetry', JSON.stringify(msg.payload), { qos: 1 }, (error) => {
        if (error) return done(error);
        send([msg, null]);
        done();
      });
    });
  }
  RED.nodes.registerType('bench-bare-publish', BenchBarePublish);
};
