import { X509Certificate } from 'node:crypto';
import { ProvisionError } from '../errors';

const PEM_BLOCK = /-----BEGIN ([^-\r\n]*)-----([\s\S]*?)-----END \1-----/g;
const PEM_MARKER = /-----(BEGIN|END) [^-\r\n]*-----/;

let lastChecked: { given: string; field: string; bundle: string } | undefined;

/**
 * A CA bundle holds certificates only. Returns them re-encoded (OpenSSL's PEM, nothing else: no key or
 * other block can travel on into a connection or a result); throws INVALID_INPUT naming what else is
 * there, without quoting it. Text outside the PEM blocks (titles in a bundle file) is left out.
 */
export function certificatesOnly(given: string, field: string, subject = field): string {
  if (lastChecked?.given === given && lastChecked.field === field) return lastChecked.bundle;
  const invalid = (problem: string) => new ProvisionError('INVALID_INPUT', `${subject} ${problem}`, { field });
  const certificates: string[] = [];
  let outside = given;
  for (const [block, label, body] of given.matchAll(PEM_BLOCK)) {
    outside = outside.replace(block, '');
    if (/PRIVATE KEY/.test(label)) {
      throw invalid(`contains a private key ("${label}" PEM block): give only the CA certificate(s). The key was not used; keep it secret.`);
    }
    if (label !== 'CERTIFICATE') throw invalid(`contains a "${label.slice(0, 40)}" PEM block: give only CA certificates (-----BEGIN CERTIFICATE-----).`);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(`-----BEGIN CERTIFICATE-----${body}-----END CERTIFICATE-----\n`);
    } catch {
      throw invalid(`has a certificate (number ${certificates.length + 1}) that cannot be parsed: check that the PEM was copied completely.`);
    }
    certificates.push(certificate.toString()); // OpenSSL's PEM, 64-character lines (no node-forge here)
  }
  if (PEM_MARKER.test(outside)) throw invalid('has an incomplete PEM block (a BEGIN or END line without its pair): check that the PEM was copied completely.');
  if (certificates.length === 0) throw invalid('must be PEM text (-----BEGIN CERTIFICATE----- ...), not a file name.');
  const bundle = certificates.join('');
  lastChecked = { given, field, bundle };
  return bundle;
}
