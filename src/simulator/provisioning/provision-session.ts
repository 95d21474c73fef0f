import type { Socket } from 'node:net';
import type * as mqttPacket from 'mqtt-packet';
import { REASON, writePacket, connackPacket, protocolVersionOf, type ProtocolVersion } from '../packets';
import { parseProvisionRequest } from './provision-request';
import type { ProvisionService } from './provision-service';
import type { FaultSwitches } from '../types';

export const REQUEST_TOPIC = '/provision/request';
export const RESPONSE_TOPIC = '/provision/response';
/** NETTY_MAX_PAYLOAD_SIZE default: a bigger message is a decoder failure and the connection is closed. */
export const MAX_PAYLOAD_BYTES = 65536;
const GARBAGE_ANSWER = Buffer.from('\u0000<not json>{"status":', 'utf8');

export interface ProvisionSessionContext {
  service: ProvisionService;
  faults(): FaultSwitches;
  closeAfterAnswerMs: number;
  /** Close a session silent for 1.5 × its keepalive (off by default: GridLinks has no such check). */
  keepaliveClose: boolean;
  log: (line: string) => void;
}

/**
 * One provisioning session (username or client id `provision`), as GridLinks' MqttTransportHandler runs it:
 * only /provision/request and /provision/response, PUBACK after the decision then the answer, close 60 s later.
 * Sessions know nothing of each other, so many may share the client id `provision`.
 */
