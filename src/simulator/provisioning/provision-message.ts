/** The provisioning request as both readers give it: the JSON one (provision-request.ts) and the protobuf one (provision-protobuf.ts). */

export type RequestCredentialsType = 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE' | 'LWM2M_CREDENTIALS';

export interface ProvisionRequest {
  deviceName: string;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  credentialsType: RequestCredentialsType;
  token: string;
  clientId: string;
  username: string;
  password: string;
  hash: string;
  gateway: boolean;
}
