import { identityFromMessage, type DeviceIdentity } from '../device';
import { ProvisionError } from '../provisioning/errors';
import { validateServer } from '../provisioning/net';
import type { ServerOptions } from '../provisioning/types';
import { GATEWAY_DEFAULTS, Gateway, type ChildRequest, type GatewaySettings } from './gateway';

export interface OpenGatewayOptions extends Partial<Omit<GatewaySettings, 'server'>> {
  server: ServerOptions;
  /** The gateway device: a provision result of a device created with `gateway: true`, or `{deviceName, credentialsType, credentials}`. */
  gateway: unknown;
  /** RPCs and shared-attribute updates for the children. */
  onRequest?: (request: ChildRequest) => void;
  /** Counts may have changed. */
  onChange?: () => void;
  /** The session stopped reconnecting for good (SESSION_TAKEN_OVER: another session keeps taking it over, or its credentials were updated). */
  onStopped?: (error: ProvisionError) => void;
}

/** Whole-number settings and their bounds. */
const BOUNDS: Record<keyof typeof GATEWAY_DEFAULTS, [number, number]> = {
  batchWindowMs: [0, 10_000],
  maxPacketBytes: [1_024, 256 * 1024 * 1024],
  childIdleTimeoutMs: [0, 86_400_000 * 7],
  queueLimit: [1, 1_000_000],
  queueBudgetBytes: [1_024, 64 * 1024 * 1024 * 1024],
  reconnectBaseMs: [1, 3_600_000],
  reconnectMaxMs: [1, 86_400_000],
  reconnectStableMs: [0, 86_400_000],
};

/** The gateway device as a flow or a library user gives it (a provision result), checked; INVALID_INPUT with field `gateway`. */
export function gatewayIdentity(gateway: unknown): DeviceIdentity {
  try {
    return identityFromMessage(gateway);
  } catch (error) {
    const problem = error as ProvisionError;
    throw new ProvisionError(problem.code, problem.message.replace(/msg\.device/g, 'The gateway'), { ...problem.details, field: 'gateway' });
  }
}

/**
 * Opens (on its first message) one MQTT session for a gateway device and returns the Gateway that
 * speaks for its children: `send({deviceName, topic, payload}, settled)` or `request(...)`, `counts()`,
 * `close()`. Throws INVALID_INPUT for options or gateway credentials that cannot work.
 */
export function openGateway(options: OpenGatewayOptions): Gateway {
  const server = validateServer(options.server);
  const settings: GatewaySettings = { ...GATEWAY_DEFAULTS, server };
  for (const [name, [min, max]] of Object.entries(BOUNDS) as Array<[keyof typeof GATEWAY_DEFAULTS, [number, number]]>) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ProvisionError('INVALID_INPUT', `The gateway option ${name} must be a whole number from ${min} to ${max}.`, { field: name });
    }
    settings[name] = value;
  }
  return new Gateway(gatewayIdentity(options.gateway), settings, { request: options.onRequest, changed: options.onChange, stopped: options.onStopped });
}
