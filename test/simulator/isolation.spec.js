'use strict';
const assert = require('node:assert/strict');
const { startTestSimulator, provisionRequest, RawSession } = require('../helpers/simulator');

const SESSIONS = 24;

describe('simulator: session isolation', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator();
  });
  after(async function () {
    await sim.stop();
  });

  for (const [title, opts] of [
    ['plain, client id `provision`', { clientId: 'provision' }],
    ['TLS, username `provision`, MQTT 5', { tls: true, clientId: 'provision', username: 'provision', protocolVersion: 5 }],
  ]) {
    it(`${SESSIONS} concurrent sessions sharing the client id (${title}) each get only their own answer`, async function () {
      const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => RawSession.open(sim, opts)));
      await Promise.all(
        sessions.map(async (session) => {
          const connack = await session.next('connack');
          assert.equal(connack.returnCode ?? connack.reasonCode, 0);
          session.subscribe();
          await session.next('suback');
        }),
      );
      // every session is open and subscribed before any request goes out
      const tag = opts.tls ? 'tls' : 'plain';
      sessions.forEach((session, i) => session.publish(provisionRequest({ deviceName: `iso-${tag}-${i}`, token: `iso-token-${tag}-${i}` })));
      const answers = await Promise.all(sessions.map((session) => session.next('publish')));
      answers.forEach((answer, i) => {
        assert.equal(JSON.parse(answer.payload).credentialsValue, `iso-token-${tag}-${i}`);
      });
      // give a stray cross-delivery every chance to arrive, then check nobody got a second message
      await Promise.all(
        sessions.map(async (session) => {
          session.send({ cmd: 'pingreq' });
          await session.next('pingresp');
        }),
      );
      sessions.forEach((session, i) => {
        assert.equal(session.isClosed, false, `session ${i} was kicked`);
        assert.equal(session.packets.filter((p) => p.cmd === 'publish').length, 1, `session ${i} got another session's answer`);
      });
      await Promise.all(sessions.map((session) => session.destroy()));
    });
  }
});
