import { ProvisionError } from '../provisioning/errors';
import type { ServerOptions } from '../provisioning/types';
import type { ChainProvisionOptions } from '../provisioning/chain';
import type { CliArguments } from './args';
import { EXIT, exitCodeFor } from './exit-codes';

const UNITS_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/** `30d`, `12h`, `90m`, `3600s` (a bare number is days) in ms. */
export function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([dhms]?)$/.exec(text.trim());
  if (!match)
    throw new ProvisionError('INVALID_INPUT', `--renew-expiring: "${text}" is not an age such as 30d or 12h (see --help)`, { field: 'renew-expiring' });
  return Number(match[1]) * UNITS_MS[match[2] || 'd'];
}

/**
 * `--renew --device-name N` or `--renew-expiring AGE`, with `--out DIR` and the signer: renews one chain
 * device, or every chain device of DIR whose certificate ends within AGE, one at a time; one line (or
 * JSON object) per device. Exit 0 when every renewal succeeded, else the code of the first failure.
 */
export async function runRenew(args: CliArguments, chain: ChainProvisionOptions, server: ServerOptions, json: boolean, signal: AbortSignal): Promise<number> {
  if (!args.out) throw new ProvisionError('INVALID_INPUT', '--renew needs --out DIR, the credential store of the device (see --help)', { field: 'out' });
  const { renewCertificate, inspectStore, chainDevicesExpiring } = require('../provisioning/index') as typeof import('../provisioning/index');
  let names: string[];
  if (args.renewExpiring !== undefined) {
    const { devices, warnings } = await inspectStore(args.out);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    names = chainDevicesExpiring(devices, parseAge(args.renewExpiring));
    if (!json && names.length === 0) process.stdout.write(`No chain device in ${args.out} expires within ${args.renewExpiring}.\n`);
  } else {
    if (!args.deviceName)
      throw new ProvisionError('INVALID_INPUT', '--renew needs --device-name N or --renew-expiring AGE (see --help)', { field: 'deviceName' });
    names = [args.deviceName];
  }
  let exit: number = EXIT.OK;
  for (const deviceName of names) {
    try {
      const result = await renewCertificate(
        {
          server,
          storeDir: args.out,
          deviceName,
          signerCertificate: chain.signerCertificate,
          signerKey: chain.signerKey,
          chain: chain.chain,
          ...(args.validityDays !== undefined ? { validityDays: Number(args.validityDays) } : {}),
          ...(chain.keyAlgorithm !== undefined ? { keyAlgorithm: chain.keyAlgorithm } : {}),
          newKey: args.newKey,
        },
        signal,
      );
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(
        json ? `${JSON.stringify(result)}\n` : `renewed  "${deviceName}": valid until ${result.notAfter} (was ${result.previousNotAfter ?? '?'})\n`,
      );
    } catch (error) {
      if (!(error instanceof ProvisionError)) throw error;
      process.stdout.write(json ? `${JSON.stringify({ deviceName, error: error.toJSON() })}\n` : '');
      process.stderr.write(`error [${error.code}] "${deviceName}": ${error.message}\n`);
      if (exit === EXIT.OK) exit = exitCodeFor(error.code);
    }
  }
  return exit;
}
