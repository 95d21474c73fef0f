'use strict';
/**
 * Helpers for test/faults: leak checks (active handles and process listeners against a baseline),
 * the simulator as a child process (so it can be SIGKILLed), and short-lived temp folders.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');

const SIMULATOR_CLI = path.resolve(__dirname, '..', '..', 'nodes', 'simulator', 'cli.js');

function countBy(items) {
  const counts = {};
  for (const item of items) counts[item] = (counts[item] || 0) + 1;
  return counts;
}

const WATCHED_PROCESS_EVENTS = ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'warning', 'SIGINT', 'SIGTERM'];

/** What is alive right now: active resources by kind, and listeners on `process` by event. */
function snapshot() {
  const listeners = {};
  for (const event of WATCHED_PROCESS_EVENTS) listeners[event] = process.listenerCount(event);
  return { resources: countBy(process.getActiveResourcesInfo()), listeners };
}

function excess(baseline, current) {
  const extra = [];
  for (const [kind, n] of Object.entries(current.resources)) {
    if (n > (baseline.resources[kind] || 0)) extra.push(`${n - (baseline.resources[kind] || 0)} × ${kind}`);
  }
  for (const [event, n] of Object.entries(current.listeners)) {
    if (n > baseline.listeners[event]) extra.push(`${n - baseline.listeners[event]} × process '${event}' listener`);
  }
  return extra;
}

/**
 * Resolves once nothing is left beyond `baseline` (sockets close asynchronously, so it polls);
 * rejects naming what leaked if something is still there after `withinMs`.
 */
async function expectNothingLeft(baseline, withinMs = 3000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const extra = excess(baseline, snapshot());
    if (extra.length === 0) return;
    if (Date.now() > deadline) throw new Error(`left open after the test: ${extra.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function tempDir(prefix) {
  const base = path.resolve(__dirname, '..', '.tmp');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/**
 * `gridlinks-sim` as a child process. Resolves once it printed its first JSON line
 * ({mqttPort, mqttsPort, caFile, host}); `kill(signal)` resolves when the process has exited.
 */
function startSimulatorProcess(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIMULATOR_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    const lines = readline.createInterface({ input: child.stdout });
    let ready = false;
    lines.once('line', (line) => {
      ready = true;
      let info;
      try {
        info = JSON.parse(line);
      } catch (error) {
        child.kill('SIGKILL');
        reject(new Error(`simulator printed ${JSON.stringify(line)} instead of its JSON line`));
        return;
      }
      lines.on('line', () => {}); // keep draining its log
      resolve({
        info,
        child,
        exited,
        async kill(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const result = await exited;
          lines.close();
          return result;
        },
      });
    });
    exited.then(({ code, signal }) => {
      if (!ready) reject(new Error(`simulator exited (${code ?? signal}) before it was ready: ${stderr.trim()}`));
    });
  });
}

module.exports = { snapshot, expectNothingLeft, tempDir, startSimulatorProcess, SIMULATOR_CLI };
