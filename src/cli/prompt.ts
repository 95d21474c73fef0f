import * as readline from 'node:readline';
import { ProvisionError } from '../provisioning/errors';

/**
 * Asks questions on the terminal (stderr, so stdout stays clean for --json), like the seed script.
 * Only used when stdin is a TTY. Lines typed ahead are queued, not lost; the end of input is an error.
 */
export class TerminalPrompt {
  private readonly rl: readline.Interface;
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | undefined;
  private closed = false;
  private muted = false;

  private interrupted = false;

  /** `signal` (SIGINT/SIGTERM sent to the process) and Ctrl-C typed at a question end the questions with ABORTED. */
  constructor(signal?: AbortSignal, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr) {
    this.rl = readline.createInterface({ input, output, terminal: true });
    this.rl.on('line', (line) => this.deliver(line));
    // In raw mode Ctrl-C reaches readline, not the process.
    this.rl.on('SIGINT', () => this.interrupt());
    signal?.addEventListener('abort', () => this.interrupt(), { once: true });
    if (signal?.aborted) this.interrupt();
    this.rl.on('close', () => {
      this.closed = true;
      this.deliver(null);
    });
    // Hidden answers (the provision secret) are not echoed.
    const rl = this.rl as unknown as { _writeToOutput: (text: string) => void };
    const write = rl._writeToOutput.bind(rl);
    rl._writeToOutput = (text: string) => {
      if (!this.muted) write(text);
      else if (/\r?\n$/.test(text)) write('\n');
    };
  }

  private interrupt(): void {
    this.interrupted = true;
    this.deliver(null);
  }

  private deliver(line: string | null): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(line);
    else if (line !== null) this.lines.push(line);
  }

  async ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
    this.muted = false;
    this.rl.setPrompt(question);
    this.rl.prompt();
    this.muted = options.hidden === true;
    const line = this.interrupted
      ? null
      : this.lines.length > 0
        ? this.lines.shift()!
        : this.closed
          ? null
          : await new Promise<string | null>((resolve) => (this.waiting = resolve));
    this.muted = false;
    if (this.interrupted) throw new ProvisionError('ABORTED', 'Interrupted at a question; nothing was sent.', { requestSent: false });
    if (line === null) throw new ProvisionError('INVALID_INPUT', 'Input ended before every question was answered.', { field: 'stdin' });
    return line.trim();
  }

  close(): void {
    this.rl.close();
  }
}
