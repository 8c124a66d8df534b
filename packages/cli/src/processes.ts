// Runs a tap and a target as two processes with the runner in between, so it owns end-of-input.
import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { EXIT_CODES, LOG_LEVEL_ENV, levelOfLine, stringifyJson } from '@tapline/singer';
import type { Logger, LogLevel } from './log.js';
import { MessageCounter } from './message-counter.js';
import type { Command } from './plugins.js';

export type Side = 'tap' | 'target';

export interface ProcessRunOptions {
  tap: Command;
  target: Command;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Passed to both sides as TAPLINE_LOG_LEVEL, which Tapline's taps and targets log at. */
  logLevel?: LogLevel;
  /** How long a stopped process gets between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
  /**
   * After the tap failed: how long the target gets to commit what the tap's STATEs cover before it
   * is stopped (default 120 s). A big last batch into a busy warehouse legitimately takes a while,
   * and stopping it early only sends the covered rows back to the next run; this bounds a hung target.
   */
  commitGraceMs?: number;
  /** Aborting stops both sides (SIGTERM, then SIGKILL) and ends the run as interrupted. */
  signal?: AbortSignal;
  /** Aborting (a second interrupt) SIGKILLs both sides at once, without waiting for them to commit. */
  killSignal?: AbortSignal;
  /** Each line the target writes to stdout: a state value it has committed. */
  onState?: (line: string, covered: ReadonlyMap<string, number> | undefined) => void;
  /** Counts what the tap sends; pass one to read live counts while the run goes. */
  counter?: MessageCounter;
  /**
   * When the tap exits 0, write one last STATE line before closing the target's stdin: the tap's
   * last STATE, else `{"type":"STATE","value":<fallback>}`. With a target that commits only up to
   * the last STATE (`commit_uncovered_rows: false`), a clean run then commits everything, and an
   * end of input the runner did not mean (it was killed) commits nothing uncovered.
   */
  closingState?: { fallback: unknown };
  /** Descriptors each side inherits from fd 3 on (its config and state: see unnamed-files.ts). */
  fds?: { tap?: number[]; target?: number[] };
  /** Called once both processes are started (tests use it to kill one at a chosen moment). */
  onSpawn?: (pids: { tap: number | undefined; target: number | undefined }) => void;
}

export interface ProcessRunResult {
  /** `partial`: both ended cleanly, but the tap said (exit 6) it left something for the next run. */
  outcome: 'succeeded' | 'partial' | 'tap-failed' | 'target-failed' | 'interrupted';
  /** The tap's `SUMMARY: {...}` line (tap-kit taps print one last), parsed; absent for other taps. */
  tapSummary?: unknown;
  /** For a failure: the failing side's own message (its last error line on stderr) and how it ended. */
  message?: string;
  counter: MessageCounter;
}

/** How a process ended, in words. */
function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** A tap-kit tap's last stderr line, its run summary (tap-kit README, "Exit codes"). */
const TAP_SUMMARY_PREFIX = 'SUMMARY: ';
/** A tap's exit code for a clean but partial run: state written, something left for the next run. */
const TAP_EXIT_PARTIAL = EXIT_CODES.partial;

/** A Singer log line that reports progress, not a failure (`INFO ...`, `METRIC: {...}`). */
const ROUTINE = /^\s*(?:INFO|DEBUG|METRIC)\b/;

/** The level a child's stderr line is forwarded at: its own log level, when it names one. */
export function levelOf(line: string): LogLevel {
  return levelOfLine(line).level;
}

/** A child's stderr line, logged again at its own level, tagged with its side. */
function forwardAtItsLevel(log: Logger, side: Side, line: string): void {
  const { level, message, fields } = levelOfLine(line);
  log.log(level, message, { ...fields, source: side });
}

/** Keeps the last lines a process wrote to stderr, to name its failure in the run's message. */
class StderrTail {
  private readonly lines: string[] = [];
  remember(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 50) this.lines.shift();
  }
  /**
   * The last line that reads like an error (Singer taps log CRITICAL / FATAL before dying), else
   * the last line that is not a plain log line (INFO, DEBUG, METRIC: progress, not the failure).
   */
  reason(): string | undefined {
    const errorLike = /CRITICAL|FATAL|ERROR|[A-Za-z]*Error\b|\berror\b/;
    // Node's own trailer after an uncaught exception says nothing about the failure.
    const lines = this.lines.filter((l) => !/^Node\.js v\d/.test(l.trim()) && !ROUTINE.test(l));
    return [...lines].reverse().find((l) => errorLike.test(l)) ?? lines.at(-1);
  }
}

function forwardLines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) each(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    const last = rest + decoder.end();
    if (last.trim()) each(last);
  });
}

/**
 * Starts target, then tap, and pumps tap stdout into target stdin with backpressure.
 * - Tap ends with 0: the closing STATE (if asked for) is written, the target's stdin is closed
 *   cleanly, and the run succeeds when the target exits 0.
 * - Tap fails: with closingState, the target's stdin is closed without a closing STATE, so it
 *   commits up to the tap's last STATE and exits. Otherwise the stdin is NOT closed (a clean EOF
 *   would make it commit records no STATE covers); the target is stopped with SIGTERM, then
 *   SIGKILL, once it acknowledged the STATEs sent, so only state-covered data stays.
 * - Target fails (or exits before its input ended): the tap is stopped the same way.
 */
