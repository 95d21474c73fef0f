'use strict';
/**
 * The floor: what any client must pay, measured with the bare minimum — one native async keygen, and
 * a minimal mqtt.js client doing connect → subscribe → publish → answer → end, nothing else.
 */
const crypto = require('node:crypto');
const { promisify } = require('node:util');
const mqtt = require('mqtt');
const { msSince } = require('./stats');

const generateKeyPair = promisify(crypto.generateKeyPair);

const KEYGEN_PARAMS = {
  rsa2048: ['rsa', { modulusLength: 2048 }],
  rsa3072: ['rsa', { modulusLength: 3072 }],
  rsa4096: ['rsa', { modulusLength: 4096 }],
  p256: ['ec', { namedCurve: 'prime256v1' }],
  p384: ['ec', { namedCurve: 'secp384r1' }],
};

async function bareKeygen(algorithm) {
  const start = process.hrtime.bigint();
  await generateKeyPair(...KEYGEN_PARAMS[algorithm]);
  return msSince(start);
}

/**
 * One provisioning exchange over TLS with a minimal client. `request` is the JSON object to publish.
 * Resolves with the answer and the phase times (connect, request → answer, disconnect, total).
 */
function bareExchange({ host, port, ca, servername }, request) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let connectMs = 0;
    let answerMs = 0;
    let publishedAt = 0n;
    const client = mqtt.connect({
      protocol: 'mqtts',
      host,
      port,
      ca,
      servername,
      username: 'provision',
      clientId: `floor-${crypto.randomBytes(6).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    client.once('connect', () => {
      connectMs = msSince(start);
      client.subscribe('/provision/response', { qos: 1 });
      publishedAt = process.hrtime.bigint();
      client.publish('/provision/request', JSON.stringify(request), { qos: 1 });
    });
    client.once('message', (_topic, payload) => {
      answerMs = msSince(publishedAt);
      const answer = JSON.parse(payload.toString('utf8'));
      const endAt = process.hrtime.bigint();
      setImmediate(() =>
        client.end(false, {}, () => {
          resolve({ answer, connectMs, answerMs, disconnectMs: msSince(endAt), totalMs: msSince(start) });
        }),
      );
    });
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

module.exports = { bareKeygen, bareExchange, KEYGEN_PARAMS };
