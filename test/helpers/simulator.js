'use strict';
// Shared test helpers for the GridLinks simulator (owner: simulator area).
// startTestSimulator(): simulator on 127.0.0.1, free ports, a default profile, quiet log.
// RawSession: one MQTT connection over a raw socket with mqtt-packet, to see exact packets and bytes.
// provisionOnce()/connectDevice(): small mqtt.js utilities other test areas can reuse.

const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const tls = require('node:tls');
const mqttPacket = require('mqtt-packet');
const mqtt = require('mqtt');
const { startSimulator } = require('../../nodes/simulator');

const DEFAULT_PROFILE = Object.freeze({
  name: 'test-profile',
  provisionDeviceKey: 'test-provision-key',
  provisionDeviceSecret: 'test-provision-secret',
  strategy: 'ALLOW_CREATE_NEW_DEVICES',
});

/** Starts a simulator with DEFAULT_PROFILE (plus opts.profiles); log lines are kept in handle.logLines. */
async function startTestSimulator(opts = {}) {
  const logLines = [];
  const handle = await startSimulator({
    ...opts,
    profiles: [DEFAULT_PROFILE, ...(opts.profiles || [])],
    log: opts.log || ((line) => logLines.push(line)),
  });
  handle.logLines = logLines;
  return handle;
}

/** A provisioning request for DEFAULT_PROFILE with these extra fields. */
function provisionRequest(fields = {}) {
  return {
    provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
    provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
    ...fields,
  };
}

function tlsOptions(sim, opts) {
  return { ca: sim.caPem, cert: opts.cert, key: opts.key, servername: 'localhost' };
}

/**
 * One MQTT connection over a raw socket. `packets` holds everything received; `next(cmd)` waits for the
 * next packet of that command; `closed` resolves when the socket closes.
 */
