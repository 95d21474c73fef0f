'use strict';
/**
 * Preloaded (`node --require`) into a process whose memory a table measures: at exit it writes the
 * process's peak RSS in KiB to stderr as `PEAK_RSS_KB <n>`. VmHWM from /proc, not getrusage's maxrss:
 * on Linux maxrss carries over the parent's RSS from before exec (a parent holding 200 MB of test
 * data would show up as the child's peak).
 */
const fs = require('node:fs');

process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try {
    kb = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    /* not Linux: maxrss will do */
  }
  process.stderr.write(`\nPEAK_RSS_KB ${kb}\n`);
});
