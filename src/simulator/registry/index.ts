/**
 * The door of the registry room: the one simulated tenant's profiles and devices (registry.json with --data),
 * how a chain profile is stored, and GridLinks' credentials records and their ids.
 */
export { Registry, type StoredProfile } from './registry';
export type { ChainSettings } from './chain-profile';
export {
  accessTokenCredentials,
  basicAnswerValue,
  basicCredentials,
  basicCredentialsProblem,
  hasControlCharacters,
  parseBasicValue,
  randomAlphanumeric,
  x509Credentials,
} from './credentials';
