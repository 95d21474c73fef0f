import type { NodeAPI, NodeDef } from 'node-red';
import { resolveServerOptions, type GridlinksServerNode, type ServerNodeCredentials, type ServerNodeProperties } from './node-red/server-options';

type ServerNodeDef = NodeDef & ServerNodeProperties;

export = function (RED: NodeAPI): void {
  function GridlinksServer(this: GridlinksServerNode, config: ServerNodeDef): void {
    RED.nodes.createNode(this, config);
    const resolved = resolveServerOptions(config, this.credentials ?? {});
    if (!resolved.ok) {
      // Logged once at deploy; each provision node using this server also shows it in its status.
      this.error(RED._('gridlinks-server.errors.bad-config', { message: resolved.error.message }));
    } else if (resolved.options.rejectUnauthorized === false) {
      this.warn(RED._('gridlinks-server.warnings.no-verify'));
    }
    this.serverOptions = () => resolved;
  }

  RED.nodes.registerType<GridlinksServerNode, ServerNodeDef, object, ServerNodeCredentials>('gridlinks-server', GridlinksServer, {
    credentials: { ca: { type: 'text' } },
  });
};
