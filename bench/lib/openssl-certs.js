'use strict';
/**
 * Throw-away self-signed certificates made by the openssl CLI before any clock starts, so the floor
 * exchange publishes the same kind of X.509 request as ours without depending on our own code.
 */
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { runPool } = require('./pool');

const run = promisify(execFile);

const NEWKEY = {
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa3072: ['-newkey', 'rsa:3072'],
  rsa4096: ['-newkey', 'rsa:4096'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
};

async function opensslCertificate(algorithm, commonName) {
  const { stdout } = await run('openssl', [
    'req',
    '-x509',
    ...NEWKEY[algorithm],
    '-nodes',
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    '/dev/null',
  ]);
  return stdout;
}

async function opensslCertificates(algorithm, names) {
  const results = await runPool(names, 2, (name) => opensslCertificate(algorithm, name));
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.value;
  });
}

module.exports = { opensslCertificate, opensslCertificates };
