'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { provisionDevice, inspectStore } = require('../../nodes/provisioning');
const { startSim, options, uniqueName, rejectsWith, tempDir } = require('./support');

/** A pid that certainly belongs to no running process: a child that has exited. */
function deadPid() {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

function p256Key() {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
}

describe('credential store: folder safety and leftovers of a killed run', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.stop());
  beforeEach(() => {
    dir = tempDir('gl-safe-');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function refused(storeDir, reason, pattern) {
    const before = sim.devices().length;
    const sessions = sim.lines.length;
    const error = await rejectsWith(provisionDevice(options(sim, { deviceName: uniqueName('unsafe'), keyAlgorithm: 'p256', storeDir })), 'STORE');
    assert.equal(error.details.requestSent, false);
    assert.equal(error.details.reason, reason);
    assert.match(error.message, pattern);
    assert.equal(sim.devices().length, before, 'nothing was sent');
    assert.deepEqual(
      sim.lines.slice(sessions).filter((line) => /provision/.test(line)),
      [],
    );
    return error;
  }

  it('a store folder that is a symlink is refused with STORE, nothing sent, and says what to do', async () => {
    const real = path.join(dir, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(dir, 'link');
    fs.symlinkSync(real, link);
    await refused(link, 'SYMLINK', /symbolic link.*real folder/);
    assert.deepEqual(fs.readdirSync(real), [], 'nothing written through the link');
  });

  it('a .pending that is a symlink is refused (and not followed)', async () => {
    const store = path.join(dir, 'store');
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(store, { mode: 0o700 });
    fs.mkdirSync(elsewhere, { mode: 0o700 });
    fs.symlinkSync(elsewhere, path.join(store, '.pending'));
    await refused(store, 'SYMLINK', /\.pending/);
    assert.deepEqual(fs.readdirSync(elsewhere), []);
  });

  it('a store folder writable by group or others is refused with the chmod that fixes it', async () => {
    const store = path.join(dir, 'open');
    fs.mkdirSync(store);
    fs.chmodSync(store, 0o777);
    await refused(store, 'MODE', /chmod 700/);
    fs.chmodSync(store, 0o770);
    await refused(store, 'MODE', /other users/);
    fs.chmodSync(store, 0o755);
    await provisionDevice(options(sim, { deviceName: uniqueName('ok'), credentialsType: 'ACCESS_TOKEN', storeDir: store }));
  });

  it('a store folder owned by another user is refused', async function () {
    if (process.getuid() !== 0) this.skip(); // only root can give a folder away
    const store = path.join(dir, 'theirs');
    fs.mkdirSync(store, { mode: 0o700 });
    fs.chownSync(store, 65534, 65534);
    await refused(store, 'OWNER', /owned by user id 65534/);
  });

  it('a missing store folder is created 0700, .pending too', async () => {
    const store = path.join(dir, 'new', 'store');
    await provisionDevice(options(sim, { deviceName: uniqueName('new'), credentialsType: 'ACCESS_TOKEN', storeDir: store }));
    assert.equal(fs.statSync(store).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(store, '.pending')).mode & 0o777, 0o700);
  });

  it('a store folder that cannot be made (under /proc, where the recursive mkdir of Node retries forever) is STORE at once, nothing sent', async function () {
    this.timeout(10_000); // the bug was a hang: the mocha timeout is what fails it
    const error = await rejectsWith(
      provisionDevice(options(sim, { deviceName: uniqueName('proc'), credentialsType: 'ACCESS_TOKEN', storeDir: '/proc/gridlinks-test/store' })),
      'STORE',
    );
    assert.equal(error.details.requestSent, false);
    assert.match(error.message, /\/proc\/gridlinks-test\/store/);
  });

  it('leftovers of a killed run: a complete commit folder is finished, a lone key goes back to .pending, broken temps are removed; each is reported', async () => {
    const store = path.join(dir, 'store');
    fs.mkdirSync(path.join(store, '.pending'), { recursive: true, mode: 0o700 });
    const pid = deadPid();
    // 1. A device provisioned for real, its commit cut before the rename: the temp folder is complete.
    const committedName = uniqueName('cut');
    const real = await provisionDevice(options(sim, { deviceName: committedName, keyAlgorithm: 'p256', storeDir: path.join(dir, 'scratch') }));
    const completeTemp = path.join(store, `.tmp-${pid}-${committedName}-aaaaaaaaaaaa`);
    fs.cpSync(real.stored.dir, completeTemp, { recursive: true });
    // 2. A temp folder with a complete key but a truncated credentials.json; no pending key for it.
    const lostKey = p256Key();
    const halfTemp = path.join(store, `.tmp-${pid}-half-bbbbbbbbbbbb`);
    fs.mkdirSync(halfTemp);
    fs.writeFileSync(path.join(halfTemp, 'private-key.pem'), lostKey, { mode: 0o600 });
    fs.writeFileSync(path.join(halfTemp, 'credentials.json'), '{"deviceName":"ha');
    // 3. A pending key temp whose link never happened, and a truncated one.
    const pendingKey = p256Key();
    fs.writeFileSync(path.join(store, '.pending', `.tmp-${pid}-linkme.key.pem-cccccccccccc`), pendingKey, { mode: 0o600 });
    fs.writeFileSync(path.join(store, '.pending', `.tmp-${pid}-broken.key.pem-dddddddddddd`), pendingKey.slice(0, 40), { mode: 0o600 });
    // 4. A temp of this very process (a live run) is left alone.
    const live = path.join(store, `.tmp-${process.pid}-live-eeeeeeeeeeee`);
    fs.mkdirSync(live);

    const inspection = await inspectStore(store);
    const text = inspection.warnings.join('\n');
    assert.equal(inspection.warnings.length, 4, text);
    assert.equal(fs.readFileSync(path.join(store, committedName, 'private-key.pem'), 'utf8'), real.credentials.privateKey);
    assert.match(text, new RegExp(`save is finished now, at ${path.join(store, committedName)}`));
    assert.equal(fs.readFileSync(path.join(store, '.pending', 'half.key.pem'), 'utf8'), lostKey);
    assert.match(text, /half.*moved back to/);
    assert.equal(fs.readFileSync(path.join(store, '.pending', 'linkme.key.pem'), 'utf8'), pendingKey);
    assert.match(text, /incomplete/);
    assert.deepEqual(
      fs.readdirSync(store).filter((name) => name.startsWith('.tmp-')),
      [path.basename(live)],
    );
    assert.deepEqual(
      fs.readdirSync(path.join(store, '.pending')).filter((name) => name.startsWith('.tmp-')),
      [],
    );
    assert.deepEqual(inspection.pending, ['half', 'linkme']);
    for (const file of ['half.key.pem', 'linkme.key.pem']) assert.equal(fs.statSync(path.join(store, '.pending', file)).mode & 0o777, 0o600);
    // Once per process and folder: a second look reports nothing new.
    assert.deepEqual((await inspectStore(store)).warnings, []);
  });
});
