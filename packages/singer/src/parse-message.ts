// Turns one line of Singer input into a typed message, with errors that name the line, stream and field.
import { isStackExhausted, SingerInputError, type WarningHandler } from './errors.js';
import { isLosslessNumber, parseJson, parseJsonAllowingNonFinite } from './json.js';
import type { ActivateVersionMessage, RecordMessage, SchemaMessage, SingerMessage, StateMessage } from './messages.js';

export interface ParseMessageOptions {
  /** Called for input that is skipped, not rejected (unknown message types). Default: console.warn. */
  onWarning?: WarningHandler;
  /** Warn only once per unknown type name across calls sharing this set (the reader passes one). */
  warnedTypes?: Set<string>;
}

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** A short, quoted rendering of a value for error messages: `"Non Numeric PK"`, `123`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (isLosslessNumber(value)) return value.toString();
  if (isJsonObject(value)) return 'an object';
  // A bigint, NaN or an infinity has no JSON text (JSON.stringify would say `null` for NaN).
  const text = typeof value === 'bigint' || typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A line JSON.parse refused: it may hold Python's NaN or Infinity (`parseJsonAllowingNonFinite`); else the refusal stands. */
function parseNonFinite(text: string, line: number, refusal: unknown): unknown {
  try {
    return parseJsonAllowingNonFinite(text);
  } catch {
    const detail = refusal instanceof Error ? refusal.message : String(refusal);
    throw new SingerInputError({ line, stream: streamNamedIn(text) }, `invalid JSON (${detail})`);
  }
}

/** Best effort: the stream a broken line belongs to, for the error message only. */
function streamNamedIn(text: string): string | undefined {
  return /"stream"\s*:\s*"((?:[^"\\]|\\.){1,200})"/.exec(text)?.[1];
}

const defaultWarning: WarningHandler = ({ message }) => console.warn(message);

/**
 * Parse one line of Singer input (without its newline). Returns null for a message type we do
 * not know (after a warning), throws SingerInputError for anything malformed. The message `type`
 * is matched case-insensitively and normalised to upper case; a SCHEMA is also checked with
 * `assertSchemaHasProperties`. The returned object is the parsed JSON itself (no copy).
 */
export function parseMessage(text: string, line: number, options: ParseMessageOptions = {}): SingerMessage | null {
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (error) {
    if (isStackExhausted(error)) {
      throw new SingerInputError({ line, stream: streamNamedIn(text) }, 'the message nests arrays or objects too deeply to read');
    }
    parsed = parseNonFinite(text, line, error);
  }
  if (!isJsonObject(parsed)) {
    throw new SingerInputError({ line }, `a Singer message must be a JSON object (got ${describeValue(parsed)})`);
  }
  const type = parsed.type;
  // Fast path: the spelling every tap uses.
  if (type === 'RECORD') return checkRecord(parsed, line);
  if (typeof type !== 'string') {
    const stream = typeof parsed.stream === 'string' ? parsed.stream : undefined;
    throw new SingerInputError({ line, stream }, `message has no "type" (got ${describeValue(type)})`);
  }
  const upper = type.toUpperCase();
  parsed.type = upper;
  switch (upper) {
    case 'RECORD':
      return checkRecord(parsed, line);
    case 'SCHEMA':
      return checkSchema(parsed, line);
    case 'STATE':
      return checkState(parsed, line);
    case 'ACTIVATE_VERSION':
      return checkActivateVersion(parsed, line);
    case 'BATCH': {
      const stream = typeof parsed.stream === 'string' ? parsed.stream : undefined;
      throw new SingerInputError(
        { line, stream },
        'BATCH messages are not supported; run the tap without batch_config so it sends RECORD messages',
      );
    }
    default: {
      const warnedTypes = options.warnedTypes;
      if (warnedTypes === undefined || !warnedTypes.has(upper)) {
        warnedTypes?.add(upper);
        (options.onWarning ?? defaultWarning)({
          line,
          message: `line ${line}: skipping message of unknown type ${JSON.stringify(type)}`,
        });
      }
      return null;
    }
  }
}

