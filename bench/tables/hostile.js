'use strict';
/**
 * Table 8: against a hostile server (test/helpers/hostile-server.js, in this process) with the issue's
 * full sizes (#10): a 200 MB announced packet, 100 MB answers, a 20 MB token, 16 KB of nesting, non-UTF-8,
 * escape sequences, an early answer. (a) the CLI as a whole process per mode: peak RSS, wall time, exit
 * code, bytes printed; (b) one process provisioning 4 at once against 100 MB answers (a Node-RED
 * process's situation); (c) the simulator as a separate process receiving 4 × 200 MB packets.
 */
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const mqttPacket = require('mqtt-packet');
const { tableMain } = require('../lib/table-main');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { startHostileServer } = require('../../test/helpers/hostile-server');

const { CLI } = require('../../test/helpers/cli');
const CORE = path.resolve(__dirname, '..', '..', 'nodes', 'provisioning', 'index.js');
const PEAK_RSS = path.resolve(__dirname, '..', 'lib', 'report-peak-rss.js');
const MB = 1 << 20;
const RSS_TARGET_MB = 100;
const TIMEOUT_SECONDS = 5;

const MODES = [
  ['honest-token', {}, 'a correct answer (baseline)'],
  ['huge-announced', { size: 200 * MB }, 'PUBLISH header announcing 200 MB, then silence'],
  ['huge-answer', { size: 100 * MB }, '100 MB SUCCESS answer (token)'],
  ['huge-error', { size: 100 * MB }, '100 MB FAILURE errorMsg'],
  ['huge-token', { size: 20 * MB }, '20 MB token'],
  ['deep-nesting', {}, '16 KB of `[` as the status'],
  ['non-utf8', {}, 'token bytes that are not UTF-8'],
  ['escape-error', {}, 'errorMsg with terminal escapes'],
  ['escape-token', {}, 'token with C1/bidi controls'],
  ['early-only', {}, 'answer before the request, none after'],
];

/** Runs a Node script with the peak-RSS reporter; resolves { code, ms, peakMb, printed }. */
function measuredProcess(args) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', PEAK_RSS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => (printed += chunk.length));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const match = /PEAK_RSS_KB (\d+)/.exec(stderr);
      const report = stderr.replace(/\n?PEAK_RSS_KB \d+\n/, '');
      resolve({ code, ms, peakMb: match ? Number(match[1]) / 1024 : NaN, printed: printed + Buffer.byteLength(report), stderr: report });
    });
  });
}

function cliArgs(port) {
  return [
    CLI,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--no-tls',
    '--provision-key',
    'k',
    '--provision-secret',
    's',
    '--type',
    'access-token',
    '--allow-unnamed',
    '--timeout',
    String(TIMEOUT_SECONDS),
  ];
}

/** 4 provisions at once in one process (as a Node-RED process with 4 in flight), against `mode`. */
function parallelScript(port) {
  const options = {
    server: { host: '127.0.0.1', port, tls: false, connectTimeoutMs: TIMEOUT_SECONDS * 1000, answerTimeoutMs: TIMEOUT_SECONDS * 1000 },
    provisionDeviceKey: 'k',
    provisionDeviceSecret: 's',
    credentialsType: 'ACCESS_TOKEN',
  };
  return `const { provisionDevice } = require(${JSON.stringify(CORE)});
Promise.allSettled([0, 1, 2, 3].map(() => provisionDevice(${JSON.stringify(options)})))
  .then((outcomes) => console.log(outcomes.map((o) => o.status === 'fulfilled' ? 'ok' : o.reason.code).join(',')));`;
}

