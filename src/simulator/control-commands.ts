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
  disconnect DEVICE                 close the device's sessions from the server side`;

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

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlCommandError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
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
    case 'rpc': {
      const [method, params] = nextWord(rest);
      if (!method) throw new ControlCommandError('rpc needs DEVICE METHOD [PARAMS_JSON]');
      const answer = await simulator.sendRpc(needDevice(), { method, params: params.trim() ? json(params.trim(), 'PARAMS_JSON') : {} });
      return { device, method, answer };
    }
    case 'shared': {
      const values = json(rest.trim(), 'the attributes');
      if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ControlCommandError('shared needs DEVICE {"key": value, ...}');
      return { device: needDevice(), sessions: simulator.setSharedAttributes(device, values as Record<string, unknown>) };
    }
    case 'attributes':
      return { device: needDevice(), client: simulator.clientAttributes(device) };
    case 'published':
      return { device: needDevice(), published: simulator.telemetry(device) };
    case 'devices':
      return { connected: simulator.connectedDevices() };
    case 'disconnect':
      return { device: needDevice(), closed: simulator.disconnectDevice(device) };
    default:
      throw new ControlCommandError(`unknown command ${JSON.stringify(command)}; commands: rpc, shared, attributes, published, devices, disconnect`);
  }
}
