import { generateKeyPair, type KeyObject } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { KeyThreadData, KeyThreadHello, KeyThreadReply, KeyThreadRequest, StartKeyThread } from './key-thread';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * RSA key generation on dedicated threads at the lowest CPU priority (nice 19, Linux).
 *
 * Why: on a machine whose every CPU makes RSA keys, the event loop and V8's garbage-collection helper
 * threads wait for a CPU, and a major GC then stalls every flow for 20–70 ms. libuv's thread pool runs
 * at the process's priority, and its threads also serve file and DNS work, so they cannot be lowered.
 * A key thread is a worker_thread running at nice 19 that calls generateKeyPairSync: the scheduler
 * gives a CPU to the loop and the GC the moment they want one, and the rest of every CPU still goes to
 * key generation. Key threads are started by a host thread that lowered itself first (a thread
 * inherits its creator's nice value), so even their start-up runs at nice 19.
 *
 * Threads start on demand, one per key being made (key-pair.ts decides how many run at once), are
 * unref'd while idle (never keep a process alive) and end after KEY_THREAD_IDLE_MS without work; the
 * host ends with the last of them. A thread that fails or ends while making a key never loses the
 * request: that key is made on libuv's pool instead, as without key threads. Where /proc/thread-self
 * does not exist (not Linux), the threads run at normal priority.
 *
 * Nice 19 only takes what other work leaves. On a host whose every CPU is busy at normal priority a
 * key thread gets about 1.5 % of a CPU and an RSA key would take minutes: a busy thread's CPU time is
 * read every STARVATION_CHECK_MS, and a thread that got less than STARVED_SHARE of a CPU since its key
 * began is ended and the key made on libuv's pool (normal priority) instead: it then competes fairly.
 */
export const KEY_THREAD_IDLE_MS = 5_000;
export const STARVATION_CHECK_MS = 2_000;
/** A share of one CPU a thread at nice 19 gets on an idle host many times over, and never beside busy CPUs. */
const STARVED_SHARE = 0.25;
/** A key thread's start-up takes tens of ms of CPU: one that has not started after this is starved. */
const THREAD_START_GRACE_MS = 1_000;
/** Linux's USER_HZ: /proc's CPU times are in 1/100 s. */
const MS_PER_CLOCK_TICK = 10;

export interface KeyPairObjects {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** What a key thread is, for tests and diagnostics. */
export interface KeyThreadInfo {
  /** OS thread id (Linux), known once the thread has started. */
  osThreadId: number | undefined;
  /** Its nice value as the thread itself read it. */
  nice: number | undefined;
  keysMade: number;
  busy: boolean;
}

/**
 * The threads' entry file: beside this module, or in the package's provisioning folder when this
 * module is part of a bundle (the CLI's). Undefined when neither exists: keys then go to libuv's pool.
 */
function entryFile(): string | undefined {
  return [join(__dirname, 'key-thread.js'), join(__dirname, '..', 'provisioning', 'keys', 'key-thread.js')].find((file) => existsSync(file));
}

let idleMs = KEY_THREAD_IDLE_MS;
let starvationCheckMs = STARVATION_CHECK_MS;
/** Keys taken from a starved key thread and made on libuv's pool. */
let keysRescued = 0;
/** Set when the host could not even start: every later key goes to libuv's pool. */
let unavailable = false;
/** Keys handed to key threads since the process started. */
let keysStarted = 0;
const threads = new Set<KeyThread>();
const idle: KeyThread[] = [];
let host: { worker: Worker; hello: KeyThreadHello | undefined } | undefined;

/** The host thread, started with the first key thread, unref'd: it never keeps the process alive. */
function startHost(): Worker {
  if (host) return host.worker;
  const entry = entryFile();
  if (entry === undefined) throw new Error('key thread entry not found');
  // execArgv []: the process's own flags and preloads (`--require` of an APM agent, a watchdog that reads
  // stdin...) are not for a thread that only makes keys; a preload meant for the main thread could act on it.
  const worker = new Worker(entry, { workerData: { role: 'host' } satisfies KeyThreadData, execArgv: [], stdout: true, stderr: true });
  const started = { worker, hello: undefined as KeyThreadHello | undefined };
  host = started;
  worker.on('message', (hello: KeyThreadHello) => (started.hello = hello));
  worker.on('error', () => {
    if (started.hello === undefined) unavailable = true;
  });
  worker.on('exit', () => {
    if (host === started) host = undefined;
  });
  worker.unref(); // after the listeners: adding a 'message' listener refs a worker again
  return worker;
}

function endHostWhenUnused(): void {
  if (threads.size > 0 || !host) return;
  void host.worker.terminate();
  host = undefined;
}

class KeyThread {
  private readonly port: MessagePort;
  hello: KeyThreadHello | undefined;
  keysMade = 0;
  private job: { modulusLength: number; resolve: (keyPair: KeyPairObjects) => void; reject: (error: Error) => void } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private starvationTimer: NodeJS.Timeout | undefined;
  private ending = false;

  constructor(hostWorker: Worker) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (message: KeyThreadHello | KeyThreadReply) => this.received(message));
    // The thread ended (idle end, failure, or its host ended): forget it; a key it was making goes to libuv.
    port1.on('close', () => this.closed());
    port1.unref();
    hostWorker.postMessage({ port: port2 } satisfies StartKeyThread, [port2]);
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  make(modulusLength: number): Promise<KeyPairObjects> {
    this.leaveIdle();
    keysStarted += 1;
    this.port.ref(); // a key being made keeps the process alive, as libuv's request would
    return new Promise((resolve, reject) => {
      const job = { modulusLength, resolve, reject };
      this.job = job;
      this.port.postMessage({ modulusLength } satisfies KeyThreadRequest);
      void this.watchForStarvation(job);
    });
  }

  /** Ends the thread now when idle, or after its current key. */
  end(): void {
    this.ending = true;
    if (!this.busy) this.port.close();
  }

  private received(message: KeyThreadHello | KeyThreadReply): void {
    if (message.kind === 'hello') {
      this.hello = message;
      return;
    }
    const job = this.job;
    if (job === undefined) return;
    this.job = undefined;
    clearTimeout(this.starvationTimer);
    if (message.kind === 'error') job.reject(new Error(message.message));
    else {
      this.keysMade += 1;
      job.resolve({ publicKey: message.publicKey, privateKey: message.privateKey });
    }
    this.port.unref();
    if (this.ending) return this.port.close();
    idle.push(this);
    this.idleTimer = setTimeout(() => this.end(), idleMs).unref();
  }

  private leaveIdle(): void {
    clearTimeout(this.idleTimer);
    const index = idle.indexOf(this);
    if (index !== -1) idle.splice(index, 1);
  }

  /**
   * Checks the thread's CPU share every starvationCheckMs while `job` is its key (from the key's start:
   * a thread started for it counts from 0). Starved: the thread is ended, and closed() hands the key to libuv.
   */
  private async watchForStarvation(job: KeyThread['job']): Promise<void> {
    const startedAt = performance.now();
    const startCpuMs = this.hello?.osThreadId === undefined ? 0 : await threadCpuMs(this.hello.osThreadId);
    const check = async (): Promise<void> => {
      if (this.job !== job || startCpuMs === undefined) return;
      const elapsed = performance.now() - startedAt;
      // No hello yet: the thread is still starting (tens of ms of CPU, also at nice 19); starved when that takes a second.
      if (this.hello === undefined && elapsed < THREAD_START_GRACE_MS) return this.armStarvationCheck(check);
      const cpuMs = this.hello === undefined ? 0 : this.hello.osThreadId === undefined ? undefined : await threadCpuMs(this.hello.osThreadId);
      if (this.job !== job || cpuMs === undefined) return;
      if ((cpuMs - startCpuMs) / elapsed >= STARVED_SHARE) return this.armStarvationCheck(check);
      keysRescued += 1;
      this.port.close();
    };
    if (this.job === job) this.armStarvationCheck(check);
  }

  private armStarvationCheck(check: () => Promise<void>): void {
    this.starvationTimer = setTimeout(() => void check(), starvationCheckMs).unref();
  }

  private closed(): void {
    clearTimeout(this.starvationTimer);
    this.ending = true;
    this.leaveIdle();
    threads.delete(this);
    endHostWhenUnused();
    const job = this.job;
    this.job = undefined;
    if (job !== undefined) rsaOnLibuv(job.modulusLength).then(job.resolve, job.reject);
  }
}

/** The CPU time an OS thread of this process has used (user + system), undefined when /proc cannot tell. */
async function threadCpuMs(osThreadId: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/self/task/${osThreadId}/stat`, 'utf8');
    // After "pid (comm) ", utime and stime are the 12th and 13th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * MS_PER_CLOCK_TICK : undefined;
  } catch {
    return undefined;
  }
}

function rsaOnLibuv(modulusLength: number): Promise<KeyPairObjects> {
  return generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
}

/** An RSA key pair made on an idle key thread, or a new one. Callers limit how many run at once. */
export function rsaOnKeyThread(modulusLength: number): Promise<KeyPairObjects> {
  if (unavailable) return rsaOnLibuv(modulusLength);
  let thread = idle.pop();
  if (thread === undefined) {
    try {
      thread = new KeyThread(startHost());
    } catch {
      unavailable = true;
      return rsaOnLibuv(modulusLength);
    }
    threads.add(thread);
  }
  return thread.make(modulusLength);
}

/** The key threads alive now, their host's OS thread (for tests), and how many keys went to key threads since the process started. */
export function keyThreadDiagnostics(): { threads: KeyThreadInfo[]; host: Worker | undefined; keysStarted: number; keysRescued: number } {
  return {
    threads: [...threads].map((thread) => ({ osThreadId: thread.hello?.osThreadId, nice: thread.hello?.nice, keysMade: thread.keysMade, busy: thread.busy })),
    host: host?.worker,
    keysStarted,
    keysRescued,
  };
}

/**
 * Ends idle key threads now and busy ones after their key (later keys start new threads). For
 * shutdown and tests; otherwise threads end by themselves after `idleMs` without work.
 */
export function endKeyThreads(): void {
  for (const thread of threads) thread.end();
}

/** How long an idle key thread lives (tests shorten it). */
export function setKeyThreadIdleMs(ms: number): void {
  idleMs = ms;
}

/** How often a busy key thread's CPU share is checked (tests shorten it). */
export function setStarvationCheckMs(ms: number): void {
  starvationCheckMs = ms;
}
