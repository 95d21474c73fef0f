import { once } from 'node:events';
import net from 'node:net';

/** A port on 127.0.0.1 that nothing listened on a moment ago (0 = let the OS choose). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** True when `port` on `host` can be listened on right now. */
export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface ChosenPort {
  port: number;
  /** True when the preferred port was taken and another one was chosen. */
  moved: boolean;
}

/** The preferred port when it is free, else any free one (saying so through `moved`). */
export async function preferPort(preferred: number, host = '127.0.0.1'): Promise<ChosenPort> {
  if (await portIsFree(preferred, host)) return { port: preferred, moved: false };
  return { port: await freePort(), moved: true };
}
