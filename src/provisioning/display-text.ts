/**
 * Text the server chose (errorMsg, names, tokens, ids), made safe to show to a human: on a terminal,
 * in a Node-RED status or log line. JSON output keeps the exact values; only human-readable text
 * goes through here.
 */

/** Longest server text shown whole in a message or a report line; real tokens and names are far shorter. */
export const DISPLAY_LIMIT = 512;

// C0 and C1 controls, DEL, line/paragraph separators and the bidirectional overrides/isolates that
// can make a terminal or an editor show text other than what it holds.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escapeCharacter(character: string): string {
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Control characters escaped (`\x1b`, `\u202e`), and text longer than `limit` characters cut there
 * with a note of its full length. Never throws, whatever the value.
 */
export function displayText(value: string, limit = DISPLAY_LIMIT): string {
  const text = String(value);
  let shown = text.length > limit ? text.slice(0, limit) : text;
  if (shown.length < text.length && /[\ud800-\udbff]$/.test(shown)) shown = shown.slice(0, -1);
  const escaped = shown.replace(UNSAFE, escapeCharacter);
  return text.length > limit ? `${escaped}… (${text.length} characters in all)` : escaped;
}

/**
 * JSON text in which the characters JSON.stringify leaves raw but a terminal may act on (DEL, C1,
 * separators, bidi controls) are written as \u escapes: the parsed values stay exactly the same.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
