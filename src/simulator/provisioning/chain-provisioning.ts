import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { commonNameValueOfCertificate, compileCnPattern, deviceNameFromCn } from '../../provisioning/chain';
import { sha3Hex } from '../../provisioning/x509';
import { randomAlphanumeric, x509Credentials, type ChainSettings, type Registry, type StoredProfile } from '../registry';
import { REFUSE_NOT_AUTHORIZED } from '../packets';
import type { DeviceRecord } from '../types';

export type ChainAuthResult =
  { device: DeviceRecord; refusal?: undefined; note?: string } | { device?: undefined; refusal: typeof REFUSE_NOT_AUTHORIZED; reason: string };

/** The presented chain, leaf first, as Node links it (by issuer name and key identifier, not by signature). */
function presentedChain(leaf: PeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  const seen = new Set<string>();
  let current: PeerCertificate | undefined = leaf;
  while (current?.raw && !seen.has(current.fingerprint256)) {
    chain.push(current);
    seen.add(current.fingerprint256);
    current = (current as DetailedPeerCertificate).issuerCertificate;
  }
  return chain;
}

/**
 * GridLinks provisions in its TLS trust manager, during the handshake: a device can exist before (or
 * without) any CONNECT. The trust manager checks signatures only, so an expired or not-yet-valid leaf
 * creates or rotates the device too; its validity is checked at the CONNECT, which is then refused. A
 * refusal is only logged here; the CONNECT is then refused (authenticateByChain runs again and finds why).
 * Leaves that already are a device credential are left to the CONNECT.
 */
export function provisionDuringHandshake(registry: Registry, leaf: PeerCertificate | undefined, log: (line: string) => void): void {
  if (!leaf?.raw) return;
  if (registry.deviceByCredentialsId(sha3Hex(leaf.raw.toString('base64')))) return;
  const result = authenticateByChain(registry, leaf);
  if (!result.refusal && result.note) log(`device ${result.device.name} ${result.note} during the TLS handshake`);
}

function refuse(reason: string): ChainAuthResult {
  return { refusal: REFUSE_NOT_AUTHORIZED, reason };
}

/**
 * A client certificate whose own hash is no device credential: walk the chain (leaf first). A certificate
 * that is a device credential identifies that device; one that is a chain profile's CA provisions the leaf:
 * the name is group(1) of the profile pattern found in the leaf's first CN; an existing device of that
 * profile gets this leaf as its credential (rotation), a new one is created if the profile allows it.
 */
export function authenticateByChain(registry: Registry, leaf: PeerCertificate): ChainAuthResult {
  const chain = presentedChain(leaf);
  for (const certificate of chain.slice(1)) {
    const credentialsId = sha3Hex(certificate.raw.toString('base64'));
    const device = registry.deviceByCredentialsId(credentialsId);
    if (device?.credentials.credentialsType === 'X509_CERTIFICATE') return { device };
    const profile = registry.profileByKey(credentialsId);
    if (profile?.chain) return provisionLeaf(registry, profile, leaf);
  }
  return refuse('client certificate matches no device and its chain reaches no X.509 chain profile CA');
}

/**
 * DefaultTransportApiService.validateOrCreateDeviceX509Certificate: the CN as BouncyCastle reads it (an RFC 4514
 * value: `meter,7` is `meter\,7`), group(1) of the profile pattern the name, a random 20-character name when
 * group 1 is empty or absent. An existing device of that profile with an X.509 credential gets this leaf
 * (rotation); one with another credential type is left alone and refused; a new one is created if allowed.
 */
function provisionLeaf(registry: Registry, profile: StoredProfile & { chain?: ChainSettings }, leaf: PeerCertificate): ChainAuthResult {
  const settings = profile.chain as ChainSettings;
  const cn = commonNameValueOfCertificate(leaf.raw) ?? '';
  const outcome = deviceNameFromCn(cn, compileCnPattern(settings.certificateRegExPattern));
  if (outcome.kind === 'no-match') return refuse(`chain profile ${profile.name}: CN "${cn}" does not match ${settings.certificateRegExPattern}`);
  const name = outcome.kind === 'named' ? outcome.name : randomAlphanumeric(20);
  const credentials = x509Credentials(leaf.raw.toString('base64'));
  const existing = registry.deviceByName(name);
  if (existing) {
    if (existing.profile !== profile.name) return refuse(`chain profile ${profile.name}: device ${name} belongs to profile ${existing.profile}`);
    if (existing.credentials.credentialsType !== 'X509_CERTIFICATE') {
      return refuse(`chain profile ${profile.name}: device ${name} has ${existing.credentials.credentialsType} credentials, not X.509; nothing changed`);
    }
    registry.replaceCredentials(existing, credentials);
    void registry.save().catch(() => undefined);
    return { device: existing, note: `certificate rotated by chain profile ${profile.name}` };
  }
  if (!settings.allowCreateNewDevices) return refuse(`chain profile ${profile.name}: device ${name} does not exist and creating devices is off`);
  const device: DeviceRecord = { name, profile: profile.name, gateway: false, provisionState: 'provisioned', credentials, createdTime: Date.now() };
  if (!registry.addDevice(device)) return refuse(`chain profile ${profile.name}: the certificate of ${name} is already used by another device`);
  void registry.save().catch(() => undefined);
  return { device, note: `created by chain profile ${profile.name}${outcome.kind === 'random' ? ' (group 1 empty: a random name)' : ''}` };
}
