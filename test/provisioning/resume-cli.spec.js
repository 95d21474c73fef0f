'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { generateKeyPairSync } = require('node:crypto');
const { createCertificate } = require('../../nodes/simulator');
const { startSim, uniqueName, tempDir, KEY, SECRET } = require('./support');

const { CLI } = require('../helpers/cli');

function runCli(args) {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, GRIDLINKS_PROVISION_SECRET: SECRET } }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
    child.stdin.end();
  });
}

describe('gridlinks-provision --resume and --if-stored', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  let connection;
  before(async () => {
    sim = await startSim();
    connection = ['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile];
  });
  after(() => sim.stop());
  beforeEach(() => {
    dir = tempDir('gl-resume-cli-');
  });
  afterEach(() => {
    sim.setFaults({});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const provision = (deviceName, extra = []) =>
    runCli([...connection, '--provision-key', KEY, '--device-name', deviceName, '--key-type', 'p256', '--out', dir, '--timeout', '0.5', ...extra]);

  it('a lost answer is resumed to a committed device; running again prints it from the store with nothing sent', async () => {
    const deviceName = uniqueName('cli-lost');
    sim.setFaults({ noAnswer: true });
    const lost = await provision(deviceName);
    sim.setFaults({});
    assert.equal(lost.code, 5, lost.stderr);
    assert.match(lost.stderr, /OUTCOME_UNKNOWN.*--resume --out/);
    const created = sim.devices().find((device) => device.name === deviceName);
    assert.ok(created);

    const resumed = await runCli([...connection, '--resume', '--out', dir]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^provisioned +"${deviceName}": GridLinks accepts the pending credentials`));
    const stored = JSON.parse(fs.readFileSync(path.join(dir, deviceName, 'credentials.json'), 'utf8'));
    assert.equal(stored.credentials.credentialsId, created.credentials.credentialsId);

    const devices = sim.devices().length;
    const again = await provision(deviceName);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already holds device .*nothing was sent/);
    assert.equal(sim.devices().length, devices);
    const refused = await provision(deviceName, ['--if-stored', 'fail']);
    assert.equal(refused.code, 7);
  });

  it('--json: one object per entry; exit 5 while an entry is left unknown, 0 once none is', async () => {
    const created = uniqueName('cli-created');
    const never = uniqueName('cli-never');
    sim.setFaults({ noAnswer: true });
    assert.equal((await provision(created)).code, 5);
    sim.setFaults({ closeAfterRequest: true });
    assert.equal((await provision(never)).code, 5);
    sim.setFaults({});

    const down = await runCli(['--host', '127.0.0.1', '--port', '1', '--ca', sim.caFile, '--timeout', '1', '--resume', '--out', dir, '--json']);
    assert.equal(down.code, 5);
    const unknown = down.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      unknown.map((entry) => entry.outcome),
      ['unknown', 'unknown'],
    );

    const settled = await runCli([...connection, '--resume', '--out', dir, '--json']);
    assert.equal(settled.code, 0, settled.stdout);
    const entries = settled.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const byName = Object.fromEntries(entries.map((entry) => [entry.deviceName, entry]));
    assert.equal(byName[created].outcome, 'provisioned');
    assert.equal(byName[created].stored.dir, path.join(dir, created));
    assert.equal(byName[never].outcome, 'not-created');
    assert.ok(!settled.stdout.includes('PRIVATE KEY'));
    assert.equal((await runCli([...connection, '--resume', '--out', dir])).stdout, `Nothing pending in ${dir}.\n`);
  });

  it('each entry is settled on its own: a mismatched key or a 65,536-byte token is unknown with its reason, the others are reported (exit 5)', async () => {
    const goodName = uniqueName('cli-good');
    sim.setFaults({ noAnswer: true });
    assert.equal((await provision(goodName)).code, 5);
    sim.setFaults({});
    const pending = path.join(dir, '.pending');
    const record = (deviceName, fields) => ({
      version: 1,
      deviceName,
      server: { host: '127.0.0.1', port: sim.mqttsPort, tls: true },
      createdAt: new Date(Date.now() - 60_000).toISOString(),
      pid: 999_999_999,
      settledBy: new Date(Date.now() - 30_000).toISOString(),
      ...fields,
    });
    const write = (name, value) => fs.writeFileSync(path.join(pending, name), typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 });
    const { certPem } = await createCertificate({ commonName: 'a-mismatch' });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    write('a-mismatch.json', record('a-mismatch', { credentialsType: 'X509_CERTIFICATE', certificate: certPem, privateKeyFile: true }));
    write('a-mismatch.key.pem', other);
    write('c-garbage.json', record('c-garbage', { credentialsType: 'X509_CERTIFICATE', certificate: 'not a certificate', privateKeyFile: true }));
    write('c-garbage.key.pem', other);
    write('b-long.json', record('b-long', { credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'x'.repeat(65_536) } }));

    const started = Date.now();
    const run = await runCli([...connection, '--timeout', '2', '--resume', '--out', dir, '--json']);
    assert.ok(Date.now() - started < 20_000, 'the run ends');
    assert.equal(run.code, 5, run.stdout + run.stderr);
    assert.doesNotMatch(run.stderr, /internal error/i);
    const byName = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map((entry) => [entry.deviceName, entry]),
    );
    assert.equal(byName[goodName].outcome, 'provisioned', run.stdout);
    assert.equal(byName['a-mismatch'].outcome, 'unknown');
    assert.match(byName['a-mismatch'].message, /private key does not belong to the certificate/);
    assert.equal(byName['b-long'].outcome, 'unknown');
    assert.match(byName['b-long'].message, /access token is 65536 bytes/);
    assert.equal(byName['c-garbage'].outcome, 'unknown');
    assert.ok(fs.existsSync(path.join(pending, 'a-mismatch.key.pem')));
    assert.ok(fs.existsSync(path.join(pending, 'b-long.json')));
    assert.ok(!run.stdout.includes('x'.repeat(100)), 'the token is not echoed');
  });

  it('--resume needs --out; --if-stored takes reuse or fail', async () => {
    assert.equal((await runCli([...connection, '--resume'])).code, 2);
    assert.equal((await runCli([...connection, '--if-stored', 'always'])).code, 2);
  });
});
