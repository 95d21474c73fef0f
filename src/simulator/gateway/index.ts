/**
 * The door of the gateway room: a gateway device's v1/gateway/* publishes on behalf of its children, and
 * the server side of those children (RPCs, shared-attribute updates, drops).
 */
export { GatewayHandler, type GatewayContext } from './gateway-handler';
export type { ChildControl } from './child-control';
