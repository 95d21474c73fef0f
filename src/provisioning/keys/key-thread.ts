/**
 * Entry of the key threads (see key-threads.ts), in one of two roles:
 * - the host: lowers its own OS thread to nice 19, then starts key threads on request. A thread
 *   inherits its creator's nice value, so a key thread runs at nice 19 from its first instruction:
 *   its start-up (tens of ms of CPU) never competes with the event loop.
 * - a key thread: makes one RSA key pair per request, synchronously on its own thread, and posts the
 *   KeyObjects back on the MessagePort it was given (the main thread holds the other end).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { Worker, parentPort, workerData, type MessagePort } from 'node:worker_threads';

export interface KeyThreadRequest {
  modulusLength: number;
}

export type KeyThreadReply = { kind: 'keys'; publicKey: KeyObject; privateKey: KeyObject } | { kind: 'error'; message: string };

export interface KeyThreadHello {
  kind: 'hello';
  /** The OS thread id (Linux), undefined where /proc/thread-self does not exist. */
  osThreadId: number | undefined;
  /** The thread's nice value after lowering it (0 where it could not be lowered). */
  nice: number;
}

/** Main thread → host: start a key thread that talks on `port`. */
export interface StartKeyThread {
  port: MessagePort;
}

export type KeyThreadData = { role: 'host' } | { role: 'keys'; port: MessagePort };

export const LOWEST_PRIORITY = 19;

/** Linux: nice is per thread, and lowering one's own priority needs no privilege. Elsewhere the thread keeps its priority. */
function lowerOwnPriority(): KeyThreadHello {
  try {
    const osThreadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(osThreadId) || osThreadId <= 0) return { kind: 'hello', osThreadId: undefined, nice: 0 };
    setPriority(osThreadId, LOWEST_PRIORITY);
    return { kind: 'hello', osThreadId, nice: getPriority(osThreadId) };
  } catch {
    return { kind: 'hello', osThreadId: undefined, nice: 0 };
  }
}

function serveKeys(port: MessagePort): void {
  port.postMessage(lowerOwnPriority());
  port.on('message', ({ modulusLength }: KeyThreadRequest) => {
    let reply: KeyThreadReply;
    try {
      reply = { kind: 'keys', ...generateKeyPairSync('rsa', { modulusLength, publicExponent: 0x10001 }) };
    } catch (error) {
      reply = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
  // The main thread closing its end ends this thread (nothing else keeps it alive).
  port.on('close', () => port.removeAllListeners());
}

function host(parent: MessagePort): void {
  parent.postMessage(lowerOwnPriority());
  parent.on('message', ({ port }: StartKeyThread) => {
    try {
      new Worker(__filename, { workerData: { role: 'keys', port } satisfies KeyThreadData, transferList: [port], execArgv: [], stdout: true, stderr: true }).on(
        'error',
        () => undefined, // its port closes with it: the main thread sees that
      );
    } catch {
      port.close(); // the main thread sees its end close: that key goes to libuv's pool
    }
  });
}

const data = workerData as KeyThreadData | undefined;
if (parentPort && data?.role === 'host') host(parentPort);
else if (data?.role === 'keys') serveKeys(data.port);
