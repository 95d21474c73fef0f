/**
 * `npm start`: a local GridLinks simulator plus a Node-RED with this package and the X.509 example
 * flow deployed against it, one device provisioned at start. Ctrl-C stops both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startSimulator } from '../simulator/index';
import type { SimulatorHandle } from '../simulator/types';
import { NodeRedAdmin } from './admin-api';
import { DeviceWatcher } from './device-watcher';
import { DEMO_PROFILE, demoSettings, type DemoSettings } from './demo-settings';
import { CA_FILE_ENV, injectNodes, loadExample, nodeLabel, onOwnTab, pointFlowAtSimulator, type FlowNode, type PreparedFlow } from './demo-flow';
import { chooseExample, debugStep } from './example-choice';
import { startNodeRed, type NodeRedProcess } from './node-red-process';
import { preferPort } from './ports';
import { onStopRequest } from './stop-requests';

const say = (line = ''): void => void process.stdout.write(`${line}\n`);

/** Node-RED warnings every demo start prints and that mean nothing here. */
const QUIET_WARNINGS = [/Projects disabled/, /Using unencrypted credentials/, /Encrypted credentials not found/];
/** Node-RED's lines about (re)deploys and flows starting and stopping: they tell a newcomer what happens. */
const FLOW_LINES = /\[info\] (Starting|Started|Stopping|Stopped|Updated)( modified)? (flows|nodes)|\[info\] Flows file/;
/** How long a stop may take before the demo exits anyway (Node-RED is killed after 10 s of its own). */
const STOP_DEADLINE_MS = 20_000;

function forwardNodeRedLine(line: string): void {
  const problem = /\[(warn|error)\]/.test(line) && !QUIET_WARNINGS.some((quiet) => quiet.test(line));
  if (problem || FLOW_LINES.test(line)) say(`  node-red | ${line}`);
}

/** The inject node that feeds a provision node (the one the demo presses at start). */
function startInject(flows: FlowNode[]): FlowNode | undefined {
  const provisionIds = new Set(flows.filter((node) => node.type === 'gridlinks-provision').map((node) => node.id));
  const injects = injectNodes(flows);
  const feedsProvision = (node: FlowNode): boolean =>
    Array.isArray(node.wires) && (node.wires as string[][]).some((port) => port.some((id) => provisionIds.has(id)));
  return injects.find(feedsProvision) ?? injects[0];
}

/** Where the deployed flow finds the provision key and secret, in words. */
function secretSource(prepared: PreparedFlow): string {
  const names = Object.keys(prepared.env).filter((name) => name !== CA_FILE_ENV);
  if (names.length > 0) return `key and secret reach the flow as env ${names.join(' / ')}`;
  return "key and secret are stored in the provision node's credentials";
}

interface Welcome {
  sim: SimulatorHandle;
  nodeRed: NodeRedProcess;
  settings: DemoSettings;
  example: string;
  prepared: PreparedFlow;
  userDir: string;
  inject: FlowNode | undefined;
}

/** What runs where, and what to click (docs/demo.md quotes this). */
function printWelcome({ sim, nodeRed, settings, example, prepared, userDir, inject }: Welcome): void {
  say();
  say('GridLinks demo is running.');
  say(`  Simulator  mqtts://${sim.host}:${sim.mqttsPort} (CA ${sim.caFile})`);
  say(`             mqtt://${sim.host}:${sim.mqttPort}`);
  say('             in memory: it starts EMPTY on every run, so the same device names work again.');
  say(`  Profile    provision key "${DEMO_PROFILE.provisionDeviceKey}" (public demo data)`);
  say(`             ${secretSource(prepared)}`);
  say(`  Node-RED   ${nodeRed.url}  (user folder ${path.relative(process.cwd(), userDir) || userDir})`);
  say(`  Flow       ${path.relative(settings.packageDir, path.join(settings.examplesDir, `${example}.json`))}, deployed and pointed at the simulator`);
  say(`             (the flows of the last run, if any, were kept as flows.previous.json)`);
  say();
  say('What to click:');
  say(`  1. Open ${nodeRed.url} in a browser.`);
  say(`  2. Press the button on the left of the inject node${typeof inject?.name === 'string' && inject.name ? ` "${inject.name}"` : ''}.`);
  say(`  3. ${debugStep(prepared.flows)}`);
  say('  New devices show up below. Ctrl-C stops Node-RED and the simulator.');
  say();
}

