import type { ProvisionError } from '../provisioning/errors';
import type { AccessTokenCredentials, BasicCredentials, ProvisionResult, X509Credentials } from '../provisioning/types';

/** Readable report of a success. Credentials are printed only when they were not saved to files. */
export function describeResult(result: ProvisionResult): string {
  const lines: string[] = [];
  const server = `${result.server.host}:${result.server.port} (${result.server.tls ? 'TLS' : 'plain MQTT'})`;
  const name = result.deviceName === null ? 'a device named by GridLinks' : `device "${result.deviceName}"`;
  lines.push(
    result.fromStore
      ? `The store already holds ${name} (${result.credentialsType} credentials, provisioned on ${server}); nothing was sent.`
      : `Provisioned ${name} on ${server} with ${result.credentialsType} credentials.`,
  );
  const saved = result.stored !== undefined;
  switch (result.credentialsType) {
    case 'ACCESS_TOKEN':
      if (!saved) lines.push(`  access token:   ${(result.credentials as AccessTokenCredentials).accessToken}`);
      break;
    case 'MQTT_BASIC': {
      const basic = result.credentials as BasicCredentials;
      if (basic.clientId !== undefined) lines.push(`  client id:      ${basic.clientId}`);
      if (basic.userName !== undefined) lines.push(`  user name:      ${basic.userName}`);
      if (basic.password !== undefined && !saved) lines.push(`  password:       ${basic.password}`);
      break;
    }
    case 'X509_CERTIFICATE': {
      const x509 = result.credentials as X509Credentials;
      lines.push(`  credentials id: ${x509.credentialsId}`);
      if (!saved) {
        lines.push('', x509.certificate.trimEnd());
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
        : `  verified:       NO: ${verification.message ?? 'refused'}${verification.returnCode !== undefined ? ` (code ${verification.returnCode})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function describeError(error: ProvisionError): string {
  return `error [${error.code}]: ${error.message}\n`;
}

export function errorJson(error: ProvisionError): string {
  return `${JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } })}\n`;
}
