'use strict';
/** Pre-provisioned access-token devices (and gateways) for the session tables, and memory after GC. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MB = 1024 * 1024;

function tokenOf(name) {
  return typeof name === 'number' ? `bench-device-token-${name}` : `${name}-token`;
}

/** Devices as a flow holds them (msg.device, msg.gateway): access tokens. */
function deviceLogin(name, token = tokenOf(name)) {
  return { deviceName: name, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: token } };
}

/** A profiles file for gridlinks-sim: `devices` access-token devices bench-device-<i>, and `gateways` (names) as gateway devices. */
function profilesFile(devices, gateways = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-bench-devices-'));
  const file = path.join(dir, 'profiles.json');
  const profile = 'bench-devices';
  fs.writeFileSync(
    file,
    JSON.stringify({
      profiles: [{ name: profile, provisionDeviceKey: 'bench-devices-key', provisionDeviceSecret: 'bench-devices-secret' }],
      devices: [
        ...Array.from({ length: devices }, (_, i) => ({ name: `bench-device-${i}`, profile, credentialsType: 'ACCESS_TOKEN', credentialsValue: tokenOf(i) })),
        ...gateways.map((name) => ({ name, profile, credentialsType: 'ACCESS_TOKEN', credentialsValue: tokenOf(name), gateway: true })),
      ],
    }),
  );
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** RSS and JS heap (MB) once garbage collection has run (needs --expose-gc). */
async function settledMemory() {
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / MB, heapUsed: heapUsed / MB, ...rssParts() };
}

/**
 * RSS split as Linux counts it (/proc/self/status, MB): `rssAnon` is the process's own memory (heaps,
 * buffers); `rssFile` is pages of files it maps, e.g. an LMDB database, which are the OS's page cache
 * and reclaimable. Undefined where /proc is missing.
 */
function rssParts() {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
  } catch {
    return { rssAnon: undefined, rssFile: undefined };
  }
}

module.exports = { tokenOf, deviceLogin, profilesFile, settledMemory };
