// A stream's plain records: RECORD lines turned into encoded rows straight from their bytes.
//
// Most records a tap sends are plain: numbers a double holds, RFC 3339 timestamps, values their
// schema's simple keywords decide. For those, the row the parsing path would encode (JSON.parse,
// ajv, the cells, the dialect's encoder) is mostly a rearrangement of the line's own bytes, so
// it is written from them; a value whose bytes are not its stored text (an escaped string,
// nested JSON with whitespace, `1.0`) is parsed on its own and written as the parsing path would.
// What decides all this is compiled once per schema and columns (rules.ts), and the scanner gives
// up on anything else, which then takes the parsing path as before.
// TAPLINE_CHECK_PLAIN_ROWS=1 (set for the test suites) encodes every plain row both ways and
// stops on any difference.
import { type JsonSchema, stringifyJson } from '@tapline/singer';
import type { CellValue, ColumnDef, ColumnKind, EncodedRows, PlainRowFormat } from '../dialect.js';
import { hasNul, hasUnpairedSurrogate } from '../encode.js';
import { compositeKey, keyOf } from '../keys.js';
import { META } from '../metadata.js';
import { FORMAT, NotPlain, type ObjectRule, TOKEN, type ValueRule, valueRule } from './rules.js';
import type { LineScanner } from './scanner.js';

/**
 * How each cell is written: a property's token as a bare number (`integer` also tells the
 * encoder its value), a boolean, text without its quotes or JSON text as it is, or the field made
 * for a rewritten value; or metadata; or NULL (`_sdc_deleted_at`, and columns of undeclared
 * properties).
 */
const WRITE = {
  nothing: 0,
  integer: 1,
  bare: 2,
  boolean: 3,
  text: 4,
  json: 5,
  extracted: 6,
  received: 7,
  sequence: 8,
  version: 9,
  field: 10,
} as const;

/** What a column of each kind takes as it is, and how it writes it. */
const COLUMN_TAKES: Partial<Record<ColumnKind, { tokens: number; write: number; format?: number }>> = {
  integer: { tokens: TOKEN.integer, write: WRITE.integer },
  number: { tokens: TOKEN.integer | TOKEN.decimal, write: WRITE.bare },
  boolean: { tokens: TOKEN.true | TOKEN.false, write: WRITE.boolean },
  string: { tokens: TOKEN.string, write: WRITE.text },
  timestamp: { tokens: TOKEN.string, write: WRITE.text, format: FORMAT.dateTime },
  date: { tokens: TOKEN.string, write: WRITE.text, format: FORMAT.date },
  time: { tokens: TOKEN.string, write: WRITE.text, format: FORMAT.time },
  json: { tokens: 255, write: WRITE.json },
};

/** Metadata columns filled from the envelope or the clock, and how. */
const METADATA_NAMES: ReadonlySet<string> = new Set(Object.values(META));

const META_WRITES: Record<string, number> = {
  [META.extractedAt]: WRITE.extracted,
  [META.receivedAt]: WRITE.received,
  [META.sequence]: WRITE.sequence,
  [META.tableVersion]: WRITE.version,
};

/** What a stream's sink knows that decides its plain rows. */
export interface PlainRecordsInput {
  readonly stream: string;
  /** The stream's schema, as sent. */
  readonly schema: JsonSchema;
  /** Each schema property and its cell (encoding order), in schema order. */
  readonly properties: readonly { readonly property: string; readonly cell: number }[];
  /** The cells' columns in encoding order (`_sdc_batched_at` not among them). */
  readonly cells: readonly ColumnDef[];
  readonly keyProperties: readonly string[];
  /** Whether rows are deduplicated by key (each row's key is asked for). */
  readonly upsert: boolean;
}

/** Why a stream's records all take the parsing path (null: they may be plain). */
export function whyNotPlain(input: PlainRecordsInput): string | null {
  try {
    PlainRecords.compile(input);
    return null;
  } catch (error) {
    if (error instanceof NotPlain) return error.message;
    throw error;
  }
}

export class PlainRecords {
  /** Per property (rule order): the cell it fills, and the rule its value must meet. */
  private readonly propertyCells: Int32Array;
  private readonly record: ObjectRule;
  private readonly rules: readonly ValueRule[];
  private readonly inJson: readonly boolean[];
  /** Per cell: how it is written (WRITE) and the property it shows (rule index, or -1). */
  private readonly writes: Int32Array;
  private readonly cellProperty: Int32Array;
  /** Rule indexes of the key properties, and their cells' kinds. */
  private readonly keys: Int32Array;
  private readonly keyKinds: readonly ColumnKind[];
  private readonly upsert: boolean;

