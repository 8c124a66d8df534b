// SIGINT / SIGTERM for the whole `tapline` process: installed before anything else loads, so a stop
// signal at any moment ends tapline with exit 130 (documented), never by the signal itself.

export type StopSignal = 'SIGINT' | 'SIGTERM';
const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/**
 * The first signal aborts `stop` (a run stops both sides gracefully: SIGTERM, then SIGKILL after
 * the grace); the second aborts `kill` (both sides are SIGKILLed at once). Until a command says it
 * handles them (`handle()`), a signal ends tapline at once with 130: nothing was started yet, or
 * what was (a warehouse connection) rolls back when the process goes.
 */
export class Interrupts {
  readonly stop = new AbortController();
  readonly kill = new AbortController();
  private handled = false;
  /** Said on stdout before a signal ends tapline at once (the `--summary-json` line of a run that never started). */
  lastWords: ((signal: StopSignal) => string) | undefined;
  private readonly onSignal = (signal: StopSignal): void => {
    if (!this.handled) {
      process.stderr.write(`tapline: ${signal}: stopped\n`);
      if (this.lastWords) process.stdout.write(this.lastWords(signal));
      process.exit(130);
    }
    if (!this.stop.signal.aborted) {
      process.stderr.write(`tapline: ${signal}: stopping the tap and the target (again to kill them at once)\n`);
      this.stop.abort(signal);
    } else if (!this.kill.signal.aborted) {
      process.stderr.write(`tapline: ${signal} again: killing the tap and the target now\n`);
      this.kill.abort(signal);
    }
  };

  install(): this {
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
    return this;
  }

  uninstall(): void {
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
  }

  /** The running command stops its work when `stop` (then `kill`) is aborted: signals no longer exit at once. */
  handle(): { signal: AbortSignal; killSignal: AbortSignal } {
    this.handled = true;
    return { signal: this.stop.signal, killSignal: this.kill.signal };
  }
}
