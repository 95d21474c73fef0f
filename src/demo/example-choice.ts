import type { FlowNode } from './demo-flow';
import { listExamples, loadExample, nodeLabel } from './demo-flow';

/** The example flow the demo deploys: the one named (checked against examples/), else the first with an X.509 provision node. */
export function chooseExample(examplesDir: string, named: string | undefined): string {
  const examples = listExamples(examplesDir);
  if (named) {
    if (examples.includes(named)) return named;
    throw new Error(`GRIDLINKS_DEMO_EXAMPLE="${named}" names no example. Choose one of: ${examples.join(', ') || '(none in examples/)'}.`);
  }
  const x509 = examples.find((name) => credentialTypes(loadExample(name, examplesDir)).includes('X509_CERTIFICATE'));
  if (!x509) throw new Error(`No example flow with an X.509 gridlinks-provision node in ${examples.join(', ') || 'examples/'}.`);
  return x509;
}

/** The credential types the flow's provision nodes ask for (the node's default is an X.509 certificate). */
export function credentialTypes(flows: FlowNode[]): string[] {
  const types = flows
    .filter((node) => node.type === 'gridlinks-provision')
    .map((node) => (typeof node.credentialsType === 'string' && node.credentialsType) || 'X509_CERTIFICATE');
  return [...new Set(types)];
}

const WHAT_A_DEVICE_GETS: Record<string, string> = {
  X509_CERTIFICATE: 'an X.509 certificate and a private key made in Node-RED',
  ACCESS_TOKEN: 'an access token',
  MQTT_BASIC: 'MQTT basic credentials (client id, user name, password)',
};

/** "What to click" step 3 for this flow: where its debug nodes print, and what a device gets. */
export function debugStep(flows: FlowNode[]): string {
  const debugNames = flows.filter((node) => node.type === 'debug').map((node) => `"${nodeLabel(node)}"`);
  const gets = credentialTypes(flows)
    .map((type) => WHAT_A_DEVICE_GETS[type] ?? type)
    .join(' or ');
  const where =
    debugNames.length === 0
      ? 'messages show there'
      : debugNames.length === 1
        ? `the debug node ${debugNames[0]} prints there`
        : `the debug nodes ${debugNames.join(', ')} print there`;
  return `Open the Debug sidebar (the bug icon): ${where}. Each device gets ${gets}.`;
}