export function runProcesses(options: ProcessRunOptions): Promise<ProcessRunResult> {
  return new Promise<ProcessRunResult>((resolve) => new ProcessPair(options, spawnPair(options), resolve).start());
}

const SIDES = ['tap', 'target'] as const;

interface Children {
  tap: ChildProcessByStdio<null, Readable, Readable>;
  target: ChildProcessByStdio<Writable, Readable, Readable>;
}

/** Starts the target, then the tap, each with its descriptors and the log level in its environment. */
function spawnPair(options: ProcessRunOptions): Children {
  const { cwd } = options;
  const env = { ...(options.env ?? process.env), ...(options.logLevel !== undefined ? { [LOG_LEVEL_ENV]: options.logLevel } : {}) };
  const target = spawn(options.target.file, options.target.args, {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe', ...(options.fds?.target ?? [])],
  }) as Children['target'];
  const tap = spawn(options.tap.file, options.tap.args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(options.fds?.tap ?? [])],
  }) as Children['tap'];
  return { tap, target };
}

/**
 * A tap and a target running as one pair: the pipe between them, how each ended, and who is
 * stopped when the other fails. The first failure decides the outcome; the run ends once both exited.
 */
class ProcessPair {
  private readonly log: Logger;
  private readonly counter: MessageCounter;
  private readonly tails: Record<Side, StderrTail> = { tap: new StderrTail(), target: new StderrTail() };
  private readonly exited: Record<Side, boolean> = { tap: false, target: false };
  private outcome: ProcessRunResult['outcome'] | undefined;
  private message: string | undefined;
  /** The tap finished cleanly: the target may see end of input and commit its tail. */
  private inputEnded = false;
  private tapPartial = false;
  private tapSummary: unknown;
  /** Whether the tap's output so far ends with a whole line (a tap that died mid-line did not). */
  private endsWithNewline = true;
  /** After the tap failed: hears each STATE the target acknowledges, until none is outstanding. */
  private waitingForStates: (() => void) | undefined;

  constructor(
    private readonly options: ProcessRunOptions,
    private readonly children: Children,
    private readonly resolve: (result: ProcessRunResult) => void,
  ) {
    this.log = options.log;
    this.counter = options.counter ?? new MessageCounter();
  }

  start(): void {
    this.listenForInterrupts();
    this.pump();
    this.forwardOutput();
    for (const side of SIDES) this.watchExit(side);
    this.options.onSpawn?.({ tap: this.children.tap.pid, target: this.children.target.pid });
  }

  /** SIGTERM, then SIGKILL after the stop grace. */
  private stop(side: Side): void {
    const child: ChildProcess = this.children[side];
    if (this.exited[side]) return;
    child.kill('SIGTERM');
    const grace = this.options.stopGraceMs ?? 5_000;
    const timer = setTimeout(() => {
      if (!this.exited[side]) {
        this.log.warn(`${side} did not stop within ${grace} ms of SIGTERM; sending SIGKILL`);
        child.kill('SIGKILL');
      }
    }, grace);
    timer.unref();
  }

  private fail(side: Side | 'interrupted', why: string): void {
    if (this.outcome) return;
    if (side === 'interrupted') {
      this.outcome = 'interrupted';
      this.message = why;
      this.stop('tap');
      this.stop('target');
      return;
    }
    this.outcome = side === 'tap' ? 'tap-failed' : 'target-failed';
    const reason = this.tails[side].reason();
    this.message = reason ? `${side} ${why}: ${reason}` : `${side} ${why}`;
    if (side === 'target') this.stop('tap');
    else this.stopTargetAfterCommittedStates();
  }

  /** After the tap failed: how long the target gets to commit what the tap's STATEs cover. */
  private get commitGrace(): number {
    return this.options.commitGraceMs ?? 120_000;
  }

  // The tap died. A target that commits only up to the last STATE at end of input (closingState is
  // asked for) gets a clean end without a closing STATE: it commits what the tap's STATEs cover,
  // even when its batch is far from full, and exits by itself (at most the commit grace). Not when the tap
  // died mid-line: the target would take the torn line for bad input.
  // Any other target would commit the uncovered tail at a clean end: let it commit what the STATEs
  // already sent cover (it acknowledges each on stdout), then stop it without an end of input.
  private stopTargetAfterCommittedStates(): void {
    if (this.options.closingState && this.endsWithNewline) this.endTargetInputWithoutClosingState();
    else if (this.counter.states.length === 0) this.stop('target');
    else this.stopTargetOnceStatesAcknowledged();
  }

  private endTargetInputWithoutClosingState(): void {
    this.children.target.stdin.end();
    const timer = setTimeout(() => {
      if (this.exited.target) return;
      this.log.warn(`target did not finish committing the tap's last STATE within ${this.commitGrace} ms; stopping it`);
      this.stop('target');
    }, this.commitGrace);
    timer.unref();
  }

