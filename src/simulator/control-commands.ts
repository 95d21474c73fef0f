import type { SimulatorHandle } from './types';

/**
 * gridlinks-sim --control-stdin: one command per line drives the server side of device sessions.
 * A device name with spaces is written as a JSON string ("my device").
 */
export const CONTROL_HELP = `Control commands (with --control-stdin, one per line on stdin; each answered by one JSON line on stdout):
  rpc DEVICE METHOD [PARAMS_JSON]   send a two-way RPC, print the device's answer (10 s timeout)
  shared DEVICE JSON                set shared attributes and push them to the device's sessions
  attributes DEVICE                 the client attributes the device reported
  published DEVICE                  what the device published (telemetry and attributes)
  devices                           the devices with an open session
  disconnect DEVICE                 close the device's sessions from the server side
  child-rpc CHILD METHOD [PARAMS_JSON]
                                    send an RPC to a gateway's child (v1/gateway/rpc), print the reply (10 s timeout)
  child-shared CHILD JSON [DELETED_JSON]
                                    set a child's shared attributes, push them through its gateway (v1/gateway/attributes)
  child-disconnect CHILD [REASON]   tell the child's gateway the child is dropped (v1/gateway/disconnect)
  children                          the children online through each gateway
  pause / resume                    take the server down (connections dropped and refused) and up again`;

export class ControlCommandError extends Error {}

/** Splits off the next word, or a JSON string when it starts with a quote. */
function nextWord(text: string): [string, string] {
  const rest = text.trimStart();
  if (rest.startsWith('"')) {
    const match = /^"(?:[^"\\]|\\.)*"/.exec(rest);
    if (!match) throw new ControlCommandError('unterminated "device name"');
    return [JSON.parse(match[0]) as string, rest.slice(match[0].length)];
  }
  const space = rest.search(/\s/);
  return space === -1 ? [rest, ''] : [rest.slice(0, space), rest.slice(space)];
}

function attributesJson(text: string, usage: string): Record<string, unknown> {
  const values = json(text, 'the attributes');
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ControlCommandError(usage);
  return values as Record<string, unknown>;
}

/** Runs the RPC of `rpc` or `child-rpc`: METHOD [PARAMS_JSON] after the name. */
async function rpcCommand(device: string, rest: string, send: SimulatorHandle['sendRpc']): Promise<unknown> {
  const [method, params] = nextWord(rest);
  if (!device || !method) throw new ControlCommandError('an RPC needs NAME METHOD [PARAMS_JSON]');
  const answer = await send(device, { method, params: params.trim() ? json(params.trim(), 'PARAMS_JSON') : {} });
  return { device, method, answer };
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlCommandError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
}

/** `{...} [...]`: the object, and the text after it (empty when none). */
function splitJson(text: string): [string, string] {
  const end = text.lastIndexOf('}');
  return end === -1 ? [text, ''] : [text.slice(0, end + 1), text.slice(end + 1).trim()];
}

/** Runs one command line; resolves with what to print, rejects with ControlCommandError (or the RPC's error). */
export async function runControlCommand(line: string, simulator: SimulatorHandle): Promise<unknown> {
  const [command, afterCommand] = nextWord(line);
  const [device, rest] = nextWord(afterCommand);
  const needDevice = (): string => {
    if (!device) throw new ControlCommandError(`${command} needs a device name`);
    return device;
  };
  switch (command) {
    case 'rpc':
      return rpcCommand(device, rest, (name, request, timeoutMs) => simulator.sendRpc(name, request, timeoutMs));
    case 'child-rpc':
      return rpcCommand(device, rest, (name, request, timeoutMs) => simulator.sendChildRpc(name, request, timeoutMs));
    case 'shared':
      return { device: needDevice(), sessions: simulator.setSharedAttributes(device, attributesJson(rest.trim(), 'shared needs DEVICE {"key": value, ...}')) };
    case 'child-shared': {
      const usage = 'child-shared needs CHILD {"key": value, ...} [["deleted key", ...]]';
      const [values, deleted] = splitJson(rest.trim());
      const deletedKeys = deleted ? json(deleted, 'DELETED_JSON') : [];
      if (!Array.isArray(deletedKeys) || !deletedKeys.every((key) => typeof key === 'string')) throw new ControlCommandError(usage);
      return { device: needDevice(), sessions: simulator.setChildSharedAttributes(device, attributesJson(values, usage), deletedKeys) };
    }
    case 'child-disconnect': {
      const reason = rest.trim() ? Number(rest.trim()) : undefined;
      if (reason !== undefined && !Number.isInteger(reason)) throw new ControlCommandError('child-disconnect needs CHILD [REASON number]');
      return { device: needDevice(), sessions: simulator.disconnectChild(device, reason) };
    }
    case 'children':
      return { children: simulator.connectedChildren() };
    case 'pause':
      await simulator.pause();
      return { down: true };
    case 'resume':
      await simulator.resume();
      return { down: false };
    case 'attributes':
      return { device: needDevice(), client: simulator.clientAttributes(device) };
    case 'published':
      return { device: needDevice(), published: simulator.telemetry(device) };
    case 'devices':
      return { connected: simulator.connectedDevices() };
    case 'disconnect':
      return { device: needDevice(), closed: simulator.disconnectDevice(device) };
    default:
      throw new ControlCommandError(
        `unknown command ${JSON.stringify(command)}; commands: rpc, shared, attributes, published, devices, disconnect, child-rpc, child-shared, child-disconnect, children, pause, resume`,
      );
  }
}
