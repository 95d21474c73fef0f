import { ProvisionError } from '../provisioning/errors';
import type { StoredDeviceSummary } from '../provisioning/store';
import type { CliArguments } from './args';
import { EXIT } from './exit-codes';
import { displayText } from '../provisioning/display-text';

const DAY_MS = 86_400_000;

/** `--list --out DIR`: every device of the store with its type, expiry and state, as a table or one JSON object. */
export async function runList(args: CliArguments, json: boolean): Promise<number> {
  if (!args.out) throw new ProvisionError('INVALID_INPUT', '--list needs --out DIR, the credential store to list (see --help)', { field: 'out' });
  const { inspectStore } = require('../provisioning/index') as typeof import('../provisioning/index');
  const inspection = await inspectStore(args.out);
  for (const warning of inspection.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (json) {
    process.stdout.write(`${JSON.stringify({ storeDir: inspection.storeDir, devices: inspection.devices })}\n`);
  } else if (inspection.devices.length === 0) {
    process.stdout.write(`No device in ${inspection.storeDir}.\n`);
  } else {
    process.stdout.write(deviceTable(inspection.devices));
  }
  return EXIT.OK;
}

/** Columns NAME, TYPE, EXPIRES (with days left), STATE; names shown with control characters escaped. */
export function deviceTable(devices: StoredDeviceSummary[], now = Date.now()): string {
  const rows = devices.map((device) => [
    displayText(device.deviceName ?? device.entry, 64),
    device.chain ? 'X509 (chain)' : device.credentialsType,
    expiry(device.notAfter, now),
    [device.state, device.renewing ? 'renewal unfinished' : '', device.problem ? `unreadable: ${displayText(device.problem, 120)}` : '']
      .filter(Boolean)
      .join(', '),
  ]);
  const header = ['NAME', 'TYPE', 'EXPIRES', 'STATE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows]
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

function expiry(notAfter: string | undefined, now: number): string {
  if (notAfter === undefined) return '-';
  const days = Math.floor((Date.parse(notAfter) - now) / DAY_MS);
  return `${notAfter.slice(0, 10)} (${days < 0 ? 'expired' : `${days} d`})`;
}
