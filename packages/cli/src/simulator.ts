// Starts a provider's API simulator (`<provider>-simulator --port 0 --seed S`) and reads its tap config.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ExitCode, TaplineError } from './errors.js';
import type { Command } from './plugins.js';

export interface RunningSimulator {
  baseUrl: string;
  /** A ready-to-use tap config pointing at the simulator. */
  config: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startSimulator(command: Command, seed: number, flags: string[] = [], timeoutMs = 20_000): Promise<RunningSimulator> {
  const child: ChildProcess = spawn(command.file, [...command.args, '--port', '0', '--seed', String(seed), ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('close', () => resolve());
      child.kill('SIGTERM');
    });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line within ${timeoutMs} ms`)), timeoutMs);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once('error', (e) => reject(e));
      child.once('close', (code) => reject(new Error(`exited with code ${code}`)));
    });
    const started = JSON.parse(line) as { base_url: string; config: Record<string, unknown> };
    return { baseUrl: started.base_url, config: started.config, stop };
  } catch (error) {
    await stop();
    throw new TaplineError(
      `The simulator (${command.args[0] ?? command.file}) did not start: ${(error as Error).message}${stderr ? `\n${stderr.trim()}` : ''}`,
      ExitCode.tapFailed,
    );
  }
}
