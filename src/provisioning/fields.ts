import { ProvisionError } from './errors';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
export const MAX_NAME_LENGTH = 255;

export function invalid(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field });
}

/** A string option: absent, null and '' all mean "not given". */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string.`);
  return value;
}

export function requiredString(value: unknown, field: string, what: string): string {
  const text = optionalString(value, field);
  if (text === undefined) throw invalid(field, `${field} is required: ${what}.`);
  return text;
}

export function noControlCharacters(value: string | undefined, field: string): void {
  if (value !== undefined && CONTROL_CHARACTERS.test(value)) {
    throw invalid(field, `${field} must not contain control characters (GridLinks refuses them).`);
  }
}

export function optionalInteger(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(field, `${field} must be a whole number from ${min} to ${max}.`);
  }
  return number;
}

export function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalid(field, `${field} must be true or false.`);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (!allowed.includes(value as T)) throw invalid(field, `${field} must be one of ${allowed.join(', ')}.`);
  return value as T;
}

/**
 * Java's `String.trim()`: removes code points up to U+0020 at both ends and nothing else (JavaScript's trim()
 * also removes U+00A0, U+2028, U+FEFF and other Unicode spaces, which GridLinks keeps in a device name).
 */
export function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

export function validateDeviceName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid('deviceName', 'deviceName must be a string.');
  const name = javaTrim(value);
  if (!name) {
    throw invalid('deviceName', 'deviceName is empty: give a name. To let GridLinks generate one (it does not say which), leave deviceName out altogether.');
  }
  if (name.length > MAX_NAME_LENGTH) throw invalid('deviceName', `deviceName must be at most ${MAX_NAME_LENGTH} characters.`);
  noControlCharacters(name, 'deviceName');
  return name;
}
