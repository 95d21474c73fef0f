import { promises as fs } from 'node:fs';
import { validateSessionLimits } from './limits';
import type { FaultSwitches, PreProvisionedDevice, ProfileConfig, ProvisionStrategy, SessionLimitsConfig, SimulatorOptions } from './types';

export const STRATEGIES: readonly ProvisionStrategy[] = ['ALLOW_CREATE_NEW_DEVICES', 'CHECK_PRE_PROVISIONED_DEVICES', 'DISABLED', 'X509_CERTIFICATE_CHAIN'];

export const HELP = `Usage: gridlinks-sim [options]

A local GridLinks (ThingsBoard-compatible) device-API server: MQTT provisioning on /provision/request,
device sessions by access token, MQTT basic credentials or X.509 client certificate.

Options:
  --host HOST               listen address (default 127.0.0.1)
  --port PORT|0|off         plain MQTT port (default 1883; 0 = any free port)
  --tls-port PORT|0|off     MQTT over TLS port (default 8883; 0 = any free port)
  --http-port PORT|0|off    HTTP provisioning, POST /api/v1/provision (default off; 0 = any free port)
  --https-port PORT|0|off   the same over HTTPS, with the TLS listener's certificate (default off)
  --cert FILE --key FILE    server certificate and key (PEM); without them a throw-away CA and a
                            server certificate for localhost/127.0.0.1 are created in the data folder
  --profile KEY:SECRET[:STRATEGY]
                            a device profile (repeatable); STRATEGY is ALLOW_CREATE_NEW_DEVICES (default),
                            CHECK_PRE_PROVISIONED_DEVICES or DISABLED
  --chain-profile CA_FILE   an X.509 certificate-chain profile (repeatable): devices whose client certificate
                            chains up to this CA are created on their first TLS connection, named from the CN
  --chain-cn-regex PATTERN  for the --chain-profile before it: device name = group(1) of PATTERN found in the
                            certificate CN (default "(.*)")
  --chain-no-create         for the --chain-profile before it: refuse devices that do not exist yet
                            (existing ones still rotate their certificate)
  --profiles FILE           JSON file with profiles and pre-provisioned devices (format below)
  --data DIR                keep the device registry (registry.json) and the generated CA here;
                            without it devices live in memory only
  --session-close-ms MS     close a provisioning session this long after its answer (default 60000)
  --shared-attributes FILE  JSON {"device name": {"key": value}}: shared attributes the devices start with
  --control-stdin           read control commands on stdin (send RPCs, push shared attributes; listed below)
  --max-sessions N          open sessions per device; a newer one evicts the oldest (default 1; 0 = any number)
  --keepalive-close         close a session silent for 1.5 × its keepalive (GridLinks does not; default off)
  --session-limits FILE     JSON {"maxPayloadSize", "maxInflightMessages", "rateLimits": {"messages",
                            "telemetryMessages", "telemetryDataPoints"}, "gatewayRateLimits": {...},
                            "connections"}: answered to getSessionLimits; rate limits ("100:1,3000:60")
                            enforced (default: 65536, 100, no rate limits)
  --help                    show this text

Fault switches (to test clients):
  --fault-no-answer             decide but never send PUBACK nor the answer
  --fault-garbage               answer with bytes that are not JSON
  --fault-raw-answer TEXT       answer with exactly TEXT
  --fault-no-suback             never send SUBACK/UNSUBACK in provisioning sessions (GridLinks before 3.9)
  --fault-delay MS              wait MS before PUBACK + answer
  --fault-close-after-request   close the connection as soon as a request arrives
  --fault-close-after-puback    core error: PUBACK (MQTT 5 reason 0x83), then close, no answer
  --fault-refuse-connect CODE   refuse every CONNECT with this CONNACK code (3.1.1 code or MQTT 5 reason)
  --fault-device-silent         device sessions: publishes are never acknowledged nor answered
  --legacy-check-pre            CHECK_PRE_PROVISIONED_DEVICES as before 4.2.1.1 (a device can be
                                provisioned again and again)

Output: the first stdout line is one JSON object for scripts,
  {"mqttPort":1883,"mqttsPort":8883,"httpPort":null,"httpsPort":null,"caFile":"/path/ca.pem","host":"127.0.0.1"}
(null for a listener that is off, caFile null with --cert/--key); then log lines without secrets.

Profiles file:
  {
    "profiles": [
      {"name": "Sensors", "provisionDeviceKey": "KEY", "provisionDeviceSecret": "SECRET",
       "strategy": "CHECK_PRE_PROVISIONED_DEVICES"},
      {"name": "Fleet", "strategy": "X509_CERTIFICATE_CHAIN", "caCertificate": "fleet-ca.pem",
       "certificateRegExPattern": "^fleet-(.*)$", "allowCreateNewDevices": true}
    ],
    "devices": [
      {"name": "sensor-1", "profile": "Sensors", "credentialsType": "ACCESS_TOKEN", "credentialsValue": "TOKEN"},
      {"name": "sensor-2", "profile": "Sensors", "credentialsType": "MQTT_BASIC",
       "clientId": "c2", "userName": "u2", "password": "p2"},
      {"name": "sensor-3", "profile": "Sensors", "credentialsType": "X509_CERTIFICATE",
       "credentialsValue": "-----BEGIN CERTIFICATE-----\\n...\\n-----END CERTIFICATE-----\\n"},
      {"name": "gw-1", "profile": "Sensors", "credentialsType": "ACCESS_TOKEN", "credentialsValue": "GW",
       "gateway": true}
    ]
  }
  A chain profile's caCertificate is PEM text or a file name; its key and secret are derived from it.
  A profile's name defaults to its key; a device's "profile" is that name. "provisionState": "provisioned"
  marks a device as already provisioned. SIGINT/SIGTERM stop the simulator.
`;

