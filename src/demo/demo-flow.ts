import fs from 'node:fs';
import path from 'node:path';

/** A node object as it appears in a flow JSON array. */
export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

/** A node's name in messages to the user, or its id when it has none. */
export function nodeLabel(node: FlowNode): string {
  return typeof node.name === 'string' && node.name !== '' ? node.name : node.id;
}

/** Where the simulator listens, as the flows should see it. */
export interface SimulatorTarget {
  host: string;
  mqttsPort: number;
  caFile: string;
}

export interface ProfileSecret {
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  /** X.509 chain examples: the chain profile's CA certificate and key (PEM), given to their signer sources. */
  signerCertificate?: string;
  signerKey?: string;
}

/** Node credentials by node id, the shape of flows_cred.json (with credentialSecret: false). */
export type FlowCredentials = Record<string, Record<string, string>>;

export interface PreparedFlow {
  flows: FlowNode[];
  credentials: FlowCredentials;
  /** Environment the flows read through `env` TypedInputs. */
  env: Record<string, string>;
}

/** Folder of the package's example flows (the package root's examples/, beside nodes/). */
export const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', 'examples');

export function listExamples(examplesDir = EXAMPLES_DIR): string[] {
  return fs
    .readdirSync(examplesDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

export function loadExample(name: string, examplesDir = EXAMPLES_DIR): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(examplesDir, `${name}.json`), 'utf8')) as FlowNode[];
}

const PROVISION_SOURCES = [
  { property: 'provisionKey', credential: 'provisionDeviceKey', profileField: 'provisionDeviceKey' },
  { property: 'provisionSecret', credential: 'provisionDeviceSecret', profileField: 'provisionDeviceSecret' },
] as const;

/** The signer of a provision node set to X509_CERTIFICATE_CHAIN, filled the same way when the profile has one. */
const SIGNER_SOURCES = [
  { property: 'signerCert', credential: 'signerCertificate', profileField: 'signerCertificate' },
  { property: 'signerKey', credential: 'signerPrivateKey', profileField: 'signerKey' },
] as const;

/** The environment variable the examples read the server CA file from (`${GRIDLINKS_CA_FILE}`). */
export const CA_FILE_ENV = 'GRIDLINKS_CA_FILE';

/**
 * A copy of `flow` pointed at the simulator: every gridlinks-server (and core mqtt-broker) gets the
 * simulator's host, TLS port and CA file; every gridlinks-provision gets the profile's key and secret
 * through whatever source the flow chose for them (the node's own credentials, an env variable as the
 * examples do, or a literal string). The CA file is also offered as GRIDLINKS_CA_FILE for tls-config nodes.
 */
export function pointFlowAtSimulator(flow: FlowNode[], target: SimulatorTarget, profile: ProfileSecret): PreparedFlow {
  const flows = structuredClone(flow);
  const credentials: FlowCredentials = {};
  const env: Record<string, string> = { [CA_FILE_ENV]: target.caFile };
  for (const node of flows) {
    if (node.type === 'gridlinks-server') {
      Object.assign(node, { host: target.host, port: target.mqttsPort, tls: true, verifyServerCert: true, caFile: target.caFile });
    } else if (node.type === 'mqtt-broker') {
      Object.assign(node, { broker: target.host, port: String(target.mqttsPort) });
    } else if (node.type === 'gridlinks-provision') {
      const chain = node.credentialsType === 'X509_CERTIFICATE_CHAIN' && profile.signerCertificate !== undefined && profile.signerKey !== undefined;
      for (const source of [...PROVISION_SOURCES, ...(chain ? SIGNER_SOURCES : [])]) {
        const value = profile[source.profileField] as string;
        const type = node[`${source.property}Type`];
        if (type === 'env' && typeof node[source.property] === 'string' && node[source.property] !== '') {
          env[node[source.property] as string] = value;
        } else if (type === 'str') {
          node[source.property] = value;
        } else if (type === 'cred' || type === undefined) {
          node[`${source.property}Type`] = 'cred';
          (credentials[node.id] ??= {})[source.credential] = value;
        }
        // msg / flow / global: the flow supplies it itself (e.g. from an inject payload).
      }
    }
  }
  return { flows, credentials, env };
}

/**
 * Example files are made for Import, which puts their nodes on the current tab. Deployed as they are
 * (POST /flows, flows.json) a flow node needs a `z` that names a tab: give them one when they lack it.
 */
export function onOwnTab(flow: FlowNode[], tabId: string, label: string): FlowNode[] {
  const containers = new Set(flow.filter((node) => node.type === 'tab' || node.type === 'subflow').map((node) => node.id));
  const isFlowNode = (node: FlowNode): boolean => node.type !== 'tab' && node.type !== 'subflow' && ('x' in node || 'wires' in node);
  const needsTab = flow.filter((node) => isFlowNode(node) && !containers.has(node.z as string));
  if (needsTab.length === 0) return flow;
  const tab: FlowNode = { id: tabId, type: 'tab', label, disabled: false, info: '' };
  return [tab, ...flow.map((node) => (needsTab.includes(node) ? { ...node, z: tabId } : node))];
}

/** The flows with each node's credentials inline, the shape POST /flows (what the editor deploys) takes. */
export function withInlineCredentials(flows: FlowNode[], credentials: FlowCredentials): FlowNode[] {
  return flows.map((node) => (credentials[node.id] ? { ...node, credentials: { ...credentials[node.id] } } : { ...node }));
}

/** Inject nodes of the flow, in flow order. */
export function injectNodes(flows: FlowNode[]): FlowNode[] {
  return flows.filter((node) => node.type === 'inject');
}