  /** The last record read: per property, its token (0: absent), its bytes and an integer's value. */
  private readonly tokens: Int32Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly integers: Float64Array;
  /** Per property: its column's kind. */
  private readonly kinds: readonly ColumnKind[];
  /**
   * Per property of the last record read: the field written in place of its bytes (an escaped
   * string, spaced JSON, a number spelled otherwise), or undefined; and its cell value (keys).
   */
  private readonly fields: (string | undefined)[];
  private readonly values: CellValue[];
  /** Bytes the last record's rewritten fields may take beyond the line's own (UTF-8, escaped). */
  private extraBytes = 0;
  /** The key of the last record read (upsert). */
  key: unknown = undefined;

  private constructor(input: PlainRecordsInput, record: ObjectRule) {
    this.record = record;
    const count = record.names.length;
    this.propertyCells = new Int32Array(count).fill(-1);
    const cellOf = new Map(input.properties.map(({ property, cell }) => [property, cell]));
    const rules: ValueRule[] = [];
    const inJson: boolean[] = [];
    const kinds: ColumnKind[] = [];
    this.cellProperty = new Int32Array(input.cells.length).fill(-1);
    this.writes = new Int32Array(input.cells.length).fill(WRITE.nothing);
    for (const [index, name] of record.names.entries()) {
      const cell = cellOf.get(name);
      if (cell === undefined) throw new NotPlain(`the property "${name}" has no column of its own`);
      const column = input.cells[cell]!;
      const takes = COLUMN_TAKES[column.kind];
      if (takes === undefined) throw new NotPlain(`column "${column.name}" is ${column.kind}`);
      const rule = record.rules[index]!;
      // The value's token must be one the schema accepts and the column stores as it is.
      rules.push({ ...rule, tokens: rule.tokens & (takes.tokens | TOKEN.null), format: takes.format ?? rule.format });
      inJson.push(column.kind === 'json');
      kinds.push(column.kind);
      this.propertyCells[index] = cell;
      this.cellProperty[cell] = index;
      this.writes[cell] = takes.write;
    }
    this.rules = rules;
    this.inJson = inJson;
    this.kinds = kinds;
    for (const [cell, column] of input.cells.entries()) {
      const write = this.cellProperty[cell] === -1 ? META_WRITES[column.name] : undefined;
      if (write === undefined) continue;
      if (column.kind !== (write === WRITE.sequence || write === WRITE.version ? 'integer' : 'timestamp')) {
        throw new NotPlain(`column "${column.name}" is ${column.kind}`); // a hand-made metadata column
      }
      this.writes[cell] = write;
    }
    this.keys = Int32Array.from(input.keyProperties, (key) => record.indexOf.get(key) ?? -1);
    if (this.keys.includes(-1)) throw new NotPlain('a key property the schema does not declare');
    this.keyKinds = [...this.keys].map((index) => input.cells[this.propertyCells[index]!]!.kind);
    if (this.keyKinds.includes('json')) throw new NotPlain('a key stored as JSON (its keys are sorted)');
    this.upsert = input.upsert;
    this.tokens = new Int32Array(count);
    this.starts = new Int32Array(count);
    this.ends = new Int32Array(count);
    this.integers = new Float64Array(count);
    this.fields = new Array<string | undefined>(count).fill(undefined);
    this.values = new Array<CellValue>(count).fill(null);
  }

  /** The plain path for a stream, or NotPlain saying why its records all take the parsing path. */
  static compile(input: PlainRecordsInput): PlainRecords {
    for (const property of Object.keys(input.schema.properties ?? {})) {
      // Such properties fill or shadow metadata columns: the parsing path sorts that out. Other
      // `_sdc_` names (a tap's `_sdc_extra`) are columns like any other.
      if (METADATA_NAMES.has(property)) throw new NotPlain(`the property "${property}"`);
    }
    const rule = valueRule(input.schema);
    if (rule.object === null) throw new NotPlain('a schema without properties');
    return new PlainRecords(input, rule.object);
  }

