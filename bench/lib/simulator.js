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
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((done) => child.once('exit', done));
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      lines.on('line', () => {}); // drain its log so it never blocks on a full pipe
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