class RawSession {
  constructor(socket, protocolVersion) {
    this.socket = socket;
    this.protocolVersion = protocolVersion;
    this.packets = [];
    this.rawPublishPayloads = [];
    this.waiters = [];
    this.isClosed = false;
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (packet) => {
      this.packets.push(packet);
      if (packet.cmd === 'publish') this.rawPublishPayloads.push(Buffer.from(packet.payload));
      this.flush();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.flush();
        resolve();
      }),
    );
    socket.on('data', (chunk) => this.parser.parse(chunk));
    socket.on('error', () => {});
    this.consumed = 0;
  }

  /** Opens a socket (TLS when opts.tls) and sends CONNECT; resolves after the socket connects. */
  static async open(sim, opts = {}) {
    const protocolVersion = opts.protocolVersion || 4;
    const socket = await new Promise((resolve, reject) => {
      const s = opts.tls
        ? tls.connect({ host: sim.host, port: sim.mqttsPort, ...tlsOptions(sim, opts) }, () => resolve(s))
        : net.connect({ host: sim.host, port: sim.mqttPort }, () => resolve(s));
      s.once('error', reject);
    });
    const session = new RawSession(socket, protocolVersion);
    if (opts.connect !== false) {
      session.send({
        cmd: 'connect',
        protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion,
        clean: opts.clean !== false,
        keepalive: 60,
        clientId: opts.clientId === undefined ? 'provision' : opts.clientId,
        username: opts.username,
        password: opts.password === undefined ? undefined : Buffer.from(opts.password),
      });
    }
    return session;
  }

  send(packet) {
    mqttPacket.writeToStream(packet, this.socket, { protocolVersion: this.protocolVersion });
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  /** The next not yet consumed packet with this cmd, or null if the socket closes first. */
  next(cmd, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const waiter = { cmd, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${cmd} within ${timeoutMs} ms; got ${this.packets.map((p) => p.cmd).join(',')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.flush();
    });
  }

  flush() {
    for (const waiter of [...this.waiters]) {
      const index = this.packets.findIndex((p, i) => !p.consumed && p.cmd === waiter.cmd && i >= 0);
      if (index >= 0) {
        this.packets[index].consumed = true;
        clearTimeout(waiter.timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(this.packets[index]);
      } else if (this.isClosed) {
        clearTimeout(waiter.timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(null);
      }
    }
  }

  /** Resolves true when the socket closes within timeoutMs, false otherwise. */
  async waitClose(timeoutMs = 5000) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  subscribe(topic = '/provision/response', qos = 1, messageId = 1) {
    this.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
  }

  publish(payload, { topic = '/provision/request', qos = 1, messageId = 2 } = {}) {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const packet = { cmd: 'publish', topic, payload: body, qos, retain: false, dup: false };
    if (qos > 0) packet.messageId = messageId;
    this.send(packet);
  }

  destroy() {
    this.socket.destroy();
    return this.closed;
  }
}

/**
 * The whole raw provisioning exchange: CONNECT as `provision`, SUBSCRIBE, PUBLISH the request, wait for the
 * answer PUBLISH. Resolves { connack, suback, puback, answer, body (Buffer), json, session } and leaves the
 * session open (destroy it, or let the caller check the close).
 */
async function rawProvision(sim, request, opts = {}) {
  const session = await RawSession.open(sim, opts);
  const connack = await session.next('connack');
  let suback = null;
  if (opts.subscribe !== false) {
    session.subscribe('/provision/response', opts.subQos === undefined ? 1 : opts.subQos);
    if (!opts.noSubackExpected) suback = await session.next('suback');
  }
  session.publish(request, { qos: opts.qos === undefined ? 1 : opts.qos });
  const answer = await session.next('publish', opts.timeoutMs || 5000);
  const puback = session.packets.find((p) => p.cmd === 'puback') || null;
  const body = answer ? Buffer.from(answer.payload) : null;
  let json;
  try {
    json = body ? JSON.parse(body.toString('utf8')) : null;
  } catch {
    json = null;
  }
  if (opts.keepOpen !== true) await session.destroy();
  return { connack, suback, puback, answer, body, json, session };
}

/** Provisions with mqtt.js the way a normal client does; resolves the parsed answer. */
async function provisionOnce(sim, request, opts = {}) {
  const client = mqtt.connect({
    host: sim.host,
    port: opts.tls ? sim.mqttsPort : sim.mqttPort,
    protocol: opts.tls ? 'mqtts' : 'mqtt',
    ca: opts.tls ? sim.caPem : undefined,
    username: 'provision',
    protocolVersion: opts.protocolVersion || 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  try {
    return await new Promise((resolve, reject) => {
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before the answer')));
      client.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString('utf8'))));
      client.once('connect', () => {
        client.subscribe('/provision/response', { qos: 1 }, (error) => {
          if (error) return reject(error);
          client.publish('/provision/request', JSON.stringify(request), { qos: 1 });
        });
      });
    });
  } finally {
    await new Promise((resolve) => setImmediate(() => client.end(true, {}, resolve)));
  }
}

/**
 * Connects a device with mqtt.js. Resolves { client } on CONNACK 0; rejects with an error whose `code`
 * is the CONNACK return/reason code on refusal. The caller ends the client.
 */
function connectDevice(sim, opts = {}) {
  const client = mqtt.connect({
    host: sim.host,
    port: opts.tls ? sim.mqttsPort : sim.mqttPort,
    protocol: opts.tls ? 'mqtts' : 'mqtt',
    ca: opts.tls ? sim.caPem : undefined,
    cert: opts.cert,
    key: opts.key,
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    protocolVersion: opts.protocolVersion || 4,
    protocolId: opts.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve({ client }));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** A TLS device login's outcome: CONNACK 0 → 0; a refusal → its return/reason code; dropped before CONNACK → 'dropped'. */
async function connectOutcome(sim, opts) {
  try {
    const { client } = await connectDevice(sim, { tls: true, ...opts });
    await client.endAsync();
    return 0;
  } catch (error) {
    return typeof error.code === 'number' ? error.code : 'dropped';
  }
}

const CLI_PATH = path.join(__dirname, '..', '..', 'nodes', 'simulator', 'cli.js');

/**
 * Spawns `node nodes/simulator/cli.js ...args`, waits for the first stdout line (the JSON object) and resolves
 * { child, info, sim, lines, stderr, exited, stop() }. `sim` looks like a handle (host, ports, caPem) for the
 * helpers above; `lines` collects later stdout lines; stop() sends SIGTERM and resolves the exit code.
 */
function startSimulatorCli(args, { timeoutMs = 15000, stdin = false } = {}) {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code === null ? signal : code)));
  const reader = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gridlinks-sim printed no first line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gridlinks-sim exited (${code}) before its first line; stderr: ${stderr}`));
    });
    reader.on('line', (line) => {
      if (lines.length > 0 || resolve === null) {
        lines.push(line);
        return;
      }
      lines.push(line);
      clearTimeout(timer);
      let info;
      try {
        info = JSON.parse(line);
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`first line is not JSON: ${line}`));
        return;
      }
      const sim = {
        host: info.host,
        mqttPort: info.mqttPort,
        mqttsPort: info.mqttsPort,
        caPem: info.caFile ? fs.readFileSync(info.caFile, 'utf8') : null,
      };
      const stop = (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      };
      resolve({
        child,
        info,
        sim,
        lines,
        get stderr() {
          return stderr;
        },
        exited,
        stop,
      });
    });
  });
}

/** Writes one control command to a startSimulatorCli() child (--control-stdin) and resolves with its JSON reply line. */
async function controlCommand(cli, line) {
  cli.child.stdin.write(`${line}\n`);
  for (;;) {
    const reply = cli.lines.map((l) => (l.startsWith('{"command"') ? JSON.parse(l) : null)).find((r) => r && r.command === line);
    if (reply !== undefined) return reply;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether the process still holds handles beyond the usual baseline (for leak checks after stop()). */
function activeResources() {
  return process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap' && name !== 'PipeWrap');
}

/**
 * Call inside a describe: one simulator for the suite (`startTestSimulator(options)`), stopped after it,
 * and the Node-RED flow unloaded after each test. `suite.sim` is set once the before hook has run.
 */
function simulatorForSuite(options = { mqttPort: null }) {
  const suite = { sim: undefined };
  before(async function () {
    suite.sim = await startTestSimulator(options);
  });
  after(async function () {
    await suite.sim?.stop();
  });
  afterEach(async function () {
    await require('./node-red').helper.unload();
  });
  return suite;
}

module.exports = {
  simulatorForSuite,
  DEFAULT_PROFILE,
  startTestSimulator,
  provisionRequest,
  RawSession,
  rawProvision,
  provisionOnce,
  connectDevice,
  connectOutcome,
  activeResources,
  startSimulatorCli,
  controlCommand,
  CLI_PATH,
};
