'use strict';
/**
 * The failure cases of issue 6, shared by the core and the Node-RED specs. `server(ctx)` gives what
 * differs from the healthy simulator; `faults` are the simulator's fault switches.
 */
const { UNRESOLVABLE_HOST } = require('../helpers/faults');

const CASES = [
  { title: 'connection reset right after the request', faults: { closeAfterRequest: true }, code: 'OUTCOME_UNKNOWN', requestSent: true },
  { title: 'a server that never answers', faults: { noAnswer: true }, answerTimeoutMs: 1000, code: 'OUTCOME_UNKNOWN', requestSent: true },
  { title: 'a server that answers garbage', faults: { garbageAnswer: true }, code: 'BAD_RESPONSE', requestSent: true },
  { title: 'the wrong CA', server: (ctx) => ({ ca: ctx.certs.ca.certPem }), code: 'TLS', requestSent: false },
  {
    title: 'an expired server certificate',
    server: (ctx) => ({ port: ctx.expiredSim.mqttsPort, ca: ctx.certs.ca.certPem }),
    code: 'TLS',
    reason: 'CERT_HAS_EXPIRED',
    requestSent: false,
  },
  {
    title: 'an unknown (self-signed) server certificate',
    server: (ctx) => ({ port: ctx.selfSignedSim.mqttsPort }),
    code: 'TLS',
    reason: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    requestSent: false,
  },
  { title: 'nothing listening on a 127.0.0.1 port', server: (ctx) => ({ port: ctx.unusedPort }), code: 'UNREACHABLE', requestSent: false },
  { title: 'a host name that cannot resolve (.invalid)', server: () => ({ host: UNRESOLVABLE_HOST }), code: 'UNREACHABLE', requestSent: false },
];

const CONNECT_TIMEOUT_MS = 5000;
const ANSWER_TIMEOUT_MS = 5000;

/** The longest a case may take to fail: its own timeouts plus a generous margin (not a speed claim). */
function failureBoundMs(testCase) {
  return CONNECT_TIMEOUT_MS + (testCase.answerTimeoutMs ?? ANSWER_TIMEOUT_MS) + 5000;
}

module.exports = { CASES, CONNECT_TIMEOUT_MS, ANSWER_TIMEOUT_MS, failureBoundMs };
