// The `tapline serve` command line: starts the server, prints where it listens, stops on SIGTERM.
import { ExitCode, TaplineError } from '../errors.js';
import type { Interrupts } from '../interrupts.js';
import type { Logger } from '../log.js';
import { loadProject } from '../project.js';
import { startServer } from './index.js';

export interface ServeFlags {
  project?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  inbox?: string | undefined;
}

/**
 * Serves until SIGINT/SIGTERM, then drains gracefully: no new deliveries (503, readiness off), those
 * in flight finished, what the inbox holds loaded for up to 10 s (the rest stays for the next start).
 */
export async function serveCommand(flags: ServeFlags, cwd: string, log: Logger, interrupts: Interrupts): Promise<number> {
  const port = flags.port === undefined ? 8080 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TaplineError(`--port must be a port number (0 picks a free one), not "${flags.port}".`, ExitCode.usage);
  const { project, file } = await loadProject(flags.project, cwd);
  const server = await startServer({ project, file, cwd, port, host: flags.host ?? '127.0.0.1', inboxDir: flags.inbox, log });
  const { signal } = interrupts.handle();
  process.stdout.write(`${JSON.stringify({ url: server.url, receivers: server.receivers })}\n`);
  log.info(`serving ${Object.keys(server.receivers).length} receiver(s) at ${server.url}`);
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  log.info('stopping: no new deliveries; loading what the inbox holds');
  await server.stop();
  log.info('stopped');
  return ExitCode.ok;
}
