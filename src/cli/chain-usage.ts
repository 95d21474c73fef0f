/** The --help section of X.509 chain provisioning. */
export const CHAIN_USAGE = `X.509 certificate chain (--type x509-chain; the device profile's strategy "X.509 certificates chain"):
  --signer-cert FILE       PEM of the profile's CA certificate, which signs the device certificate
  --signer-key FILE        its private key (PEM, unencrypted; never printed)
  --chain FILE             PEM certificates above the signer (towards the root), presented too
  --csr FILE               a device's PKCS#10 request: its certificate is issued and printed, nothing is
                           sent (the device keeps its key and connects itself; no --key-type)
  --common-name CN         certificate CN (default: the CSR's CN, else --device-name)
  --regex PATTERN          the profile's CN regular expression, to check the name GridLinks will derive
  No --provision-key/--provision-secret: connecting with the new certificate creates the device (or
  replaces the certificate of an existing one).`;

/** The --help section of `ca create`. */
export const CA_USAGE = `Fleet CA for X.509 chain provisioning:
  gridlinks-provision ca create --out DIR [--name CN] [--days N] [--key-type p256|p384|rsa2048|rsa3072|rsa4096] [--json]
                           writes DIR/ca.pem and DIR/ca.key (0600; never overwritten), prints the PEM to
                           paste into the device profile and its SHA3-256 (the profile's provision key)`;
