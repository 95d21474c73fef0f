'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const { bin } = require('../../package.json');

/** The command users run: package.json's `gridlinks-provision` bin (the bundled CLI built by `npm run build`). */
const CLI = path.resolve(__dirname, '..', '..', bin['gridlinks-provision']);

/**
 * Runs the CLI with stdin a pipe that is closed at once (not a terminal: nothing is asked); `env` is
 * added to this process's environment, `onStart(child)` sees the child. Resolves {code, signal, stdout, stderr}.
 */
function runCli(args, { env = {}, onStart } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end();
    if (onStart) onStart(child);
  });
}

module.exports = { CLI, runCli };
