import { resumePending, type ResumeReport } from '../provisioning/store';
import type { ServerOptions } from '../provisioning/types';
import { ProvisionError } from '../provisioning/errors';
import { outputResult } from './output';

/** Outcomes that need nothing more: counted neither as provisioned nor as unknown. */
const SETTLED = new Set(['settled-elsewhere', 'renewal-finished', 'renewal-abandoned']);

export interface ResumeCounts {
  provisioned: number;
  notCreated: number;
  unknown: number;
}

/**
 * `msg.action = "resume"`: settles the store folder's `.pending/` entries (see the core's
 * resumePending) and returns the reports for msg.payload, results shaped like a normal output.
 */
export async function resumeForNode(
  server: ServerOptions,
  storeDir: string | undefined,
  includePrivateKey: boolean,
  signal: AbortSignal,
): Promise<{ entries: ResumeReport[]; warnings: string[]; counts: ResumeCounts }> {
  if (!storeDir) {
    throw new ProvisionError('INVALID_INPUT', 'msg.action "resume" needs a Store folder on the node: that is where lost answers wait.', { field: 'storeDir' });
  }
  const summary = await resumePending({ server, storeDir, signal });
  const entries = summary.entries.map((entry) => (entry.result ? { ...entry, result: outputResult(entry.result, includePrivateKey) } : entry));
  const counts = { provisioned: 0, notCreated: 0, unknown: 0 };
  for (const entry of entries) {
    if (entry.outcome === 'provisioned') counts.provisioned += 1;
    else if (entry.outcome === 'not-created') counts.notCreated += 1;
    else if (!SETTLED.has(entry.outcome)) counts.unknown += 1;
  }
  return { entries, warnings: summary.warnings, counts };
}
