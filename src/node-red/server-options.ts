import { readSmallFile } from '../provisioning/small-file';
import { certificatesOnly, defaultPort } from '../provisioning/net';
import { ProvisionError } from '../provisioning/errors';
import type { Node } from 'node-red';
import type { ServerOptions } from '../provisioning/types';

/** The gridlinks-server node's properties, exactly as they appear in the flow JSON. */
export interface ServerNodeProperties {
  host?: unknown;
  port?: unknown;
  tls?: unknown;
  verifyServerCert?: unknown;
  servername?: unknown;
  protocolVersion?: unknown;
  caFile?: unknown;
  /** Seconds. */
  connectTimeout?: unknown;
  /** Seconds. */
  answerTimeout?: unknown;
  /** 'mqtt' (default) or 'http'. */
  transport?: unknown;
  /** transport 'http': the MQTT port devices and Verify use ('' = 8883 with TLS, 1883 without). */
  verifyPort?: unknown;
  /** KiB, the largest packet taken from the server (default 64). */
  maxAnswerKiB?: unknown;
}

export interface ServerNodeCredentials {
  /** Pasted or uploaded CA PEM. */
  ca?: string;
}

export type ServerOptionsResult = { ok: true; options: ServerOptions } | { ok: false; error: ProvisionError };

/** The gridlinks-server config node as the provision node sees it. */
export interface GridlinksServerNode extends Node<ServerNodeCredentials> {
  /** The core's ServerOptions (CA read at deploy time), or the INVALID_INPUT error that explains what is wrong. */
  serverOptions(): ServerOptionsResult;
}

const MAX_CA_BYTES = 1024 * 1024;

function invalid(field: string, message: string): ServerOptionsResult {
  return { ok: false, error: new ProvisionError('INVALID_INPUT', message, { field }) };
}

function isTrue(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  return value === true || value === 'true';
}

function secondsToMs(value: unknown, fallbackMs: number): number | null {
  if (value === undefined || value === null || value === '') return fallbackMs;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) return null;
  return Math.round(seconds * 1000);
}

/** Checks that `pem` holds PEM certificates and nothing else (no private key, no other block). */
export function checkCaPem(pem: string, origin: string): ProvisionError | null {
  try {
    certificatesOnly(pem, 'ca', `The server CA (${origin})`);
    return null;
  } catch (error) {
    return error as ProvisionError;
  }
}

/** Node-RED keeps `${NAME}` as written when NAME is not set: the name, or undefined for any other text. */
export function unsetVariable(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\$\{(\S+)\}$/.exec(value.trim())?.[1] : undefined;
}

function readCaFile(path: string): { pem: string } | { error: ProvisionError } {
  const fail = (why: string): { error: ProvisionError } => ({
    error: new ProvisionError('INVALID_INPUT', `The server CA file ${path} ${why}.`, { field: 'caFile' }),
  });
  const variable = unsetVariable(path);
  if (variable) return fail(`path names the environment variable ${variable}, which is not set for the Node-RED process`);
  const read = readSmallFile(path, MAX_CA_BYTES);
  if ('text' in read) return { pem: read.text };
  return fail(read.errorCode !== undefined ? `cannot be read on the Node-RED host (${read.errorCode})` : `${read.why}: it is not a CA certificate`);
}

/**
 * Turns the config node's properties and credentials into the core's ServerOptions, reading `caFile`
 * now (deploy time). The pasted/uploaded CA wins over `caFile` when both are set.
 */
export function resolveServerOptions(props: ServerNodeProperties, credentials: ServerNodeCredentials): ServerOptionsResult {
  for (const field of ['host', 'port'] as const) {
    const variable = unsetVariable(props[field]);
    if (variable) return invalid(field, `The ${field} names the environment variable ${variable}, which is not set for the Node-RED process.`);
  }
  const host = typeof props.host === 'string' ? props.host.trim() : '';
  if (!host || host.length > 253) return invalid('host', 'Set the GridLinks server host name or IP address.');
  const transport = props.transport === undefined || props.transport === '' ? 'mqtt' : props.transport;
  if (transport !== 'mqtt' && transport !== 'http') return invalid('transport', 'The transport must be MQTT or HTTP(S).');
  const port = Number(props.port === undefined || props.port === '' ? defaultPort(transport, isTrue(props.tls, true)) : props.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return invalid('port', 'The port must be a whole number from 1 to 65535.');
  const protocolVersion = Number(props.protocolVersion ?? 4);
  if (protocolVersion !== 4 && protocolVersion !== 5) return invalid('protocolVersion', 'The MQTT version must be 4 (3.1.1) or 5.');
  const connectTimeoutMs = secondsToMs(props.connectTimeout, 10000);
  if (connectTimeoutMs === null) return invalid('connectTimeout', 'The connect timeout must be a number of seconds from 0 to 3600.');
  const answerTimeoutMs = secondsToMs(props.answerTimeout, 15000);
  if (answerTimeoutMs === null) return invalid('answerTimeout', 'The answer timeout must be a number of seconds from 0 to 3600.');

  const maxAnswerKiB = props.maxAnswerKiB === undefined || props.maxAnswerKiB === '' ? 64 : Number(props.maxAnswerKiB);
  if (!Number.isInteger(maxAnswerKiB) || maxAnswerKiB < 1 || maxAnswerKiB > 16384) {
    return invalid('maxAnswerKiB', 'The maximum answer size must be a whole number of KiB from 1 to 16384.');
  }

  const options: ServerOptions = {
    host,
    port,
    tls: isTrue(props.tls, true),
    rejectUnauthorized: isTrue(props.verifyServerCert, true),
    protocolVersion,
    connectTimeoutMs,
    answerTimeoutMs,
    maxAnswerBytes: maxAnswerKiB * 1024,
  };
  if (transport === 'http') {
    options.transport = 'http';
    if (props.verifyPort !== undefined && props.verifyPort !== null && props.verifyPort !== '') {
      const verifyPort = Number(props.verifyPort);
      if (!Number.isInteger(verifyPort) || verifyPort < 1 || verifyPort > 65535)
        return invalid('verifyPort', 'The MQTT port for Verify must be a whole number from 1 to 65535.');
      options.verifyPort = verifyPort;
    }
  }
  const servername = typeof props.servername === 'string' ? props.servername.trim() : '';
  if (servername) options.servername = servername;

  if (options.tls) {
    const pasted = typeof credentials.ca === 'string' ? credentials.ca.trim() : '';
    const caFile = typeof props.caFile === 'string' ? props.caFile.trim() : '';
    let pem = '';
    let origin = '';
    if (pasted.length > MAX_CA_BYTES) {
      return invalid('ca', 'The pasted server CA is larger than 1 MB; it is not a CA certificate.');
    } else if (pasted) {
      pem = pasted;
      origin = 'pasted or uploaded';
    } else if (caFile) {
      const read = readCaFile(caFile);
      if ('error' in read) return { ok: false, error: read.error };
      pem = read.pem;
      origin = `file ${caFile}`;
    }
    if (pem) {
      const problem = checkCaPem(pem, origin);
      if (problem) return { ok: false, error: problem };
      options.ca = certificatesOnly(pem, 'ca');
    }
  }
  return { ok: true, options };
}
