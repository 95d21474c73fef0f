#!/usr/bin/env node
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { parseCliArguments } from './args';
import { isChainProvisionOptions } from '../provisioning/chain';
import { validateOptions } from '../provisioning/validate';
import { startKeyOnly } from './device-key';
import { requireDeviceName, requireGiven, toOptions } from './run-options';
import { checkStdoutKeepsCredentials } from './stdout';

/**
 * The `gridlinks-provision` command: starts the device key, when the arguments are valid and this
 * run makes one, before the command itself (one 650 KB bundle, 15–25 ms to compile) is loaded; then
 * runs it. Any problem is left to the command, which checks everything again and reports it.
 */
function startKeyEarly(argv: string[]): void {
  try {
    const args = parseCliArguments(argv, process.env);
    if (args.help || args.version || args.resume || isatty(0)) return;
    requireGiven(args);
    const options = toOptions(args);
    if (isChainProvisionOptions(options)) return; // its checks need the ASN.1 modules: left to the command
    validateOptions(options);
    requireDeviceName(args);
    checkStdoutKeepsCredentials(args.out);
    startKeyOnly(args);
  } catch {
    // reported by the command
  }
}

startKeyEarly(process.argv.slice(2));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the command's own bundle, loaded after the key has started
const command = require(join(__dirname, 'gridlinks-provision-main.js')) as typeof import('./main');
command.runCommand();
