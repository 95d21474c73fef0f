import {
  accessTokenCredentials,
  basicAnswerValue,
  basicCredentials,
  basicCredentialsProblem,
  hasControlCharacters,
  randomAlphanumeric,
  x509Credentials,
  type Registry,
  type StoredProfile,
} from '../registry';
import { deviceNameProblem } from './device-name-rules';
import { javaTrim } from '../../provisioning/fields';
import { encodeProvisionResponse } from './provision-protobuf';
import type { ProvisionRequest } from './provision-message';
import type { DeviceCredentialsRecord, DeviceRecord, FaultSwitches } from '../types';

export type ProvisionStatus = 'SUCCESS' | 'NOT_FOUND' | 'FAILURE';

export interface ProvisionDecision {
  status: ProvisionStatus;
  /** The exact JSON answer bytes (ThingsBoard's key order). */
  body: Buffer;
  /** The same answer as protobuf ProvisionDeviceResponseMsg (for sessions that asked in protobuf). */
  protobuf: Buffer;
  /** The server-side reason, for the log only (never contains a secret). */
  reason: string;
  deviceName?: string;
}

export const NOT_FOUND_MESSAGE = 'Provision data was not found!';
export const FAILURE_MESSAGE = 'Failed to provision device!';

function notFound(reason: string): ProvisionDecision {
  const body = Buffer.from(JSON.stringify({ errorMsg: NOT_FOUND_MESSAGE, status: 'NOT_FOUND' }));
  return { status: 'NOT_FOUND', reason, body, protobuf: encodeProvisionResponse('NOT_FOUND') };
}

function failure(reason: string, deviceName?: string): ProvisionDecision {
  const body = Buffer.from(JSON.stringify({ errorMsg: FAILURE_MESSAGE, status: 'FAILURE' }));
  return { status: 'FAILURE', reason, deviceName, body, protobuf: encodeProvisionResponse('FAILURE') };
}

function success(device: DeviceRecord): ProvisionDecision {
  const { credentialsType, credentialsValue } = device.credentials;
  const value = credentialsType === 'MQTT_BASIC' ? basicAnswerValue(credentialsValue) : credentialsValue;
  const body = Buffer.from(JSON.stringify({ credentialsValue: value, credentialsType, status: 'SUCCESS' }));
  const protobuf = encodeProvisionResponse('SUCCESS', credentialsType, credentialsValue);
  return { status: 'SUCCESS', reason: `device ${device.name} provisioned (${credentialsType})`, deviceName: device.name, body, protobuf };
}

/** Credentials the request asks for, or null for "keep the generated access token", or a failure reason. */
function requestedCredentials(request: ProvisionRequest): DeviceCredentialsRecord | null | string {
  const { token, hash, username, password, clientId } = request;
  if (![token, hash, username, password, clientId].some((field) => field !== '')) return null;
  switch (request.credentialsType) {
    case 'ACCESS_TOKEN':
      if (!token) return 'access token credentials without a token';
      return hasControlCharacters(token) ? 'access token contains control characters' : accessTokenCredentials(token);
    case 'X509_CERTIFICATE':
      // Stored as given, even an empty hash next to another credential field (DeviceProvisionServiceImpl does not check it).
      return x509Credentials(hash);
    case 'MQTT_BASIC': {
      const basic = { clientId, userName: username, password };
      return basicCredentialsProblem(basic) ?? basicCredentials(basic);
    }
    default:
      return `${request.credentialsType} credentials are not supported by the simulator`;
  }
}

/** DeviceProvisionServiceImpl.provisionDevice, in ThingsBoard's order of checks (protocol.md §4). */
export class ProvisionService {
  private readonly inFlight = new Set<Promise<ProvisionDecision>>();

  constructor(
    private readonly registry: Registry,
    private readonly faults: () => FaultSwitches = () => ({}),
  ) {}

  decide(request: ProvisionRequest): Promise<ProvisionDecision> {
    const decision = this.decideNow(request);
    this.inFlight.add(decision);
    const forget = (): void => {
      this.inFlight.delete(decision);
    };
    decision.then(forget, forget);
    return decision;
  }

  /** Resolves when no decision is running any more (used by stop()). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async decideNow(request: ProvisionRequest): Promise<ProvisionDecision> {
    const name = javaTrim(request.deviceName);
    if (request.deviceName !== '' && name === '') return failure('Provision request contains empty device name!');
    if (!request.provisionDeviceKey || !request.provisionDeviceSecret) return notFound('empty provision key or secret');
    const profile = this.registry.profileByKey(request.provisionDeviceKey);
    if (!profile) return notFound('no profile with this provision key');
    if (profile.provisionDeviceSecret !== request.provisionDeviceSecret) return notFound('wrong provision secret');
    switch (profile.strategy) {
      case 'ALLOW_CREATE_NEW_DEVICES':
        return this.createDevice(profile, name, request);
      case 'CHECK_PRE_PROVISIONED_DEVICES':
        return this.provisionExisting(profile, name);
      default:
        return notFound('provisioning is disabled for this profile');
    }
  }

  private async createDevice(profile: StoredProfile, requestedName: string, request: ProvisionRequest): Promise<ProvisionDecision> {
    if (requestedName && this.registry.deviceByName(requestedName)) {
      return failure('The device is present and could not be provisioned once more!', requestedName);
    }
    const name = requestedName || randomAlphanumeric(20);
    const nameProblem = deviceNameProblem(name);
    if (nameProblem) return failure(nameProblem, name);
    const credentials = requestedCredentials(request) ?? accessTokenCredentials(randomAlphanumeric(20));
    if (typeof credentials === 'string') return failure(credentials, name);
    const device: DeviceRecord = {
      name,
      profile: profile.name,
      gateway: request.gateway,
      provisionState: 'provisioned',
      credentials,
      createdTime: Date.now(),
    };
    if (!this.registry.addDevice(device)) {
      return failure('Device credentials are already assigned to another device!', name);
    }
    await this.registry.save();
    return success(device);
  }

  private async provisionExisting(profile: StoredProfile, name: string): Promise<ProvisionDecision> {
    const device = name ? this.registry.deviceByName(name) : undefined;
    if (!device || device.profile !== profile.name) return failure('Failed to find pre provisioned device!', name);
    const repeatable = this.faults().checkPreRepeatable === true;
    const provisionable = repeatable ? device.provisionState === undefined || device.provisionState === 'provisioned' : device.provisionState === undefined;
    if (!provisionable) {
      return failure('The device is present and could not be provisioned once more!', name);
    }
    device.provisionState = 'provisioned';
    await this.registry.save();
    return success(device);
  }
}
