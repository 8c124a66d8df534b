// One stream's sink: its column layout, record -> row encoding, the row buffer and last-wins dedupe.
import {
  compileRecordValidator,
  containsNonFinite,
  isInheritedName,
  isLosslessNumber,
  type JsonSchema,
  type LogicalType,
  logicalTypeOf,
  parseMessage,
  type RecordMessage,
  type RecordValidator,
  resolveLocalRefs,
  SingerInputError,
  UncompilableSchema,
} from '@tapline/singer';
import { widenKind } from './column-plan.js';
import { descriptionOf, METADATA_DESCRIPTIONS } from './comments.js';
import type { CellValue, ColumnDef, ColumnKind, RowBatch, RowEncoder, TableRef, WriteMode } from './dialect.js';
import {
  encodeCell,
  hasNoEscapes,
  hasNul,
  hasUnpairedSurrogate,
  InvalidValue,
  NeedsWiderColumn,
  replaceUnpairedSurrogates,
  stripNul,
} from './encode.js';
import { EncodedRows, type EncodedRowsParts } from './encoded-rows.js';
import { flattenedProperties, flattenRecord } from './flatten.js';
import { canonicalJsonKey, compositeKey, keyOf } from './keys.js';
import { META, METADATA_FROM_RECORD } from './metadata.js';
import { columnNamesFor } from './names.js';
import { PlainRecords } from './plain/plain-records.js';
import { NotPlain } from './plain/rules.js';
import type { LineScanner } from './plain/scanner.js';
import { canonicalTimestamp, extractedAtCell } from './timestamp.js';

/** A schema property and the column it lands in. */
export interface PropertyColumn {
  readonly property: string;
  /** Index of the column in `StreamSink.columns` (and in each row). */
  readonly index: number;
}

/** What a SCHEMA asks for, before the database has been consulted. */
export interface SchemaLayout {
  /** Columns for the schema's properties (schema order), then metadata columns, then columns of undeclared properties. */
  readonly columns: ColumnDef[];
  readonly properties: PropertyColumn[];
  /** Properties the schema does not declare that records brought (load_undeclared_properties), in order of first appearance. */
  readonly undeclared: PropertyColumn[];
  /** Whether undeclared properties are loaded: the setting is on and the schema has no `additionalProperties: false`. */
  readonly loadsUndeclared: boolean;
  readonly keyColumns: string[];
  readonly keyProperties: string[];
  /** The data dictionary: the schema's `description`, and each column's (its property's, or the metadata column's meaning). */
  readonly tableDescription: string | null;
  readonly columnDescriptions: readonly (readonly [column: string, description: string])[];
}

export interface SinkSettings {
  readonly maxIdentifierBytes: number;
  readonly textAcceptsNul: boolean;
  readonly sanitizeNul: boolean;
  /** replace_unpaired_surrogates. */
  readonly replaceUnpairedSurrogates: boolean;
  readonly validate: boolean;
  /** Metadata columns to add (empty when add_record_metadata is off). */
  readonly metadataColumns: readonly ColumnDef[];
  readonly appendOnly: boolean;
  /** load_undeclared_properties. */
  readonly loadUndeclared: boolean;
  /** interpret_content_encoding: base16 strings are stored as bytes. */
  readonly interpretContentEncoding: boolean;
  /** How many levels of objects are flattened into `parent__child` columns (0: none; flatten.ts). */
  readonly flattenMaxLevel: number;
  /** `TargetKnobs.checkPlainRows`: each plain row is checked against the parsing path's. */
  readonly checkPlainRows: boolean;
  readonly warn: (message: string) => void;
  /** The session's encoder factory (DialectSession.rowEncoder). */
  readonly rowEncoder: (columns: readonly ColumnDef[], withBatchedAt: boolean) => RowEncoder;
}

/**
 * A change a record needs of its table before it can be stored (nothing was buffered): a column
 * wider than it is, or columns for properties the schema does not declare. `addRecord` returns
 * it; the loader applies it (TableManager.applyChange) and stores the record again.
 */
export type TableChange =
  | { readonly kind: 'widen'; readonly column: ColumnDef; readonly from: ColumnKind }
  | { readonly kind: 'undeclared'; readonly properties: readonly { readonly property: string; readonly value: unknown }[] };

/** Thrown out of `encodeRecord` (deep in its cells) when a column must widen; `addRecord` returns it as a TableChange. */
class ColumnWideningNeeded {
  constructor(
    readonly column: ColumnDef,
    readonly from: ColumnKind,
  ) {}
}

