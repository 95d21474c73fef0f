'use strict';
/** A replay in its own process, for the SIGKILL spec: drains DIR to the simulator at SIM's port, then exits. */
async function main() {
  const { openOutbox, replayOutbox } = require(process.env.OUTBOX);
  const { mqttPublisher } = require('./mqtt-publisher');
  const { dir, sim, tokens, batchSize } = JSON.parse(process.env.DRAIN);
  const outbox = await openOutbox({ dir });
  const publisher = mqttPublisher(sim, tokens);
  process.stdout.write('started\n');
  const report = await replayOutbox(outbox, { publish: publisher.publish, messagesPerSecond: 2_000, batchSize });
  await publisher.close();
  await outbox.close();
  process.stdout.write(`${JSON.stringify({ sent: report.sent, failures: report.failures.length })}\n`);
}

// Run as a process only (mocha, given this folder, loads the file too).
if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
}
