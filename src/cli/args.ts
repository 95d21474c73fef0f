import { parseArgs } from 'node:util';
import { ProvisionError } from '../provisioning/errors';
import type { CredentialsType } from '../provisioning/types';
import { EXIT_CODES_HELP } from './exit-codes';
import { CA_USAGE, CHAIN_USAGE } from './chain-usage';

export const USAGE = `Usage: gridlinks-provision --host H [--port P] [--no-tls] [--ca FILE] [--servername NAME] [--insecure]
         [--transport mqtt|http] [--verify-port P]
         --provision-key K --provision-secret S [--device-name N | --allow-unnamed]
         [--type x509|access-token|mqtt-basic] [--key-type rsa2048|rsa3072|rsa4096|p256|p384]
         [--token T] [--client-id C] [--username U] [--password P] [--cert FILE [--private-key FILE]]
         [--out DIR [--if-stored reuse|fail]] [--verify] [--gateway] [--timeout SECONDS] [--mqtt-version 4|5] [--json]
       gridlinks-provision --resume --out DIR --host H [--port P] [connection options] [--json]
       gridlinks-provision --host H ... --type x509-chain --signer-cert FILE --signer-key FILE
         [--chain FILE] [--csr FILE] [--common-name CN] [--regex PATTERN] [--device-name N]
       gridlinks-provision ca create --out DIR [--name CN] [--days N] [--key-type ...] [--json]
       gridlinks-provision --list --out DIR [--json]
       gridlinks-provision --renew --out DIR --device-name N | --renew-expiring 30d
         --host H [connection options] --signer-cert FILE --signer-key FILE [--chain FILE]
         [--new-key [--key-type K]] [--validity-days D] [--json]

Provisions one device on GridLinks (ThingsBoard-compatible device provisioning over MQTT) and prints
its new credentials. Without a certificate (--cert) an X.509 device gets a new key pair and a
self-signed certificate (CN = device name).

Connection:
  --host H                 GridLinks MQTT host name or IP address
  --port P                 MQTT port (default 8883 with TLS, 1883 with --no-tls);
                           with --transport http the HTTP(S) port (default 443 with TLS, 8080 with --no-tls)
  --transport mqtt|http    provision over MQTT (default) or HTTP(S): POST /api/v1/provision
  --verify-port P          with --transport http: the MQTT port the device (and --verify) connects to
                           (default 8883 with TLS, 1883 with --no-tls)
  --no-tls                 plain MQTT (the provision secret travels unencrypted)
  --ca FILE                PEM CA certificate to trust (default: the system CAs)
  --servername NAME        TLS server name (SNI and certificate check) when it differs from --host
  --insecure               do not verify the server certificate (prints a warning)
  --mqtt-version 4|5       MQTT 3.1.1 (default) or 5
  --timeout SECONDS        connect timeout and answer timeout (default 10 and 15)

Provisioning (from the device profile's "Device provisioning" settings):
  --provision-key K        provision device key     (or env GRIDLINKS_PROVISION_KEY)
  --provision-secret S     provision device secret  (or env GRIDLINKS_PROVISION_SECRET, which keeps it out of ps)
  --device-name N          device name (required for key/secret provisioning; a blank name is refused)
  --allow-unnamed          without --device-name: GridLinks generates a name (and does not say which)
  --type T                 x509 (default) | access-token | mqtt-basic | x509-chain (below)
  --key-type K             x509 key: rsa2048 (default) | rsa3072 | rsa4096 | p256 | p384
  --cert FILE              x509: send this PEM certificate instead of generating one
  --private-key FILE       x509: the key of --cert (kept with the credentials); alone, a certificate
                           is made for this key (RSA >= 2048 or EC P-256/P-384) instead of a new pair
  --token T                access-token: the token to use (default: GridLinks generates one)
  --client-id C            mqtt-basic: client id
  --username U             mqtt-basic: user name
  --password P             mqtt-basic: password (needs --username)
  --gateway                create the device as a gateway (it may then act for child devices on
                           v1/gateway/*, e.g. through the gridlinks-gateway node)

${CHAIN_USAGE}

${CA_USAGE}

Output:
  --out DIR                credential store: DIR/<device>/ gets credentials.json, certificate.pem and
                           private-key.pem (0600); the key is saved before the request is sent
  --if-stored reuse|fail   a device already saved in --out: print it from there, nothing sent (reuse,
                           the default), or refuse with STORE (fail)
  --resume                 settle every request in DIR/.pending/ whose answer was lost: log in once with
                           its credentials; accepted = saved like a success, refused = moved to
                           .pending/.not-created/, else left pending. One line per entry; exit 0 only
                           when none is left unknown (no provision key or secret needed)
  --list                   list the devices of DIR: name, type, certificate expiry, state (committed,
                           pending); --json prints {"storeDir","devices":[...]}
  --renew                  chain devices: issue a new certificate for --device-name N (same key, or a
                           new one with --new-key), log in with it so that GridLinks replaces the old
                           one, then swap the stored files (the old kept as certificate.previous.pem
                           until the new one has logged in again); needs the signer (--signer-cert,
                           --signer-key) and the connection options
  --renew-expiring AGE     renew every chain device of DIR whose certificate ends within AGE (30d, 12h)
  --validity-days D        validity of a renewed certificate in days (default 3650)
  --verify                 connect once with the new credentials and report whether GridLinks accepts them
  --json                   print the result (or {"error":{"code","message","details"}}) as one JSON object
  -h, --help               this text
  --version                the package version

Without --out the credentials (token, password, certificate and private key) are printed on stdout,
which must then lead somewhere (not closed, not /dev/null); with --out (also with --json) only where
they were saved and the non-secret ids. The provision secret is never printed. Text chosen by the
server is printed with control characters escaped and long values shortened; --json keeps it exact.
An answer larger than 64 KiB ends the session (BAD_RESPONSE).
Questions are asked for missing values only when stdin is a terminal.

${EXIT_CODES_HELP}
`;

