'use strict';
/**
 * A TCP pass-through on 127.0.0.1 in front of a simulator port that counts the connections made
 * through it: "nothing was sent" becomes "no connection was opened" (TLS passes through untouched).
 */
const net = require('node:net');

async function countingProxy(targetPort, host = '127.0.0.1') {
  let connections = 0;
  const sockets = new Set();
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect({ host, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  return {
    port: server.address().port,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

module.exports = { countingProxy };
