'use strict';
// Install as a user would: `npm pack`, `npm install <tarball>` into a fresh Node-RED user folder, then
// each Node-RED of the compatibility matrix (3.1 and 4.1 on Node 20, 5.0 on Node 22; test/helpers/runtimes.js)
// from that folder, checked through the admin HTTP API and against the simulator.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const execFileAsync = promisify(require('node:child_process').execFile);
const {
  PACKAGE_DIR,
  PACKAGE_NAME,
  DEMO_PROFILE,
  NodeRedAdmin,
  startNodeRed,
  startTestSimulator,
  freshDir,
  waitFor,
  deployAndWait,
  packPackage,
  installTarball,
  problemLines,
} = require('../helpers/e2e');
const { NODE_RED_RUNTIMES, INSTALL_TIMEOUT_MS } = require('../helpers/runtimes');
const { listExamples, loadExample, pointFlowAtSimulator, withInlineCredentials } = require('../../nodes/demo/demo-flow');
const { createCertificate } = require('../../nodes/simulator');

const EXAMPLES_DIR = path.join(PACKAGE_DIR, 'examples');
const EXAMPLES = listExamples(EXAMPLES_DIR);
const NODE_TYPES = ['gridlinks-server', 'gridlinks-provision', 'gridlinks-device', 'gridlinks-gateway'];
const ICON_FILES = ['gridlinks.svg', 'gridlinks-gateway.svg'];
/**
 * What pressing each example's inject does on an empty simulator, per its Comment node. An example not
 * listed here must at least provision one device.
 */
const EXPECTED = {
  '01-provision-x509-device': { devices: 1, credentialsType: 'X509_CERTIFICATE' },
  '02-access-token-then-telemetry': { devices: 1, credentialsType: 'ACCESS_TOKEN', telemetry: { temperature: 21.5, humidity: 48 } },
  // Five names, the last one a repeat: four devices, the repeat goes to the Catch branch (FAILURE).
  '03-gateway-bulk-provisioning': { devices: 4, credentialsType: 'ACCESS_TOKEN' },
  // Three names, each device created by its chain login to the simulator's chain profile.
  '04-gateway-issues-chain-certificates': { devices: 3, credentialsType: 'X509_CERTIFICATE' },
  // One device per credentials type, each then publishes a reading through the gridlinks-device node.
  '05-devices-telemetry-and-rpc': { devices: 3 },
  // One gateway; its 20 meters are children created by the gateway's session.
  '06-gateway-many-devices': { devices: 21 },
};

/** Inject nodes from which a message can reach a gridlinks-provision node. */
function injectsFeedingProvision(flows) {
  const byId = new Map(flows.map((node) => [node.id, node]));
  const reachesProvision = (id, seen = new Set()) => {
    if (seen.has(id)) return false;
    seen.add(id);
    const node = byId.get(id);
    if (!node) return false;
    if (node.type === 'gridlinks-provision') return true;
    return (node.wires || []).some((port) => port.some((next) => reachesProvision(next, seen)));
  };
  return flows.filter((node) => node.type === 'inject' && (node.wires || []).some((port) => port.some((next) => reachesProvision(next))));
}

