'use strict';
// Mocha adds a config file's `spec` to the files named on the command line, so with a fixed `spec`
// `npm test -- test/x.spec.js` (or `npx mocha test/x.spec.js`) would still run every spec. The
// default set applies only when no spec file or glob is named.
const fs = require('node:fs');

const DEFAULT_SPEC = ['test/**/*.spec.js'];
/** A file, a folder or a glob of spec files (option values such as `--reporter dot` name none). */
const namesSpec = (arg) => !arg.startsWith('-') && (fs.existsSync(arg) || /[*?[{].*\.c?js$/.test(arg));
const named = process.argv.slice(2).filter(namesSpec);

module.exports = {
  spec: named.length > 0 ? [] : DEFAULT_SPEC,
  require: ['test/helpers/temp-dir-guard.js'],
  timeout: 30000,
  exit: true,
  reporter: 'spec',
};
