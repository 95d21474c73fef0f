'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ERROR_CODES } = require('../../nodes/provisioning/errors');

const ROOT = path.resolve(__dirname, '..', '..');
const NODES_DIR = path.join(ROOT, 'nodes');
const LANGUAGES = ['en-US', 'zh-CN'];
const NODE_FILES = ['gridlinks-server', 'gridlinks-provision', 'gridlinks-device', 'gridlinks-gateway'];
/** Codes only gridlinks-device or gridlinks-gateway produce, and the codes the device help documents. */
const DEVICE_ONLY_CODES = ['QUEUE_FULL', 'NOT_GATEWAY', 'SESSION_TAKEN_OVER', 'RATE_LIMITED'];
/** The codes the gateway help documents one by one (the session's connect errors are listed together). */
const GATEWAY_CODES = ['NOT_GATEWAY', 'SESSION_TAKEN_OVER', 'RATE_LIMITED', 'INVALID_INPUT', 'OUTCOME_UNKNOWN'];
const DEVICE_CODES = [
  'INVALID_INPUT',
  'STORE',
  'CONNECT_REFUSED',
  'TLS',
  'UNREACHABLE',
  'TIMEOUT',
  'CONNECTION_CLOSED',
  'OUTCOME_UNKNOWN',
  'QUEUE_FULL',
  'SESSION_TAKEN_OVER',
  'RATE_LIMITED',
  'ABORTED',
];

function flatKeys(object, prefix = '') {
  return Object.entries(object).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? flatKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

function messages(language, file) {
  return JSON.parse(fs.readFileSync(path.join(NODES_DIR, 'locales', language, `${file}.json`), 'utf8'));
}

/** i18n keys of this package used by the editor HTML (data-i18n) and the runtime (RED._ in src). */
function usedKeys(file) {
  const html = fs.readFileSync(path.join(NODES_DIR, `${file}.html`), 'utf8');
  const sources = [
    path.join(ROOT, 'src', `${file}.ts`),
    ...fs.readdirSync(path.join(ROOT, 'src', 'node-red')).map((f) => path.join(ROOT, 'src', 'node-red', f)),
  ]
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
  const keys = new Set();
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(m[1]);
  for (const m of (html + sources).matchAll(/(?:RED\._|this\._|node\._|translate)\(\s*'([^']+)'/g)) keys.add(m[1]);
  return [...keys].filter((key) => key.startsWith(`${file}.`));
}

describe('locales: en-US and zh-CN', function () {
  for (const file of NODE_FILES) {
    it(`${file}: both languages have the same message keys, and every key the code uses exists`, function () {
      const english = flatKeys(messages('en-US', file)).sort();
      assert.deepEqual(flatKeys(messages('zh-CN', file)).sort(), english);
      const used = usedKeys(file);
      assert.ok(used.length > 5);
      for (const key of used) assert.ok(english.includes(key), `${key} is used but not defined`);
    });

    for (const language of LANGUAGES) {
      it(`${file}: ${language} help has the data-help-name block${file !== 'gridlinks-server' ? ', Inputs/Outputs/Details and every error code' : ''}`, function () {
        const help = fs.readFileSync(path.join(NODES_DIR, 'locales', language, `${file}.html`), 'utf8');
        assert.match(help, new RegExp(`data-help-name="${file}"`));
        assert.match(help, /class="message-properties"/);
        if (file === 'gridlinks-provision') {
          assert.equal((help.match(/<h3>/g) || []).length >= 3, true);
          for (const code of ERROR_CODES.filter((c) => !DEVICE_ONLY_CODES.includes(c)))
            assert.match(help, new RegExp(`<dt>${code}</dt>`), `${language}: ${code}`);
        }
        if (file === 'gridlinks-device') {
          assert.equal((help.match(/<h3>/g) || []).length >= 3, true);
          for (const code of DEVICE_CODES) assert.match(help, new RegExp(`<dt>${code}</dt>`), `${language}: ${code}`);
        }
        if (file === 'gridlinks-gateway') {
          assert.equal((help.match(/<h3>/g) || []).length >= 3, true);
          for (const code of GATEWAY_CODES) assert.match(help, new RegExp(`<dt>${code}</dt>`), `${language}: ${code}`);
        }
      });
    }
  }
});