/**
 * Thrown out of `encodeRecord` when a record brings properties the schema does not declare, with
 * a value, that have no column yet; `addRecord` returns it as a TableChange.
 */
class UndeclaredColumnsNeeded {
  constructor(readonly properties: readonly { readonly property: string; readonly value: unknown }[]) {}
}

/**
 * The kind a column for an undeclared property gets from its first value (README, "Undeclared
 * properties"): no format guessing, a number a double would round is exact.
 */
export function kindOfValue(value: unknown): ColumnKind {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'bigint':
      return 'integer';
    case 'string':
      return 'string';
    default:
      if (isLosslessNumber(value)) return /^-?\d+$/.test(value.toString()) ? 'integer' : 'decimal';
      return 'json';
  }
}

/**
 * Whether a column of `kind` takes this (non-null) value of an undeclared property as it is; numbers
 * that need more (1.5 in an integer column, a long decimal in a double one) are widened by `encodeCell`.
 */
function columnTakes(kind: ColumnKind, value: unknown): boolean {
  switch (kind) {
    case 'string':
    case 'json':
      return true;
    case 'integer':
    case 'number':
    case 'decimal':
      return typeof value === 'number' || typeof value === 'bigint' || isLosslessNumber(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
    case 'time':
    case 'timestamp':
    case 'bytes':
      return typeof value === 'string'; // a column made by an earlier schema: the value is checked as such
  }
}

/** The compiled check of a stream's records, or null with `validate_records` off. */
export function recordValidatorFor(schema: JsonSchema, settings: Pick<SinkSettings, 'validate'>): RecordValidator | null {
  return settings.validate ? compileRecordValidator(schema) : null;
}

/** `record[property]`, but undefined for a name every object inherits (`constructor`) that the record does not hold. */
function ownValue(record: Record<string, unknown>, property: string): unknown {
  return isInheritedName(property) && !Object.hasOwn(record, property) ? undefined : record[property];
}

type PropertyReader = (record: Record<string, unknown>, values: unknown[]) => void;

/**
 * A function that copies these properties' values out of a record, made for one layout: each
 * read is a load by a constant name, which V8 caches per record shape (the records of a stream
 * share one). A loop reading `record[name]` with changing names is a megamorphic load instead,
 * measured 8x slower: for a 15-property stream, ~2% of a load.
 */
function propertyReader(properties: readonly string[]): PropertyReader {
  const reads = properties.map((property, p) => {
    const name = JSON.stringify(property);
    // A name every object has (`constructor`, ...) is read only when the record itself holds it.
    return isInheritedName(property)
      ? `values[${p}] = Object.hasOwn(record, ${name}) ? record[${name}] : undefined;`
      : `values[${p}] = record[${name}];`;
  });
  return new Function('record', 'values', `'use strict';\n${reads.join('\n')}`) as PropertyReader;
}

/** A property's column kind: its logical kind, or `bytes` for base16 text when interpret_content_encoding is on. */
function columnKindOf(type: LogicalType, settings: Pick<SinkSettings, 'interpretContentEncoding'>): ColumnKind {
  return settings.interpretContentEncoding && type.kind === 'string' && type.contentEncoding === 'base16' ? 'bytes' : type.kind;
}

/** Compute the layout a SCHEMA asks for. Errors name the stream, line and key. */
export function layoutForSchema(
  stream: string,
  schema: JsonSchema,
  keyProperties: readonly string[],
  line: number,
  settings: SinkSettings,
): SchemaLayout {
  const propertySchemas =
    settings.flattenMaxLevel > 0
      ? flattenedProperties(schema, keyProperties, settings.flattenMaxLevel, { stream, line })
      : (schema.properties as Record<string, JsonSchema | boolean>);
  const names = Object.keys(propertySchemas);
  const metadataNames = new Set(settings.metadataColumns.map((column) => column.name));
  // A property spelled like a metadata column the target fills itself (`_sdc_sequence`) keeps its
  // values in a column of its own; `_sdc_deleted_at` and `_sdc_extracted_at` fill the metadata column.
  const columnOf = columnNamesFor(names, settings.maxIdentifierBytes, metadataNames, METADATA_FROM_RECORD);
  const columns: ColumnDef[] = [];
  const properties: PropertyColumn[] = [];
  const columnDescriptions: [string, string][] = [];
  for (const property of names) {
    const name = columnOf.get(property) ?? property;
    // A property spelled like `_sdc_deleted_at` (log-based taps declare it) or `_sdc_extracted_at` fills it.
    if (metadataNames.has(name)) continue;
    properties.push({ property, index: columns.length });
    const propertySchema = resolveLocalRefs(propertySchemas[property], schema);
    columns.push({ name, kind: columnKindOf(logicalTypeOf(propertySchema), settings) });
    const description = descriptionOf(propertySchema);
    if (description !== null) columnDescriptions.push([name, description]);
  }
  for (const column of settings.metadataColumns) {
    columns.push(column);
    const description = METADATA_DESCRIPTIONS[column.name];
    if (description !== undefined) columnDescriptions.push([column.name, description]);
  }
  const keyColumns = keyProperties.map((key) => {
    const column = columnOf.get(key);
    if (column === undefined) {
      throw new SingerInputError({ line, stream, field: key }, `key property "${key}" is not in the schema's properties`);
    }
    return column;
  });
  const loadsUndeclared = settings.loadUndeclared && schema.additionalProperties !== false;
  return {
    columns,
    properties,
    undeclared: [],
    loadsUndeclared,
    keyColumns,
    keyProperties: [...keyProperties],
    tableDescription: descriptionOf(schema),
    columnDescriptions,
  };
}

/** `layout` with a column for one more undeclared property (after every other column). */
export function withUndeclaredColumn(layout: SchemaLayout, property: string, column: ColumnDef): SchemaLayout {
  return {
    ...layout,
    columns: [...layout.columns, column],
    undeclared: [...layout.undeclared, { property, index: layout.columns.length }],
  };
}

/** What a worker thread needs to encode a stream's records as the main thread's sink would (plain data). */
export interface SinkSnapshot {
  readonly stream: string;
  readonly table: TableRef;
  readonly version: number;
  readonly layout: SchemaLayout;
  readonly columns: ColumnDef[];
  readonly schema: JsonSchema | null;
  readonly schemaSignature: string;
}

/** The rows a worker's sink encoded from one block of input, as plain data for the main thread. */
export interface EncodedPart {
  readonly rows: EncodedRowsParts;
  /** Each row's key (upsert only), as `takeBatch` deduplicates by. */
  readonly keys: unknown[];
  readonly hasDeleteMarkers: boolean;
  /** The encoder's `learned()`. */
  readonly learned: unknown;
}

const TIMESTAMP_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A stream being loaded. */
export class StreamSink {
  /** The schema + keys text of the last SCHEMA, to skip identical repeats at no cost. */
  private signature = '';
  layout: SchemaLayout;
  /** Column kinds as they are in the database (may be wider than the schema asks). */
  columns: ColumnDef[];
  private keyIsTheTablesPrimaryKey = false;
  validator: RecordValidator | null = null;
  /** Bumped whenever the layout, the column kinds or the schema change: rows a worker encoded under another version are stale. */
  version = 0;
  private schema: JsonSchema | null = null;

  /** The rows of the batch being filled, encoded as they arrive. */
  rows = new EncodedRows();
  /** Records taken in this run (for the run's summary). */
  private accepted = 0;
  /** Rows in the buffer when the last (uncommitted) STATE arrived. */
  private mark = 0;
  /** The buffer holds a row with `_sdc_deleted_at` set. */
  hasDeleteMarkers = false;

  /** `columns` in encoding order: `_sdc_batched_at` (filled in when the batch is written) last. */
  private encodedColumns: ColumnDef[] = [];
  private withBatchedAt = false;
  /** Encoding-order position of each schema property's column (same index as `layout.properties`). */
  private propertyPositions: number[] = [];
  /** The same for `layout.undeclared`. */
  private undeclaredPositions: number[] = [];
  /** One row's cells, reused for every record (encoded at once, so never retained). */
  private cells: CellValue[] = [];
  private encoder: RowEncoder | null = null;
  /** Each buffered row's key (upsert only), for last-wins dedupe when the batch is taken. */
  private keys: unknown[] = [];

  private readonly metaIndex: Record<keyof typeof META, number>;
  private readonly declared = new Set<string>();
  /** Metadata columns of this table that a record's own key fills (`METADATA_FROM_RECORD`): such keys are not undeclared properties. */
  private filledFromRecord: ReadonlySet<string> = new Set();
  private readonly warnedUndeclared = new Set<string>();
  private readonly warnedDeletedAt = { done: false };
  private keyIndexes: number[] = [];
  /** Key cells of json columns: stored with their objects' keys sorted (`canonicalJsonKey`). */
  private jsonKeyIndexes: number[] = [];
  /** Copies the values of `layout.properties` out of a record, in order, into `propertyValues`. */
  private readProperties: PropertyReader = () => {};
  private propertyValues: unknown[] = [];
  /** The last `time_extracted` text read and its cell (null: none, or no instant: `extractedAtCell`). */
  private lastExtracted: { text: string | null; cell: string | null } = { text: null, cell: null };
  private warnedExtractedAt = false;
  /** How plain records of this stream become rows; null when they all take the parsing path; undefined until asked. */
  private plain: PlainRecords | null | undefined = undefined;
  private lastReceivedAt: { text: string; bytes: Buffer } = { text: '', bytes: Buffer.alloc(0) };

  /**
   * `tableIsNew`: the table was created in this run and nothing has been written to it yet (its
   * first batch needs no merge).
   */
  constructor(
    readonly stream: string,
    readonly table: TableRef,
    layout: SchemaLayout,
    private readonly settings: SinkSettings,
    private tableIsNew = false,
  ) {
    this.layout = layout;
    this.columns = layout.columns;
    this.metaIndex = { extractedAt: -1, receivedAt: -1, batchedAt: -1, deletedAt: -1, sequence: -1, tableVersion: -1 };
    this.setLayout(layout, layout.columns);
  }

  /** Rows buffered (before dedupe). */
  get rowCount(): number {
    return this.rows.count;
  }

  get schemaSignature(): string {
    return this.signature;
  }

  /** Records taken in this run (for the run's summary). */
  get recordsAccepted(): number {
    return this.accepted;
  }

  /** Count records the loader took (plain, parsed or encoded by a worker). */
  countAccepted(count: number): void {
    this.accepted += count;
  }

  /** A STATE arrived: the rows buffered now are the ones it covers. */
  markState(): void {
    this.mark = this.rows.count;
  }

  /** Whether rows arrived after the last STATE (`markState`). */
  get hasRowsAfterMark(): boolean {
    return this.rows.count > this.mark;
  }

  /**
   * Adopt a SCHEMA as its table now is: the layout, the column kinds the database has, whether
   * the key is the table's primary key, the schema and its validator. The buffer must be empty.
   */
  applySchema(table: {
    readonly layout: SchemaLayout;
    readonly columns: ColumnDef[];
    readonly keyIsPrimaryKey: boolean;
    readonly schema: JsonSchema;
    readonly validator: RecordValidator | null;
    readonly signature: string;
  }): void {
    this.setLayout(table.layout, table.columns);
    this.keyIsTheTablesPrimaryKey = table.keyIsPrimaryKey;
    this.setSchema(table.schema, table.signature, table.validator);
  }

  /** A column was widened in the database (the buffer must be empty). */
  widenColumn(widened: ColumnDef): void {
    this.setLayout(
      this.layout,
      this.columns.map((column) => (column.name === widened.name ? widened : column)),
    );
  }

  /** Adopt a new layout and the column kinds the database has. The buffer must be empty. */
  setLayout(layout: SchemaLayout, columns: ColumnDef[]): void {
    this.version += 1;
    this.layout = layout;
    this.columns = columns;
    this.declared.clear();
    for (const { property } of layout.properties) this.declared.add(property);
    for (const { property } of layout.undeclared) this.declared.add(property);
    this.filledFromRecord = new Set(columns.map((column) => column.name).filter((name) => METADATA_FROM_RECORD.has(name)));
    const batched = columns.find((column) => column.name === META.batchedAt);
    this.withBatchedAt = batched !== undefined;
    this.encodedColumns = batched ? [...columns.filter((column) => column !== batched), batched] : columns;
    const position = new Map(columns.map((column) => [column, this.encodedColumns.indexOf(column)]));
    this.propertyPositions = layout.properties.map(({ index }) => position.get(columns[index]!)!);
    this.undeclaredPositions = layout.undeclared.map(({ index }) => position.get(columns[index]!)!);
    this.readProperties = propertyReader(layout.properties.map(({ property }) => property));
    this.propertyValues = new Array<unknown>(layout.properties.length).fill(undefined);
    for (const key of Object.keys(META) as (keyof typeof META)[]) {
      this.metaIndex[key] = this.encodedColumns.findIndex((column) => column.name === META[key]);
    }
    this.keyIndexes = layout.keyColumns.map((name) => this.encodedColumns.findIndex((column) => column.name === name));
    this.jsonKeyIndexes = this.keyIndexes.filter((index) => this.encodedColumns[index]?.kind === 'json');
    this.cells = new Array<CellValue>(this.encodedColumns.length - (this.withBatchedAt ? 1 : 0)).fill(null);
    this.encoder = null;
    this.plain = undefined;
  }

  /**
   * Take a stream's schema, with the text of it and its keys (`schemaSignature`); `validator` is
   * `recordValidatorFor(schema, settings)` when the caller compiled it first.
   */
  setSchema(schema: JsonSchema, signature: string, validator: RecordValidator | null = recordValidatorFor(schema, this.settings)): void {
    this.version += 1;
    this.signature = signature;
    this.schema = schema;
    this.validator = validator;
    this.plain = undefined;
  }

  get mode(): WriteMode {
    return this.layout.keyColumns.length > 0 && !this.settings.appendOnly ? 'upsert' : 'append';
  }

  /**
   * Validate and encode a RECORD into the buffer. Throws SingerInputError for bad records; returns
   * the TableChange a value needs first (nothing is buffered then: the caller changes the table
   * and calls again), else undefined. `escapeFree`: the record's line had no backslash (`hasNoEscapes`).
   */
  addRecord(message: RecordMessage, line: number, receivedAt: string, sequence: number, escapeFree = false): TableChange | undefined {
    let text: string;
    try {
      text = this.encodeRecord(message, line, receivedAt, sequence, escapeFree);
    } catch (error) {
      if (error instanceof ColumnWideningNeeded) return { kind: 'widen', column: error.column, from: error.from };
      if (error instanceof UndeclaredColumnsNeeded) return { kind: 'undeclared', properties: error.properties };
      throw error;
    }
    this.rows.push(text, line);
    if (this.mode === 'upsert') this.keys.push(this.keyOfRow(this.cells));
    return undefined;
  }

  /**
   * Store the RECORD the scanner has read the head of (`readRecordHead`) when it is plain: true
   * when its row was written straight from the line's bytes, false (nothing stored) when it
   * must take `addRecord`.
   */
  addPlainRecord(scanner: LineScanner, line: number, receivedAt: string, sequence: number): boolean {
    if (this.plain === undefined) this.plain = this.compilePlain();
    const plain = this.plain;
    if (plain === null) return false;
    this.encoder ??= this.settings.rowEncoder(this.encodedColumns, this.withBatchedAt);
    const format = this.encoder.plain!;
    if (!plain.read(scanner, format)) return false;
    if (this.lastReceivedAt.text !== receivedAt) this.lastReceivedAt = { text: receivedAt, bytes: Buffer.from(receivedAt, 'latin1') };
    plain.write(scanner, this.rows, format, line, this.lastReceivedAt.bytes, sequence);
    if (this.mode === 'upsert') this.keys.push(plain.key);
    if (this.settings.checkPlainRows) this.checkPlainRow(scanner, line, receivedAt, sequence, plain.key);
    return true;
  }

  /** This stream's plain path, or null when its records all take the parsing path. */
  private compilePlain(): PlainRecords | null {
    if (this.schema === null || this.settings.flattenMaxLevel > 0) return null;
    this.encoder ??= this.settings.rowEncoder(this.encodedColumns, this.withBatchedAt);
    if (this.encoder.plain === undefined) return null;
    try {
      return PlainRecords.compile({
        stream: this.stream,
        schema: this.schema,
        properties: this.layout.properties.map(({ property }, p) => ({ property, cell: this.propertyPositions[p]! })),
        cells: this.withBatchedAt ? this.encodedColumns.slice(0, -1) : this.encodedColumns,
        keyProperties: this.layout.keyProperties,
        upsert: this.mode === 'upsert',
      });
    } catch (error) {
      if (error instanceof NotPlain) return null;
      throw error;
    }
  }

  /** `checkPlainRows`: the row just written from bytes must be what the parsing path writes, and ajv must accept the record. */
  private checkPlainRow(scanner: LineScanner, line: number, receivedAt: string, sequence: number, key: unknown): void {
    const text = scanner.bytes.toString('utf8', scanner.lineStart, scanner.end);
    const written = this.rows.rowText(this.rows.count - 1);
    const fail = (why: string) =>
      new Error(
        `plain row check failed on line ${line} (stream ${JSON.stringify(this.stream)}): ${why}\n  line: ${text}\n  row:  ${JSON.stringify(written)}`,
      );
    const message = parseMessage(text, line) as RecordMessage;
    const validator = this.validator ?? checkingValidator(this.schema!);
    const problem = validator === null ? null : validator(message.record);
    if (problem !== null) throw fail(`ajv refuses the record: ${problem.message}`);
    let expected: string;
    try {
      expected = this.encodeRecord(message, line, receivedAt, sequence, hasNoEscapes(text));
    } catch (error) {
      throw fail(`the parsing path does not store it as it is (${error instanceof Error ? error.message : String(error)})`);
    }
    if (expected !== written) throw fail(`the parsing path writes ${JSON.stringify(expected)}`);
    if (this.mode === 'upsert' && !Object.is(this.keyOfRow(this.cells), key)) {
      throw fail(`the key is ${String(key)}, the parsing path's ${String(this.keyOfRow(this.cells))}`);
    }
  }

  /** Validate a RECORD and encode its row (the cells stay in `this.cells`, for its key). */
  private encodeRecord(message: RecordMessage, line: number, receivedAt: string, sequence: number, escapeFree: boolean): string {
    const sent = message.record;
    // Validated as sent, against the schema as sent (nested `required` and all); flattened after.
    if (this.validator) {
      const problem = this.validator(sent);
      if (problem) throw new SingerInputError({ line, stream: this.stream, field: problem.field || undefined }, problem.message);
    }
    const flattenLevels = this.settings.flattenMaxLevel;
    const record = flattenLevels > 0 ? flattenRecord(sent, this.declared, flattenLevels, { stream: this.stream, line }) : sent;
    for (const key of this.layout.keyProperties) {
      const value = ownValue(record, key);
      if (value === undefined || value === null) {
        throw new SingerInputError(
          { line, stream: this.stream, field: key },
          `record is missing key property "${key}" (key_properties: ${this.layout.keyProperties.join(', ')})`,
        );
      }
    }
    const columns = this.encodedColumns;
    const row = this.cells;
    row.fill(null);
    const properties = this.layout.properties;
    // Record keys that have a column; fewer than the record's keys means undeclared properties.
    let present = 0;
    const values = this.propertyValues;
    this.readProperties(record, values);
    for (let p = 0; p < properties.length; p++) {
      const property = properties[p]!.property;
      const index = this.propertyPositions[p]!;
      const column = columns[index]!;
      const value = values[p];
      if (value !== undefined) present++;
      row[index] = this.cellFor(column, property, value, line, escapeFree);
    }
    const undeclared = this.layout.undeclared;
    for (let p = 0; p < undeclared.length; p++) {
      const property = undeclared[p]!.property;
      const value = ownValue(record, property);
      if (value === undefined) continue;
      present++;
      if (value === null) continue;
      const index = this.undeclaredPositions[p]!;
      const column = columns[index]!;
      if (!columnTakes(column.kind, value)) {
        throw new ColumnWideningNeeded({ name: column.name, kind: widenKind(column.kind, kindOfValue(value)) }, column.kind);
      }
      row[index] = this.cellFor(column, property, value, line, escapeFree);
    }
    // The common case (no key without a column) costs one count of the record's keys, no allocation.
    let keys = 0;
    for (const _ in record) keys++;
    if (keys > present) this.undeclaredProperties(record, line);
    for (const index of this.jsonKeyIndexes) {
      const cell = row[index];
      if (typeof cell === 'string') row[index] = canonicalJsonKey(cell);
    }
    this.fillMetadata(row, message, line, receivedAt, sequence);
    this.encoder ??= this.settings.rowEncoder(this.encodedColumns, this.withBatchedAt);
    return this.encoder.encode(row, escapeFree);
  }

  /** One property's value as the cell its column stores: widening, bad timestamps and NULs are decided here. */
  private cellFor(column: ColumnDef, property: string, value: unknown, line: number, escapeFree: boolean): CellValue {
    let cell = encodeCell(column.kind, value);
    if (cell instanceof NeedsWiderColumn) throw new ColumnWideningNeeded({ name: column.name, kind: cell.kind }, column.kind);
    if (cell instanceof InvalidValue) {
      throw new SingerInputError({ line, stream: this.stream, field: property }, `field "${property}": ${cell.reason}`);
    }
    if (typeof cell !== 'string') return cell;
    // JSON text has no NaN or infinity (the reader takes them as Python writes them): they would be written as null.
    if ((column.kind === 'json' || typeof value === 'object') && cell.includes('null') && containsNonFinite(value)) {
      throw new SingerInputError(
        { line, stream: this.stream, field: property },
        `field "${property}": value holds NaN or Infinity, which JSON cannot hold (a JSON column would store null in its place); only a number column stores them`,
      );
    }
    // NUL and unpaired surrogates can only come from a JSON escape, so a line without a backslash has neither.
    if (escapeFree) return cell;
    if (!this.settings.textAcceptsNul && hasNul(cell, column.kind)) {
      if (!this.settings.sanitizeNul) {
        throw new SingerInputError(
          { line, stream: this.stream, field: property },
          `field "${property}": value contains a NUL character (U+0000), which this database cannot store; set sanitize_null_characters: true to remove NUL characters`,
        );
      }
      while (hasNul(cell, column.kind)) cell = stripNul(cell, column.kind);
    }
    if (hasUnpairedSurrogate(cell, column.kind)) {
      if (!this.settings.replaceUnpairedSurrogates) {
        throw new SingerInputError(
          { line, stream: this.stream, field: property },
          `field "${property}": value contains an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape), which is not a Unicode character and cannot be stored as UTF-8; set replace_unpaired_surrogates: true to store U+FFFD in its place`,
        );
      }
      cell = replaceUnpairedSurrogates(cell, column.kind);
    }
    return cell;
  }

  private keyOfRow(row: readonly CellValue[]): unknown {
    const indexes = this.keyIndexes;
    const columns = this.encodedColumns;
    if (indexes.length === 1) return keyOf(row[indexes[0]!]!, columns[indexes[0]!]!.kind);
    return compositeKey(indexes.map((k) => keyOf(row[k]!, columns[k]!.kind)));
  }

  private fillMetadata(row: CellValue[], message: RecordMessage, line: number, receivedAt: string, sequence: number): void {
    const meta = this.metaIndex;
    const record = message.record;
    if (meta.extractedAt >= 0) {
      const extracted = metaValue(record[META.extractedAt]) ?? message.time_extracted ?? null;
      // A tap stamps many records alike: the last text's canonical form is kept.
      if (extracted !== this.lastExtracted.text) {
        this.lastExtracted = { text: extracted, cell: extracted === null ? null : extractedAtCell(extracted) };
      }
      const cell = this.lastExtracted.cell;
      // Metadata that names no instant is no reason to stop a load (README, "Metadata columns").
      if (cell === null && extracted !== null && !this.warnedExtractedAt) {
        this.warnedExtractedAt = true;
        this.settings.warn(
          `line ${line} (stream ${JSON.stringify(this.stream)}): time_extracted is not a timestamp (RFC 3339, or RFC 2822 with its zone); _sdc_extracted_at is NULL for this record and any other such record of the stream`,
        );
      }
      row[meta.extractedAt] = cell;
    }
    if (meta.receivedAt >= 0) row[meta.receivedAt] = receivedAt;
    if (meta.sequence >= 0) row[meta.sequence] = sequence;
    if (meta.tableVersion >= 0) {
      // A version beyond int64 widens the column like any integer (nothing is refused or rounded).
      const column = this.encodedColumns[meta.tableVersion]!;
      const cell = encodeCell(column.kind, message.version);
      if (cell instanceof NeedsWiderColumn) throw new ColumnWideningNeeded({ name: column.name, kind: cell.kind }, column.kind);
      row[meta.tableVersion] = cell instanceof InvalidValue ? null : cell;
    }
    if (meta.deletedAt >= 0) {
      const marker = record[META.deletedAt];
      if (marker !== undefined && marker !== null && marker !== '') {
        this.hasDeleteMarkers = true;
        const time = typeof marker === 'string' && TIMESTAMP_LIKE.test(marker) ? canonicalTimestamp(marker) : null;
        if (typeof time === 'string') {
          row[meta.deletedAt] = time;
        } else {
          // A delete marker we cannot read as a time still means "deleted" (pipelinewise peer
          // data sends `...+00:00+00:00`); keep the row marked, at the time we received it.
          row[meta.deletedAt] = receivedAt;
          if (!this.warnedDeletedAt.done) {
            this.warnedDeletedAt.done = true;
            this.settings.warn(
              `line ${line} (stream ${JSON.stringify(this.stream)}): _sdc_deleted_at ${JSON.stringify(marker)} is not a timestamp; the row is marked deleted at the time it was received`,
            );
          }
        }
      }
    }
  }

  /**
   * The record has keys without a column. When undeclared properties are loaded, those with a
   * value are handed to the caller (UndeclaredColumnsNeeded) to get columns; otherwise each is
   * reported once and dropped.
   */
  private undeclaredProperties(record: Record<string, unknown>, line: number): void {
    let found: { property: string; value: unknown }[] | undefined;
    for (const key in record) {
      if (this.declared.has(key) || this.filledFromRecord.has(key)) continue;
      if (this.layout.loadsUndeclared) {
        const value = record[key];
        if (value !== null && value !== undefined) {
          found ??= [];
          found.push({ property: key, value });
        }
        continue;
      }
      if (key.startsWith('_sdc_') || this.warnedUndeclared.has(key)) continue;
      this.warnedUndeclared.add(key);
      this.settings.warn(`line ${line} (stream ${JSON.stringify(this.stream)}): property "${key}" is not in the schema and is not loaded`);
    }
    if (found !== undefined) throw new UndeclaredColumnsNeeded(found);
  }

  /** Take the buffered rows as a batch (deduplicated by key, last record wins) and empty the buffer. */
  takeBatch(batchedAt: string): RowBatch | null {
    if (this.rows.count === 0 || this.encoder === null) return null;
    let rows = this.rows;
    const keys = this.keys;
    const encoder = this.encoder;
    this.rows = new EncodedRows();
    this.keys = [];
    this.encoder = null;
    this.mark = 0;
    this.hasDeleteMarkers = false;
    const mode = this.mode;
    if (mode === 'upsert') {
      const keep = lastWins(keys);
      if (keep !== null) rows = rows.keepOnly(keep);
    }
    const batch: RowBatch = {
      stream: this.stream,
      table: this.table,
      columns: this.encodedColumns,
      rows,
      batchedAt: this.withBatchedAt ? batchedAt : null,
      encoder,
      mode,
      key: mode === 'upsert' ? this.layout.keyColumns : [],
      keyIsPrimaryKey: this.keyIsTheTablesPrimaryKey,
      tableIsNew: this.tableIsNew,
    };
    this.tableIsNew = false;
    return batch;
  }

  /** This sink as a worker thread rebuilds it (`fromSnapshot`). */
  snapshot(): SinkSnapshot {
    return {
      stream: this.stream,
      table: this.table,
      version: this.version,
      layout: this.layout,
      columns: this.columns,
      schema: this.schema,
      schemaSignature: this.schemaSignature,
    };
  }

  /** A worker thread's copy of a main-thread sink, encoding records exactly as it would. */
  static fromSnapshot(snapshot: SinkSnapshot, settings: SinkSettings): StreamSink {
    const sink = new StreamSink(snapshot.stream, snapshot.table, snapshot.layout, settings);
    sink.setLayout(snapshot.layout, snapshot.columns);
    if (snapshot.schema !== null) sink.setSchema(snapshot.schema, snapshot.schemaSignature);
    sink.signature = snapshot.schemaSignature;
    sink.version = snapshot.version;
    return sink;
  }

  /** Worker side: the rows encoded since the last call, for the main thread; the buffer starts over. */
  takeEncoded(): { part: EncodedPart; transfer: ArrayBuffer[] } | null {
    if (this.rows.count === 0) return null;
    const { parts, transfer } = this.rows.toParts();
    const part = { rows: parts, keys: this.keys, hasDeleteMarkers: this.hasDeleteMarkers, learned: this.encoder?.learned?.() };
    this.keys = [];
    this.hasDeleteMarkers = false;
    this.encoder = null;
    return { part, transfer };
  }

  /**
   * Main side: append `count` rows a worker encoded under this sink's current version, starting
   * at row `first` of `rows` (`keys` and `learned` are the worker part's, for all its rows).
   */
  addEncoded(rows: EncodedRows, first: number, count: number, part: EncodedPart): void {
    this.encoder ??= this.settings.rowEncoder(this.encodedColumns, this.withBatchedAt);
    if (part.learned !== undefined) this.encoder.absorb?.(part.learned); // about all the part's rows; absorb may see it again
    if (part.hasDeleteMarkers) this.hasDeleteMarkers = true;
    this.rows.appendRows(rows, first, count);
    if (this.mode === 'upsert') for (let i = first; i < first + count; i++) this.keys.push(part.keys[i]);
  }

  /** Forget rows received after the last STATE (used when the input breaks before the next one). */
  dropRowsAfterMark(): void {
    this.rows.truncate(this.mark);
    if (this.keys.length > this.mark) this.keys.length = this.mark;
  }
}

/** The validator the plain-row check holds rows to with validate_records off: none when ajv cannot compile the schema (it loads unvalidated). */
function checkingValidator(schema: JsonSchema): RecordValidator | null {
  try {
    return compileRecordValidator(schema);
  } catch (error) {
    if (error instanceof UncompilableSchema) return null;
    throw error;
  }
}

function metaValue(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Which rows to keep so that the last row per key wins (in order of each key's last appearance); null when every key is unique. */
function lastWins(keys: readonly unknown[]): boolean[] | null {
  const lastIndex = new Map<unknown, number>();
  for (let i = 0; i < keys.length; i++) lastIndex.set(keys[i], i);
  if (lastIndex.size === keys.length) return null;
  const keep = new Array<boolean>(keys.length).fill(false);
  for (const index of lastIndex.values()) keep[index] = true;
  return keep;
}
