'use strict';
/**
 * A writer in its own process, for the durability specs: appends records for one device in batches of
 * BATCH concurrent appends and prints `A <id> <seq>` for each once its append resolved (durable), and
 * every third batch acknowledges the oldest 10: `P <id>` before (it may be gone or not after a kill),
 * `D <id>` once that resolved. Stops after
 * COUNT records (or runs until killed when COUNT is 0).
 */
async function main() {
  const { openOutbox } = require(process.env.OUTBOX);
  const { dir, device, count, batch } = JSON.parse(process.env.APPEND);
  const outbox = await openOutbox({ dir });
  let seq = 0;
  for (let round = 1; count === 0 || seq < count; round++) {
    const seqs = Array.from({ length: batch }, () => seq++);
    const ids = await Promise.all(
      seqs.map((n) => outbox.append(device, { kind: 'telemetry', payload: { ts: n, values: { seq: n, pad: 'x'.repeat(n % 50) } } })),
    );
    process.stdout.write(ids.map((id, i) => `A ${id} ${seqs[i]}\n`).join(''));
    if (round % 3 === 0) {
      const oldest = outbox.peek(device, 10).map((entry) => entry.id);
      process.stdout.write(oldest.map((id) => `P ${id}\n`).join(''));
      await outbox.acknowledge(oldest);
      process.stdout.write(oldest.map((id) => `D ${id}\n`).join(''));
    }
  }
  await outbox.close();
}

// Run as a process only (mocha, given this folder, loads the file too).
if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
}
