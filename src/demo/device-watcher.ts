import type { DeviceRecord, SimulatorHandle } from '../simulator/types';

const POLL_MS = 250;

const CREDENTIAL_LABELS: Record<string, string> = {
  X509_CERTIFICATE: 'X.509 certificate',
  ACCESS_TOKEN: 'access token',
  MQTT_BASIC: 'MQTT basic',
};

/** One terminal line per device, with nothing secret: the name, the credential type and the stored id's start. */
export function describeDevice(device: DeviceRecord): string {
  const kind = CREDENTIAL_LABELS[device.credentials.credentialsType] ?? device.credentials.credentialsType;
  const id = device.credentials.credentialsType === 'X509_CERTIFICATE' ? `, certificate SHA3-256 ${device.credentials.credentialsId.slice(0, 16)}...` : '';
  return `Provisioned device "${device.name}" (${kind}${id}) in the simulator.`;
}

/** Reports each device the simulator registers while the demo runs. */
export class DeviceWatcher {
  private readonly seen = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private firstWaiters: Array<() => void> = [];

  constructor(
    private readonly simulator: SimulatorHandle,
    private readonly report: (line: string) => void,
  ) {
    for (const device of simulator.devices()) this.seen.add(device.name);
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  private poll(): void {
    for (const device of this.simulator.devices()) {
      if (this.seen.has(device.name)) continue;
      this.seen.add(device.name);
      this.report(describeDevice(device));
      for (const wake of this.firstWaiters) wake();
      this.firstWaiters = [];
    }
  }

  /** True once a new device appears, false when `timeoutMs` passes first. */
  waitForFirst(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.firstWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
