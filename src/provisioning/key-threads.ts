import { generateKeyPair, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { KeyThreadHello, KeyThreadReply, KeyThreadRequest } from './key-thread';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * RSA key generation on dedicated threads at the lowest CPU priority (nice 19, Linux).
 *
 * Why: on a machine whose every CPU makes RSA keys, the event loop and V8's garbage-collection helper
 * threads wait for a CPU, and a major GC then stalls every flow for 20–70 ms. libuv's thread pool runs
 * at the process's priority, and its threads also serve file and DNS work, so they cannot be lowered.
 * A key thread is a worker_thread whose OS thread lowers itself to nice 19 and calls
 * generateKeyPairSync there: the scheduler then gives a CPU to the loop and the GC the moment they
 * want one, and the rest of every CPU still goes to key generation.
 *
 * Threads start on demand, one per key being made (key-pair.ts decides how many run at once), are
 * unref'd while idle (never keep a process alive) and end after IDLE_MS without work. A thread that
 * fails or ends while making a key never loses the request: that key is made on libuv's pool
 * instead, as without key threads. Where /proc/thread-self does not exist (not Linux), threads run
 * at normal priority.
 */
export const KEY_THREAD_IDLE_MS = 5_000;

export interface KeyPairObjects {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** What a key thread is, for tests and diagnostics. */
export interface KeyThreadInfo {
  worker: Worker;
  /** OS thread id (Linux), known once the thread has started. */
  osThreadId: number | undefined;
  /** Its nice value as the thread itself read it after lowering it. */
  nice: number | undefined;
  keysMade: number;
  busy: boolean;
}

const ENTRY = join(__dirname, 'key-thread.js');

let idleMs = KEY_THREAD_IDLE_MS;
/** Set when a thread could not even start: every later key goes to libuv's pool. */
let unavailable = false;
/** Keys handed to key threads since the process started. */
let keysStarted = 0;
const threads = new Set<KeyThread>();
const idle: KeyThread[] = [];

class KeyThread {
  readonly worker: Worker;
  hello: KeyThreadHello | undefined;
  keysMade = 0;
  private job: { modulusLength: number; resolve: (keyPair: KeyPairObjects) => void; reject: (error: Error) => void } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private ending = false;

  constructor() {
    this.worker = new Worker(ENTRY, { stdout: true, stderr: true });
    this.worker.unref();
    this.worker.on('message', (message: KeyThreadHello | KeyThreadReply) => this.received(message));
    this.worker.on('error', (error) => {
      if (this.hello === undefined) unavailable = true;
      this.failed(error);
    });
    this.worker.on('exit', () => {
      this.leaveIdle();
      threads.delete(this);
      this.failed(new Error('key thread ended'));
    });
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  make(modulusLength: number): Promise<KeyPairObjects> {
    this.leaveIdle();
    keysStarted += 1;
    this.worker.ref(); // a key being made keeps the process alive, as libuv's request would
    return new Promise((resolve, reject) => {
      this.job = { modulusLength, resolve, reject };
      this.worker.postMessage({ modulusLength } satisfies KeyThreadRequest);
    });
  }

  /** Ends the thread now when idle, or after its current key. */
  end(): void {
    this.ending = true;
    if (!this.busy) this.terminate();
  }

  private received(message: KeyThreadHello | KeyThreadReply): void {
    if (message.kind === 'hello') {
      this.hello = message;
      return;
    }
    const job = this.job;
    if (job === undefined) return;
    this.job = undefined;
    if (message.kind === 'error') job.reject(new Error(message.message));
    else {
      this.keysMade += 1;
      job.resolve({ publicKey: message.publicKey, privateKey: message.privateKey });
    }
    this.worker.unref();
    if (this.ending) return this.terminate();
    idle.push(this);
    this.idleTimer = setTimeout(() => this.terminate(), idleMs).unref();
  }

  private terminate(): void {
    this.ending = true;
    this.leaveIdle();
    void this.worker.terminate();
  }

  private leaveIdle(): void {
    clearTimeout(this.idleTimer);
    const index = idle.indexOf(this);
    if (index !== -1) idle.splice(index, 1);
  }

  /** The thread broke or ended while making a key: that key is made on libuv's pool instead. */
  private failed(error: Error): void {
    this.ending = true;
    this.leaveIdle();
    const job = this.job;
    this.job = undefined;
    if (job === undefined) return;
    void this.worker.terminate();
    rsaOnLibuv(job.modulusLength).then(job.resolve, (libuvError: Error) => job.reject(new AggregateError([error, libuvError], libuvError.message)));
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
      thread = new KeyThread();
    } catch {
      unavailable = true;
      return rsaOnLibuv(modulusLength);
    }
    threads.add(thread);
  }
  return thread.make(modulusLength);
}

/** The key threads alive now, and how many keys were handed to key threads since the process started. */
export function keyThreadDiagnostics(): { threads: KeyThreadInfo[]; keysStarted: number } {
  return {
    threads: [...threads].map((thread) => ({
      worker: thread.worker,
      osThreadId: thread.hello?.osThreadId,
      nice: thread.hello?.nice,
      keysMade: thread.keysMade,
      busy: thread.busy,
    })),
    keysStarted,
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
