import { displayText, terminalSafeJson } from '../provisioning/display-text';
import type { ProvisionError } from '../provisioning/errors';
import type { AccessTokenCredentials, BasicCredentials, ProvisionResult, X509Credentials } from '../provisioning/types';

/** Readable report of a success. Credentials are printed only when they were not saved to files. */
export function describeResult(result: ProvisionResult): string {
  const lines: string[] = [];
  const server = `${result.server.host}:${result.server.port} (${result.server.tls ? 'TLS' : 'plain MQTT'})`;
  const name = result.deviceName === null ? 'a device named by GridLinks' : `device "${displayText(result.deviceName)}"`;
  lines.push(
    result.fromStore
      ? `The store already holds ${name} (${result.credentialsType} credentials, provisioned on ${server}); nothing was sent.`
      : result.issued && !result.provisioned
        ? `Issued a certificate for ${name}; nothing was sent to ${server}: the device connects with it (and the chain) itself.`
        : `Provisioned ${name} on ${server} with ${result.credentialsType} credentials${result.issued ? ' (certificate issued here, chain login)' : ''}.`,
  );
  const saved = result.stored !== undefined;
  if (result.gateway) lines.push('  gateway:        yes (it may act for child devices on v1/gateway/*)');
  switch (result.credentialsType) {
    case 'ACCESS_TOKEN':
      if (!saved) lines.push(`  access token:   ${displayText((result.credentials as AccessTokenCredentials).accessToken)}`);
      break;
    case 'MQTT_BASIC': {
      const basic = result.credentials as BasicCredentials;
      if (basic.clientId !== undefined) lines.push(`  client id:      ${displayText(basic.clientId)}`);
      if (basic.userName !== undefined) lines.push(`  user name:      ${displayText(basic.userName)}`);
      if (basic.password !== undefined && !saved) lines.push(`  password:       ${displayText(basic.password)}`);
      break;
    }
    case 'X509_CERTIFICATE': {
      const x509 = result.credentials as X509Credentials;
      lines.push(`  credentials id: ${x509.credentialsId}`);
      if (!saved) {
        lines.push('', x509.certificate.trimEnd());
        if (x509.chain !== undefined) lines.push('', x509.chain.trimEnd());
        if (x509.privateKey !== undefined) lines.push('', x509.privateKey.trimEnd());
      }
      break;
    }
  }
  if (saved) {
    lines.push(`  saved to:       ${result.stored!.dir}`);
    for (const file of result.stored!.files) lines.push(`                  ${file}`);
  }
  if (result.verification) {
    const verification = result.verification;
    lines.push(
      verification.accepted
        ? '  verified:       GridLinks accepted a connection with the new credentials'
        : `  verified:       NO: ${displayText(verification.message ?? 'refused')}${verification.returnCode !== undefined ? ` (code ${verification.returnCode})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Server text in a message is escaped where it is made; this catches anything else a terminal would act on. */
export function describeError(error: ProvisionError): string {
  return `error [${error.code}]: ${displayText(error.message, 8192)}\n`;
}

export function errorJson(error: ProvisionError): string {
  return `${terminalSafeJson(JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }))}\n`;
}

/**
 * The result as JSON, exact values. When the credentials were saved (--out), the secrets stay in the files:
 * no private key, password or token, no connectOptions; what identifies the device and where it was saved remain.
 */
export function resultJson(result: ProvisionResult): string {
  let shown: unknown = result;
  if (result.stored !== undefined) {
    const { connectOptions: _connectOptions, credentials, ...rest } = result;
    const { clientId, userName, credentialsId } = credentials as Partial<BasicCredentials & X509Credentials>;
    shown = { ...rest, credentials: { clientId, userName, credentialsId } };
  }
  return `${terminalSafeJson(JSON.stringify(shown))}\n`;
}
