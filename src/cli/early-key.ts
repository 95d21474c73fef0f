import type { ProvisionOptions } from '../provisioning/types';
import { isChainProvisionOptions, type ChainProvisionOptions } from '../provisioning/chain';
import type { CliArguments } from './args';
import { startKeyOnly } from './device-key';

/**
 * Everything the core checks before sending, checked before any key is made: a wrong invocation
 * answers at once instead of after a key generation (RSA: 0.1–1 s). Loads the validation module only
 * (no MQTT); throws the core's INVALID_INPUT.
 */
export function checkBeforeKeygen(options: ProvisionOptions | ChainProvisionOptions): void {
  if (isChainProvisionOptions(options)) {
    const { validateChainOptions } = require('../provisioning/chain') as typeof import('../provisioning/chain');
    validateChainOptions(options);
    return;
  }
  const { validateOptions } = require('../provisioning/validate') as typeof import('../provisioning/validate');
  validateOptions(options);
}

/**
 * Starts making the device's key pair at once (after the arguments are checked), so that loading
 * the MQTT modules and the connection set-up overlap it: for one RSA device per process, that is
 * most of the run. Nothing happens when this run makes no key (another credentials type, a
 * certificate or key given). The MQTT client's number cache (65,536 small buffers, 6 MB of heap,
 * made on the first packet) is turned off: one exchange needs a handful of numbers.
 */
export function startDeviceKey(args: CliArguments): void {
  startKeyOnly(args);
  if (args.transport === 'http' && !args.verify) return; // no MQTT in this run
  // The copy mqtt.js uses: one module in the bundled CLI, and npm dedupes the two (same major, our range is mqtt's).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the key has started
  const mqttPacket = require('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } };
  mqttPacket.writeToStream.cacheNumbers = false;
}