async function main(): Promise<void> {
  const settings = demoSettings();
  let simulator: SimulatorHandle | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let watcher: DeviceWatcher | undefined;
  let stopping = false;

  const stopAll = async (exitCode: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    setTimeout(() => {
      say(`Not stopped after ${STOP_DEADLINE_MS / 1000} s; exiting anyway.`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    say('Stopping Node-RED and the simulator...');
    watcher?.stop();
    await nodeRed?.stop();
    await simulator?.stop();
    say('Stopped.');
    process.exit(exitCode);
  };
  onStopRequest(() => void stopAll(0));

  try {
    const example = chooseExample(settings.examplesDir, settings.example);
    const mqtts = await preferPort(settings.mqttsPort);
    const mqtt = await preferPort(settings.mqttPort);
    const editor = await preferPort(settings.editorPort);
    if (mqtts.moved) say(`Port ${settings.mqttsPort} is taken: the simulator's MQTT over TLS uses port ${mqtts.port} instead.`);
    if (mqtt.moved) say(`Port ${settings.mqttPort} is taken: the simulator's plain MQTT uses port ${mqtt.port} instead.`);
    if (editor.moved) say(`Port ${settings.editorPort} is taken: the Node-RED editor uses port ${editor.port} instead.`);

    const sim: SimulatorHandle = await startSimulator({
      host: '127.0.0.1',
      mqttsPort: mqtts.port,
      mqttPort: mqtt.port,
      profiles: [{ ...DEMO_PROFILE, strategy: 'ALLOW_CREATE_NEW_DEVICES' }],
    });
    simulator = sim;
    if (!sim.caFile || !sim.mqttsPort) throw new Error('The simulator started without TLS; the demo needs its CA file.');

    const target = { host: sim.host, mqttsPort: sim.mqttsPort, caFile: sim.caFile };
    const exampleFlow = onOwnTab(loadExample(example, settings.examplesDir), 'gridlinks-demo-tab', 'GridLinks demo');
    const prepared = pointFlowAtSimulator(exampleFlow, target, DEMO_PROFILE);
    const userDir = path.join(settings.demoDir, 'node-red');
    const previousFlows = path.join(userDir, 'flows.json');
    if (fs.existsSync(previousFlows)) fs.copyFileSync(previousFlows, path.join(userDir, 'flows.previous.json'));

    nodeRed = await startNodeRed({
      userDir,
      uiPort: editor.port,
      flows: prepared.flows,
      credentials: prepared.credentials,
      env: prepared.env,
      linkPackageDir: settings.packageDir,
      onLine: forwardNodeRedLine,
    });
    nodeRed.child.once('exit', (code) => {
      if (stopping) return;
      say(`Node-RED stopped by itself (exit code ${code}).`);
      void stopAll(1);
    });

    const inject = startInject(prepared.flows);
    printWelcome({ sim, nodeRed, settings, example, prepared, userDir, inject });

    watcher = new DeviceWatcher(sim, (line) => say(line));
    if (inject) {
      say(`Provisioning one device now through the flow (inject "${nodeLabel(inject)}")...`);
      await new NodeRedAdmin(nodeRed.url).inject(inject.id);
      if (!(await watcher.waitForFirst(60_000))) {
        say('No device was provisioned within a minute: see the node-red lines above and the node status in the editor.');
      }
    }
  } catch (error) {
    say(`The demo could not start: ${(error as Error).message}`);
    await stopAll(1);
  }
}

void main();
