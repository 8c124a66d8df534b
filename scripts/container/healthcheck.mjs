// The container's HEALTHCHECK. A `tapline serve` container is healthy while its /readyz answers
// 200 (503 once it is stopping). Any other command (`tapline run`, a batch job) listens on nothing:
// it is healthy while it runs, and its exit code says how it ended.
import { readFileSync } from 'node:fs';

/** The arguments of the container's main process: PID 1, or the PID given (tests). */
function mainProcessArgs() {
  const pid = process.argv[2] ?? '1';
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** The port `tapline serve` listens on: its --port (or --port=N), else its default 8080. */
function servePort(args) {
  const at = args.findIndex((arg) => arg === '--port' || arg.startsWith('--port='));
  if (at === -1) return 8080;
  return Number(args[at].includes('=') ? args[at].slice('--port='.length) : args[at + 1]);
}

const args = mainProcessArgs();
if (!args.includes('serve')) process.exit(0);
try {
  const answer = await fetch(`http://127.0.0.1:${servePort(args)}/readyz`, { signal: AbortSignal.timeout(4000) });
  process.exit(answer.ok ? 0 : 1);
} catch {
  process.exit(1);
}
