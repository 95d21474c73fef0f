'use strict';
/**
 * npm run bench [-- --quick] [-- --only 1,3] [-- --ec N --rsa N]
 * Runs each table in its own Node process (so one table's heap, pool and JIT state cannot colour the
 * next), prints the tables and writes them as markdown to bench/results/latest.md.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { parseArgs, toArgv } = require('./lib/args');

const TABLES = [
  { id: 1, file: 'breakdown.js', title: 'One device, broken down, against the floor' },
  { id: 2, file: 'bulk.js', title: 'Bulk through the core' },
  { id: 3, file: 'event-loop.js', title: 'Event loop during bulk RSA' },
  { id: 4, file: 'node-red.js', title: 'Through Node-RED' },
  { id: 5, file: 'seed.js', title: "Against the seed's Python script" },
  { id: 6, file: 'memory.js', title: 'Memory through the node' },
  { id: 7, file: 'pool.js', title: 'Warm key pool through the node' },
  { id: 8, file: 'hostile.js', title: 'Against a hostile server' },
  { id: 9, file: 'device.js', title: 'Many devices through one gridlinks-device node' },
  { id: 10, file: 'outbox-db.js', title: "The outbox's database" },
  { id: 11, file: 'device.js', args: ['--plain'], title: 'Table 9 over plain TCP' },
  { id: 12, file: 'gateway.js', title: 'Many children through one gridlinks-gateway node' },
  { id: 13, file: 'outbox.js', title: 'The outbox through the nodes' },
  { id: 14, file: 'storm.js', title: 'A reconnect storm' },
];

const HELP = `npm run bench [-- options]
  --quick        small counts: a smoke run in about a minute (figures are not representative)
  --only 1,3     run only these tables (1 breakdown, 2 bulk, 3 event loop, 4 Node-RED, 5 seed, 6 memory, 7 key pool, 8 hostile, 9 devices, 10 outbox database, 11 table 9 over plain TCP, 12 gateway, 13 outbox, 14 reconnect storm)
  --ec N         EC P-256 devices per bulk run (default 1000)
  --rsa N        RSA-2048 devices per bulk run (default 200)
Writes bench/results/latest.md.`;

function machine() {
  const cpus = os.cpus();
  let openssl = process.versions.openssl;
  try {
    openssl = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    /* the Node-bundled version string will do */
  }
  return (
    `${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ` +
    `${os.type()} ${os.release()}, Node ${process.version} (libuv pool ${process.env.UV_THREADPOOL_SIZE || 4}), ${openssl}`
  );
}

function runTable(table, argv) {
  return new Promise((resolve) => {
    const started = Date.now();
    process.stderr.write(`\n## ${table.id}. ${table.title}\n`);
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'tables', table.file), ...argv, ...(table.args ?? [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let markdown = '';
    child.stdout.on('data', (chunk) => (markdown += chunk));
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const body = code === 0 ? markdown.trim() : `**This table failed to run (exit ${code}); see the terminal output.**`;
      const section = `## ${table.id}. ${table.title}\n\n${body}\n\n_(${seconds} s)_\n`;
      process.stdout.write(`\n${section}`);
      resolve({ ok: code === 0, section });
    });
  });
}

async function main() {
  const args = parseArgs();
  if (args.help) {
    console.log(HELP);
    return;
  }
  const argv = toArgv(args);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const header =
    `# Benchmarks\n\n\`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n` +
    `Machine: ${machine()}\n` +
    (args.quick ? '\n**--quick run: small counts, figures are a smoke test only.**\n' : '');
  process.stdout.write(header);
  const sections = [];
  let failures = 0;
  for (const table of TABLES.filter((t) => !args.only || args.only.includes(t.id))) {
    const { ok, section } = await runTable(table, argv);
    sections.push(section);
    if (!ok) failures++;
  }
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.md'), `${header}\n${sections.join('\n')}`);
  process.stderr.write(`\nWritten to bench/results/latest.md${failures ? ` (${failures} table(s) failed)` : ''}\n`);
  process.exitCode = failures ? 1 : 0;
}

main();