  /**
   * Read the record the scanner is on (its `{`), and the rest of the line: true when it is plain
   * (every property declared, once, with a value its rule accepts; the keys present), else false.
   */
  read(scanner: LineScanner, format: PlainRowFormat): boolean {
    const { tokens, starts, ends, integers, rules, inJson, fields } = this;
    tokens.fill(0);
    this.extraBytes = 0;
    const record = this.record;
    const bytes = scanner.bytes;
    scanner.at += 1;
    scanner.space();
    if (bytes[scanner.at] === 0x7d) scanner.at += 1;
    else {
      for (let next = 0; ; ) {
        if (bytes[scanner.at] !== 0x22) return false;
        let index: number;
        if (next < record.names.length && scanner.literal(record.quotedNames[next]!)) index = next;
        else {
          const start = scanner.at;
          if (!scanner.plainString()) return false;
          index = record.indexOf.get(bytes.toString('utf8', start + 1, scanner.at - 1)) ?? -1;
          if (index === -1) return false; // undeclared: the parsing path adds a column, or warns
        }
        if (tokens[index] !== 0) return false; // written twice
        next = index + 1;
        if (!scanner.colon()) return false;
        const start = scanner.at;
        scanner.rewrite = false;
        const token = scanner.value(rules[index]!, inJson[index]!, 0);
        if (token === 0) return false;
        tokens[index] = token;
        starts[index] = start;
        ends[index] = scanner.at;
        if (token === TOKEN.integer) integers[index] = scanner.integer;
        fields[index] = undefined;
        if (scanner.rewrite && !this.rewriteValue(bytes, index, token, format)) return false;
        scanner.space();
        const byte = bytes[scanner.at++];
        if (byte === 0x7d) break;
        if (byte !== 0x2c) return false;
        scanner.space();
      }
    }
    for (const index of record.required) if (tokens[index] === 0) return false;
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      const token = tokens[keys[k]!]!;
      if (token === 0 || token === TOKEN.null) return false; // the parsing path names the missing key
    }
    if (!scanner.readRecordTail()) return false;
    if (this.upsert) this.key = this.keyValue(bytes);
    return true;
  }

  /**
   * A value whose bytes are not its stored text: parsed on its own (its numbers are ones a double
   * holds, so JSON.parse reads it as the parsing path does) and kept as the field the encoder
   * would write. False to give up: text the parsing path would refuse or change (NUL, a lone
   * surrogate) goes there.
   */
  private rewriteValue(bytes: Buffer, index: number, token: number, format: PlainRowFormat): boolean {
    const text = bytes.toString('utf8', this.starts[index], this.ends[index]);
    let field: string;
    let value: CellValue;
    switch (this.kinds[index]) {
      case 'integer':
        value = this.integers[index]!;
        field = String(value);
        break;
      case 'number':
        value = Number(text);
        field = String(value);
        break;
      case 'json': {
        const json = stringifyJson(JSON.parse(text));
        if (hasNul(json, 'json') || hasUnpairedSurrogate(json, 'json')) return false;
        value = json;
        field = format.textField(json);
        break;
      }
      default: {
        if (token !== TOKEN.string) return false;
        value = JSON.parse(text) as string;
        field = format.textField(value);
      }
    }
    this.fields[index] = field;
    this.values[index] = value;
    this.extraBytes += 3 * field.length;
    return true;
  }

  /** Write the record just read as a row, as the dialect's encoder would have. */
  // One piece on purpose (~90 lines): the fast path's innermost loop, run for every cell of every row; a helper per case would add a call per cell.
  write(scanner: LineScanner, rows: EncodedRows, format: PlainRowFormat, line: number, receivedAt: Buffer, sequence: number): void {
    const bytes = scanner.bytes;
    const { writes, cellProperty, tokens, starts, ends, integers, fields } = this;
    const count = writes.length;
    const quote = format.quote;
    const quoted = quote >= 0;
    const delimiter = format.delimiter;
    const nullField = format.nullField;
    const integerCell = format.integerCell;
    // Each field is a part of the line, or metadata, plus at most a delimiter, two quotes or a NULL.
    const most =
      scanner.end -
      scanner.lineStart +
      this.extraBytes +
      64 +
      receivedAt.length +
      count * (3 + nullField.length + format.trueField.length + format.falseField.length) +
      format.rowEnd.length;
    const out = rows.beginRow(most);
    let at = rows.rowStart;
    for (let cell = 0; cell < count; cell++) {
      if (cell > 0) out[at++] = delimiter;
      let write = writes[cell]!;
      const property = cellProperty[cell]!;
      let token = 0;
      if (property >= 0) {
        token = tokens[property]!;
        if (token === 0 || token === TOKEN.null) write = WRITE.nothing;
        else if (fields[property] !== undefined) write = WRITE.field;
      }
      switch (write) {
        case WRITE.field:
          if (writes[cell] === WRITE.integer && integerCell !== undefined) integerCell.call(format, cell, this.values[property] as number);
          at += out.write(fields[property]!, at);
          break;
        case WRITE.integer:
          if (integerCell !== undefined) integerCell.call(format, cell, integers[property]!);
          at = put(bytes, starts[property]!, ends[property]!, out, at);
          break;
        case WRITE.bare:
          at = put(bytes, starts[property]!, ends[property]!, out, at);
          break;
        case WRITE.boolean: {
          const field = token === TOKEN.true ? format.trueField : format.falseField;
          at = put(field, 0, field.length, out, at);
          break;
        }
        case WRITE.text:
          if (quoted) out[at++] = quote;
          at = put(bytes, starts[property]! + 1, ends[property]! - 1, out, at);
          if (quoted) out[at++] = quote;
          break;
        case WRITE.json:
          if (quoted) out[at++] = quote;
          at = put(bytes, starts[property]!, ends[property]!, out, at);
          if (quoted) out[at++] = quote;
          break;
        case WRITE.extracted:
          if (scanner.extractedStart < 0) at = put(nullField, 0, nullField.length, out, at);
          else {
            if (quoted) out[at++] = quote;
            at = put(bytes, scanner.extractedStart, scanner.extractedEnd, out, at);
            if (quoted) out[at++] = quote;
          }
          break;
        case WRITE.received:
          if (quoted) out[at++] = quote;
          at = put(receivedAt, 0, receivedAt.length, out, at);
          if (quoted) out[at++] = quote;
          break;
        case WRITE.sequence:
          if (integerCell !== undefined) integerCell.call(format, cell, sequence);
          at = putDigits(sequence, out, at);
          break;
        case WRITE.version:
          if (scanner.versionStart < 0) at = put(nullField, 0, nullField.length, out, at);
          else {
            if (integerCell !== undefined)
              integerCell.call(format, cell, Number(bytes.toString('latin1', scanner.versionStart, scanner.versionEnd)));
            at = put(bytes, scanner.versionStart, scanner.versionEnd, out, at);
          }
          break;
        default: // WRITE.nothing
          at = put(nullField, 0, nullField.length, out, at);
      }
    }
    at = put(format.rowEnd, 0, format.rowEnd.length, out, at);
    rows.endRow(at, line);
  }

  /** The record's key as `StreamSink` deduplicates by (`keyOf` of each key cell). */
  private keyValue(bytes: Buffer): unknown {
    const keys = this.keys;
    if (keys.length === 1) return keyOf(this.cellOf(bytes, keys[0]!), this.keyKinds[0]!);
    const parts = new Array<unknown>(keys.length);
    for (let k = 0; k < keys.length; k++) parts[k] = keyOf(this.cellOf(bytes, keys[k]!), this.keyKinds[k]!);
    return compositeKey(parts);
  }

  /** The cell value the parsing path would have made of a (non-null) property. */
  private cellOf(bytes: Buffer, index: number): CellValue {
    if (this.fields[index] !== undefined) return this.values[index]!;
    switch (this.tokens[index]) {
      case TOKEN.integer:
        return this.integers[index]!;
      case TOKEN.decimal:
        return Number(bytes.toString('latin1', this.starts[index], this.ends[index]));
      case TOKEN.true:
        return true;
      case TOKEN.false:
        return false;
      default:
        return bytes.toString('utf8', this.starts[index]! + 1, this.ends[index]! - 1);
    }
  }
}

/** A non-negative safe integer's decimal digits, written at `at` (no string made). */
function putDigits(value: number, to: Buffer, at: number): number {
  let length = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) length++;
  for (let i = length - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 10)) to[at + i] = 48 + (rest % 10);
  return at + length;
}

/**
 * Copy `from[start, end)` to `to` at `at`. A native copy costs a fixed ~200 ns, as much as copying
 * ~100 bytes four at a time, so shorter fields (most of them) are copied here.
 */
function put(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start > 96) return at + from.copy(to, at, start, end);
  let i = start;
  let j = at;
  for (const last = end - 3; i < last; i += 4, j += 4) {
    to[j] = from[i]!;
    to[j + 1] = from[i + 1]!;
    to[j + 2] = from[i + 2]!;
    to[j + 3] = from[i + 3]!;
  }
  for (; i < end; i++, j++) to[j] = from[i]!;
  return j;
}
