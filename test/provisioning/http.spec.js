'use strict';
/** provisionDevice with transport 'http': every outcome code over HTTP and HTTPS, real sockets on 127.0.0.1. */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const mqtt = require('mqtt');
const { provisionDevice, generateDeviceCertificate, resumePending } = require('../../nodes/provisioning');
const { startSim, uniqueName, rejectsWith, leakedSince, resourceBaseline, tempDir, options, KEY, SECRET, PRE_KEY, PRE_SECRET } = require('./support');

async function listenOn(server) {
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function publishTelemetry(connectOptions) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({ ...connectOptions, reconnectPeriod: 0 });
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('connect', () => {
      client.publish('v1/devices/me/telemetry', JSON.stringify({ t: 1 }), { qos: 1 }, (error) => {
        client.end(false, () => (error ? reject(error) : resolve()));
      });
    });
  });
}

describe('provisionDevice over HTTP(S) against the simulator', function () {
  this.timeout(60_000);
  let sim;
  let baseline;
  let preCertificate;
  before(async () => {
    preCertificate = await generateDeviceCertificate({ commonName: 'pre-x509', validityDays: 10, keyAlgorithm: 'p256' });
    sim = await startSim({
      httpPort: 0,
      httpsPort: 0,
      devices: [
        { name: 'pre-x509', profile: 'pre', credentialsType: 'X509_CERTIFICATE', credentialsValue: preCertificate.certificate },
        { name: 'pre-token', profile: 'pre', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'preTokenHttp123' },
      ],
    });
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.setFaults({});
    baseline = await resourceBaseline();
  });
  afterEach(async function () {
    sim.setFaults({});
    if (this.currentTest.state === 'passed') assert.deepEqual(await leakedSince(baseline), [], 'sockets or timers left open');
  });

  // Generous on paths that get an answer (a loaded machine must not turn them into timeouts); short where no answer comes.
  const fast = { connectTimeoutMs: 5_000, answerTimeoutMs: 5_000 };
  const silentAnswer = { answerTimeoutMs: 400 };
  const variants = [
    { label: 'HTTP', server: () => ({ host: '127.0.0.1', transport: 'http', tls: false, port: sim.httpPort, verifyPort: sim.mqttPort }) },
    { label: 'HTTPS', server: () => ({ host: '127.0.0.1', transport: 'http', tls: true, ca: sim.caPem, port: sim.httpsPort, verifyPort: sim.mqttsPort }) },
  ];

  for (const variant of variants) {
    const opts = (extra = {}) => {
      const { server, ...rest } = extra;
      return {
        server: { ...variant.server(), ...fast, ...server },
        provisionDeviceKey: KEY,
        provisionDeviceSecret: SECRET,
        deviceName: uniqueName('http'),
        credentialsType: 'ACCESS_TOKEN',
        ...rest,
      };
    };

    describe(variant.label, function () {
      it('SUCCESS (ACCESS_TOKEN): result.server and connectOptions point at the MQTT verify port; the device connects there', async () => {
        const result = await provisionDevice(opts());
        assert.match(result.credentials.accessToken, /^[A-Za-z0-9]{20}$/);
        const mqttPort = variant.label === 'HTTP' ? sim.mqttPort : sim.mqttsPort;
        assert.equal(result.server.port, mqttPort);
        assert.equal(result.connectOptions.port, mqttPort);
        assert.equal(result.connectOptions.protocol, variant.label === 'HTTP' ? 'mqtt' : 'mqtts');
        await publishTelemetry(result.connectOptions);
        assert.equal(sim.telemetry(result.deviceName).length, 1);
        assert.ok(sim.lines.some((line) => /provision SUCCESS \(http\)/.test(line)));
      });

      it('SUCCESS (X.509 p256 and MQTT_BASIC) with --verify: verification connects over MQTT on verifyPort', async () => {
        const x509 = await provisionDevice(opts({ credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256', verify: true }));
        assert.equal(x509.credentialsType, 'X509_CERTIFICATE');
        // X.509 needs TLS: on the plain MQTT port the certificate cannot be presented, so the server refuses.
        assert.equal(x509.verification.accepted, variant.label === 'HTTPS');
        const basic = await provisionDevice(
          opts({ credentialsType: 'MQTT_BASIC', clientId: uniqueName('c'), username: uniqueName('u'), password: 'pw', verify: true }),
        );
        assert.deepEqual(basic.verification, { accepted: true });
      });

      it('NOT_FOUND: wrong secret (HTTP 200, status in the body)', async () => {
        const error = await rejectsWith(provisionDevice(opts({ provisionDeviceSecret: 'wrong-secret-http' })), 'NOT_FOUND');
        assert.equal(error.details.serverMessage, 'Provision data was not found!');
        assert.equal(error.details.requestSent, true);
      });

      it('FAILURE: the name is taken', async () => {
        const deviceName = uniqueName('taken');
        await provisionDevice(opts({ deviceName }));
        const error = await rejectsWith(provisionDevice(opts({ deviceName })), 'FAILURE');
        assert.equal(error.details.serverMessage, 'Failed to provision device!');
      });

      it('INVALID_INPUT: an unknown transport, a bad verifyPort; nothing sent', async () => {
        const before = sim.devices().length;
        const error = await rejectsWith(provisionDevice(opts({ server: { transport: 'coap' } })), 'INVALID_INPUT');
        assert.equal(error.details.field, 'server.transport');
        const port = await rejectsWith(provisionDevice(opts({ server: { verifyPort: 70000 } })), 'INVALID_INPUT');
        assert.equal(port.details.field, 'server.verifyPort');
        assert.equal(sim.devices().length, before);
      });

      it('UNREACHABLE: connection refused; nothing sent', async () => {
        const error = await rejectsWith(provisionDevice(opts({ server: { port: await closedPort() } })), 'UNREACHABLE');
        assert.equal(error.details.reason, 'ECONNREFUSED');
        assert.equal(error.details.requestSent, false);
        assert.match(error.message, variant.label === 'HTTP' ? /plain HTTP, usually 8080/ : /HTTPS, usually 443/);
      });

      it("CONNECTION_CLOSED: HTTP 500, the server's core failed (closeAfterPuback); no device", async () => {
        sim.setFaults({ closeAfterPuback: true });
        const before = sim.devices().length;
        const error = await rejectsWith(provisionDevice(opts()), 'CONNECTION_CLOSED');
        assert.equal(error.details.requestSent, true);
        assert.equal(error.details.httpStatus, 500);
        assert.equal(sim.devices().length, before);
      });

      it('OUTCOME_UNKNOWN: the connection dropped after the body was sent (closeAfterRequest)', async () => {
        sim.setFaults({ closeAfterRequest: true });
        const error = await rejectsWith(provisionDevice(opts()), 'OUTCOME_UNKNOWN');
        assert.equal(error.details.requestSent, true);
      });

      it('OUTCOME_UNKNOWN: no answer within answerTimeoutMs (noAnswer); the key stays pending in the store', async () => {
        sim.setFaults({ noAnswer: true });
        const deviceName = uniqueName('silent');
        const storeDir = tempDir('gl-http-');
        try {
          const error = await rejectsWith(
            provisionDevice(opts({ deviceName, credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256', storeDir, server: silentAnswer })),
            'OUTCOME_UNKNOWN',
          );
          assert.equal(error.details.requestSent, true);
          assert.ok(fs.existsSync(error.details.pendingKeyPath));
          assert.ok(
            sim.devices().some((device) => device.name === deviceName),
            'the simulator did create the device',
          );
        } finally {
          fs.rmSync(storeDir, { recursive: true, force: true });
        }
      });

      it('BAD_RESPONSE: a 200 body that is not JSON, and a body larger than maxAnswerBytes', async () => {
        sim.setFaults({ garbageAnswer: true });
        await rejectsWith(provisionDevice(opts()), 'BAD_RESPONSE');
        sim.setFaults({ rawAnswer: `{"status":"SUCCESS","pad":"${'x'.repeat(3000)}"}` });
        const error = await rejectsWith(provisionDevice(opts({ server: { maxAnswerBytes: 2048 } })), 'BAD_RESPONSE');
        assert.match(error.message, /more than 2048 bytes/);
        assert.equal(error.details.requestSent, true);
      });

      it('CREDENTIAL_MISMATCH: a pre-provisioned X.509 device answers with its own certificate', async () => {
        const deviceName = variant.label === 'HTTP' ? 'pre-x509' : undefined;
        // CHECK_PRE answers a device once; the HTTPS run uses a fresh simulator with the same device.
        const target = deviceName
          ? sim
          : await startSim({
              httpsPort: 0,
              devices: [{ name: 'pre-x509', profile: 'pre', credentialsType: 'X509_CERTIFICATE', credentialsValue: preCertificate.certificate }],
            });
        try {
          const server = variant.label === 'HTTP' ? { port: target.httpPort } : { port: target.httpsPort, ca: target.caPem };
          const error = await rejectsWith(
            provisionDevice(
              opts({
                provisionDeviceKey: PRE_KEY,
                provisionDeviceSecret: PRE_SECRET,
                deviceName: 'pre-x509',
                credentialsType: 'X509_CERTIFICATE',
                keyAlgorithm: 'p256',
                server,
              }),
            ),
            'CREDENTIAL_MISMATCH',
          );
          assert.match(error.message, /different certificate/);
        } finally {
          if (target !== sim) await target.stop();
        }
      });

      it('STORE (ifStored fail): the store already holds this device; nothing sent', async () => {
        const storeDir = tempDir('gl-http-store-');
        try {
          const deviceName = uniqueName('stored');
          await provisionDevice(opts({ deviceName, storeDir }));
          const error = await rejectsWith(provisionDevice(opts({ deviceName, storeDir, ifStored: 'fail' })), 'STORE');
          assert.equal((await provisionDevice(opts({ deviceName, storeDir }))).fromStore, true, 'the default (reuse) answers from the store');
          assert.ok(fs.existsSync(path.join(storeDir, deviceName)));
          assert.notEqual(error.details.requestSent, true);
        } finally {
          fs.rmSync(storeDir, { recursive: true, force: true });
        }
      });

      it('ABORTED: before anything was sent, and after the body went out', async () => {
        const early = await rejectsWith(provisionDevice(opts(), AbortSignal.abort()), 'ABORTED');
        assert.equal(early.details.requestSent, false);
        sim.setFaults({ noAnswer: true });
        const controller = new AbortController();
        const waiting = provisionDevice(opts({ server: { answerTimeoutMs: 10_000 } }), controller.signal);
        await sim.waitForLog(/not answering/);
        controller.abort();
        const late = await rejectsWith(waiting, 'ABORTED');
        assert.equal(late.details.requestSent, true);
      });
    });
  }

  it('TLS (HTTPS): a server certificate from a CA that was not given; nothing sent', async () => {
    const other = await generateDeviceCertificate({ commonName: 'not-the-ca', keyAlgorithm: 'p256' });
    const error = await rejectsWith(
      provisionDevice({
        server: { host: '127.0.0.1', transport: 'http', port: sim.httpsPort, ca: other.certificate, ...fast },
        provisionDeviceKey: KEY,
        provisionDeviceSecret: SECRET,
        credentialsType: 'ACCESS_TOKEN',
      }),
      'TLS',
    );
    assert.equal(error.details.requestSent, false);
  });

  it('TLS (HTTPS to the plain HTTP port): the handshake fails; nothing sent', async () => {
    const error = await rejectsWith(
      provisionDevice({
        server: { host: '127.0.0.1', transport: 'http', port: sim.httpPort, ca: sim.caPem, ...fast },
        provisionDeviceKey: KEY,
        provisionDeviceSecret: SECRET,
        credentialsType: 'ACCESS_TOKEN',
      }),
      'TLS',
    );
    assert.equal(error.details.requestSent, false);
  });

  it('TIMEOUT (HTTPS): the TLS handshake never completes; nothing sent', async () => {
    const silent = await listenOn(net.createServer(() => undefined));
    try {
      const error = await rejectsWith(
        provisionDevice({
          server: { host: '127.0.0.1', transport: 'http', port: silent.port, ca: sim.caPem, connectTimeoutMs: 300 },
          provisionDeviceKey: KEY,
          provisionDeviceSecret: SECRET,
          credentialsType: 'ACCESS_TOKEN',
        }),
        'TIMEOUT',
      );
      assert.equal(error.details.requestSent, false);
      assert.match(error.message, /No HTTPS connection/);
    } finally {
      await silent.close();
    }
  });

  it("status codes from something other than GridLinks: 404 → CONNECT_REFUSED, 502 and a proxy's 500 → OUTCOME_UNKNOWN, GridLinks' own 500 → CONNECTION_CLOSED", async () => {
    let status = 404;
    let body = '<html>no</html>';
    const fake = await listenOn(
      http.createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(status, { 'Content-Type': body.startsWith('{') ? 'application/json' : 'text/html' });
          response.end(body);
        });
      }),
    );
    try {
      const send = () =>
        provisionDevice({
          server: { host: '127.0.0.1', transport: 'http', tls: false, port: fake.port, ...fast },
          provisionDeviceKey: KEY,
          provisionDeviceSecret: SECRET,
          credentialsType: 'ACCESS_TOKEN',
        });
      const refused = await rejectsWith(send(), 'CONNECT_REFUSED');
      assert.equal(refused.details.httpStatus, 404);
      status = 502;
      const unknown = await rejectsWith(send(), 'OUTCOME_UNKNOWN');
      assert.equal(unknown.details.httpStatus, 502);
      status = 500;
      // A 500 that is not GridLinks' error body (a proxy's page): the request may have been handled.
      const proxied = await rejectsWith(send(), 'OUTCOME_UNKNOWN');
      assert.equal(proxied.details.httpStatus, 500);
      body = JSON.stringify({ status: 500, message: 'Internal Server Error', errorCode: 2, timestamp: Date.now() });
      const closed = await rejectsWith(send(), 'CONNECTION_CLOSED');
      assert.equal(closed.details.httpStatus, 500);
    } finally {
      await fake.close();
    }
  });

  it('OUTCOME_UNKNOWN: an answer body that stalls (answer timeout) or is cut off', async () => {
    let cutOff = false;
    const partial = await listenOn(
      http.createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 100 });
          response.write('{"status":"SUCC');
          if (cutOff) setImmediate(() => response.socket.destroy());
        });
      }),
    );
    try {
      const send = () =>
        provisionDevice({
          server: { host: '127.0.0.1', transport: 'http', tls: false, port: partial.port, connectTimeoutMs: 5_000, answerTimeoutMs: 400 },
          provisionDeviceKey: KEY,
          provisionDeviceSecret: SECRET,
          credentialsType: 'ACCESS_TOKEN',
        });
      const stalled = await rejectsWith(send(), 'OUTCOME_UNKNOWN');
      assert.match(stalled.message, /no answer came within 400 ms/);
      cutOff = true;
      const lost = await rejectsWith(send(), 'OUTCOME_UNKNOWN');
      assert.match(lost.message, /connection was lost before the answer/);
      assert.equal(lost.details.requestSent, true);
    } finally {
      await partial.close();
    }
  });

  it('a non-conforming proxy: the device is created, then its 200 answer breaks the parser → OUTCOME_UNKNOWN, the pending key kept, resume settles it', async () => {
    // Forwards the whole request to the simulator, then mangles the real answer.
    const breakings = {
      'an oversized header': (answer) => answer.replace('\r\n', `\r\nX-Proxy: ${'a'.repeat(20_000)}\r\n`),
      'two Content-Length headers': (answer) => answer.replace('\r\n', '\r\nContent-Length: 1\r\n'),
      'a bad chunk size': (answer) => {
        const [head, body] = answer.split('\r\n\r\n');
        return `${head.replace(/Content-Length: \d+/i, 'Transfer-Encoding: chunked')}\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`;
      },
      'LF-only line ends': (answer) => answer.replace(/\r\n/g, '\n'),
    };
    let breakAnswer;
    const proxy = await listenOn(
      net.createServer((client) => {
        let request = Buffer.alloc(0);
        client.on('data', (chunk) => {
          request = Buffer.concat([request, chunk]);
          const headEnd = request.indexOf('\r\n\r\n');
          const length = Number(/content-length: (\d+)/i.exec(request.toString('latin1'))?.[1]);
          if (headEnd < 0 || request.length < headEnd + 4 + length) return;
          const upstream = net.connect(sim.httpPort, '127.0.0.1', () => upstream.end(request));
          const answer = [];
          upstream.on('data', (data) => answer.push(data));
          upstream.on('end', () => client.end(breakAnswer(Buffer.concat(answer).toString('latin1')), 'latin1'));
        });
      }),
    );
    const storeDir = tempDir('gl-http-proxy-');
    try {
      for (const [label, breaking] of Object.entries(breakings)) {
        breakAnswer = breaking;
        const deviceName = uniqueName('proxied');
        const error = await rejectsWith(
          provisionDevice(
            options(sim, {
              server: { transport: 'http', tls: false, ca: undefined, port: proxy.port, ...fast },
              deviceName,
              credentialsType: 'X509_CERTIFICATE',
              keyAlgorithm: 'p256',
              storeDir,
            }),
          ),
          'OUTCOME_UNKNOWN',
        );
        assert.match(error.details.reason, /^HPE_/, label);
        assert.equal(error.details.requestSent, true, label);
        assert.ok(
          sim.devices().some((device) => device.name === deviceName),
          `${label}: the simulator created the device`,
        );
        assert.ok(fs.existsSync(error.details.pendingKeyPath), `${label}: the pending key is kept`);
      }
      const { entries } = await resumePending({ server: { host: '127.0.0.1', port: sim.mqttsPort, tls: true, ca: sim.caPem }, storeDir });
      assert.deepEqual(
        entries.map((entry) => entry.outcome),
        ['provisioned', 'provisioned', 'provisioned', 'provisioned'],
      );
    } finally {
      await proxy.close();
      fs.rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it('CONNECTION_CLOSED: the port answers bytes that are not HTTP (an MQTT-speaking or other service)', async () => {
    const notHttp = await listenOn(net.createServer((socket) => socket.once('data', () => socket.end('\u0020\u0002\u0000\u0005garbage\r\n\r\n'))));
    try {
      const error = await rejectsWith(
        provisionDevice({
          server: { host: '127.0.0.1', transport: 'http', tls: false, port: notHttp.port, ...fast },
          provisionDeviceKey: KEY,
          provisionDeviceSecret: SECRET,
          credentialsType: 'ACCESS_TOKEN',
        }),
        'CONNECTION_CLOSED',
      );
      assert.equal(error.details.requestSent, true);
      assert.match(error.details.reason, /^HPE_/);
    } finally {
      await notHttp.close();
    }
  });

  it('the request on the wire: POST /api/v1/provision, application/json, the same JSON as MQTT', async () => {
    let seen;
    const capture = await listenOn(
      http.createServer((request, response) => {
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => {
          seen = { method: request.method, url: request.url, type: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
          response.writeHead(200, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify({ credentialsValue: 'tokenFromFake123', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' }));
        });
      }),
    );
    try {
      const result = await provisionDevice({
        server: { host: '127.0.0.1', transport: 'http', tls: false, port: capture.port, ...fast },
        provisionDeviceKey: KEY,
        provisionDeviceSecret: SECRET,
        deviceName: 'wire-1',
        credentialsType: 'ACCESS_TOKEN',
      });
      assert.equal(result.credentials.accessToken, 'tokenFromFake123');
      assert.equal(result.server.port, 1883, 'no verifyPort: the default plain MQTT port');
      assert.deepEqual(seen, {
        method: 'POST',
        url: '/api/v1/provision',
        type: 'application/json',
        body: { deviceName: 'wire-1', provisionDeviceKey: KEY, provisionDeviceSecret: SECRET, credentialsType: 'ACCESS_TOKEN' },
      });
    } finally {
      await capture.close();
    }
  });
});
