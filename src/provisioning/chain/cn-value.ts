import type forge from 'node-forge';
import asn1 from 'node-forge/lib/asn1';

/**
 * How GridLinks reads a certificate's CN (ThingsBoard `SslUtil.parseCommonName`): the first RDN of the
 * subject holding a CN, that RDN's first attribute as encoded (for a multi-valued RDN this may be another
 * attribute than the CN), turned into text by BouncyCastle's `IETFUtils.valueToString`: an RFC 4514 value.
 * One implementation for the client's name prediction and the simulator.
 */

const COMMON_NAME = '2.5.4.3';
/** Characters valueToString escapes with a backslash wherever they are. */
const ESCAPED = new Set([',', '"', '\\', '+', '=', '<', '>', ';']);
/** ASN.1 string types BouncyCastle reads as one byte per character (Strings.fromByteArray). */
const BYTE_STRINGS = new Set([18, 19, 20, 21, 22, 25, 26, 27]);
const UTF8_STRING = 12;
const BMP_STRING = 30;

/**
 * `IETFUtils.valueToString` of a string value: a leading `#` gets a backslash, then every `, " \ + = < > ;`
 * does (the `\#` is not escaped again), then leading spaces and trailing spaces do, one backslash each.
 */
export function rfc4514Value(text: string): string {
  const buffer = text.startsWith('#') ? `\\${text}` : text;
  return escapeRest(buffer, buffer.startsWith('\\#') ? 2 : 0);
}

/** A value that is no string (or a UniversalString): `#` and the hex of its DER encoding, as BouncyCastle writes it. */
function hexValue(der: Buffer): string {
  return escapeRest(`#${der.toString('hex')}`, 0);
}

function escapeRest(buffer: string, from: number): string {
  let escaped = buffer.slice(0, from);
  for (const character of buffer.slice(from)) escaped += ESCAPED.has(character) ? `\\${character}` : character;
  const leading = /^ */.exec(escaped)![0].length;
  const rest = escaped.slice(leading);
  const trailing = / *$/.exec(rest)![0].length;
  return '\\ '.repeat(leading) + rest.slice(0, rest.length - trailing) + '\\ '.repeat(trailing);
}

/** The text of an attribute value as `ASN1String.getString()` gives it, or undefined when BouncyCastle writes it as hex. */
function stringOf(value: forge.asn1.Asn1): string | undefined {
  if ((value.tagClass as number) !== (asn1.Class.UNIVERSAL as number) || value.constructed || typeof value.value !== 'string') return undefined;
  const bytes = Buffer.from(value.value, 'binary');
  const type = value.type as number;
  if (type === UTF8_STRING) return bytes.toString('utf8');
  // node-forge has already read a BMPString's UTF-16BE into text.
  if (type === BMP_STRING) return value.value;
  if (BYTE_STRINGS.has(type)) return bytes.toString('latin1');
  return undefined;
}

/** `IETFUtils.valueToString` of one attribute value. */
function valueToString(value: forge.asn1.Asn1): string {
  const text = stringOf(value);
  return text === undefined ? hexValue(Buffer.from(asn1.toDer(value).getBytes(), 'binary')) : rfc4514Value(text);
}

function childrenOf(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return node !== undefined && Array.isArray(node.value) ? node.value : [];
}

function isCommonName(attribute: forge.asn1.Asn1): boolean {
  const [type] = childrenOf(attribute);
  return type !== undefined && (type.type as number) === (asn1.Type.OID as number) && asn1.derToOid(type.value as string) === COMMON_NAME;
}

/** The CN value GridLinks reads from a DER subject Name; undefined when no RDN holds a CN. */
export function commonNameValueOfName(name: forge.asn1.Asn1): string | undefined {
  for (const rdn of childrenOf(name)) {
    const attributes = childrenOf(rdn);
    if (!attributes.some(isCommonName)) continue;
    const value = childrenOf(attributes[0])[1];
    return value === undefined ? undefined : valueToString(value);
  }
  return undefined;
}

/** The subject Name of a DER certificate; undefined when it does not parse. */
function subjectOfCertificate(certificateDer: Buffer): forge.asn1.Asn1 | undefined {
  try {
    const certificate = (asn1.fromDer as unknown as (bytes: string, options: object) => forge.asn1.Asn1)(certificateDer.toString('binary'), {
      decodeBitStrings: false,
    });
    const tbs = childrenOf(childrenOf(certificate)[0]);
    // version [0] is optional: the subject is the fifth field after it.
    const offset = (tbs[0]?.tagClass as number) === (asn1.Class.CONTEXT_SPECIFIC as number) ? 1 : 0;
    return tbs[offset + 4];
  } catch {
    return undefined;
  }
}

/** The CN value GridLinks reads from a DER certificate (the leaf a device presents); undefined when there is none. */
export function commonNameValueOfCertificate(certificateDer: Buffer): string | undefined {
  const subject = subjectOfCertificate(certificateDer);
  return subject === undefined ? undefined : commonNameValueOfName(subject);
}

/** The text of a DER certificate's first CN attribute as written (not escaped): a renewed leaf carries the same. */
export function commonNameTextOfCertificate(certificateDer: Buffer): string | undefined {
  for (const rdn of childrenOf(subjectOfCertificate(certificateDer))) {
    const commonName = childrenOf(rdn).find(isCommonName);
    if (commonName !== undefined) {
      const value = childrenOf(commonName)[1];
      return value === undefined ? undefined : stringOf(value);
    }
  }
  return undefined;
}
