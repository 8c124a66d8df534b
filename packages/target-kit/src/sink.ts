// One stream's sink: its column layout, record -> row encoding, the row buffer and last-wins dedupe.
import {
  compileRecordValidator,
  logicalTypeOf,
  SingerInputError,
  type JsonSchema,
  type RecordMessage,
} from '@tapline/singer';
import type { CellValue, ColumnDef, ColumnKind, RowBatch, TableRef, WriteMode } from './dialect.js';
import { encodeCell, hasNul, NeedsWiderColumn, stripNul } from './encode.js';
import { META } from './metadata.js';
import { columnNamesFor } from './names.js';

/** A schema property and the column it lands in. */
export interface PropertyColumn {
  readonly property: string;
  /** Index of the column in `StreamSink.columns` (and in each row). */
  readonly index: number;
}

/** What a SCHEMA asks for, before the database has been consulted. */
export interface SchemaLayout {
  /** Columns for the schema's properties (schema order), then metadata columns. */
  readonly columns: ColumnDef[];
  readonly properties: PropertyColumn[];
  readonly keyColumns: string[];
  readonly keyProperties: string[];
}

export interface SinkSettings {
  readonly maxIdentifierBytes: number;
  readonly textAcceptsNul: boolean;
  readonly sanitizeNul: boolean;
  readonly validate: boolean;
  /** Metadata columns to add (empty when add_record_metadata is off). */
  readonly metadataColumns: readonly ColumnDef[];
  readonly appendOnly: boolean;
  readonly warn: (message: string) => void;
}

/** Thrown out of `encodeRecord` when a column must widen before the record can be stored. */
export class ColumnWideningNeeded {
  constructor(
    readonly column: ColumnDef,
    readonly from: ColumnKind,
  ) {}
}

/** Compute the layout a SCHEMA asks for. Errors name the stream, line and key. */
export function layoutForSchema(
  stream: string,
  schema: JsonSchema,
  keyProperties: readonly string[],
  line: number,
  settings: SinkSettings,
): SchemaLayout {
  const propertySchemas = schema.properties as Record<string, JsonSchema | boolean>;
  const names = Object.keys(propertySchemas);
  const metadataNames = new Set(settings.metadataColumns.map((column) => column.name));
  const columnOf = columnNamesFor(names, settings.maxIdentifierBytes, metadataNames);
  const columns: ColumnDef[] = [];
  const properties: PropertyColumn[] = [];
  for (const property of names) {
    const name = columnOf.get(property) ?? property;
    // A property spelled like a metadata column (log-based taps declare `_sdc_deleted_at`) fills it.
    if (metadataNames.has(name)) continue;
    properties.push({ property, index: columns.length });
    columns.push({ name, kind: logicalTypeOf(propertySchemas[property]).kind });
  }
  for (const column of settings.metadataColumns) columns.push(column);
  const keyColumns = keyProperties.map((key) => {
    const column = columnOf.get(key);
    if (column === undefined) {
      throw new SingerInputError({ line, stream, field: key }, `key property "${key}" is not in the schema's properties`);
    }
    return column;
  });
  return { columns, properties, keyColumns, keyProperties: [...keyProperties] };
}

const TIMESTAMP_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A stream being loaded. */
export class StreamSink {
  /** The schema + keys text of the last SCHEMA, to skip identical repeats at no cost. */
  schemaSignature = '';
  layout: SchemaLayout;
  /** Column kinds as they are in the database (may be wider than the schema asks). */
  columns: ColumnDef[];
  keyIsPrimaryKey = false;
  /** The table was created in this run and nothing has been written to it yet. */
  tableIsNew = false;
  validator: ((record: Record<string, unknown>) => { field: string; message: string } | null) | null = null;

  rows: CellValue[][] = [];
  lines: number[] = [];
  /** Rows in the buffer when the last (uncommitted) STATE arrived. */
  mark = 0;
  /** The buffer holds a row with `_sdc_deleted_at` set. */
  hasDeleteMarkers = false;

  private readonly metaIndex: Record<keyof typeof META, number>;
  private readonly declared = new Set<string>();
  private readonly warnedUndeclared = new Set<string>();
  private readonly warnedDeletedAt = { done: false };
  private keyIndexes: number[] = [];

  constructor(
    readonly stream: string,
    readonly table: TableRef,
    layout: SchemaLayout,
    private readonly settings: SinkSettings,
  ) {
    this.layout = layout;
    this.columns = layout.columns;
    this.metaIndex = { extractedAt: -1, receivedAt: -1, batchedAt: -1, deletedAt: -1, sequence: -1, tableVersion: -1 };
    this.setLayout(layout, layout.columns);
  }

  /** Adopt a new layout and the column kinds the database has. The buffer must be empty. */
  setLayout(layout: SchemaLayout, columns: ColumnDef[]): void {
    this.layout = layout;
    this.columns = columns;
    this.declared.clear();
    for (const { property } of layout.properties) this.declared.add(property);
    for (const key of Object.keys(META) as (keyof typeof META)[]) {
      this.metaIndex[key] = columns.findIndex((column) => column.name === META[key]);
    }
    this.keyIndexes = layout.keyColumns.map((name) => columns.findIndex((column) => column.name === name));
  }

  setSchema(schema: JsonSchema): void {
    this.validator = this.settings.validate ? compileRecordValidator(schema) : null;
  }

  get mode(): WriteMode {
    return this.layout.keyColumns.length > 0 && !this.settings.appendOnly ? 'upsert' : 'append';
  }

