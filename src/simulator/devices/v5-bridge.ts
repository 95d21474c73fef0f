import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import * as mqttPacket from 'mqtt-packet';

/** MQTT 5 packet → the MQTT 3.1.1 packet aedes understands (properties and reason codes dropped). */
function toV4(packet: mqttPacket.Packet): mqttPacket.Packet {
  const copy = { ...packet } as Record<string, unknown>;
  delete copy.properties;
  delete copy.length;
  if (packet.cmd === 'connect') {
    copy.protocolVersion = 4;
    copy.protocolId = 'MQTT';
    if (packet.will) copy.will = { ...packet.will, properties: undefined };
  }
  if (packet.cmd === 'subscribe') {
    copy.subscriptions = packet.subscriptions.map(({ topic, qos }) => ({ topic, qos }));
  }
  if ('reasonCode' in copy && packet.cmd !== 'connack') delete copy.reasonCode;
  return copy as unknown as mqttPacket.Packet;
}

/** aedes' MQTT 3.1.1 packet → MQTT 5 for the client. */
function toV5(packet: mqttPacket.Packet): mqttPacket.Packet {
  const copy = { ...packet } as Record<string, unknown>;
  delete copy.length;
  if (packet.cmd === 'connack') {
    copy.reasonCode = packet.returnCode === 0 ? 0 : 0x87;
    delete copy.returnCode;
  }
  // A refused subscription: 3.1.1 can only say 0x80; GridLinks tells MQTT 5 clients 0x8F (topic filter invalid).
  if (packet.cmd === 'suback') copy.granted = packet.granted.map((code) => (code === 0x80 ? 0x8f : code));
  return copy as unknown as mqttPacket.Packet;
}

/**
 * aedes 1.x speaks MQTT 3.1/3.1.1 only. An authenticated MQTT 5 device session is served through this
 * translating stream: the client talks MQTT 5, aedes sees MQTT 3.1.1.
 */
export function bridgeV5Connection(socket: Socket): Duplex {
  const fromClient = mqttPacket.parser();
  const fromBroker = mqttPacket.parser({ protocolVersion: 4 });
  const bridge = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      fromBroker.parse(chunk);
      callback();
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  fromClient.on('packet', (packet: mqttPacket.Packet) => {
    if (!bridge.push(mqttPacket.generate(toV4(packet), { protocolVersion: 4 }))) socket.pause();
  });
  fromBroker.on('packet', (packet: mqttPacket.Packet) => {
    if (!socket.destroyed) mqttPacket.writeToStream(toV5(packet), socket, { protocolVersion: 5 });
  });
  fromClient.on('error', (error: Error) => bridge.destroy(error));
  fromBroker.on('error', (error: Error) => bridge.destroy(error));
  socket.on('data', (chunk: Buffer) => fromClient.parse(chunk));
  socket.once('end', () => bridge.push(null));
  socket.once('close', () => bridge.destroy());
  return bridge;
}
