'use strict';
// A small fleet PKI for the X.509 chain specs, made with the openssl CLI (so that the certificates the
// simulator and the core see are made by another implementation than ours):
//   root CA -> fleet CA (the device profile's CA, signs devices) ; an unrelated CA ; an impostor of the
//   fleet CA (same name and key identifier, other key: a chain through it has a broken link).
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function openssl(args, options = {}) {
  return execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

const CA_EXTENSIONS = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

function keyArgs(kind) {
  return kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
}

function read(dir, name) {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  return { name, certFile, keyFile, certPem: fs.readFileSync(certFile, 'utf8'), keyPem: fs.readFileSync(keyFile, 'utf8') };
}

/** Self-signed CA. */
function rootCa(dir, name, subject, { kind = 'rsa', ski } = {}) {
  const extra = ski ? ['-addext', `subjectKeyIdentifier=${ski}`] : [];
  openssl([
    'req',
    '-x509',
    ...keyArgs(kind),
    '-nodes',
    '-keyout',
    path.join(dir, `${name}.key`),
    '-out',
    path.join(dir, `${name}.pem`),
    '-subj',
    subject,
    '-days',
    '30',
    ...CA_EXTENSIONS,
    ...extra,
  ]);
  return read(dir, name);
}

/** CA signed by `issuer` (openssl x509 -req). */
function intermediateCa(dir, name, subject, issuer, { kind = 'rsa' } = {}) {
  const csr = path.join(dir, `${name}.csr`);
  openssl(['req', ...keyArgs(kind), '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', csr, '-subj', subject]);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    issuer.certFile,
    '-CAkey',
    issuer.keyFile,
    '-set_serial',
    String(Date.now()),
    '-out',
    path.join(dir, `${name}.pem`),
    '-days',
    '30',
    '-extfile',
    ext,
  ]);
  return read(dir, name);
}

/** A device key and CSR made by openssl; `leaf(signer)` issues its certificate with `openssl x509 -req`. */
function deviceCsr(dir, deviceName, commonName, { kind = 'ec' } = {}) {
  const name = `device-${deviceName}`;
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  openssl(['req', ...keyArgs(kind), '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${commonName}`]);
  return {
    keyFile,
    csrFile,
    keyPem: fs.readFileSync(keyFile, 'utf8'),
    csrPem: fs.readFileSync(csrFile, 'utf8'),
    leaf(signer, suffix = '') {
      const certFile = path.join(dir, `${name}${suffix}.pem`);
      const ext = path.join(dir, `${name}.leaf.ext`);
      fs.writeFileSync(
        ext,
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n',
      );
      openssl([
        'x509',
        '-req',
        '-in',
        csrFile,
        '-CA',
        signer.certFile,
        '-CAkey',
        signer.keyFile,
        '-set_serial',
        String(Date.now() + Math.floor(Math.random() * 1e6)),
        '-out',
        certFile,
        '-days',
        '5',
        '-extfile',
        ext,
      ]);
      return fs.readFileSync(certFile, 'utf8');
    },
  };
}

/** DER type-length-value. */
function tlv(tag, ...contents) {
  const body = Buffer.concat(contents);
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

function oidDer(oid) {
  const [first, second, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups = [];
    let value = arc;
    do {
      groups.unshift(value & 0x7f);
      value = Math.floor(value / 128);
    } while (value > 0);
    bytes.push(...groups.map((group, index) => (index < groups.length - 1 ? group | 0x80 : group)));
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A Name with one CN (UTF8String). */
function nameDer(commonName) {
  return tlv(0x30, tlv(0x31, tlv(0x30, oidDer('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/**
 * A PKCS#10 request built by hand and signed with node's crypto, for requests openssl would not make:
 * `algorithm` is the OID written as the signature algorithm (whatever key signs), `subject` the raw DER
 * of the subject (default CN=`commonName`), `hash` the digest the signature uses.
 */
function craftCsr(privateKey, { commonName = 'crafted', subject = nameDer(commonName), algorithm = '1.2.840.113549.1.1.11', hash = 'sha256' } = {}) {
  const key = typeof privateKey === 'string' ? crypto.createPrivateKey(privateKey) : privateKey;
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = tlv(0x30, tlv(0x02, Buffer.from([0])), subject, spki, tlv(0xa0));
  const signature = crypto.sign(hash, info, key);
  const der = tlv(0x30, info, tlv(0x30, oidDer(algorithm), tlv(0x05)), tlv(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function subjectKeyIdentifier(certFile) {
  const text = openssl(['x509', '-in', certFile, '-noout', '-ext', 'subjectKeyIdentifier']).toString();
  return text.split('\n')[1].trim();
}

/** The whole fleet PKI in a temp folder; `remove()` deletes it. */
function makeFleetPki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-chain-'));
  const root = rootCa(dir, 'root', '/O=Acme/CN=Acme Root');
  const fleet = intermediateCa(dir, 'fleet', '/O=Acme/CN=Acme Fleet CA', root);
  const fleetEc = intermediateCa(dir, 'fleet-ec', '/O=Acme/CN=Acme Fleet EC CA', root, { kind: 'ec' });
  const other = rootCa(dir, 'other', '/O=Other/CN=Other CA');
  // Same subject and key identifier as the fleet CA, another key: it links by name, not by signature.
  const impostor = rootCa(dir, 'impostor', '/O=Acme/CN=Acme Fleet CA', { ski: subjectKeyIdentifier(fleet.certFile) });
  return { dir, root, fleet, fleetEc, other, impostor, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

module.exports = { makeFleetPki, deviceCsr, openssl, craftCsr, tlv, oidDer };