  private stopTargetOnceStatesAcknowledged(): void {
    const timer = setTimeout(() => {
      this.log.warn(`target did not commit the tap's last STATE within ${this.commitGrace} ms; stopping it`);
      this.waitingForStates = undefined;
      this.stop('target');
    }, this.commitGrace);
    timer.unref();
    this.waitingForStates = () => {
      if (this.counter.states.length > 0) return;
      clearTimeout(timer);
      this.waitingForStates = undefined;
      this.stop('target');
    };
  }

  /** Resolves the run once both processes exited. */
  private finish(): void {
    if (!this.exited.tap || !this.exited.target) return;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.options.killSignal?.removeEventListener('abort', this.onKill);
    this.resolve({
      outcome: this.outcome ?? (this.tapPartial ? 'partial' : 'succeeded'),
      ...(this.message ? { message: this.message } : {}),
      ...(this.tapSummary !== undefined ? { tapSummary: this.tapSummary } : {}),
      counter: this.counter,
    });
  }

  // tapline itself is stopping: end both now, without waiting for commits.
  private readonly onAbort = (): void => this.fail('interrupted', 'tapline was interrupted; tap and target were stopped');
  private readonly onKill = (): void => {
    this.onAbort();
    for (const side of SIDES) if (!this.exited[side]) this.children[side].kill('SIGKILL');
  };

  private listenForInterrupts(): void {
    const { signal, killSignal } = this.options;
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort);
    if (killSignal?.aborted) this.onKill();
    else killSignal?.addEventListener('abort', this.onKill);
  }

  /** Tap stdout → target stdin, pausing the tap while the target's pipe is full. */
  private pump(): void {
    const { tap, target } = this.children;
    tap.stdout.on('data', (chunk: Buffer) => {
      this.counter.push(chunk);
      this.endsWithNewline = chunk.at(-1) === 10;
      if (this.outcome || this.exited.target) return;
      if (!target.stdin.write(chunk)) {
        tap.stdout.pause();
        target.stdin.once('drain', () => tap.stdout.resume());
      }
    });
    tap.stdout.on('end', () => this.counter.end());
    // EPIPE when the target died with input still queued: its exit is reported instead.
    target.stdin.on('error', () => {});
  }

  /** Both sides' stderr into the log (and the tails that name a failure); the target's stdout: committed STATEs. */
  private forwardOutput(): void {
    const { tap, target } = this.children;
    forwardLines(tap.stderr, (line) => {
      if (line.startsWith(TAP_SUMMARY_PREFIX)) {
        try {
          this.tapSummary = JSON.parse(line.slice(TAP_SUMMARY_PREFIX.length));
        } catch {
          // not a summary after all: forwarded like any line
        }
      }
      this.tails.tap.remember(line);
      forwardAtItsLevel(this.log, 'tap', line);
    });
    forwardLines(target.stderr, (line) => {
      this.tails.target.remember(line);
      forwardAtItsLevel(this.log, 'target', line);
    });
    forwardLines(target.stdout, (line) => {
      const covered = this.counter.acknowledge(line);
      this.options.onState?.(line, covered);
      this.waitingForStates?.();
    });
  }

  private watchExit(side: Side): void {
    const child: ChildProcess = this.children[side];
    child.on('error', (error) => {
      // A spawn failure (ENOENT, EACCES); a failed kill of an exited process is harmless.
      if (this.exited[side] || child.pid !== undefined) return;
      this.exited[side] = true;
      this.tails[side].remember(error.message);
      this.fail(side, `could not be started (${this.options[side].file})`);
      this.finish();
    });
    child.on('close', (code, signal) => {
      if (this.exited[side]) return;
      this.exited[side] = true;
      if (side === 'tap') this.tapExited(code, signal);
      else if (code !== 0) this.fail('target', describeExit(code, signal));
      else if (!this.inputEnded) this.fail('target', 'exited before the end of its input');
      this.finish();
    });
  }

  private tapExited(code: number | null, signal: NodeJS.Signals | null): void {
    // Exit 6 is a clean end only from a tap that said so in its SUMMARY line: another tap's 6 is a failure.
    if (code !== 0 && !(code === TAP_EXIT_PARTIAL && this.tapSummary !== undefined)) {
      this.fail('tap', describeExit(code, signal));
      return;
    }
    // The tap finished (exit 6: cleanly, leaving something for the next run): only now may
    // the target see end-of-input and commit its tail.
    this.tapPartial = code === TAP_EXIT_PARTIAL;
    this.inputEnded = true;
    if (!this.outcome) this.endTargetInput();
  }

  /** The clean end of the target's input: the closing STATE (when asked for), then EOF. */
  private endTargetInput(): void {
    const { stdin } = this.children.target;
    const { closingState } = this.options;
    if (closingState) {
      const line = this.counter.lastStateLine ?? `{"type":"STATE","value":${stringifyJson(closingState.fallback ?? {})}}`;
      this.counter.push(Buffer.from(`${line}\n`)); // so the target's echo of it is acknowledged
      stdin.write(`${(this.endsWithNewline ? '' : '\n') + line}\n`);
    }
    stdin.end();
  }
}