function vmHwmMb(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** One provisioning session that sends a PUBLISH of `size` bytes in 1 MB writes until the simulator closes it. */
function floodSimulator(port, size) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let sent = 0;
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(sent));
    socket.once('connect', async () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 60,
          clientId: 'provision',
          username: 'provision',
        }),
      );
      const header = mqttPacket.generate({ cmd: 'publish', topic: '/provision/request', qos: 0, retain: false, dup: false, payload: Buffer.alloc(0) });
      const topicBytes = header.length - 2;
      const remaining = size - 5;
      socket.write(Buffer.from([0x30, (remaining & 0x7f) | 0x80, ((remaining >> 7) & 0x7f) | 0x80, ((remaining >> 14) & 0x7f) | 0x80, remaining >> 21]));
      socket.write(header.subarray(2, 2 + topicBytes));
      const chunk = Buffer.alloc(MB, 0x20);
      while (sent < remaining && !socket.destroyed) {
        if (!socket.write(chunk))
          await new Promise((drained) => {
            socket.once('drain', drained);
            socket.once('close', drained);
          });
        sent += chunk.length;
      }
      socket.end();
    });
  });
}

tableMain(async (args, log) => {
  const rows = [];
  let worstRss = 0;
  let slowest = 0;
  for (const [mode, options, description] of MODES) {
    const server = await startHostileServer(mode, options);
    try {
      const run = await measuredProcess(cliArgs(server.port));
      worstRss = Math.max(worstRss, run.peakMb);
      slowest = Math.max(slowest, run.ms);
      rows.push([`\`${mode}\`: ${description}`, run.code, run.peakMb, run.ms, run.printed]);
      log(`${mode}: exit ${run.code}, ${fmt(run.peakMb)} MB, ${fmt(run.ms)} ms`);
    } finally {
      await server.stop();
    }
  }

  const parallelRows = [];
  for (const mode of ['honest-token', 'huge-error', 'huge-announced']) {
    const server = await startHostileServer(mode, mode === 'honest-token' ? {} : { size: (mode === 'huge-error' ? 100 : 200) * MB });
    try {
      const run = await measuredProcess(['-e', parallelScript(server.port)]);
      parallelRows.push([`4 at once, \`${mode}\``, run.peakMb, run.ms]);
      log(`4 at once ${mode}: ${fmt(run.peakMb)} MB`);
    } finally {
      await server.stop();
    }
  }

  const sim = await startSimulatorProcess();
  let simulatorRows;
  try {
    const before = vmHwmMb(sim.pid);
    const sent = await Promise.all([0, 1, 2, 3].map(() => floodSimulator(sim.plainPort, 200 * MB)));
    const after = vmHwmMb(sim.pid);
    simulatorRows = [
      ['peak RSS before', before],
      ['peak RSS after 4 sessions each sending a 200 MB PUBLISH', after],
      ['bytes each sender got to write before the close (MB, mostly kernel buffers)', Math.max(...sent) / MB],
    ];
    log(`simulator: ${fmt(before)} → ${fmt(after)} MB`);
  } finally {
    await sim.stop();
  }

  return [
    `The CLI (\`--no-tls --type access-token --timeout ${TIMEOUT_SECONDS}\`) as a whole process against each mode of the hostile server, ` +
      'answer limit at its default (64 KiB). Peak RSS = VmHWM of the CLI process. Printed = stdout + stderr bytes.',
    '',
    table(['hostile mode', 'exit', 'peak RSS MB', 'wall ms', 'printed bytes'], rows),
    '',
    table(['one Node process, core, ACCESS_TOKEN', 'peak RSS MB', 'wall ms'], parallelRows),
    '',
    table(['simulator (separate process, plain port)', 'MB'], simulatorRows),
    '',
    verdict('CLI peak RSS against every hostile mode', worstRss, RSS_TARGET_MB, false, ' MB').line,
    // The bound: each case ends within the configured timeouts (connect + answer; early-only waits for the answer timeout).
    verdict(`slowest CLI run, within the configured connect + answer timeouts (${TIMEOUT_SECONDS} s each)`, slowest / 1000, 2 * TIMEOUT_SECONDS, false, ' s')
      .line,
  ].join('\n');
});
