// node-forge's ASN.1 module on its own: loads in a few ms, where `require('node-forge')` loads every
// cipher and pure-JS RSA too (about 25 ms at each process start).
declare module 'node-forge/lib/asn1' {
  import type forge from 'node-forge';
  const asn1: typeof forge.asn1;
  export = asn1;
}
