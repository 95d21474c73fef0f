/** What a device object's login is made of (device-identity.ts reads these). */
const CREDENTIAL_FIELDS = ['accessToken', 'clientId', 'userName', 'password', 'certificate', 'privateKey', 'chain', 'credentialsId'] as const;

/**
 * The last device object a message carried (msg.gateway) and what it resolved to. A flow usually sends
 * the same object every time (kept in context after provisioning): seen again with every field of its
 * login unchanged, it resolves without being checked and hashed again. Changed in place, it does not match.
 */
export class RecentLogin<T> {
  private object: object | undefined;
  private fields: unknown[] = [];
  private value: T | undefined;

  get(device: unknown): T | undefined {
    if (device === undefined || device !== this.object) return undefined;
    const record = device as Record<string, unknown>;
    const credentials = record.credentials as Record<string, unknown> | null | undefined;
    const fields = this.fields;
    if (record.deviceName !== fields[0] || record.credentialsType !== fields[1] || credentials !== fields[2]) return undefined;
    if (typeof credentials === 'object' && credentials !== null) {
      for (let i = 0; i < CREDENTIAL_FIELDS.length; i++) if (credentials[CREDENTIAL_FIELDS[i]] !== fields[3 + i]) return undefined;
    }
    return this.value;
  }

  set(device: unknown, value: T): void {
    if (typeof device !== 'object' || device === null) return;
    const record = device as Record<string, unknown>;
    const credentials = record.credentials as Record<string, unknown> | null | undefined;
    const inCredentials = typeof credentials === 'object' && credentials !== null ? CREDENTIAL_FIELDS.map((field) => credentials[field]) : [];
    this.object = device;
    this.fields = [record.deviceName, record.credentialsType, credentials, ...inCredentials];
    this.value = value;
  }

  clear(): void {
    this.object = undefined;
    this.fields = [];
    this.value = undefined;
  }
}
