// The one error type for bad Singer input, so every consumer can print it as a single sentence.

/** Where in the input a problem was found. */
export interface InputLocation {
  /** 1-based input line number (0 when the problem is not tied to a line). */
  line: number;
  stream?: string;
  field?: string;
}

/**
 * Bad input: malformed JSON, a message missing a required key, a record that fails its schema.
 * `message` is one sentence naming the line, stream and field, e.g.
 * `line 7 (stream "users"): SCHEMA has no "properties"`. It is a user error: print the message,
 * not the stack.
 */
export class SingerInputError extends Error {
  override readonly name = 'SingerInputError';
  readonly line: number;
  readonly stream: string | undefined;
  readonly field: string | undefined;
  /** The problem without the location prefix. */
  readonly reason: string;

  constructor(location: InputLocation, reason: string) {
    super(`${describeLocation(location)}: ${reason}`);
    this.line = location.line;
    this.stream = location.stream;
    this.field = location.field;
    this.reason = reason;
  }
}

/** A problem that does not stop the load (e.g. an unknown message type that is skipped). */
export interface SingerWarning {
  line: number;
  message: string;
}

export type WarningHandler = (warning: SingerWarning) => void;

/** `line 7 (stream "users")`, or `input` when there is no line. */
export function describeLocation({ line, stream }: InputLocation): string {
  const where = line > 0 ? `line ${line}` : 'input';
  return stream === undefined ? where : `${where} (stream ${JSON.stringify(stream)})`;
}

/**
 * True for V8's "Maximum call stack size exceeded": input nested deeper than code that recurses
 * through it (schema compilation, JSON.stringify) can follow. It is reported as bad input.
 */
export function isStackExhausted(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