function requireStream(message: JsonObject, line: number, kind: string): string {
  const stream = message.stream;
  if (typeof stream !== 'string' || stream.length === 0) {
    throw new SingerInputError({ line }, `${kind} has no "stream" (got ${describeValue(stream)})`);
  }
  return stream;
}

/** Versions are epoch-based integers; one too big for a double arrives as a LosslessNumber. */
function readVersion(value: unknown, line: number, stream: string, kind: string): number | bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (isLosslessNumber(value) && /^-?\d+$/.test(value.toString())) return BigInt(value.toString());
  throw new SingerInputError({ line, stream, field: 'version' }, `${kind} "version" must be an integer (got ${describeValue(value)})`);
}

function checkRecord(message: JsonObject, line: number): RecordMessage {
  const stream = requireStream(message, line, 'RECORD');
  if (!isJsonObject(message.record)) {
    throw new SingerInputError({ line, stream }, `RECORD "record" must be a JSON object (got ${describeValue(message.record)})`);
  }
  if (message.version !== undefined) {
    if (message.version === null) delete message.version;
    else message.version = readVersion(message.version, line, stream, 'RECORD');
  }
  const extracted = message.time_extracted;
  if (extracted !== undefined && typeof extracted !== 'string') {
    if (extracted !== null) {
      throw new SingerInputError(
        { line, stream, field: 'time_extracted' },
        `RECORD "time_extracted" must be a date-time string (got ${describeValue(extracted)})`,
      );
    }
    delete message.time_extracted;
  }
  return message as RecordMessage;
}

function readPropertyList(message: JsonObject, key: string, line: number, stream: string): void {
  const value = message[key];
  if (value === undefined) return;
  if (value === null) {
    delete message[key]; // some taps send null for "no key"
    return;
  }
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
    throw new SingerInputError(
      { line, stream, field: key },
      `SCHEMA "${key}" must be an array of property names (got ${describeValue(value)})`,
    );
  }
}

function checkSchema(message: JsonObject, line: number): SchemaMessage {
  const stream = requireStream(message, line, 'SCHEMA');
  if (!isJsonObject(message.schema)) {
    throw new SingerInputError({ line, stream }, `SCHEMA "schema" must be a JSON object (got ${describeValue(message.schema)})`);
  }
  readPropertyList(message, 'key_properties', line, stream);
  readPropertyList(message, 'bookmark_properties', line, stream);
  const schemaMessage = message as SchemaMessage;
  assertSchemaHasProperties(schemaMessage, line);
  return schemaMessage;
}

/**
 * A stream's schema must be an object schema that lists its `properties` (it may be `{}`): the
 * Meltano SDK rejects `{"type": "object"}` alone (peer test invalid_schema.singer), and a target
 * cannot make a table from it. Nested objects may omit `properties`. `parseMessage` applies this
 * to every SCHEMA; it is exported for code that builds SCHEMA messages itself.
 */
export function assertSchemaHasProperties(message: Pick<SchemaMessage, 'stream' | 'schema'>, line: number): void {
  if (!isJsonObject(message.schema.properties)) {
    throw new SingerInputError(
      { line, stream: message.stream },
      'SCHEMA has no "properties"; a stream schema must be an object schema that lists its properties',
    );
  }
}

function checkState(message: JsonObject, line: number): StateMessage {
  if (!('value' in message)) throw new SingerInputError({ line }, 'STATE has no "value"');
  return message as StateMessage;
}

function checkActivateVersion(message: JsonObject, line: number): ActivateVersionMessage {
  const stream = requireStream(message, line, 'ACTIVATE_VERSION');
  message.version = readVersion(message.version, line, stream, 'ACTIVATE_VERSION');
  return message as ActivateVersionMessage;
}
