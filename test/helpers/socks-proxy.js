'use strict';
const net = require('node:net');

/**
 * A SOCKS5 proxy on 127.0.0.1 for tests (no authentication, CONNECT to IPv4 or a host name only):
 * enough to show that a client went through it. `connections` lists the destinations it opened.
 */
function startSocksProxy() {
  const connections = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy();
      client.write(Buffer.from([5, 0]));
      client.once('data', (request) => {
        const [version, command, , addressType] = request;
        if (version !== 5 || command !== 1 || (addressType !== 1 && addressType !== 3)) return client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
        const host = addressType === 1 ? request.subarray(4, 8).join('.') : request.subarray(5, 5 + request[4]).toString();
        const port = request.readUInt16BE(request.length - 2);
        connections.push(`${host}:${port}`);
        const upstream = net.connect({ host, port }, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          client.pipe(upstream).pipe(client);
        });
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
      });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `socks5://127.0.0.1:${server.address().port}`,
        connections,
        stop: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

module.exports = { startSocksProxy };
