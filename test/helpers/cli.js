'use strict';
const path = require('node:path');
const { bin } = require('../../package.json');

/** The command users run: package.json's `gridlinks-provision` bin (the bundled CLI built by `npm run build`). */
const CLI = path.resolve(__dirname, '..', '..', bin['gridlinks-provision']);

module.exports = { CLI };
