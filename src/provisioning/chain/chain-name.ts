import { ProvisionError } from '../errors';

/** GridLinks' editor default for a chain profile's "certificate CN regular expression". */
export const DEFAULT_CN_PATTERN = '(.*)';

/** Java-only constructs that JavaScript reads differently or rejects (see docs/chain-provisioning.md). */
const JAVA_ONLY = /\\[QEAZzhHRX]|\\p\{(java|Is|In)|\(\?>|[*+?}]\+|\(\?[imsxud]+\)/;

function invalid(message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field: 'certificateRegExPattern' });
}

/** Compiles the profile's pattern as JavaScript, refusing syntax whose meaning differs from Java's. */
export function compileCnPattern(pattern: string): RegExp {
  if (JAVA_ONLY.test(pattern)) {
    throw invalid(
      'certificateRegExPattern uses Java-only syntax (\\Q..\\E, \\A, \\Z, \\z, \\h, \\R, \\X, possessive or atomic groups, (?i) flags, \\p{javaX}/\\p{IsX}) that cannot be predicted here: rewrite it without them (the same pattern on the server works the same).',
    );
  }
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw invalid(`certificateRegExPattern is not a valid regular expression: ${(error as Error).message}.`);
  }
}

/** What GridLinks makes of a CN value: a name, a random 20-character name (group 1 empty or absent), or no device (no match). */
export type ChainNameOutcome = { kind: 'named'; name: string } | { kind: 'random' } | { kind: 'no-match' };

/**
 * The device name GridLinks derives from a CN value (as it reads it: rfc4514Value / commonNameValueOfCertificate):
 * Java's `Pattern.compile(p).matcher(cn).find()` then `group(1)`: a match anywhere in the CN (no implied
 * anchors), the first capture group's text; an empty or absent group 1 makes GridLinks pick a random name.
 * The one rule for the client's prediction and the simulator.
 */
export function deviceNameFromCn(cnValue: string, pattern: string | RegExp): ChainNameOutcome {
  const match = (typeof pattern === 'string' ? compileCnPattern(pattern) : pattern).exec(cnValue);
  if (match === null) return { kind: 'no-match' };
  const name = match[1];
  return name === undefined || name === '' ? { kind: 'random' } : { kind: 'named', name };
}

/** INVALID_INPUT when GridLinks would find no device for the CN value (no match of the pattern). */
export function predictDeviceName(cnValue: string, pattern: string): ChainNameOutcome & { kind: 'named' | 'random' } {
  const outcome = deviceNameFromCn(cnValue, pattern);
  if (outcome.kind === 'no-match') {
    throw invalid(
      `The certificate CN "${cnValue}" does not match the profile's pattern ${pattern}: GridLinks would refuse the device. Change the CN (commonName) or the pattern.`,
    );
  }
  return outcome;
}
