import path from 'node:path';

/** Public demo data: printed in the terminal and docs/demo.md on purpose. */
export const DEMO_PROFILE = {
  name: 'GridLinks demo',
  provisionDeviceKey: 'gridlinks-demo-key',
  provisionDeviceSecret: 'gridlinks-demo-secret',
} as const;

export interface DemoSettings {
  /** Root of this package (package.json, examples/, nodes/). */
  packageDir: string;
  /** Holds the Node-RED user folder (git-ignored). */
  demoDir: string;
  editorPort: number;
  mqttsPort: number;
  mqttPort: number;
  /** Where the example flows are (the package's examples/). */
  examplesDir: string;
  /** The example flow deployed at start (a file name in examplesDir, without .json). */
  example: string | undefined;
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0 = any free port), not "${raw}".`);
  }
  return port;
}

/** Defaults for `npm start`; the environment can move the ports and the folder (the tests do, to run beside a demo). */
export function demoSettings(): DemoSettings {
  const packageDir = path.resolve(__dirname, '..', '..');
  return {
    packageDir,
    demoDir: path.resolve(packageDir, process.env.GRIDLINKS_DEMO_DIR || '.demo'),
    editorPort: portFromEnv('GRIDLINKS_DEMO_EDITOR_PORT', 1880),
    mqttsPort: portFromEnv('GRIDLINKS_DEMO_MQTTS_PORT', 8883),
    mqttPort: portFromEnv('GRIDLINKS_DEMO_MQTT_PORT', 1883),
    examplesDir: path.resolve(packageDir, process.env.GRIDLINKS_DEMO_EXAMPLES_DIR || 'examples'),
    example: process.env.GRIDLINKS_DEMO_EXAMPLE || undefined,
  };
}
