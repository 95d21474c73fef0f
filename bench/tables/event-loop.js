'use strict';
/**
 * Table 3: event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms sampling) while the core
 * provisions 200 RSA-2048 devices 8 at a time; and, for contrast, while node-forge generates RSA
 * keys and signs in pure JavaScript (what this design avoids).
 */
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const forge = require('node-forge');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { measureLoopDelay } = require('../lib/loop-delay');
const { bulkRun } = require('../lib/bulk');
const { bareKeygen } = require('../lib/floor');
const { runPool } = require('../lib/pool');
const { newKeyPair } = require('../../nodes/provisioning/keys/key-pair');

function forgePureJsKeygen() {
  const previous = forge.options.usePureJavaScript;
  forge.options.usePureJavaScript = true;
  try {
    return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  } finally {
    forge.options.usePureJavaScript = previous;
  }
}

/** A self-signed certificate signed by node-forge's pure-JS RSA (the key made natively, untimed). */
function forgeSign(keys) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'forge' }]);
  cert.setIssuer([{ name: 'commonName', value: 'forge' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
}

/** The same bulk in a child process whose devices make `rsaThreads` RSA keys at a time (GRIDLINKS_RSA_THREADS). */
async function bulkWithRsaThreads(sim, devices, rsaThreads) {
  const job = {
    sim: { host: sim.host, port: sim.port, caFile: sim.caFile, provisionKey: sim.provisionKey, provisionSecret: sim.provisionSecret, pid: sim.pid },
    devices,
    parallelism: 8,
  };
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, '..', 'lib', 'loop-child.js'), JSON.stringify(job)], {
    env: { ...process.env, GRIDLINKS_RSA_THREADS: String(rsaThreads) },
  });
  return JSON.parse(stdout);
}

/** Lets the loop turn between synchronous blocks, so each block is one delay sample. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

tableMain(async (args, log) => {
  const rsa = count(args, 200, 16, args.rsa);
  const forgeKeys = count(args, 3, 1);
  const forgeSigns = count(args, 20, 5);
  const sim = await startSimulatorProcess();
  try {
    const idle = await measureLoopDelay(() => new Promise((resolve) => setTimeout(resolve, 1000)));
    // The first device in a fresh process loads and compiles mqtt.js, node-forge and the core.
    const firstDevice = await measureLoopDelay(() => bulkRun(sim, 'rsa2048', 1, 1, 'first'));
    // A maximum is one sample: several rounds show its spread. Each round also runs the same number of
    // bare keygens on the core's key threads with the same parallelism: what key generation alone does to the loop.
    const rounds = [];
    for (let round = 0; round < count(args, 3, 1); round++) {
      const nativeKeygen = await measureLoopDelay(() => runPool(Array.from({ length: rsa }), 8, () => newKeyPair('rsa2048', 'device')));
      const bulk = await measureLoopDelay(() => bulkRun(sim, 'rsa2048', rsa, 8, `loop${round}`));
      rounds.push({ nativeKeygen, bulk });
      log(`round ${round + 1}: ${rsa} bare keygens and ${rsa} RSA-2048 devices at 8 measured`);
    }
    const worst = (key) => rounds.map((r) => r[key]).reduce((a, b) => (b.maxMs > a.maxMs ? b : a));
    const bulk = worst('bulk');
    const nativeKeygen = worst('nativeKeygen');
    // The design before key threads: RSA keys on libuv's pool, at the process's own priority.
    const libuvKeygen = await measureLoopDelay(() => runPool(Array.from({ length: rsa }), 8, () => bareKeygen('rsa2048')));
    log(`${rsa} bare keygens on libuv's pool measured`);
    // Control: one key at a time leaves the second CPU to the event loop.
    const controlDevices = Math.max(8, Math.round(rsa / 2));
    const oneRsaThread = await bulkWithRsaThreads(sim, controlDevices, 1);
    log('control run with one RSA key at a time measured');
    const forgeKeygen = await measureLoopDelay(async () => {
      for (let i = 0; i < forgeKeys; i++) {
        await turn();
        forgePureJsKeygen();
      }
      await turn();
    });
    log('node-forge pure-JS keygen measured');
    const signingKeys = forgePureJsKeygen();
    const forgeSigning = await measureLoopDelay(async () => {
      for (let i = 0; i < forgeSigns; i++) {
        await turn();
        forgeSign(signingKeys);
      }
      await turn();
    });
    log('node-forge pure-JS signing measured');

    const row = (what, m) => [what, m.maxMs, m.p99Ms, m.meanMs, `${fmt(m.utilization * 100, 0)} %`];
    const target = verdict(
      `max event-loop delay during ${rsa} RSA-2048 devices at parallelism 8 (worst of ${rounds.length} rounds)`,
      bulk.maxMs,
      20,
      false,
      ' ms',
    );
    return [
      'Event-loop delay in ms, sampled every 1 ms (so ≈1.1 ms means nothing waited). Simulator in a separate process.',
      '',
      table(
        ['while …', 'max', 'p99', 'mean', 'loop busy'],
        [
          row('idle (1 s, for reference)', idle),
          row('the first RSA-2048 device in a fresh process (loading and compiling the code; once)', firstDevice),
          ...rounds.flatMap(({ nativeKeygen: bare, bulk: ours }, i) => [
            row(`round ${i + 1}: ${rsa} bare RSA-2048 keygens on the core's key threads (nice 19), 8 in flight (no MQTT, no certificate)`, bare),
            row(`**round ${i + 1}: ours, ${rsa} RSA-2048 devices through the core, 8 in flight** (${fmt(ours.value.rate)} devices/s)`, ours),
          ]),
          row(`before key threads: ${rsa} bare RSA-2048 keygens on libuv's pool (normal priority), 8 in flight`, libuvKeygen),
          row(`control: ${controlDevices} devices the same way with GRIDLINKS_RSA_THREADS=1 (${fmt(oneRsaThread.rate)} devices/s)`, oneRsaThread),
          row(`node-forge pure-JS RSA-2048 keygen × ${forgeKeys}`, forgeKeygen),
          row(`node-forge pure-JS certificate signing × ${forgeSigns}`, forgeSigning),
        ],
      ),
      '',
      target.line,
      ...(target.met
        ? []
        : [
            `- What bounds it: the same ${rsa} keygens alone on the key threads, 8 in flight, give a max of up to ${fmt(nativeKeygen.maxMs)} ms ` +
              `(on libuv's pool at normal priority: ${fmt(libuvKeygen.maxMs)} ms); during our worst round the loop was busy ` +
              `${fmt(bulk.utilization * 100, 0)} % of the time, and its longest garbage-collection pause was ${fmt(bulk.longestGcMs)} ms ` +
              `(${bulk.longestGcMajor ? 'a major, mark-compact GC' : 'a scavenge'}). The key threads run at nice 19, so they give way to the loop and to ` +
              "V8's GC threads; what still makes the loop wait is other work on the machine (`uptime`) and the GC pauses themselves: " +
              `with one key at a time (control row) the max is ${fmt(oneRsaThread.maxMs)} ms at ${fmt(oneRsaThread.rate)} devices/s instead of ${fmt(bulk.value.rate)}.`,
          ]),
      `- Why native crypto: one pure-JS keygen stalls every other flow for up to ${fmt(forgeKeygen.maxMs, 0)} ms, ` +
        `one pure-JS signature for up to ${fmt(forgeSigning.maxMs, 0)} ms; the core's worst stall over ${rsa} devices is ${fmt(bulk.maxMs)} ms.`,
    ].join('\n');
  } finally {
    await sim.stop();
  }
});
