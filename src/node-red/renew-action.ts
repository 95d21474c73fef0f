import { chainDevicesExpiring, inspectStore } from '../provisioning/store';
import { renewCertificate, type RenewResult } from '../provisioning/chain';
import { ProvisionError } from '../provisioning/errors';
import type { ServerOptions } from '../provisioning/types';
import { buildChainOptions, type ChainNodeCredentials, type ChainNodeProperties } from './chain-options';
import type { EvaluateProperty } from './property-source';

/** How often automatic renewal looks at the store. */
export const AUTO_RENEW_PERIOD_MS = 86_400_000;

export interface RenewSettings {
  props: ChainNodeProperties;
  credentials: ChainNodeCredentials;
  server: ServerOptions;
  storeDir: string | undefined;
  evaluate: EvaluateProperty;
}

/** `msg.action = "renew"` (and automatic renewal): one chain device of the node's store, signed with the node's chain settings. */
export async function renewForNode(settings: RenewSettings, deviceName: unknown, signal?: AbortSignal): Promise<RenewResult> {
  if (!settings.storeDir) {
    throw new ProvisionError('INVALID_INPUT', 'msg.action "renew" needs a Store folder on the node: the device is renewed where it is stored.', {
      field: 'storeDir',
    });
  }
  if (typeof deviceName !== 'string' || deviceName === '') {
    throw new ProvisionError('INVALID_INPUT', 'msg.action "renew" needs msg.deviceName (or msg.payload.deviceName): the device to renew.', {
      field: 'deviceName',
    });
  }
  const chain = await buildChainOptions(settings.props, settings.credentials, {}, settings.server, settings.evaluate);
  return renewCertificate(
    {
      server: settings.server,
      storeDir: settings.storeDir,
      deviceName,
      signerCertificate: chain.signerCertificate,
      signerKey: chain.signerKey,
      chain: chain.chain,
    },
    signal,
  );
}

/**
 * Automatic renewal: at start, then every `periodMs` (timer unref'd), renews the chain devices entering
 * the window one at a time; `renewed` and `failed` report each. `stop()` clears the timer, aborts a
 * renewal under way and resolves once the check has settled (no socket of it left open).
 */
export function startAutoRenewal(
  settings: RenewSettings & { storeDir: string; windowMs: number; periodMs?: number },
  report: { renewed(result: RenewResult): void; failed(deviceName: string, error: ProvisionError): void },
): { stop(): Promise<void>; checked: () => Promise<void> } {
  const controller = new AbortController();
  let running: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    const names = await inspectStore(settings.storeDir).then(
      ({ devices }) => chainDevicesExpiring(devices, settings.windowMs),
      () => [] as string[],
    );
    for (const deviceName of names) {
      if (controller.signal.aborted) return;
      let result: RenewResult;
      try {
        result = await renewForNode(settings, deviceName, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        report.failed(
          deviceName,
          error instanceof ProvisionError ? error : new ProvisionError('INVALID_INPUT', `Unexpected problem: ${String(error)}`, { deviceName }),
        );
        continue;
      }
      // Renewed while the node closed: the store has it, there is no output left to send it to.
      if (controller.signal.aborted) return;
      report.renewed(result);
    }
  };
  const run = () => {
    // A check that throws (a report hook) must not stop the later ones.
    running = running.then(check).catch(() => undefined);
  };
  run();
  const timer = setInterval(run, settings.periodMs ?? AUTO_RENEW_PERIOD_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      controller.abort();
      return running;
    },
    checked: () => running,
  };
}