  /**
   * Validate and encode a RECORD into the buffer. Throws SingerInputError for bad records and
   * ColumnWideningNeeded when a value needs a wider column (nothing is buffered then; the caller
   * widens and calls again).
   */
  addRecord(message: RecordMessage, line: number, receivedAt: string, sequence: number): void {
    const record = message.record;
    if (this.validator) {
      const problem = this.validator(record);
      if (problem) throw new SingerInputError({ line, stream: this.stream, field: problem.field || undefined }, problem.message);
    }
    for (const key of this.layout.keyProperties) {
      const value = record[key];
      if (value === undefined || value === null) {
        throw new SingerInputError(
          { line, stream: this.stream, field: key },
          `record is missing key property "${key}" (key_properties: ${this.layout.keyProperties.join(', ')})`,
        );
      }
    }
    const columns = this.columns;
    const row: CellValue[] = new Array<CellValue>(columns.length).fill(null);
    for (const { property, index } of this.layout.properties) {
      const column = columns[index]!;
      let cell = encodeCell(column.kind, record[property]);
      if (cell instanceof NeedsWiderColumn) {
        throw new ColumnWideningNeeded({ name: column.name, kind: cell.kind }, column.kind);
      }
      if (typeof cell === 'string' && !this.settings.textAcceptsNul && hasNul(cell, column.kind)) {
        if (!this.settings.sanitizeNul) {
          throw new SingerInputError(
            { line, stream: this.stream, field: property },
            'value contains a NUL character (U+0000), which this database cannot store; set sanitize_null_characters: true to remove NUL characters',
          );
        }
        while (hasNul(cell, column.kind)) cell = stripNul(cell, column.kind);
      }
      row[index] = cell;
    }
    this.warnUndeclared(record, line);
    this.fillMetadata(row, message, line, receivedAt, sequence);
    this.rows.push(row);
    this.lines.push(line);
  }

  private fillMetadata(row: CellValue[], message: RecordMessage, line: number, receivedAt: string, sequence: number): void {
    const meta = this.metaIndex;
    const record = message.record;
    if (meta.extractedAt >= 0) row[meta.extractedAt] = metaValue(record[META.extractedAt]) ?? message.time_extracted ?? null;
    if (meta.receivedAt >= 0) row[meta.receivedAt] = receivedAt;
    if (meta.sequence >= 0) row[meta.sequence] = sequence;
    if (meta.tableVersion >= 0) {
      const version = message.version;
      row[meta.tableVersion] = version === undefined ? null : typeof version === 'bigint' ? version : version;
    }
    if (meta.deletedAt >= 0) {
      const marker = record[META.deletedAt];
      if (marker !== undefined && marker !== null && marker !== '') {
        this.hasDeleteMarkers = true;
        if (typeof marker === 'string' && TIMESTAMP_LIKE.test(marker)) {
          row[meta.deletedAt] = marker;
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

  private warnUndeclared(record: Record<string, unknown>, line: number): void {
    for (const key in record) {
      if (this.declared.has(key) || key.startsWith('_sdc_') || this.warnedUndeclared.has(key)) continue;
      this.warnedUndeclared.add(key);
      this.settings.warn(
        `line ${line} (stream ${JSON.stringify(this.stream)}): property "${key}" is not in the schema and is not loaded`,
      );
    }
  }

  /** Take the buffered rows as a batch (deduplicated by key, last record wins) and empty the buffer. */
  takeBatch(batchedAt: string): RowBatch | null {
    if (this.rows.length === 0) return null;
    let rows = this.rows;
    let lines = this.lines;
    this.rows = [];
    this.lines = [];
    this.mark = 0;
    this.hasDeleteMarkers = false;
    const mode = this.mode;
    if (mode === 'upsert') ({ rows, lines } = lastWins(rows, lines, this.keyIndexes));
    const batchedIndex = this.metaIndex.batchedAt;
    if (batchedIndex >= 0) for (const row of rows) row[batchedIndex] = batchedAt;
    const batch: RowBatch = {
      stream: this.stream,
      table: this.table,
      columns: this.columns,
      rows,
      mode,
      key: mode === 'upsert' ? this.layout.keyColumns : [],
      keyIsPrimaryKey: this.keyIsPrimaryKey,
      lines,
      tableIsNew: this.tableIsNew,
    };
    this.tableIsNew = false;
    return batch;
  }

  /** Forget rows received after the last STATE (used when the input breaks before the next one). */
  dropRowsAfterMark(): void {
    this.rows.length = this.mark;
    this.lines.length = this.mark;
  }
}

function metaValue(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Keep the last row per key, in order of each key's last appearance. */
function lastWins(
  rows: CellValue[][],
  lines: number[],
  keyIndexes: readonly number[],
): { rows: CellValue[][]; lines: number[] } {
  const lastIndex = new Map<unknown, number>();
  const single = keyIndexes.length === 1 ? keyIndexes[0]! : -1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const key = single >= 0 ? keyOf(row[single]!) : keyIndexes.map((k) => keyOf(row[k]!)).join('\u0000');
    lastIndex.set(key, i);
  }
  if (lastIndex.size === rows.length) return { rows, lines };
  const keptRows: CellValue[][] = [];
  const keptLines: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const key = single >= 0 ? keyOf(row[single]!) : keyIndexes.map((k) => keyOf(row[k]!)).join('\u0000');
    if (lastIndex.get(key) === i) {
      keptRows.push(row);
      keptLines.push(lines[i]!);
    }
  }
  return { rows: keptRows, lines: keptLines };
}

/** Map key for a key cell: 1 and 1n and "1" in an integer column are the same key. */
function keyOf(cell: CellValue): unknown {
  return typeof cell === 'bigint' || typeof cell === 'number' ? String(cell) : cell;
}
