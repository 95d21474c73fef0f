/**
 * Entry of one key thread (see key-threads.ts): lowers its own OS thread to nice 19, then makes one
 * RSA key pair per request, synchronously on this thread, and posts the KeyObjects back.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

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

export const LOWEST_PRIORITY = 19;

/** Linux: nice is per thread, and raising one's own needs no privilege. Elsewhere the thread keeps its priority. */
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

if (parentPort) {
  const port = parentPort;
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
}