export interface CliArguments {
  host?: string;
  port?: string;
  tls: boolean;
  caFile?: string;
  servername?: string;
  insecure: boolean;
  transport?: string;
  verifyPort?: string;
  provisionKey?: string;
  provisionSecret?: string;
  deviceName?: string;
  /** No --device-name: let GridLinks generate a name (it does not say which). */
  allowUnnamed: boolean;
  credentialsType: CredentialsType | 'X509_CERTIFICATE_CHAIN';
  keyType?: string;
  signerCertFile?: string;
  signerKeyFile?: string;
  chainFile?: string;
  csrFile?: string;
  commonName?: string;
  regex?: string;
  token?: string;
  clientId?: string;
  username?: string;
  password?: string;
  certFile?: string;
  privateKeyFile?: string;
  out?: string;
  ifStored?: 'reuse' | 'fail';
  resume: boolean;
  list: boolean;
  renew: boolean;
  /** --renew-expiring: the window, as given (30d, 12h, 3600s). */
  renewExpiring?: string;
  newKey: boolean;
  validityDays?: string;
  verify: boolean;
  gateway: boolean;
  timeoutSeconds?: string;
  mqttVersion?: string;
  json: boolean;
  help: boolean;
  version: boolean;
}

const TYPES: Record<string, CredentialsType | 'X509_CERTIFICATE_CHAIN'> = {
  x509: 'X509_CERTIFICATE',
  'x509-chain': 'X509_CERTIFICATE_CHAIN',
  'access-token': 'ACCESS_TOKEN',
  'mqtt-basic': 'MQTT_BASIC',
};

function usageError(message: string, field: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', `${message} (see --help)`, { field });
}

export function parseCliArguments(argv: string[], env: NodeJS.ProcessEnv): CliArguments {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'no-tls': { type: 'boolean' },
        ca: { type: 'string' },
        servername: { type: 'string' },
        insecure: { type: 'boolean' },
        transport: { type: 'string' },
        'verify-port': { type: 'string' },
        'provision-key': { type: 'string' },
        'provision-secret': { type: 'string' },
        'device-name': { type: 'string' },
        'allow-unnamed': { type: 'boolean' },
        type: { type: 'string' },
        'key-type': { type: 'string' },
        token: { type: 'string' },
        'client-id': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        cert: { type: 'string' },
        'private-key': { type: 'string' },
        'signer-cert': { type: 'string' },
        'signer-key': { type: 'string' },
        chain: { type: 'string' },
        csr: { type: 'string' },
        'common-name': { type: 'string' },
        regex: { type: 'string' },
        out: { type: 'string' },
        'if-stored': { type: 'string' },
        resume: { type: 'boolean' },
        list: { type: 'boolean' },
        renew: { type: 'boolean' },
        'renew-expiring': { type: 'string' },
        'new-key': { type: 'boolean' },
        'validity-days': { type: 'string' },
        verify: { type: 'boolean' },
        gateway: { type: 'boolean' },
        timeout: { type: 'string' },
        'mqtt-version': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (error) {
    const message = (error as Error).message;
    // A stray positional could be a secret typed without its option: do not echo it.
    throw usageError(/Unexpected argument/.test(message) ? 'Unexpected argument: every value must follow its --option' : message, 'arguments');
  }
  const text = (name: string) => values[name] as string | undefined;
  const ifStored = text('if-stored');
  if (ifStored !== undefined && ifStored !== 'reuse' && ifStored !== 'fail') throw usageError('--if-stored must be reuse or fail', 'if-stored');
  const typeName = text('type') ?? 'x509';
  const credentialsType = TYPES[typeName];
  if (!credentialsType) throw usageError(`--type must be one of ${Object.keys(TYPES).join(', ')}`, 'type');
  return {
    host: text('host'),
    port: text('port'),
    tls: values['no-tls'] !== true,
    caFile: text('ca'),
    servername: text('servername'),
    insecure: values.insecure === true,
    transport: text('transport'),
    verifyPort: text('verify-port'),
    provisionKey: text('provision-key') ?? env.GRIDLINKS_PROVISION_KEY,
    provisionSecret: text('provision-secret') ?? env.GRIDLINKS_PROVISION_SECRET,
    deviceName: text('device-name'),
    allowUnnamed: values['allow-unnamed'] === true,
    credentialsType,
    keyType: text('key-type'),
    token: text('token'),
    clientId: text('client-id'),
    username: text('username'),
    password: text('password'),
    certFile: text('cert'),
    privateKeyFile: text('private-key'),
    signerCertFile: text('signer-cert'),
    signerKeyFile: text('signer-key'),
    chainFile: text('chain'),
    csrFile: text('csr'),
    commonName: text('common-name'),
    regex: text('regex'),
    out: text('out'),
    ...(ifStored !== undefined ? { ifStored } : {}),
    resume: values.resume === true,
    list: values.list === true,
    renew: values.renew === true,
    renewExpiring: text('renew-expiring'),
    newKey: values['new-key'] === true,
    validityDays: text('validity-days'),
    verify: values.verify === true,
    gateway: values.gateway === true,
    timeoutSeconds: text('timeout'),
    mqttVersion: text('mqtt-version'),
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
  };
}
