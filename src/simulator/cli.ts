#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { HELP, parseCliArguments, UsageError } from './cli-args';
import { CONTROL_HELP, runControlCommand } from './control-commands';
import { startSimulator } from './simulator';

function logLine(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<void> {
  const cli = await parseCliArguments(process.argv.slice(2));
  if (cli.help) {
    process.stdout.write(`${HELP}\n${CONTROL_HELP}\n`);
    return;
  }
  const simulator = await startSimulator({ ...cli.simulator, log: logLine });
  // Before the JSON line: whoever reads it may stop us at once, and must find the handlers in place.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(`${signal}: stopping`);
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`gridlinks-sim: stop failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  if (cli.controlStdin) {
    createInterface({ input: process.stdin }).on('line', (line) => {
      if (!line.trim()) return;
      runControlCommand(line, simulator).then(
        (result) => process.stdout.write(`${JSON.stringify({ command: line, result })}\n`),
        (error: unknown) => process.stdout.write(`${JSON.stringify({ command: line, error: (error as Error).message })}\n`),
      );
    });
  }
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(
    `${JSON.stringify({
      mqttPort: simulator.mqttPort,
      mqttsPort: simulator.mqttsPort,
      httpPort: simulator.httpPort,
      httpsPort: simulator.httpsPort,
      caFile: simulator.caFile,
      host: simulator.host,
    })}\n`,
  );
  const profiles = cli.simulator.profiles ?? [];
  logLine(
    `GridLinks simulator on ${simulator.host}: mqtt ${simulator.mqttPort ?? 'off'}, mqtts ${simulator.mqttsPort ?? 'off'}, http ${simulator.httpPort ?? 'off'}, https ${simulator.httpsPort ?? 'off'}`,
  );
  logLine(
    `${profiles.length} profile(s): ${profiles.map((p) => `${p.name ?? p.provisionDeviceKey ?? 'chain profile'} (${p.strategy ?? 'ALLOW_CREATE_NEW_DEVICES'})`).join(', ') || 'none'}; ${simulator.devices().length} device(s)`,
  );
}

main().catch((error: unknown) => {
  const message = error instanceof UsageError ? `${error.message}` : `cannot start: ${(error as Error).message}`;
  process.stderr.write(`gridlinks-sim: ${message}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
