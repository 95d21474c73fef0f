'use strict';
/**
 * Child process for table 5b: provisions N X.509 devices through the core in one run, the way a
 * gateway would (a parallel queue), committing each to a credential store. Exits 0 when all succeeded.
 * Usage: node provision-many.js JSON  with {host, port, caFile, key, secret, prefix, count, parallelism, keyAlgorithm, storeDir}
 */
const fs = require('node:fs');
const { provisionDevice } = require('../../nodes/provisioning');
const { runPool } = require('./pool');

async function main() {
  const job = JSON.parse(process.argv[2]);
  const ca = fs.readFileSync(job.caFile, 'utf8');
  const names = Array.from({ length: job.count }, (_, i) => `${job.prefix}-${i}`);
  const results = await runPool(names, job.parallelism, (deviceName) =>
    provisionDevice({
      server: { host: job.host, port: job.port, tls: true, ca },
      provisionDeviceKey: job.key,
      provisionDeviceSecret: job.secret,
      deviceName,
      credentialsType: 'X509_CERTIFICATE',
      keyAlgorithm: job.keyAlgorithm,
      storeDir: job.storeDir,
    }),
  );
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    process.stderr.write(`${failed.length} failed: ${failed[0].error.code} ${failed[0].error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${results.length}\n`);
}

main();
