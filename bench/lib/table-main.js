'use strict';
/**
 * Entry point shared by every table script: parses the flags, runs `build(args, log)` which returns
 * the table's markdown, prints it on stdout (progress goes to stderr), exits non-zero on failure.
 */
const util = require('node:util');
const { parseArgs } = require('./args');

function log(line) {
  process.stderr.write(`  ${line}\n`);
}

function tableMain(build) {
  // stdout carries only the table: anything else that logs (Node-RED does) goes to stderr.
  console.log = console.info = console.warn = (...parts) => process.stderr.write(`${util.format(...parts)}\n`);
  const args = parseArgs();
  build(args, log).then(
    (markdown) => {
      process.stdout.write(`${markdown.trim()}\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
      process.exit(1);
    },
  );
}

module.exports = { tableMain, log };
