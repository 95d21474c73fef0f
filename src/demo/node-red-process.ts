import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './ports';

export { freePort } from './ports';

export interface NodeRedProcessOptions {
  /** Node-RED user folder; created if missing. */
  userDir: string;
  /** Editor/admin port on 127.0.0.1; 0 = any free port. */
  uiPort?: number;
  /** Flows to deploy at start (written to flows.json). */
  flows?: unknown[];
  /** Node credentials by node id (written to flows_cred.json in clear text: credentialSecret is false). */
  credentials?: Record<string, Record<string, string>>;
  /** Extra environment for the Node-RED process (read by `env` TypedInputs and ${VAR} properties). */
  env?: Record<string, string>;
  /** Folder of the node-red package to run (default: the one this package depends on). */
  nodeRedDir?: string;
  /** The node binary that runs Node-RED (default: the one running this process; Node-RED 5 needs Node >= 22.9). */
  nodeExecutable?: string;
  /** Link this package folder into userDir/node_modules, as `npm install <folder>` would. */
  linkPackageDir?: string;
  /** Called with each line Node-RED prints. */
  onLine?: (line: string) => void;
  /** How long to wait for "Started flows" (default 60 s). */
  startTimeoutMs?: number;
  /** Extra settings.js keys (JSON values), merged over the defaults. */
  settings?: Record<string, unknown>;
}

export interface NodeRedProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line Node-RED has printed so far. */
  lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** How many of the last lines Node-RED printed go into a start failure's message. */
const TAIL_LINES = 15;
/** Lines kept for `lines` / `waitForLine` (a demo can run for days). */
const MAX_KEPT_LINES = 5000;

function writeSettings(userDir: string, uiPort: number, overrides: Record<string, unknown> = {}): string {
  const settingsFile = path.join(userDir, 'settings.js');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort,
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    ...overrides,
  };
  fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return settingsFile;
}

function linkPackage(userDir: string, packageDir: string): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { name: string };
  const target = path.join(userDir, 'node_modules', ...manifest.name.split('/'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(target, { recursive: true, force: true });
  fs.symlinkSync(path.resolve(packageDir), target, 'dir');
  const userPackage = path.join(userDir, 'package.json');
  if (!fs.existsSync(userPackage)) {
    fs.writeFileSync(userPackage, JSON.stringify({ name: 'node-red-project', private: true, dependencies: {} }, null, 2));
  }
}

/** Start a real Node-RED in its own process and user folder; resolves once its flows have started and its HTTP port is open. */
export async function startNodeRed(options: NodeRedProcessOptions): Promise<NodeRedProcess> {
  const userDir = path.resolve(options.userDir);
  fs.mkdirSync(userDir, { recursive: true });
  const port = options.uiPort || (await freePort());
  const settingsFile = writeSettings(userDir, port, options.settings);
  if (options.linkPackageDir) linkPackage(userDir, options.linkPackageDir);
  if (options.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials) {
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2), { mode: 0o600 });
  }

  const nodeRedDir = options.nodeRedDir ?? path.dirname(require.resolve('node-red/package.json'));
  const watchdog = path.join(__dirname, 'parent-watchdog.js');
  const child = spawn(
    options.nodeExecutable ?? process.execPath,
    ['--require', watchdog, path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settingsFile],
    // Its own process group: a signal to ours (Ctrl-C, `timeout`, `kill -- -PGID`) reaches only us, and
    // we stop Node-RED in order; if we die without doing so, parent-watchdog stops it.
    { env: { ...process.env, ...options.env, NODE_RED_ENABLE_TOURS: 'false' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );

  const lines: string[] = [];
  const lineWaiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  let pending = '';
  const onData = (chunk: Buffer): void => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      if (lines.length > MAX_KEPT_LINES) lines.splice(0, lines.length - MAX_KEPT_LINES);
      options.onLine?.(line);
      for (const waiter of lineWaiters) if (waiter.pattern.test(line)) waiter.resolve(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.stdin?.on('error', () => undefined);

  const waitForLine = (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (line: string) => {
          cleanup();
          resolve(line);
        },
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`Node-RED exited (code ${child.exitCode}) before printing a line matching ${pattern}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Node-RED printed no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        lineWaiters.delete(waiter);
        child.off('exit', onExit);
      };
      lineWaiters.add(waiter);
      child.once('exit', onExit);
    });
  };

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin?.end();
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  // red.js starts the flows first and only then opens its HTTP port: "Started flows" alone is too early for the admin API.
  const { httpAdminRoot, httpNodeRoot, httpStatic } = options.settings ?? {};
  const servesHttp = httpAdminRoot !== false || httpNodeRoot !== false || httpStatic !== undefined;
  try {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    await Promise.all([waitForLine(/Started flows/, timeoutMs), servesHttp ? waitForLine(/Server now running at/, timeoutMs) : undefined]);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${lines.slice(-TAIL_LINES).join('\n')}`, { cause: error });
  }
  return { url: `http://127.0.0.1:${port}`, port, child, lines, waitForLine, stop };
}
