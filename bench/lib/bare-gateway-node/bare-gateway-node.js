'use strict';
/**
 * Bench only (table 12): the thinnest node that does gridlinks-gateway's job: each message's payload is
 * added to the bare batcher for msg.deviceName and the message leaves output 1 at its publish's PUBACK.
 * Node-RED's own per-message work (receive, send, done) over bare mqtt.js with the same batching.
 */
const { shared } = require('../bare-gateway');

module.exports = function (RED) {
  function BenchBareGateway(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      shared.batcher.add(msg.deviceName, msg.payload, (error) => {
        if (error) return done(error);
        send([msg, null]);
        done();
      });
    });
  }
  RED.nodes.registerType('bench-bare-gateway', BenchBareGateway);
};
