/**
 * Device names GridLinks refuses when it creates a device (DeviceDataValidator + NoXssValidator, protocol-more.md §3):
 * longer than 255 characters, U+0000 (PostgreSQL cannot store it), a `{{...}}` template, or markup that the XSS
 * sanitizer would remove (a tag, closing tag, comment or processing instruction). Text such as `zone=1`,
 * `a < b` or `javascript:x` is left alone by the sanitizer and accepted.
 */
const MAX_NAME_LENGTH = 255;
const TEMPLATE = /\{\{[\s\S]*\}\}/;
const MARKUP = /<\/?[a-z]|<!|<\?/i;

export function deviceNameProblem(name: string): string | null {
  if (name.length > MAX_NAME_LENGTH) return `device name is longer than ${MAX_NAME_LENGTH} characters`;
  if (name.includes('\u0000')) return 'device name contains U+0000';
  if (TEMPLATE.test(name)) return 'device name looks like a template ({{...}})';
  if (MARKUP.test(name)) return 'device name contains markup';
  return null;
}
