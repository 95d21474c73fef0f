'use strict';
/** One bulk run through the core: `devices` of one kind at a given parallelism, with CPU accounting. */
const { runPool } = require('./pool');
const { msSince } = require('./stats');
const { processCpuMs } = require('./simulator');
const { deviceName, provisionOne } = require('./core');

async function bulkRun(sim, kind, devices, parallelism, tag = 'bulk') {
  const names = Array.from({ length: devices }, (_, i) => deviceName(`${tag}-${kind}-p${parallelism}`, i));
  const cpuBefore = process.cpuUsage();
  const simCpuBefore = processCpuMs(sim.pid);
  const start = process.hrtime.bigint();
  const results = await runPool(names, parallelism, (name) => provisionOne(sim, kind, name));
  const wallMs = msSince(start);
  const cpu = process.cpuUsage(cpuBefore);
  const failed = results.filter((r) => !r.ok);
  if (failed.length)
    throw new Error(`${failed.length}/${devices} ${kind} devices failed at parallelism ${parallelism}: ${failed[0].error.code} ${failed[0].error.message}`);
  return {
    kind,
    devices,
    parallelism,
    seconds: wallMs / 1000,
    rate: devices / (wallMs / 1000),
    // Share of one core, in %: 200 % = both cores of a 2-core machine busy all the time.
    clientCpu: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    simulatorCpu: ((processCpuMs(sim.pid) - simCpuBefore) / wallMs) * 100,
  };
}

module.exports = { bulkRun };
