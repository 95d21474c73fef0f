import { ProvisionError } from '../provisioning/errors';
import type { ServerOptions } from '../provisioning/types';
import type { ResumeReport } from '../provisioning/store';
import type { CliArguments } from './args';
import { EXIT } from './exit-codes';

/** Outcomes that leave an entry unsettled: the run exits non-zero. */
const UNSETTLED = new Set(['unknown', 'cannot-resume', 'in-progress']);

/** `--resume --out DIR`: settles `.pending/` and prints one line (or JSON object) per entry. */
export async function runResume(args: CliArguments, server: ServerOptions, json: boolean, signal: AbortSignal): Promise<number> {
  if (!args.host) throw new ProvisionError('INVALID_INPUT', '--resume needs --host (the server the requests were sent to) (see --help)', { field: 'host' });
  if (!args.out) throw new ProvisionError('INVALID_INPUT', '--resume needs --out DIR, the credential store to settle (see --help)', { field: 'out' });
  const { resumePending } = require('../provisioning/index') as typeof import('../provisioning/index');
  const summary = await resumePending({ server, storeDir: args.out, signal });
  for (const warning of summary.warnings) process.stderr.write(`warning: ${warning}\n`);
  for (const entry of summary.entries) process.stdout.write(json ? `${JSON.stringify(entryJson(entry))}\n` : describeEntry(entry));
  if (!json && summary.entries.length === 0) process.stdout.write(`Nothing pending in ${summary.storeDir}.\n`);
  return summary.entries.some((entry) => UNSETTLED.has(entry.outcome)) ? EXIT.OUTCOME_UNKNOWN : EXIT.OK;
}

/** The report without credentials: they are in the store (or still pending there). */
function entryJson(entry: ResumeReport): Record<string, unknown> {
  const { result, ...rest } = entry;
  return { ...rest, ...(result?.stored ? { stored: result.stored } : {}) };
}

function describeEntry(entry: ResumeReport): string {
  const name = entry.deviceName === null ? entry.entry : `"${entry.deviceName}"`;
  return `${entry.outcome.padEnd(13)} ${name}: ${entry.message}\n`;
}
