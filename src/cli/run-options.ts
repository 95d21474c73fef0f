import { ProvisionError } from '../provisioning/errors';
import type { ChainProvisionOptions } from '../provisioning/chain';
import type { ProvisionOptions, ServerOptions } from '../provisioning/types';
import { defaultPort } from '../provisioning/net';
import type { CliArguments } from './args';
import { toChainOptions } from './chain-args';
import { transportOption } from './transport-option';
import { readPemFile } from './pem-file';

export function usage(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', `${message} (see --help)`, { field });
}

export function requireGiven(args: CliArguments): void {
  const missing: [unknown, string][] =
    args.credentialsType === 'X509_CERTIFICATE_CHAIN'
      ? [
          [args.host, '--host'],
          [args.signerCertFile, '--signer-cert'],
          [args.signerKeyFile, '--signer-key'],
        ]
      : [
          [args.host, '--host'],
          [args.provisionKey, '--provision-key (or GRIDLINKS_PROVISION_KEY)'],
          [args.provisionSecret, '--provision-secret (or GRIDLINKS_PROVISION_SECRET)'],
        ];
  for (const [value, flag] of missing) {
    if (!value) throw usage(flag.split(' ')[0].replace(/^--/, ''), `${flag} is required (stdin is not a terminal, so nothing is asked)`);
  }
}

/** Key/secret provisioning names its device, unless --allow-unnamed (checked after the core's own checks). */
export function requireDeviceName(args: CliArguments): void {
  if (args.credentialsType === 'X509_CERTIFICATE_CHAIN' || args.deviceName !== undefined || args.allowUnnamed) return;
  throw usage('device-name', '--device-name is required: give a name, or --allow-unnamed to let GridLinks generate one (it does not say which)');
}

export function toOptions(args: CliArguments): ProvisionOptions | ChainProvisionOptions {
  let timeoutMs: number | undefined;
  if (args.timeoutSeconds !== undefined) {
    const seconds = Number(args.timeoutSeconds);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw usage('timeout', '--timeout must be a number of seconds from 0.001 to 600');
    timeoutMs = Math.max(1, Math.round(seconds * 1000));
  }
  if (args.mqttVersion !== undefined && args.mqttVersion !== '4' && args.mqttVersion !== '5') {
    throw usage('mqtt-version', '--mqtt-version must be 4 (MQTT 3.1.1) or 5');
  }
  if (args.port !== undefined && !/^\d+$/.test(args.port)) throw usage('port', '--port must be a number from 1 to 65535');
  if (args.out !== undefined && args.out.trim() === '') throw usage('out', '--out must name a folder (it was empty); leave it out to print the credentials');
  const transport = transportOption(args);
  const server: ServerOptions = {
    host: args.host ?? '',
    port: args.port === undefined ? defaultPort(transport, args.tls) : Number(args.port),
    transport,
    ...(args.verifyPort !== undefined ? { verifyPort: Number(args.verifyPort) } : {}),
    tls: args.tls,
    ca: readPemFile(args.caFile, '--ca'),
    servername: args.servername,
    rejectUnauthorized: !args.insecure,
    protocolVersion: args.mqttVersion === '5' ? 5 : 4,
    ...(timeoutMs !== undefined ? { connectTimeoutMs: timeoutMs, answerTimeoutMs: timeoutMs } : {}),
  };
  if (args.credentialsType === 'X509_CERTIFICATE_CHAIN') return toChainOptions(args, server);
  return {
    server,
    provisionDeviceKey: args.provisionKey ?? '',
    provisionDeviceSecret: args.provisionSecret ?? '',
    deviceName: args.deviceName,
    credentialsType: args.credentialsType,
    keyAlgorithm: args.keyType as ProvisionOptions['keyAlgorithm'],
    token: args.token,
    clientId: args.clientId,
    username: args.username,
    password: args.password,
    certificate: readPemFile(args.certFile, '--cert'),
    privateKey: readPemFile(args.privateKeyFile, '--private-key'),
    verify: args.verify,
    ...(args.gateway ? { gateway: true } : {}),
    storeDir: args.out,
    ifStored: args.ifStored,
  };
}
