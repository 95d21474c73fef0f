import { ChildControl, sendJson } from './child-control';
import {
  attributeRequestOf,
  attributeResponse,
  childNameOf,
  childParts,
  GatewayMessageError,
  isObject,
  parseGatewayJson,
  requestIdOf,
  type Json,
} from './gateway-messages';
import type { DeviceControl, GatewayPublish } from '../devices';
import { countDataPoints, type RateLimiter } from '../limits';
import { REASON } from '../packets';
import type { Registry } from '../registry';
import type { TelemetryRecord } from '../types';

const DEFAULT_CHILD_TYPE = 'default';

export interface GatewayContext {
  registry: Registry;
  devices: DeviceControl;
  rateLimiter: RateLimiter;
  onTelemetry(record: TelemetryRecord): void;
  log(line: string): void;
}

/**
 * A gateway device's publishes on v1/gateway/*, as GridLinks handles them (`MqttTransportHandler.handleGatewayPublishMsg`,
 * `AbstractGatewaySessionHandler`): children created on first mention, their telemetry and attributes kept
 * per child, attribute requests answered, RPC replies matched; what cannot be read closes the session.
 */
export class GatewayHandler {
  readonly children: ChildControl;

  constructor(private readonly context: GatewayContext) {
    this.children = new ChildControl(context.devices);
  }

  handle(publish: GatewayPublish): void {
    const { device, topic, wire, messageId } = publish;
    if (!device.gateway) {
      // GridLinks logs and drops it: no PUBACK, no error, the session goes on.
      this.context.log(`device ${device.name} is not a gateway: its publish on ${topic} is dropped`);
      publish.drop();
      return;
    }
    try {
      const message = parseGatewayJson(publish.payload);
      const kind = topic.slice('v1/gateway/'.length);
      const refused = this.overRateLimit(device.name, kind, message);
      if (refused) {
        this.context.log(`gateway ${device.name}: over its ${refused} rate limit; closing the session`);
        wire.refusePublish(messageId, REASON.quotaExceeded);
        return;
      }
      if (this.apply(publish, kind, message)) publish.ack();
      else this.unknownTopic(publish);
    } catch (error) {
      if (!(error instanceof GatewayMessageError)) throw error;
      this.context.log(`gateway ${device.name}: ${topic}: ${error.message}; closing the session`);
      wire.refusePublish(messageId, error.reasonCode);
    }
  }

  /** Carries out one gateway message; false for a topic the gateway API does not have. */
  private apply(publish: GatewayPublish, kind: string, message: Json): boolean {
    const gateway = publish.device.name;
    const online = (child: string, type = DEFAULT_CHILD_TYPE): void => {
      this.context.registry.childOf(gateway, child, type);
      this.children.childOnline(gateway, publish.session, child);
    };
    switch (kind) {
      case 'connect':
        online(childNameOf(message), typeof message.type === 'string' && message.type !== '' ? message.type : DEFAULT_CHILD_TYPE);
        return true;
      case 'disconnect':
        this.children.childOffline(publish.session, childNameOf(message));
        return true;
      case 'telemetry':
      case 'attributes': {
        const telemetry = kind === 'telemetry';
        for (const [child, part] of this.partsOf(kind, message)) {
          online(child);
          if (!telemetry) this.context.devices.mergeClientAttributes(child, part as Json);
          const record = {
            device: child,
            topic: telemetry ? 'v1/devices/me/telemetry' : 'v1/devices/me/attributes',
            payload: part,
            ts: Date.now(),
            gateway,
          } as const;
          this.context.onTelemetry(record);
        }
        return true;
      }
      case 'attributes/request': {
        const request = attributeRequestOf(message);
        online(request.device);
        const scope = request.client ? this.context.devices.clientAttributesOf(request.device) : this.context.devices.sharedAttributesOf(request.device);
        const qos = publish.session.subscriptions['v1/gateway/attributes/response']?.qos === 0 ? 0 : 1;
        sendJson(publish.session, 'v1/gateway/attributes/response', attributeResponse(request, scope), qos);
        return true;
      }
      case 'rpc': {
        const child = childNameOf(message);
        const id = requestIdOf(message);
        if (!this.children.rpcReplied(child, id, message.data ?? null))
          this.context.log(`gateway ${gateway}: reply to RPC ${id} of ${child}, which no RPC waits for`);
        return true;
      }
      case 'claim':
        return true;
      default:
        return false;
    }
  }

  /** The children a telemetry (an array each) or attributes (an object each) publish speaks for. */
  private partsOf(kind: string, message: Json): Map<string, unknown> {
    return childParts(message, kind === 'telemetry' ? Array.isArray : isObject);
  }

  /** What the gateway's and each child's rate limits say of this publish: null, or the limit that refused. */
  private overRateLimit(gateway: string, kind: string, message: Json): string | null {
    const costs = new Map<string, number>();
    if (kind === 'telemetry' || kind === 'attributes') {
      for (const [child, part] of this.partsOf(kind, message)) costs.set(child, kind === 'telemetry' ? countDataPoints(part) : 0);
    } else if (typeof message.device === 'string' && message.device !== '') {
      costs.set(message.device, 0);
    }
    return this.context.rateLimiter.gatewayPublish(gateway, kind === 'telemetry', costs);
  }

  /** A topic under v1/gateway/ the API does not have: MQTT 5 PUBACK 0x90, the session goes on. */
  private unknownTopic(publish: GatewayPublish): void {
    this.context.log(`gateway ${publish.device.name}: unknown topic ${publish.topic}`);
    if (publish.wire.version === 5 && publish.messageId !== undefined) {
      publish.wire.acknowledge(publish.messageId, REASON.topicNameInvalid);
      publish.drop();
    } else {
      publish.ack();
    }
  }
}
