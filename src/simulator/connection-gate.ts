import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import { authenticateDevice, bridgeV5Connection, refusalByConnectFields, SessionWire, type DeviceBroker } from './devices';
import type { RateLimiter } from './limits';
import { PacketSizeGuard } from '../provisioning/net';
import { connackPacket, protocolVersionOf, refusalFromCode, REASON, writePacket, type ProtocolVersion, type Refusal } from './packets';
import { ProvisionSession, type ProvisionSessionContext } from './provisioning';
import type { Registry } from './registry';

export const PROVISION_IDENTITY = 'provision';

export interface GateContext {
  registry: Registry;
  broker: DeviceBroker;
  provision: ProvisionSessionContext;
  connectTimeoutMs: number;
  /** The packet size limit (session limits' maxPayloadSize), on the Remaining Length as GridLinks counts it. */
  maxPayloadSize: number;
  rateLimiter: RateLimiter;
}

function refuse(socket: Socket, connect: mqttPacket.IConnectPacket, refusal: Refusal): void {
  writePacket(socket, connackPacket(protocolVersionOf(connect), refusal), protocolVersionOf(connect));
  socket.end(() => socket.destroy());
}

/**
 * Reads a connection's CONNECT and decides, as GridLinks does at CONNECT time: a provisioning session
 * (username or client id `provision`, checked first), or a device session authenticated by token,
 * MQTT basic credentials or the client certificate's hash, or a refusal.
 */
export function acceptConnection(socket: Socket, context: GateContext): void {
  const parser = mqttPacket.parser();
  const sizeGuard = new PacketSizeGuard(context.maxPayloadSize, 'remainingLength');
  let version: ProtocolVersion | undefined;
  const received: Buffer[] = [];
  let session: ProvisionSession | undefined;
  let decided = false;
  const connectTimer = setTimeout(() => socket.destroy(), context.connectTimeoutMs);
  socket.once('close', () => clearTimeout(connectTimer));
  socket.on('error', () => socket.destroy());
  const onData = (chunk: Buffer): void => {
    const oversized = sizeGuard.check(chunk);
    if (oversized !== undefined) return dropOversized(oversized);
    if (!decided) received.push(chunk);
    parser.parse(chunk);
  };
  socket.on('data', onData);
  parser.on('error', () => socket.destroy());
  parser.on('packet', (packet: mqttPacket.Packet) => {
    try {
      if (session) {
        session.handle(packet);
        return;
      }
      if (decided) return;
      decided = true;
      clearTimeout(connectTimer);
      if (packet.cmd === 'connect') route(packet);
      else socket.destroy();
    } catch (error) {
      context.provision.log(`connection dropped: internal error (${(error as Error).message})`);
      socket.destroy();
    }
  });

  /**
   * GridLinks' decoder refuses a packet over its limit from the fixed header, before buffering it: MQTT 5
   * gets DISCONNECT 0x81, 3.1.1 (and a CONNECT that is itself too big) is just closed.
   */
  function dropOversized(packetBytes: number): void {
    socket.removeListener('data', onData);
    context.provision.log(`connection: a packet with a Remaining Length of ${packetBytes} bytes announced, more than ${context.maxPayloadSize}; closing`);
    if (version === 5 && !socket.destroyed) {
      writePacket(socket, { cmd: 'disconnect', reasonCode: REASON.malformedPacket }, 5);
      socket.end(() => socket.destroy());
    } else {
      socket.destroy();
    }
  }

  function route(packet: mqttPacket.IConnectPacket): void {
    const { log } = context.provision;
    version = protocolVersionOf(packet);
    const refuseCode = context.provision.faults().refuseConnect;
    if (refuseCode !== undefined) {
      log(`connection refused with code ${refuseCode} (fault refuse-connect)`);
      refuse(socket, packet, refusalFromCode(refuseCode));
      return;
    }
    if (packet.username === PROVISION_IDENTITY || packet.clientId === PROVISION_IDENTITY) {
      received.length = 0;
      session = new ProvisionSession(socket, packet, context.provision);
      return;
    }
    const peerCertificate = socket instanceof TLSSocket ? socket.getPeerCertificate(true) : undefined;
    const byFields = peerCertificate?.raw ? null : refusalByConnectFields(packet);
    if (byFields) {
      log(`device connection refused: ${byFields.reason}`);
      refuse(socket, packet, byFields.refusal);
      return;
    }
    const auth = authenticateDevice(context.registry, {
      clientId: packet.clientId,
      username: packet.username,
      password: packet.password,
      peerCertificate,
    });
    if (auth.refusal) {
      log(`device connection refused: ${auth.reason}`);
      refuse(socket, packet, auth.refusal);
      return;
    }
    if (context.rateLimiter.connect(auth.device.name)) {
      log(`device ${auth.device.name}: over its connection rate limit; refused`);
      refuse(socket, packet, refusalFromCode(REASON.connectionRateExceeded));
      return;
    }
    log(`device ${auth.device.name} connected (${auth.device.credentials.credentialsType})`);
    socket.removeListener('data', onData);
    socket.pause();
    socket.unshift(Buffer.concat(received));
    received.length = 0;
    // aedes' parser would buffer any packet whole: the limit is checked first, from the bytes above on.
    const deviceGuard = new PacketSizeGuard(context.maxPayloadSize, 'remainingLength');
    socket.prependListener('data', (chunk: Buffer) => {
      const oversized = deviceGuard.check(chunk);
      if (oversized !== undefined && !socket.destroyed) dropOversized(oversized);
    });
    const connection = protocolVersionOf(packet) === 5 ? bridgeV5Connection(socket) : socket;
    context.broker.adopt(connection, auth.device, new SessionWire(socket, protocolVersionOf(packet)));
  }
}