export class ProvisionSession {
  private readonly version: ProtocolVersion;
  private grantedQos: 0 | 1 | undefined;
  private nextMessageId = 1;
  private closeTimer: NodeJS.Timeout | undefined;
  private readonly delayTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Set by the first protobuf request; GridLinks never resets it for the session. */
  private answerInProtobuf = false;
  /** With keepaliveClose: closes a session silent for 1.5 × its keepalive (MQTT 3.1.1 §3.1.2.10); none for keepalive 0. */
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    connect: mqttPacket.IConnectPacket,
    private readonly context: ProvisionSessionContext,
  ) {
    this.version = protocolVersionOf(connect);
    socket.once('close', () => this.dispose());
    this.send(connackPacket(this.version, null, connect.clean === false));
    const silenceLimitMs = context.keepaliveClose ? (connect.keepalive ?? 0) * 1500 : 0;
    if (silenceLimitMs > 0) {
      this.keepaliveTimer = setTimeout(() => {
        this.context.log(`provision session: nothing received for 1.5 × keepalive (${silenceLimitMs} ms); closing`);
        socket.destroy();
      }, silenceLimitMs);
    }
  }

  handle(packet: mqttPacket.Packet): void {
    if (this.closed) return;
    this.keepaliveTimer?.refresh();
    switch (packet.cmd) {
      case 'publish':
        this.onPublish(packet);
        break;
      case 'subscribe':
        this.onSubscribe(packet);
        break;
      case 'unsubscribe':
        if (this.context.faults().noSuback) break;
        this.onUnsubscribe(packet);
        break;
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        break;
      case 'disconnect':
      case 'connect':
        this.socket.destroy();
        break;
      default:
        break;
    }
  }

  /** MQTT 5: 0x00 for the subscribed response topic, 0x11 (no subscription existed) for anything else. */
  private onUnsubscribe(packet: mqttPacket.IUnsubscribePacket): void {
    const granted = packet.unsubscriptions.map((topic) => (topic === RESPONSE_TOPIC && this.grantedQos !== undefined ? 0 : REASON.noSubscriptionExisted));
    if (packet.unsubscriptions.includes(RESPONSE_TOPIC)) this.grantedQos = undefined;
    this.send({ cmd: 'unsuback', messageId: packet.messageId, granted });
  }

  private onSubscribe(packet: mqttPacket.ISubscribePacket): void {
    // before 3.9 SUBSCRIBE was ignored altogether: no SUBACK, and the answer stays QoS 1
    if (this.context.faults().noSuback) return;
    const failureCode = this.version === 5 ? REASON.topicFilterInvalid : 0x80;
    const granted = packet.subscriptions.map((subscription) => {
      if (subscription.topic !== RESPONSE_TOPIC) return failureCode;
      this.grantedQos = subscription.qos >= 1 ? 1 : 0;
      return this.grantedQos;
    });
    this.send({ cmd: 'suback', messageId: packet.messageId, granted });
  }

  private onPublish(packet: mqttPacket.IPublishPacket): void {
    if (packet.topic !== REQUEST_TOPIC) {
      this.context.log(`provision session: publish to a topic other than ${REQUEST_TOPIC}; closing`);
      this.rejectAndClose(packet, REASON.topicNameInvalid);
      return;
    }
    if (packet.payload.length > MAX_PAYLOAD_BYTES) {
      this.context.log(`provision session: request larger than ${MAX_PAYLOAD_BYTES} bytes; closing`);
      this.socket.destroy();
      return;
    }
    const faults = this.context.faults();
    if (faults.closeAfterRequest) {
      this.context.log('provision session: request received; closing (fault close-after-request)');
      this.socket.destroy();
      return;
    }
    if (faults.closeAfterPuback) {
      this.context.log('provision session: request received; PUBACK 0x83 and close (fault close-after-puback)');
      this.rejectAndClose(packet, REASON.implementationSpecificError);
      return;
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const parsed = parseProvisionRequest(payload);
    switch (parsed.kind) {
      case 'structural':
        this.context.log(`provision session: malformed request (${parsed.reason}); no answer, closing`);
        this.rejectAndClose(packet, REASON.implementationSpecificError);
        return;
      case 'malformed':
        this.context.log(`provision session: payload cannot be decoded (${parsed.reason})`);
        if (this.version === 5) {
          // QoS 0 has no PUBACK to carry the reason: DISCONNECT 0x99 and close.
          if (packet.qos > 0) this.puback(packet, REASON.payloadFormatInvalid);
          else this.rejectAndClose(packet, REASON.payloadFormatInvalid);
        } else {
          this.socket.destroy();
        }
        return;
      case 'request':
        if (parsed.format === 'protobuf') this.answerInProtobuf = true;
        this.context.service.decide(parsed.request).then(
          (decision) => {
            this.context.log(`provision ${decision.status}: ${decision.reason}${this.answerInProtobuf ? ' (protobuf)' : ''}`);
            this.answer(packet, this.answerInProtobuf ? decision.protobuf : decision.body);
          },
          (error: unknown) => {
            this.context.log(`provision session: core error (${(error as Error).message}); PUBACK 0x83 and close`);
            this.rejectAndClose(packet, REASON.implementationSpecificError);
          },
        );
        return;
    }
  }

  private answer(request: mqttPacket.IPublishPacket, body: Buffer): void {
    if (this.closed) return;
    const faults = this.context.faults();
    if (faults.noAnswer) {
      this.context.log('provision session: decided, not answering (fault no-answer)');
      return;
    }
    const delay = faults.answerDelayMs ?? 0;
    if (delay > 0) {
      const timer = setTimeout(() => {
        this.delayTimers.delete(timer);
        this.writeAnswer(request, body);
      }, delay);
      this.delayTimers.add(timer);
      return;
    }
    this.writeAnswer(request, body);
  }

  private writeAnswer(request: mqttPacket.IPublishPacket, decisionBody: Buffer): void {
    if (this.closed) return;
    const faults = this.context.faults();
    let body = decisionBody;
    if (faults.rawAnswer !== undefined) body = Buffer.from(faults.rawAnswer);
    else if (faults.garbageAnswer) body = GARBAGE_ANSWER;
    if (request.qos > 0) this.puback(request, 0);
    const qos = this.grantedQos ?? 1;
    const publish: mqttPacket.IPublishPacket = { cmd: 'publish', topic: RESPONSE_TOPIC, payload: body, qos, retain: false, dup: false };
    if (qos > 0) publish.messageId = this.takeMessageId();
    this.send(publish);
    if (!this.closeTimer) {
      this.closeTimer = setTimeout(() => this.socket.destroy(), this.context.closeAfterAnswerMs);
    }
  }

  /** PUBACK (reason visible on v5 only), v5 DISCONNECT with the same reason, then close; no answer. */
  private rejectAndClose(packet: mqttPacket.IPublishPacket, reasonCode: number): void {
    if (packet.qos > 0) this.puback(packet, reasonCode);
    if (this.version === 5) this.send({ cmd: 'disconnect', reasonCode });
    this.closed = true;
    this.socket.end(() => this.socket.destroy());
  }

  private puback(packet: mqttPacket.IPublishPacket, reasonCode: number): void {
    const puback: mqttPacket.IPubackPacket = { cmd: 'puback', messageId: packet.messageId };
    if (this.version === 5) puback.reasonCode = reasonCode;
    this.send(puback);
  }

  private takeMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id >= 65535 ? 1 : id + 1;
    return id;
  }

  private send(packet: mqttPacket.Packet): void {
    if (!this.closed) writePacket(this.socket, packet, this.version);
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    for (const timer of this.delayTimers) clearTimeout(timer);
    this.delayTimers.clear();
  }
}