export class UsageError extends Error {}

export interface CliOptions {
  help: boolean;
  /** Read control commands (control-commands.ts) on stdin. */
  controlStdin?: boolean;
  simulator: SimulatorOptions;
}

function parsePort(flag: string, value: string): number | null {
  if (value === 'off') return null;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} needs a port number, 0 or off`);
  return port;
}

function parseCount(flag: string, value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`${flag} needs a non-negative whole number`);
  return count;
}

export function parseProfileArgument(value: string): ProfileConfig {
  const parts = value.split(':');
  let strategy: ProvisionStrategy | undefined;
  if (parts.length >= 3 && (STRATEGIES as readonly string[]).includes(parts[parts.length - 1])) {
    strategy = parts.pop() as ProvisionStrategy;
  }
  const [key, ...secretParts] = parts;
  const secret = secretParts.join(':');
  if (!key || !secret) throw new UsageError('--profile needs KEY:SECRET[:STRATEGY]');
  return { provisionDeviceKey: key, provisionDeviceSecret: secret, strategy };
}

interface ProfilesFile {
  profiles?: ProfileConfig[];
  devices?: PreProvisionedDevice[];
}

export async function readProfilesFile(file: string): Promise<ProfilesFile> {
  let parsed: ProfilesFile;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8')) as ProfilesFile;
  } catch (error) {
    throw new UsageError(`cannot read the profiles file ${file}: ${(error as Error).message}`);
  }
  for (const profile of parsed.profiles ?? []) {
    if (profile.strategy === 'X509_CERTIFICATE_CHAIN') {
      if (typeof profile.caCertificate !== 'string' || !profile.caCertificate)
        throw new UsageError(`${file}: an X509_CERTIFICATE_CHAIN profile needs caCertificate`);
      continue;
    }
    if (!profile.provisionDeviceKey || typeof profile.provisionDeviceSecret !== 'string') {
      throw new UsageError(`${file}: every profile needs provisionDeviceKey and provisionDeviceSecret`);
    }
    if (profile.strategy && !STRATEGIES.includes(profile.strategy)) {
      throw new UsageError(`${file}: unknown strategy ${profile.strategy}; use one of ${STRATEGIES.join(', ')}`);
    }
  }
  return parsed;
}

function lastChainProfile(simulator: SimulatorOptions, flag: string): ProfileConfig {
  const last = simulator.profiles?.[simulator.profiles.length - 1];
  if (last?.strategy !== 'X509_CERTIFICATE_CHAIN') throw new UsageError(`${flag} applies to the --chain-profile just before it`);
  return last;
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch (error) {
    throw new UsageError(`cannot read the ${what} file ${file}: ${(error as Error).message}`);
  }
}

async function readSessionLimitsFile(file: string): Promise<SessionLimitsConfig> {
  const parsed = (await readJsonFile(file, 'session limits')) as SessionLimitsConfig;
  try {
    validateSessionLimits(parsed);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  return parsed;
}

async function readSharedAttributesFile(file: string): Promise<Record<string, Record<string, unknown>>> {
  const parsed = await readJsonFile(file, 'shared attributes');
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(parsed) || !Object.values(parsed).every(isObject)) throw new UsageError(`${file}: expected {"device name": {"key": value, ...}, ...}`);
  return parsed as Record<string, Record<string, unknown>>;
}

export async function parseCliArguments(argv: string[]): Promise<CliOptions> {
  const simulator: SimulatorOptions = { mqttPort: 1883, mqttsPort: 8883, profiles: [], devices: [] };
  const faults: FaultSwitches = {};
  let certFile: string | undefined;
  let keyFile: string | undefined;
  let help = false;
  let controlStdin = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        help = true;
        break;
      case '--host':
        simulator.host = value();
        break;
      case '--port':
        simulator.mqttPort = parsePort(flag, value());
        break;
      case '--tls-port':
        simulator.mqttsPort = parsePort(flag, value());
        break;
      case '--http-port':
        simulator.httpPort = parsePort(flag, value());
        break;
      case '--https-port':
        simulator.httpsPort = parsePort(flag, value());
        break;
      case '--cert':
        certFile = value();
        break;
      case '--key':
        keyFile = value();
        break;
      case '--profile':
        simulator.profiles?.push(parseProfileArgument(value()));
        break;
      case '--chain-profile':
        simulator.profiles?.push({ strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: value() });
        break;
      case '--chain-cn-regex':
        lastChainProfile(simulator, flag).certificateRegExPattern = value();
        break;
      case '--chain-no-create':
        lastChainProfile(simulator, flag).allowCreateNewDevices = false;
        break;
      case '--profiles': {
        const file = await readProfilesFile(value());
        simulator.profiles?.push(...(file.profiles ?? []));
        simulator.devices?.push(...(file.devices ?? []));
        break;
      }
      case '--data':
        simulator.dataDir = value();
        break;
      case '--session-close-ms':
        simulator.sessionCloseAfterAnswerMs = parseCount(flag, value());
        break;
      case '--shared-attributes':
        simulator.sharedAttributes = await readSharedAttributesFile(value());
        break;
      case '--control-stdin':
        controlStdin = true;
        break;
      case '--keepalive-close':
        simulator.keepaliveClose = true;
        break;
      case '--max-sessions':
        simulator.maxSessionsPerDevice = parseCount(flag, value());
        break;
      case '--session-limits':
        simulator.sessionLimits = await readSessionLimitsFile(value());
        break;
      case '--fault-no-answer':
        faults.noAnswer = true;
        break;
      case '--fault-garbage':
        faults.garbageAnswer = true;
        break;
      case '--fault-raw-answer':
        faults.rawAnswer = value();
        break;
      case '--fault-no-suback':
        faults.noSuback = true;
        break;
      case '--fault-delay':
        faults.answerDelayMs = parseCount(flag, value());
        break;
      case '--fault-close-after-request':
        faults.closeAfterRequest = true;
        break;
      case '--fault-close-after-puback':
        faults.closeAfterPuback = true;
        break;
      case '--fault-refuse-connect':
        faults.refuseConnect = parseCount(flag, value());
        break;
      case '--legacy-check-pre':
        faults.checkPreRepeatable = true;
        break;
      case '--fault-device-silent':
        faults.deviceSilent = true;
        break;
      default:
        throw new UsageError(`unknown option ${flag} (see --help)`);
    }
  }
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--cert and --key go together');
  if (certFile && keyFile) {
    try {
      [simulator.cert, simulator.key] = await Promise.all([fs.readFile(certFile, 'utf8'), fs.readFile(keyFile, 'utf8')]);
    } catch (error) {
      throw new UsageError(`cannot read the server certificate or key: ${(error as Error).message}`);
    }
  }
  simulator.faults = faults;
  return { help, simulator, controlStdin };
}
