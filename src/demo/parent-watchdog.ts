/**
 * Preloaded into the Node-RED child with `--require`: when the parent process dies without stopping
 * us (SIGKILL, crash), the stdin pipe it held closes, and Node-RED is told to stop as on Ctrl-C.
 * This is what keeps a killed demo or test from leaving an orphan Node-RED listening on its port.
 */
import { isMainThread } from 'node:worker_threads';

// A worker thread that inherited this preload has its own, empty stdin: only the main thread watches.
if (isMainThread) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGINT'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGINT'));
  process.stdin.resume();
}
