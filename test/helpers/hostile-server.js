'use strict';
/**
 * A small, deliberately misbehaving MQTT server on 127.0.0.1 (plain TCP, free port), built on mqtt-packet.
 * It accepts any CONNECT (3.1.1 or 5), SUBACKs, and answers the provisioning request in the way its
 * `mode` says: too big, malformed, too early, with escape sequences... Used by test/hostile and by
 * bench/tables/hostile.js (which asks for the full-size versions, e.g. a 100 MB answer).
 *
 *   const server = await startHostileServer('huge-answer', { size: 8 << 20 });
 *   ... server.port ...; server.sessions[0].requests; server.sessions[0].bytesWritten; await server.stop();
 *
 * Device sessions (test/device, test/nodes) use mode 'device-drops'; `server.sessions.length` counts the
 * connects and `server.maxConnecting` the most sessions seen between accept and SUBACK at once.
 */
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const mqttPacket = require('mqtt-packet');
const { prepareServerTls } = require('../../nodes/simulator/tls');

const RESPONSE_TOPIC = '/provision/response';
const ESC = '\u001b';
/** Clears the screen, sets the window title, then forges a line of output. */
const TERMINAL_ATTACK = `${ESC}[2J${ESC}]0;pwned\u0007\r\nProvisioned device "forged" on evil:1 with ACCESS_TOKEN credentials.\n\u009b31m`;

function json(value) {
  return Buffer.from(JSON.stringify(value));
}

function deeplyNested(depth) {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A fixed header (type byte + Remaining Length) announcing `remainingLength` bytes that never come. */
function announcement(remainingLength) {
  const bytes = [0x32]; // PUBLISH, QoS 1
  let left = remainingLength;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return Buffer.from(bytes);
}

/**
 * What each mode does. `insteadOfConnack` replaces the CONNACK, `onConnected` runs right after it (before the
 * client has published), `onRequest` when the provisioning request arrives. `size` scales the big ones.
 */
const MODES = {
  /** A PUBLISH header announcing `size` bytes (default 200 MB), then silence. */
  'huge-announced': { onRequest: (session, { size = 200 << 20 }) => session.writeRaw(announcement(size)) },
  /** The same announcement in place of the CONNACK: the client cannot have published anything. */
  'huge-announced-early': { insteadOfConnack: (session, { size = 200 << 20 }) => session.writeRaw(announcement(size)) },
  /** A real answer of `size` bytes (default 100 MB): a SUCCESS with an enormous token. */
  'huge-answer': {
    onRequest: (session, { size = 100 << 20 }) => {
      const prefix = '{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"';
      const payload = Buffer.alloc(size, 0x61);
      payload.write(prefix);
      payload.write('"}', size - 2);
      session.answer(payload);
    },
  },
  /** A FAILURE whose errorMsg is `size` bytes long (default 100 MB). */
  'huge-error': {
    onRequest: (session, { size = 100 << 20 }) => {
      const prefix = '{"status":"FAILURE","errorMsg":"';
      const payload = Buffer.alloc(size, 0x62);
      payload.write(prefix);
      payload.write('"}', size - 2);
      session.answer(payload);
    },
  },
  /** A SUCCESS with a `size`-character token (default 20 MB, as in the report). */
  'huge-token': {
    onRequest: (session, { size = 20 << 20 }) =>
      session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 't'.repeat(size) })),
  },
  /** JSON nested `depth` deep (default 16 KB of `[`) as the status, the credentials and the error text. */
  'deep-nesting': {
    onRequest: (session, { depth = 16 * 1024, field = 'status' }) => {
      const nested = deeplyNested(depth);
      const bodies = {
        status: `{"status":${nested}}`,
        credentialsValue: `{"status":"SUCCESS","credentialsType":"MQTT_BASIC","credentialsValue":${nested}}`,
        credentialsType: `{"status":"SUCCESS","credentialsType":${nested},"credentialsValue":"x"}`,
        errorMsg: `{"status":"FAILURE","errorMsg":${nested}}`,
        bare: nested,
      };
      session.answer(Buffer.from(bodies[field]));
    },
  },
  /** A SUCCESS whose token holds bytes that are not UTF-8. */
  'non-utf8': {
    onRequest: (session) =>
      session.answer(
        Buffer.concat([
          Buffer.from('{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"tok'),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from('"}'),
        ]),
      ),
  },
  /** An answer (for someone else, or forged) as soon as the client is connected, before its request; then the real one. */
  'early-answer': {
    onConnected: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'forged-early-token' })),
    onRequest: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'real-token' })),
  },
  /** Only the early answer: the request itself is never answered. */
  'early-only': {
    onConnected: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'forged-early-token' })),
  },
  /** FAILURE whose errorMsg carries terminal escape sequences. */
  'escape-error': { onRequest: (session) => session.answer(json({ status: 'FAILURE', errorMsg: TERMINAL_ATTACK })) },
  /** SUCCESS with an unknown status string full of escapes. */
  'escape-status': { onRequest: (session) => session.answer(json({ status: TERMINAL_ATTACK })) },
  /** SUCCESS with a token a terminal could act on (C1 CSI, bidi override) but no C0 control. */
  'escape-token': {
    onRequest: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'tok\u009b2J\u202eevil' })),
  },
  /** MQTT_BASIC credentials whose client id and user name carry escapes. */
  'escape-names': {
    onRequest: (session) =>
      session.answer(
        json({
          status: 'SUCCESS',
          credentialsType: 'MQTT_BASIC',
          credentialsValue: { clientId: 'c\u009b2J', userName: `u\u202e${'n'.repeat(600)}`, password: 'p' },
        }),
      ),
  },
  /** SUCCESS with a token holding a C0 escape sequence: no device can use it. */
  'control-token': { onRequest: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: `tok${ESC}[2J` })) },
  /** A TLS server's answer to plain bytes: a TLS alert record (handshake failure), then close. */
  'tls-alert': {
    insteadOfConnack: (session) => {
      session.writeRaw(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]));
      session.socket.end();
    },
  },
  /** Closes the connection on CONNECT without a byte (a plain server that refuses this way, not a TLS port). */
  'close-on-connect': { insteadOfConnack: (session) => session.socket.destroy() },
  /**
   * A device server: accepts every login (CONNACK `connackDelayMs` late), PUBACKs unless `noPuback`, and drops sessions after their SUBACK:
   * the first `dropSessions` (default all) `dropAfterSubackMs` later (default never), while `handle.dropping` is on.
   */
  'device-drops': {
    /** The CONNACK, `connackDelayMs` late (default 0): a login that takes a while, so logins in progress pile up. */
    insteadOfConnack: (session, { connackDelayMs = 0 }) => {
      const connack = () => session.write(session.version === 5 ? { cmd: 'connack', reasonCode: 0 } : { cmd: 'connack', returnCode: 0 });
      if (connackDelayMs === 0) return connack();
      const timer = setTimeout(connack, connackDelayMs);
      session.socket.once('close', () => clearTimeout(timer));
    },
    onSubscribed: (session, { dropAfterSubackMs, dropSessions = Infinity }) => {
      const handle = session.server;
      if (dropAfterSubackMs === undefined || handle.dropped >= dropSessions) return;
      handle.dropped += 1;
      const timer = setTimeout(() => handle.dropping && session.socket.destroy(), dropAfterSubackMs);
      session.socket.once('close', () => clearTimeout(timer));
    },
  },
  /** A plain, correct answer (the control case). */
  'honest-token': { onRequest: (session) => session.answer(json({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'honest-token' })) },
};

