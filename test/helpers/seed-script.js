'use strict';
/** The seed guide's Python client: the ```python block of test/fixtures/seed/x509-provisioning-guide.zh.md. */
const fs = require('node:fs');
const path = require('node:path');

const SEED_GUIDE = path.join(__dirname, '..', 'fixtures', 'seed', 'x509-provisioning-guide.zh.md');
/** Debian's python3, where python3-paho-mqtt and python3-cryptography are installed (.ci/run). */
const PYTHON = '/usr/bin/python3';

function seedScript() {
  const match = /```python\s*\n([\s\S]*?)```/.exec(fs.readFileSync(SEED_GUIDE, 'utf8'));
  if (!match) throw new Error(`no \`\`\`python block in ${SEED_GUIDE}`);
  return match[1];
}

module.exports = { seedScript, SEED_GUIDE, PYTHON };
