'use strict';
/**
 * The hostile device server (test/helpers/hostile-server.js, mode device-drops, over TLS) in a process of
 * its own, so that the client process measured pays only for itself. Forked with IPC: sends
 * {port, caPem} when listening; answers 'stats' with {connects, maxConnecting, perDevice: {min, median, max}};
 * 'calm' stops the drops; 'stop' ends it.
 * Usage: fork(hostile-child.js, [JSON options for device-drops])
 */
const { startHostileServer } = require('../../test/helpers/hostile-server');
const { median } = require('./stats');

async function main() {
  const options = JSON.parse(process.argv[2] ?? '{}');
  const server = await startHostileServer('device-drops', { ...options, tls: true });
  process.on('message', async (command) => {
    if (command === 'stats') {
      const perDevice = new Map();
      for (const { username } of server.sessions) if (username !== undefined) perDevice.set(username, (perDevice.get(username) ?? 0) + 1);
      const counts = [...perDevice.values()];
      process.send({
        connects: server.sessions.length,
        maxConnecting: server.maxConnecting,
        perDevice: { min: Math.min(...counts), median: median(counts), max: Math.max(...counts) },
      });
    } else if (command === 'calm') {
      server.dropping = false;
      process.send('calm');
    } else if (command === 'stop') {
      await server.stop();
      process.exit(0);
    }
  });
  process.send({ port: server.port, caPem: server.caPem });
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
