'use strict';
// Ctrl-C and signals at the stages that do not talk to the server: a question on the terminal (under a
// pseudo-terminal made by util-linux's `script`) and `ca create` while its key is made.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { CLI } = require('../helpers/cli');

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs `node CLI args` in a pseudo-terminal; `onOutput(text, child)` sees what it printed so far. */
function inTerminal(args, onOutput) {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  child.stdout.on('data', (chunk) => {
    output += chunk;
    onOutput(output, child);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/** Waits until one of the process's threads runs at nice 19: the core's key threads have started (Linux). */
async function untilKeyThreadStarts(pid) {
  const niceOf = (task) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    } catch {
      return undefined;
    }
  };
  for (;;) {
    if (!fs.existsSync(`/proc/${pid}/task`)) throw new Error('the CLI ended before a key thread ran at nice 19: its bundle did not find the key threads');
    if (fs.readdirSync(`/proc/${pid}/task`).some((task) => niceOf(task) === 19)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('gridlinks-provision: interrupted before anything is sent', function () {
  this.timeout(60_000);

  it('Ctrl-C typed at a question: exit 130, ABORTED, nothing sent (it used to be INVALID_INPUT "Input ended", exit 2)', async function () {
    if (!hasScript) this.skip();
    let typed = false;
    const run = await inTerminal(['--no-tls'], (output, child) => {
      if (!typed && output.includes('GridLinks host: ')) {
        typed = true;
        child.stdin.write('\x03');
      }
    });
    assert.ok(typed, run.output);
    assert.equal(run.code, 130, run.output);
    assert.match(run.output, /ABORTED/);
    assert.match(run.output, /nothing was sent/);
  });

  it('SIGINT while ca create makes its key on a key thread (nice 19): exit 130, no CA written (it used to be swallowed and the CA written)', async function () {
    if (!fs.existsSync('/proc/thread-self')) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-ca-int-'));
    try {
      const out = path.join(dir, 'ca');
      const child = spawn(process.execPath, [CLI, 'ca', 'create', '--out', out, '--key-type', 'rsa4096'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      // Once the key is being made (its handlers are set before; an RSA-4096 key takes far longer than a poll).
      await untilKeyThreadStarts(child.pid);
      child.kill('SIGINT');
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /ABORTED/);
      assert.equal(fs.existsSync(path.join(out, 'ca.key')), false, 'no key written');
      assert.equal(fs.existsSync(path.join(out, 'ca.pem')), false, 'no certificate written');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
