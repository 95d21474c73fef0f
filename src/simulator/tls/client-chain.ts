import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

/**
 * GridLinks' trust manager checks every link of the chain a client presents (each certificate signed by the
 * next one); a broken link fails the handshake. The simulator's TLS listener accepts any client certificate
 * (devices are self-signed), so this check runs right after the handshake, before a byte of MQTT is read.
 * Returns why the chain is broken, or null (no certificate, a self-signed one, or a chain whose links verify).
 */
export function brokenClientChainLink(socket: TLSSocket): string | null {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  if (!leaf?.raw) return null;
  let current: DetailedPeerCertificate = leaf;
  const seen = new Set<string>();
  while (current.issuerCertificate?.raw && current.issuerCertificate.fingerprint256 !== current.fingerprint256) {
    if (seen.has(current.fingerprint256)) break;
    seen.add(current.fingerprint256);
    const issuer = current.issuerCertificate;
    const child = new X509Certificate(current.raw);
    if (!child.verify(new X509Certificate(issuer.raw).publicKey)) {
      return `"${child.subject}" is not signed by the presented "${new X509Certificate(issuer.raw).subject}"`;
    }
    current = issuer;
  }
  return null;
}
