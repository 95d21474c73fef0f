'use strict';
/**
 * The project's simulator (gridlinks-sim) as a separate process on 127.0.0.1, with one
 * ALLOW_CREATE profile. A separate process, so the client side measured here pays only for itself
 * and every client (ours, the floor's, the seed's) pays the same server.
 */
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');

const CLI = path.resolve(__dirname, '..', '..', 'nodes', 'simulator', 'cli.js');
const PROVISION_KEY = 'bench-provision-key';
const PROVISION_SECRET = 'bench-provision-secret';

function startSimulatorProcess(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--tls-port',
        '0',
        '--profile',
        `${PROVISION_KEY}:${PROVISION_SECRET}`,
        '--session-close-ms',
        '60000',
        ...extraArgs,
      ],
      { stdio: [extraArgs.includes('--control-stdin') ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((done) => child.once('exit', done));
    const lines = readline.createInterface({ input: child.stdout });
    /** Control commands (with --control-stdin) waiting for their answer line, by command text. */
    const waiting = [];
    lines.once('line', (line) => {
      // The rest is its log (drained so it never blocks on a full pipe) and, with --control-stdin, answers.
      lines.on('line', (text) => {
        if (!text.startsWith('{"command"')) return;
        const answer = JSON.parse(text);
        const at = waiting.findIndex((entry) => entry.command === answer.command);
        if (at === -1) return;
        const [entry] = waiting.splice(at, 1);
        if (answer.error) entry.reject(new Error(`simulator ${answer.command}: ${answer.error}`));
        else entry.resolve(answer.result);
      });
      const info = JSON.parse(line);
      const caPem = fs.readFileSync(info.caFile, 'utf8');
      resolve({
        host: info.host,
        port: info.mqttsPort,
        plainPort: info.mqttPort,
        caPem,
        caFile: info.caFile,
        pid: child.pid,
        provisionKey: PROVISION_KEY,
        provisionSecret: PROVISION_SECRET,
        /** Runs a control command (started with --control-stdin: pause, resume, published DEVICE, ...); resolves its result. */
        control(command) {
          return new Promise((resolveCommand, rejectCommand) => {
            waiting.push({ command, resolve: resolveCommand, reject: rejectCommand });
            child.stdin.write(`${command}\n`);
          });
        },
        /** Options for the core's `server` field. */
        server: { host: info.host, port: info.mqttsPort, tls: true, ca: caPem },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
          lines.close();
        },
      });
    });
    exited.then((code) => reject(new Error(`simulator exited (${code}) before it was ready: ${stderr.trim()}`)));
  });
}

/** CPU time (user + system, ms) the simulator process has used so far, from /proc. */
function processCpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return NaN;
  }
}

module.exports = { startSimulatorProcess, processCpuMs, PROVISION_KEY, PROVISION_SECRET };
