import { ProvisionError } from '../provisioning/errors';
import type { CliArguments } from './args';

export type Transport = 'mqtt' | 'http';

/** --transport mqtt|http, and --verify-port only with http. */
export function transportOption(args: CliArguments): Transport {
  const transport = args.transport ?? 'mqtt';
  if (transport !== 'mqtt' && transport !== 'http') {
    throw new ProvisionError('INVALID_INPUT', '--transport must be mqtt or http (see --help)', { field: 'transport' });
  }
  if (args.verifyPort !== undefined && transport !== 'http') {
    throw new ProvisionError('INVALID_INPUT', '--verify-port only applies with --transport http: over MQTT --verify uses --port (see --help)', {
      field: 'verify-port',
    });
  }
  if (args.verifyPort !== undefined && !/^\d+$/.test(args.verifyPort)) {
    throw new ProvisionError('INVALID_INPUT', '--verify-port must be a number from 1 to 65535 (see --help)', { field: 'verify-port' });
  }
  return transport;
}
