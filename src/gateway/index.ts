export { gatewayIdentity, openGateway, type OpenGatewayOptions } from './open-gateway';
export { identityKey as gatewayKey } from '../device';
export { Gateway, GATEWAY_DEFAULTS, type ChildRequest, type GatewayCounts, type GatewayEvents, type GatewaySettings } from './gateway';
export {
  GATEWAY_ACTIONS,
  DEFAULT_CHILD_TYPE,
  buildChildMessage,
  childTopicKind,
  type ChildInput,
  type ChildMessage,
  type GatewayActionKind,
} from './child-message';
export { GATEWAY_TOPICS, GATEWAY_SUBSCRIPTIONS } from './gateway-topics';
export { publishOverhead } from '../device';
export { readStoredDevice as readStoredGateway } from '../device';
