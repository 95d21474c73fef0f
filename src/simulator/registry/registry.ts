import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { chainProfileConfig, type ChainSettings } from './chain-profile';
import { accessTokenCredentials, preProvisionedBasicCredentials, randomAlphanumeric, x509Credentials } from './credentials';
import type { DeviceCredentialsRecord, DeviceRecord, PreProvisionedDevice, ProfileConfig, ProvisionStrategy } from '../types';

export const REGISTRY_FILE = 'registry.json';

interface RegistryFile {
  version: 1;
  devices: DeviceRecord[];
}

export interface StoredProfile {
  name: string;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  strategy: ProvisionStrategy;
  /** X509_CERTIFICATE_CHAIN profiles only. */
  chain?: ChainSettings;
}

export function credentialsOfPreProvisioned(device: PreProvisionedDevice): DeviceCredentialsRecord {
  switch (device.credentialsType) {
    case 'ACCESS_TOKEN':
      return accessTokenCredentials(device.credentialsValue ?? '');
    case 'X509_CERTIFICATE':
      return x509Credentials(device.credentialsValue ?? '');
    case 'MQTT_BASIC':
      return preProvisionedBasicCredentials(device);
    default:
      throw new Error(`device ${device.name}: unknown credentialsType ${String(device.credentialsType)}`);
  }
}

/** Profiles and devices of the one simulated tenant; devices optionally persisted as JSON in dataDir. */
export class Registry {
  private readonly profilesByKey = new Map<string, StoredProfile>();
  private readonly devicesByName = new Map<string, DeviceRecord>();
  private readonly devicesByCredentialsId = new Map<string, DeviceRecord>();
  private saving: Promise<void> = Promise.resolve();
  /** Told after a device's credentials were replaced (the simulator closes its open sessions). */
  onCredentialsUpdated: (device: DeviceRecord) => void = () => undefined;
  private saveQueued = false;

  constructor(private readonly dataDir: string | undefined) {}

  addProfile(given: ProfileConfig): void {
    const profile = given.strategy === 'X509_CERTIFICATE_CHAIN' ? chainProfileConfig(given) : given;
    if (!profile.provisionDeviceKey) throw new Error('a profile needs a non-empty provisionDeviceKey');
    const holder = this.profilesByKey.get(profile.provisionDeviceKey);
    if (holder) {
      // GridLinks keeps provisionDeviceKey (for a chain profile: its certificate's hash) unique across profiles.
      throw new Error(
        'chain' in profile
          ? `chain profile ${profile.name}: Device profile with such certificate hash already exists! (profile ${holder.name} has the same CA certificate)`
          : `profile ${profile.name ?? profile.provisionDeviceKey}: profile ${holder.name} already has this provisionDeviceKey`,
      );
    }
    this.profilesByKey.set(profile.provisionDeviceKey, {
      name: profile.name ?? profile.provisionDeviceKey,
      provisionDeviceKey: profile.provisionDeviceKey,
      provisionDeviceSecret: profile.provisionDeviceSecret ?? '',
      strategy: profile.strategy ?? 'ALLOW_CREATE_NEW_DEVICES',
      ...('chain' in profile ? { chain: profile.chain as ChainSettings } : {}),
    });
  }

  profileByKey(key: string): StoredProfile | undefined {
    return this.profilesByKey.get(key);
  }

  profileNameOf(key: string): string | undefined {
    return this.profilesByKey.get(key)?.name;
  }

  deviceByName(name: string): DeviceRecord | undefined {
    return this.devicesByName.get(name);
  }

  deviceByCredentialsId(credentialsId: string): DeviceRecord | undefined {
    return this.devicesByCredentialsId.get(credentialsId);
  }

  devices(): DeviceRecord[] {
    return [...this.devicesByName.values()].map((device) => structuredClone(device));
  }

  /** Adds a device unless its name or credentialsId is taken; returns whether it was added. */
  addDevice(device: DeviceRecord): boolean {
    if (this.devicesByName.has(device.name) || this.devicesByCredentialsId.has(device.credentials.credentialsId)) return false;
    this.devicesByName.set(device.name, device);
    this.devicesByCredentialsId.set(device.credentials.credentialsId, device);
    return true;
  }

  /**
   * A device a gateway named (GridLinks creates it in the gateway's tenant with the given type and a random
   * access token); an existing device is kept and only remembers the gateway that named it last.
   */
  childOf(gatewayName: string, childName: string, type: string): DeviceRecord {
    const known = this.devicesByName.get(childName);
    if (known) {
      known.gatewayName = gatewayName;
      return known;
    }
    const child: DeviceRecord = {
      name: childName,
      profile: type,
      gateway: false,
      credentials: accessTokenCredentials(randomAlphanumeric(20)),
      createdTime: Date.now(),
      type,
      gatewayName,
    };
    this.addDevice(child);
    this.save().catch(() => undefined);
    return child;
  }

  /** Gives a device new credentials (X.509 chain rotation): its old credential no longer identifies it, its sessions are closed. */
  replaceCredentials(device: DeviceRecord, credentials: DeviceCredentialsRecord): void {
    this.devicesByCredentialsId.delete(device.credentials.credentialsId);
    device.credentials = credentials;
    this.devicesByCredentialsId.set(credentials.credentialsId, device);
    this.onCredentialsUpdated(device);
  }

  /** Profiles-file devices that are not yet in the (reloaded) registry. */
  addPreProvisioned(devices: PreProvisionedDevice[]): void {
    for (const device of devices) {
      if (this.devicesByName.has(device.name)) continue;
      const added = this.addDevice({
        name: device.name,
        profile: device.profile,
        gateway: device.gateway === true,
        provisionState: device.provisionState,
        credentials: credentialsOfPreProvisioned(device),
        createdTime: Date.now(),
      });
      if (!added) throw new Error(`pre-provisioned device ${device.name}: its credentials are already used by another device`);
    }
  }

  async load(): Promise<void> {
    if (!this.dataDir) return;
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dataDir, REGISTRY_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const file = JSON.parse(text) as RegistryFile;
    for (const device of file.devices ?? []) this.addDevice(device);
  }

  /** Writes the registry atomically (temp file, fsync, rename); concurrent calls coalesce. */
  save(): Promise<void> {
    if (!this.dataDir) return Promise.resolve();
    if (this.saveQueued) return this.saving;
    this.saveQueued = true;
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => {
        this.saveQueued = false;
        return this.writeFile();
      });
    return this.saving;
  }

  private async writeFile(): Promise<void> {
    const dir = this.dataDir as string;
    const file: RegistryFile = { version: 1, devices: [...this.devicesByName.values()] };
    const target = path.join(dir, REGISTRY_FILE);
    const temp = `${target}.${process.pid}.tmp`;
    const handle = await fs.open(temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(file, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  }
}
