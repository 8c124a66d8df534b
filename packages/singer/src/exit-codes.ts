// The one exit-code table of every Tapline tap, target and the `tapline` runner, as data: the
// `--help` texts and the README table (packages/singer/README.md, "Exit codes") are made from it.

/** Who can end with a code: a tap, a target, or the `tapline` runner. */
export type ExitCodeUser = 'tap' | 'target' | 'runner';

export interface ExitCodeEntry {
  /** The process exit code (`128+n` stands for the signal range). */
  readonly code: number;
  /** A short name, also the key in `EXIT_CODES`. */
  readonly name: string;
  /** What it means and what to do about it, in a sentence or two. */
  readonly meaning: string;
  /** The programs that end with it. */
  readonly usedBy: readonly ExitCodeUser[];
}

/**
 * The shared codes: each means the same for every tap, target and the runner. The names of 1, 3
 * and 4 are the blames of `@tapline/http` (system, config, transient), so a failure's blame is its
 * exit code.
 */
export const EXIT_CODES = {
  ok: 0,
  system: 1,
  usage: 2,
  config: 3,
  transient: 4,
  resource: 5,
  partial: 6,
  data: 7,
} as const;

/** The runner's outer layer: which side failed. The side's own code is in the run's message. */
export const RUNNER_EXIT_CODES = {
  tapFailed: 10,
  targetFailed: 11,
  /** The runner was stopped by SIGINT or SIGTERM: 128 + 2, as a shell reports Ctrl-C. */
  interrupted: 130,
} as const;

export type SharedExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Ends with `signal`: 128 + its number, as a shell reports a process the signal killed. */
export function signalExitCode(signalNumber: number): number {
  return 128 + signalNumber;
}

export const EXIT_CODE_TABLE: readonly ExitCodeEntry[] = [
  {
    code: 0,
    name: 'ok',
    usedBy: ['tap', 'target', 'runner'],
    meaning: 'Success: everything selected was read, loaded and its state committed.',
  },
  {
    code: 1,
    name: 'system',
    usedBy: ['tap', 'target', 'runner'],
    meaning: 'A bug, or vendor data the program does not understand; the stack trace is printed. Report it.',
  },
  {
    code: 2,
    name: 'usage',
    usedBy: ['tap', 'target', 'runner'],
    meaning: 'The command line was wrong (an unknown flag or command, a missing --config).',
  },
  {
    code: 3,
    name: 'config',
    usedBy: ['tap', 'target', 'runner'],
    meaning: 'The user must fix something: a config or project file, credentials, permissions, a state or catalog file.',
  },
  {
    code: 4,
    name: 'transient',
    usedBy: ['tap', 'target', 'runner'],
    meaning:
      'Network failures, 5xx answers after retries, timeouts, a warehouse out of reach, stdout closed by its reader: running again later should work.',
  },
  {
    code: 5,
    name: 'resource',
    usedBy: ['target'],
    meaning:
      "A resource ran out (a full disk, the database's memory or connections, statement_timeout_ms); committed data is intact, free it and run again to resume.",
  },
  {
    code: 6,
    name: 'partial',
    usedBy: ['tap', 'runner'],
    meaning:
      "A clean end with the state saved, but something was left for the next run (a rate-limit stop, a listing cut short, records set aside); the tap's last stderr line, `SUMMARY: {json}`, says which.",
  },
  {
    code: 7,
    name: 'data',
    usedBy: ['target'],
    meaning:
      'The Singer input was bad, or the destination refused the data or a table change; what the last state covers is committed, nothing after it.',
  },
  {
    code: RUNNER_EXIT_CODES.tapFailed,
    name: 'tapFailed',
    usedBy: ['runner'],
    meaning:
      "The tap failed (its own code and last error line are in the run's message); the target was stopped without a clean end of input.",
  },
  {
    code: RUNNER_EXIT_CODES.targetFailed,
    name: 'targetFailed',
    usedBy: ['runner'],
    meaning:
      "The target failed, or ended before its input did (its own code and last error line are in the run's message); the tap was stopped.",
  },
  {
    code: 128,
    name: 'signal',
    usedBy: ['tap', 'target', 'runner'],
    meaning:
      'Stopped by signal n, exit 128+n (130 for SIGINT, 143 for SIGTERM; the runner ends with 130 for either); every state on stdout is committed with what it covers.',
  },
];

/** The codes `user` ends with, in the table's order. */
export function exitCodesOf(user: ExitCodeUser): readonly ExitCodeEntry[] {
  return EXIT_CODE_TABLE.filter((entry) => entry.usedBy.includes(user));
}

const codeLabel = (entry: ExitCodeEntry): string => (entry.name === 'signal' ? '128+n' : String(entry.code));

/** The `Exit codes:` block of a `--help` text: one code a line, wrapped to `width` columns. */
export function exitCodesHelp(user: ExitCodeUser, width = 100): string {
  const lines = ['Exit codes:'];
  for (const entry of exitCodesOf(user)) {
    const label = `  ${codeLabel(entry).padEnd(6)}`;
    let line = label;
    for (const word of entry.meaning.split(' ')) {
      if (line.length + word.length + 1 > width && line.trim() !== codeLabel(entry)) {
        lines.push(line.trimEnd());
        line = ' '.repeat(label.length);
      }
      line += `${word} `;
    }
    lines.push(line.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

/** The README's table (packages/singer/README.md, "Exit codes"), checked against this data by a test. */
export function exitCodesMarkdown(): string {
  const mark = (entry: ExitCodeEntry, user: ExitCodeUser) => (entry.usedBy.includes(user) ? 'yes' : '');
  const rows = EXIT_CODE_TABLE.map(
    (entry) =>
      `| ${codeLabel(entry)} | \`${entry.name}\` | ${mark(entry, 'tap')} | ${mark(entry, 'target')} | ${mark(entry, 'runner')} | ${entry.meaning} |`,
  );
  return `${['| code | name | tap | target | tapline | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n')}\n`;
}
