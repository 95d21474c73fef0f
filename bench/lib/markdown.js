'use strict';
/** Markdown output: every table prints the same way on the terminal and in bench/results/latest.md. */

/** Numbers: thousands separated; `digits` decimals (default 1, and whole numbers shown bare). */
function fmt(value, digits) {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (digits === undefined) return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return value.toFixed(digits);
}

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map((cell) => fmt(cell)).join(' | ')} |`);
  return lines.join('\n');
}

/** One line per target: what was asked, what was measured, met or missed (and by how much). */
function verdict(label, measured, target, higherIsBetter, unit = '') {
  const met = higherIsBetter ? measured >= target : measured <= target;
  const sign = higherIsBetter ? '≥' : '≤';
  const by = met ? '' : ` — missed by ${fmt(Math.abs(measured - target), 2)}${unit} (${fmt((Math.abs(measured - target) / target) * 100, 0)} %)`;
  return { met, line: `- **Target** ${label} ${sign} ${fmt(target, 2)}${unit}: measured ${fmt(measured, 2)}${unit} → **${met ? 'met' : 'MISSED'}**${by}` };
}

module.exports = { fmt, table, verdict };