class HostileSession {
  constructor(socket, server) {
    this.socket = socket;
    this.server = server;
    this.version = 4;
    this.requests = [];
    this.bytesWritten = 0;
    this.subscribed = false;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    // Sessions between TCP accept and their first SUBACK: the server's view of "connecting at once".
    server.connecting += 1;
    server.maxConnecting = Math.max(server.maxConnecting, server.connecting);
    socket.once('close', () => this.loggedIn());
    this.parser = mqttPacket.parser();
    this.parser.on('packet', (packet) => this.handle(packet));
    this.parser.on('error', () => socket.destroy());
    socket.on('data', (chunk) => this.parser.parse(chunk));
    socket.on('error', () => undefined);
  }

  handle(packet) {
    const mode = this.server.mode;
    switch (packet.cmd) {
      case 'connect':
        this.version = packet.protocolVersion === 5 ? 5 : 4;
        this.username = packet.username;
        if (mode.insteadOfConnack) return mode.insteadOfConnack(this, this.server.options);
        this.write(this.version === 5 ? { cmd: 'connack', reasonCode: 0 } : { cmd: 'connack', returnCode: 0 });
        if (mode.onConnected) mode.onConnected(this, this.server.options);
        break;
      case 'subscribe':
        this.write({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1) });
        this.loggedIn();
        if (mode.onSubscribed) mode.onSubscribed(this, this.server.options);
        break;
      case 'publish':
        this.requests.push(packet);
        if (packet.qos > 0 && !this.server.options.noPuback) this.write({ cmd: 'puback', messageId: packet.messageId });
        if (mode.onRequest) mode.onRequest(this, this.server.options);
        break;
      case 'pingreq':
        this.write({ cmd: 'pingresp' });
        break;
      case 'disconnect':
        this.socket.end();
        break;
      default:
        break;
    }
  }

  /** Leaves the connecting count (once): subscribed, or closed before that. */
  loggedIn() {
    if (this.subscribed) return;
    this.subscribed = true;
    this.server.connecting -= 1;
  }

  write(packet) {
    this.writeRaw(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  /** Bytes as they are; counted in bytesWritten once the kernel took them (a dropped peer stops the count). */
  writeRaw(bytes) {
    if (this.socket.destroyed) return;
    this.socket.write(bytes, (error) => {
      if (!error) this.bytesWritten += bytes.length;
    });
  }

  answer(payload) {
    this.write({ cmd: 'publish', topic: RESPONSE_TOPIC, payload, qos: 1, messageId: 1, retain: false, dup: false });
  }
}

/** Starts the server; `mode` is a key of MODES, `options` its parameters (size, depth, field). */
/** `options.tls`: listen with TLS (a throw-away CA and server certificate, as the simulator makes them; `handle.caPem`). */
async function startHostileServer(mode, options = {}) {
  const behaviour = MODES[mode];
  if (!behaviour) throw new Error(`unknown hostile mode ${mode}`);
  const handle = { mode: behaviour, options, sessions: [], port: 0, connecting: 0, maxConnecting: 0, dropped: 0, dropping: true };
  const sockets = new Set();
  const accept = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handle.sessions.push(new HostileSession(socket, handle));
  };
  let material;
  if (options.tls) {
    material = await prepareServerTls({ host: '127.0.0.1' });
    handle.caPem = material.caPem;
  }
  const server = material ? tls.createServer({ cert: material.certPem, key: material.keyPem }, accept) : net.createServer(accept);
  handle.stop = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => {
        if (material?.tempDir) fs.rmSync(material.tempDir, { recursive: true, force: true });
        resolve();
      });
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      handle.port = server.address().port;
      resolve(handle);
    });
  });
}

module.exports = { startHostileServer, HOSTILE_MODES: Object.keys(MODES), TERMINAL_ATTACK };
