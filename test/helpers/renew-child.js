'use strict';
/** Child of the renewal kill test: renews one device (options in RENEW_ARGS), says when it starts. */
const { renewCertificate } = require('../../nodes/provisioning');

process.stdout.write('start\n');
renewCertificate(JSON.parse(process.env.RENEW_ARGS)).then(
  () => process.stdout.write('done\n'),
  (error) => {
    process.stderr.write(`renew-child: ${error.code}: ${error.message}\n`);
    process.exitCode = 1;
  },
);