describe('packaging: the npm tarball in a fresh Node-RED user folder', function () {
  this.timeout(120000);
  let userDir;
  let packedFiles;

  before(async function () {
    const workDir = freshDir('packaging');
    const { tarball, files } = await packPackage(workDir);
    packedFiles = files;
    userDir = path.join(workDir, 'node-red');
    fs.mkdirSync(userDir);
    await installTarball(userDir, tarball);
  });

  it('packs the compiled nodes, editor files, locales, icon and examples, and no sources or tests', function () {
    for (const type of NODE_TYPES) {
      assert.ok(packedFiles.includes(`nodes/${type}.js`), `nodes/${type}.js missing from the tarball`);
      assert.ok(packedFiles.includes(`nodes/${type}.html`), `nodes/${type}.html missing from the tarball`);
      for (const lang of ['en-US', 'zh-CN']) {
        assert.ok(packedFiles.includes(`nodes/locales/${lang}/${type}.json`), `${lang} messages for ${type} missing`);
      }
    }
    for (const icon of ICON_FILES) assert.ok(packedFiles.includes(`nodes/icons/${icon}`), `nodes/icons/${icon} missing from the tarball`);
    for (const example of EXAMPLES) assert.ok(packedFiles.includes(`examples/${example}.json`));
    assert.deepEqual(
      packedFiles.filter((file) => /^(src|test|bench)\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts'))),
      [],
    );
  });

  it("README images are absolute URLs of the repository's raw files (relative ones break on the npm page)", function () {
    const manifest = require(path.join(PACKAGE_DIR, 'package.json'));
    const repository = manifest.repository.url.match(/github\.com\/([^/]+\/[^/.]+)/)[1];
    const rawBase = `https://raw.githubusercontent.com/${repository}/main/`;
    const readme = fs.readFileSync(path.join(PACKAGE_DIR, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]+src="([^"]+)"/g)].map((match) => match[1] ?? match[2]);
    assert.ok(images.length > 0, 'the README shows no image');
    for (const image of images) {
      assert.ok(image.startsWith(rawBase), `${image} is not under ${rawBase}`);
      assert.ok(fs.existsSync(path.join(PACKAGE_DIR, image.slice(rawBase.length))), `${image}: no such file in the repository`);
    }
    assert.ok(packedFiles.includes('README.md'));
    assert.ok(packedFiles.includes('CHANGELOG.md'));
  });

  it('installs the gridlinks-provision command (the bundled CLI) and it runs from the user folder', async function () {
    const manifest = require(path.join(PACKAGE_DIR, 'package.json'));
    assert.ok(packedFiles.includes(manifest.bin['gridlinks-provision']), `${manifest.bin['gridlinks-provision']} missing from the tarball`);
    const command = path.join(userDir, 'node_modules', '.bin', 'gridlinks-provision');
    const { stdout } = await execFileAsync(command, ['--version'], { cwd: userDir });
    assert.equal(stdout.trim(), manifest.version);
  });

  for (const runtime of NODE_RED_RUNTIMES) {
    describe(`on Node-RED ${runtime.label} (Node ${runtime.node})`, function () {
      let simulator;
      let nodeRed;
      let admin;
      let prepared;

      before(async function () {
        this.timeout(INSTALL_TIMEOUT_MS + 60000);
        const { nodeRedDir, nodeExecutable, env: runtimeEnv } = await runtime.prepare();
        const fleetCa = await createCertificate({ commonName: 'packaging fleet CA', isCA: true });
        simulator = await startTestSimulator({
          profiles: [
            { ...DEMO_PROFILE, strategy: 'ALLOW_CREATE_NEW_DEVICES' },
            { name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: fleetCa.certPem },
          ],
        });
        const target = { host: simulator.host, mqttsPort: simulator.mqttsPort, caFile: simulator.caFile };
        const profile = { ...DEMO_PROFILE, signerCertificate: fleetCa.certPem, signerKey: fleetCa.keyPem };
        prepared = new Map(EXAMPLES.map((name) => [name, pointFlowAtSimulator(loadExample(name, EXAMPLES_DIR), target, profile)]));
        const env = Object.assign({ ...runtimeEnv }, ...[...prepared.values()].map((flow) => flow.env));
        nodeRed = await startNodeRed({ userDir, nodeRedDir, nodeExecutable, flows: [], env });
        admin = new NodeRedAdmin(nodeRed.url);
      });

      after(async function () {
        await nodeRed?.stop();
        await simulator?.stop();
      });

      it(`is Node-RED ${runtime.label}.x on Node ${runtime.node}`, async function () {
        const settings = await admin.getJson('/settings');
        assert.match(settings.version, new RegExp(`^${runtime.label.replace('.', '\\.')}\\.`));
        const startLine = nodeRed.lines.find((line) => /Node\.js\s+version:/.test(line));
        assert.match(startLine, new RegExp(`Node\\.js\\s+version:\\s+v${runtime.node}\\.`));
      });

      it('registers every node type from the installed module, without error', async function () {
        const sets = (await admin.getJson('/nodes')).filter((set) => set.module === PACKAGE_NAME);
        assert.deepEqual(sets.map((set) => set.name).sort(), [...NODE_TYPES].sort());
        for (const set of sets) {
          assert.equal(set.err, undefined, `${set.name}: ${set.err}`);
          assert.equal(set.enabled, true);
        }
        assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...NODE_TYPES].sort());
        const version = require(path.join(PACKAGE_DIR, 'package.json')).version;
        assert.deepEqual([...new Set(sets.map((set) => set.version))], [version]);
        const installed = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
        assert.equal(fs.lstatSync(installed).isSymbolicLink(), false, 'the module must be the unpacked tarball, not a link to the repo');
      });

      it('serves the package icons, not the default one', async function () {
        const icons = await admin.getJson('/icons');
        assert.deepEqual(icons[PACKAGE_NAME].sort(), [...ICON_FILES].sort());
        for (const icon of ICON_FILES) {
          const served = await admin.getText(`/icons/${PACKAGE_NAME}/${icon}`);
          assert.equal(served.status, 200);
          assert.match(served.contentType, /svg/);
          assert.equal(served.text, fs.readFileSync(path.join(PACKAGE_DIR, 'icons', icon), 'utf8'));
        }
      });

      it('serves the editor templates with English and Chinese help', async function () {
        const english = await admin.getText('/nodes', { accept: 'text/html', 'accept-language': 'en-US' });
        const chinese = await admin.getText('/nodes', { accept: 'text/html', 'accept-language': 'zh-CN' });
        for (const type of NODE_TYPES) {
          assert.ok(english.text.includes(`data-template-name="${type}"`), `no editor template for ${type}`);
          for (const page of [english, chinese]) {
            assert.match(page.text, new RegExp(`data-help-name="${type}"`), `no help for ${type}`);
          }
        }
        const helpOf = (page, type) => page.text.split(`data-help-name="${type}"`)[1].split('</script>')[0];
        for (const type of NODE_TYPES) {
          assert.doesNotMatch(helpOf(english, type), /[\u4e00-\u9fff]/, `English help of ${type} has Chinese text`);
          assert.match(helpOf(chinese, type), /[\u4e00-\u9fff]/, `zh-CN help of ${type} has no Chinese text`);
        }
      });

      it('serves the zh-CN message catalog', async function () {
        for (const type of NODE_TYPES) {
          const english = await admin.getJson(`/nodes/${PACKAGE_NAME}/${type}/messages?lng=en-US`);
          const chinese = await admin.getJson(`/nodes/${PACKAGE_NAME}/${type}/messages?lng=zh-CN`);
          assert.ok(english[type], `no ${type} messages in en-US`);
          assert.ok(chinese[type], `no ${type} messages in zh-CN`);
          assert.match(JSON.stringify(chinese), /[\u4e00-\u9fff]/);
          assert.notDeepEqual(chinese, english);
        }
      });

      it('lists every example under the package', async function () {
        const listing = await admin.getJson(`/library/examples/flows/${PACKAGE_NAME}`);
        const names = listing.map((entry) => entry.fn).sort();
        assert.ok(EXAMPLES.length >= 3, `expected at least three examples, found ${EXAMPLES.join(', ')}`);
        assert.deepEqual(names, EXAMPLES);
      });

      for (const example of EXAMPLES) {
        it(`deploys example "${example}" and it provisions against the simulator`, async function () {
          const expected = EXPECTED[example] ?? { devices: 1 };
          const { flows, credentials } = prepared.get(example);
          const known = new Set(simulator.devices().map((device) => device.name));
          const linesBefore = nodeRed.lines.length;
          await deployAndWait(nodeRed, withInlineCredentials(flows, credentials));
          const injects = injectsFeedingProvision(flows);
          assert.ok(injects.length > 0, 'the example has no inject node that feeds gridlinks-provision');
          for (const inject of injects) await admin.inject(inject.id);
          const fresh = () => simulator.devices().filter((device) => !known.has(device.name));
          await waitFor(`${expected.devices} device(s) provisioned by ${example}`, () => fresh().length >= expected.devices, 30000);
          if (expected.telemetry) {
            const [device] = fresh();
            const records = await waitFor(
              `telemetry from ${device.name}`,
              () => simulator.telemetry(device.name).length > 0 && simulator.telemetry(device.name),
              20000,
            );
            assert.deepEqual(records[0].payload, expected.telemetry);
          }
          // The last request of the bulk example (a repeated name) is answered FAILURE; let it finish.
          await new Promise((resolve) => setTimeout(resolve, 500));
          assert.equal(fresh().length, expected.devices);
          if (expected.credentialsType) {
            assert.deepEqual([...new Set(fresh().map((device) => device.credentials.credentialsType))], [expected.credentialsType]);
          }
          const errors = nodeRed.lines.slice(linesBefore).filter((line) => /\[error\]/.test(line));
          assert.deepEqual(errors, []);
        });
      }

      it('logs no warning or error of its own at start', function () {
        const ours = problemLines(nodeRed).filter((line) => /gridlinks/i.test(line));
        assert.deepEqual(ours, []);
      });
    });
  }
});
