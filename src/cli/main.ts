#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../provisioning/errors';
import type { ProvisionResult } from '../provisioning/types';
import { parseCliArguments, USAGE, type CliArguments } from './args';
import { EXIT, exitCodeFor } from './exit-codes';
import { checkBeforeKeygen, startDeviceKey } from './early-key';
import { describeError, describeResult, errorJson, resultJson } from './output';
import { checkStdoutKeepsCredentials, writeStdout } from './stdout';
import { displayText } from '../provisioning/display-text';
import { TerminalPrompt } from './prompt';
import { runResume } from './resume-command';
import { runList } from './list-command';
import { runRenew } from './renew-command';
import { toChainOptions } from './chain-args';
import { defaultPort } from '../provisioning/net';
import { requireDeviceName, requireGiven, toOptions } from './run-options';

/** Option names of the core mapped back to the command-line flags, for error messages. */
const FLAG_FOR_FIELD: Record<string, string> = {
  'server.host': '--host',
  'server.port': '--port',
  'server.servername': '--servername',
  'server.ca': '--ca',
  'server.protocolVersion': '--mqtt-version',
  'server.transport': '--transport',
  'server.verifyPort': '--verify-port',
  provisionDeviceKey: '--provision-key',
  provisionDeviceSecret: '--provision-secret',
  deviceName: '--device-name',
  keyAlgorithm: '--key-type',
  certificate: '--cert',
  privateKey: '--private-key',
  token: '--token',
  clientId: '--client-id',
  username: '--username',
  password: '--password',
  storeDir: '--out',
  signerCertificate: '--signer-cert',
  signerKey: '--signer-key',
  chain: '--chain',
  csr: '--csr',
  commonName: '--common-name',
  certificateRegExPattern: '--regex',
  ifStored: '--if-stored',
};

/** Asks for what is missing, only on a terminal (like the seed script); never otherwise. */
async function askForMissing(args: CliArguments, signal: AbortSignal): Promise<void> {
  const prompt = new TerminalPrompt(signal);
  try {
    if (!args.host) args.host = await prompt.ask('GridLinks host: ');
    if (!args.port)
      args.port =
        (await prompt.ask(`${args.transport === 'http' ? 'HTTP' : 'MQTT'} port [${defaultPort(args.transport === 'http' ? 'http' : 'mqtt', args.tls)}]: `)) ||
        undefined;
    const chain = args.credentialsType === 'X509_CERTIFICATE_CHAIN';
    if (!args.provisionKey && !chain) args.provisionKey = await prompt.ask('Provision device key: ');
    if (!args.provisionSecret && !chain) args.provisionSecret = await prompt.ask('Provision device secret (hidden): ', { hidden: true });
    if (args.deviceName === undefined && args.csrFile === undefined && !args.allowUnnamed) {
      args.deviceName = (await prompt.ask('Device name: ')) || undefined;
    }
  } finally {
    prompt.close();
  }
}

function withFlagNames(error: ProvisionError): ProvisionError {
  const flag = error.details.field !== undefined ? FLAG_FOR_FIELD[error.details.field] : undefined;
  if (error.code !== 'INVALID_INPUT' || flag === undefined) return error;
  return new ProvisionError(error.code, `${flag}: ${error.message}`, error.details);
}

/** stdout failed after provisioning (EPIPE, ...): the credentials are on disk (--out), or go to stderr rather than be lost. */
function reportUnprinted(result: ProvisionResult, error: NodeJS.ErrnoException): number {
  const why = `stdout cannot be written (${error.code ?? error.message})`;
  if (result.stored !== undefined) {
    process.stderr.write(`warning: ${why}; the credentials are saved in ${result.stored.dir}\n`);
    return EXIT.OK;
  }
  process.stderr.write(`error: ${why}; the device was provisioned, its credentials follow here so they are not lost:\n${describeResult(result)}`);
  return EXIT.STORE;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  const warn = (text: string) => process.stderr.write(`warning: ${displayText(text, 8192)}\n`);
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (argv[0] === 'ca') return await (require('./ca-command') as typeof import('./ca-command')).runCaCommand(argv.slice(1), controller.signal);
    const args = parseCliArguments(argv, process.env);
    json = args.json;
    if (args.help) {
      process.stdout.write(USAGE);
      return EXIT.OK;
    }
    if (args.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return EXIT.OK;
    }
    if (args.resume) return await runResume(args, toOptions(args).server, json, controller.signal);
    if (args.list) return await runList(args, json);
    if (args.renew || args.renewExpiring !== undefined) {
      if (!args.host) throw new ProvisionError('INVALID_INPUT', '--renew needs --host (see --help)', { field: 'host' });
      const server = toOptions(args).server;
      return await runRenew(args, toChainOptions(args, server), server, json, controller.signal);
    }
    if (process.stdin.isTTY) await askForMissing(args, controller.signal);
    requireGiven(args);
    const options = toOptions(args);
    checkBeforeKeygen(options);
    requireDeviceName(args);
    checkStdoutKeepsCredentials(args.out);
    startDeviceKey(args);
    // Loaded only now, while the key pair is being made on the thread pool.
    const { provisionDevice } = require('../provisioning/index') as typeof import('../provisioning/index');
    if (args.insecure) warn('--insecure: the server certificate is not verified; anyone on the path can read the provision secret and the new credentials.');
    if (!args.tls) warn('--no-tls: the provision secret and the new credentials travel unencrypted.');

    const result = await provisionDevice(options, controller.signal);
    for (const text of result.warnings) if (!(args.insecure && /insecure/.test(text))) warn(text);
    const printed = await writeStdout(json ? resultJson(result) : describeResult(result));
    if (printed !== undefined) return reportUnprinted(result, printed);
    if (args.out !== undefined && result.stored === undefined) return EXIT.STORE;
    if (result.verification && !result.verification.accepted) return EXIT.VERIFY_REFUSED;
    return EXIT.OK;
  } catch (caught) {
    if (!(caught instanceof ProvisionError)) {
      process.stderr.write(`internal error: ${(caught as Error)?.stack ?? String(caught)}\n`);
      return EXIT.INTERNAL;
    }
    const error = withFlagNames(caught);
    if (!json || (await writeStdout(errorJson(error))) !== undefined) process.stderr.write(describeError(error));
    if (error.code === 'ABORTED' && interruptedBy === 'SIGTERM') return 128 + 15;
    return exitCodeFor(error.code);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Runs the command with this process's arguments and sets its exit code. */
export function runCommand(): void {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) runCommand();
