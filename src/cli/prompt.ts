import * as readline from 'node:readline';

/**
 * Asks questions on the terminal (stderr, so stdout stays clean for --json), like the seed script.
 * Only used when stdin is a TTY.
 */
export class TerminalPrompt {
  private readonly rl: readline.Interface;
  private muted = false;

  constructor(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr) {
    this.rl = readline.createInterface({ input, output, terminal: true });
    // Hidden answers (the provision secret, a password) are not echoed.
    const rl = this.rl as unknown as { _writeToOutput: (text: string) => void; output: NodeJS.WriteStream };
    const write = rl._writeToOutput.bind(rl);
    rl._writeToOutput = (text: string) => {
      if (!this.muted || /\r?\n$/.test(text)) write(this.muted ? '\n' : text);
    };
  }

  ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
    return new Promise((resolve) => {
      this.rl.question(question, (answer) => {
        this.muted = false;
        resolve(answer.trim());
      });
      this.muted = options.hidden === true;
    });
  }

  close(): void {
    this.rl.close();
  }
}
