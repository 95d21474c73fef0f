'use strict';
/**
 * Helpers for test/faults: leak checks (active handles and process listeners against a baseline),
 * the simulator as a child process (so it can be SIGKILLed), and short-lived temp folders.
 */
const fs = require('node:fs');
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

/**
 * A baseline to compare with later, safe to take first thing in a test or hook. Async on purpose: mocha arms its timeout timer for a test or
 * hook only after the function has returned its promise, so the snapshot waits one turn to include it
 * (the check at the end of the same test or of its afterEach sees exactly one such timer too).
 */
async function settledSnapshot() {
  await new Promise((resolve) => setImmediate(resolve));
  return snapshot();
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
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`simulator printed ${JSON.stringify(line)} instead of its JSON line`));
        return;
      }
      const logLines = [];
      const lineListeners = new Set();
      lines.on('line', (logLine) => {
        logLines.push(logLine);
        for (const listener of lineListeners) listener(logLine);
      });
      resolve({
        info,
        child,
        exited,
        logLines,
        /** Calls `listener` with every later log line; returns a function that stops it. */
        onLine(listener) {
          lineListeners.add(listener);
          return () => lineListeners.delete(listener);
        },
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

/**
 * Server certificates for TLS fault tests, made at test time: a CA of ours, an expired server
 * certificate it signed, and a self-signed server certificate no one trusts (both for localhost/127.0.0.1).
 */
async function faultCertificates() {
  const { createCertificate } = require('../../nodes/simulator');
  const altNames = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
  const ca = await createCertificate({ commonName: 'fault-test CA', isCA: true });
  const day = 86_400_000;
  const expired = await createCertificate({
    commonName: 'localhost',
    issuer: ca,
    ...altNames,
    notBefore: new Date(Date.now() - 400 * day),
    notAfter: new Date(Date.now() - 35 * day),
  });
  const selfSigned = await createCertificate({ commonName: 'localhost', ...altNames });
  return { ca, expired, selfSigned };
}

/** A 127.0.0.1 port that nothing listens on (bound once, then released). */
function unusedPort() {
  const net = require('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Host names in the reserved .invalid domain (RFC 6761) never resolve: no test aims anywhere real. */
const UNRESOLVABLE_HOST = 'gridlinks-fault-test.invalid';

module.exports = {
  snapshot,
  settledSnapshot,
  expectNothingLeft,
  tempDir,
  startSimulatorProcess,
  faultCertificates,
  unusedPort,
  UNRESOLVABLE_HOST,
  SIMULATOR_CLI,
};
