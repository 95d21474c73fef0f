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

/**
 * The device name GridLinks derives from a certificate CN: Java's `Pattern.compile(p).matcher(cn).find()`
 * then `group(1)`: a match anywhere in the CN (no implied anchors), the first capture group's text.
 * Throws INVALID_INPUT when the server would find no name (no match, no group 1, or an empty one).
 */
export function predictDeviceName(commonName: string, pattern: string): string {
  const match = compileCnPattern(pattern).exec(commonName);
  if (match === null) {
    throw invalid(
      `The certificate CN "${commonName}" does not match the profile's pattern ${pattern}: GridLinks would refuse the device. Change the CN (commonName) or the pattern.`,
    );
  }
  const name = match[1];
  if (name === undefined || name === '') {
    throw invalid(
      `The pattern ${pattern} matches the CN "${commonName}" but its first group ( ... ) captures nothing: GridLinks needs group 1 as the device name.`,
    );
  }
  return name;
}
