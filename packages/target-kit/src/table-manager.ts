// The warehouse's tables as the loader sees them: which table a stream loads into, creating and
// altering it for a SCHEMA or for a record that needs it, and the database refusing a change.
import { describeLocation } from '@tapline/singer';
import { planColumns } from './column-plan.js';
import { applyComments } from './comments.js';
import type { CommitPolicy } from './commit-policy.js';
import type { BaseTargetConfig } from './config.js';
import type { ColumnDef, ColumnKind, Dialect, DialectSession, ExistingTable, Logger, TableRef } from './dialect.js';
import { LoadError, ResourceError } from './errors.js';
import { disambiguatedColumnName, disambiguatedTableName, normaliseName, tableRefForStream } from './names.js';
import { kindOfValue, type SchemaLayout, type SinkSettings, type StreamSink, type TableChange, withUndeclaredColumn } from './sink.js';
import { commentWithOwner, ownerOf } from './table-owner.js';

/** A stream's table as a SCHEMA left it. */
export interface PreparedTable {
  readonly table: TableRef;
  /** The layout's columns with the kinds the database has (some may be wider than the schema asks). */
  readonly columns: ColumnDef[];
  readonly keyIsPrimaryKey: boolean;
  /** The table was created now. */
  readonly created: boolean;
}

/**
 * Creates, claims and alters the tables. Every method runs inside the loader's open transaction
 * with nothing else in flight (the loader flushes and drains first), and reports each table it
 * changed to the commit policy.
 */
export class TableManager {
  private readonly schemasEnsured = new Set<string>();
  private readonly replacedThisRun = new Set<string>();

  constructor(
    private readonly session: DialectSession,
    private readonly dialect: Dialect<unknown>,
    private readonly config: BaseTargetConfig,
    private readonly settings: SinkSettings,
    private readonly commits: CommitPolicy,
    private readonly log: Logger,
  ) {}

  /** The state table, made when missing. */
  async ensureStateTable(table: TableRef): Promise<void> {
    await this.ensureSchema(table.schema, 'state_table');
    await this.refusable('state_table', `create table ${table.schema}.${table.table}`, () => this.session.ensureStateTable(table));
  }

  /**
   * The table for a stream's SCHEMA (`layout`), created or altered to hold it: `known` is the
   * table the stream already loads into in this run, else one is claimed (`claimTable`).
   */
  async prepare(stream: string, layout: SchemaLayout, line: number, known: TableRef | undefined): Promise<PreparedTable> {
    const where = describeLocation({ line, stream });
    const claimed = known === undefined ? await this.claimTable(stream, line) : undefined;
    const table = known ?? claimed!.table;
    await this.ensureSchema(table.schema, where);
    const tableKey = `${table.schema}.${table.table}`;
    let existing = claimed !== undefined ? claimed.existing : await this.session.describeTable(table);
    if (this.config.load_method === 'overwrite' && !this.replacedThisRun.has(tableKey)) {
      this.replacedThisRun.add(tableKey);
      if (existing !== null) {
        await this.session.dropTable(table);
        this.log.info(`stream ${JSON.stringify(stream)}: load_method overwrite: replacing table ${tableKey}`);
        existing = null;
      }
    }
    return existing === null
      ? await this.create(stream, table, layout, where)
      : await this.fitExisting(stream, table, existing, layout, line, where);
  }

  /** Create the stream's table for `layout`, with its comments (the data dictionary). */
  private async create(stream: string, table: TableRef, layout: SchemaLayout, where: string): Promise<PreparedTable> {
    const tableKey = `${table.schema}.${table.table}`;
    const upsert = layout.keyColumns.length > 0 && !this.settings.appendOnly;
    const primaryKey = upsert ? layout.keyColumns : [];
    await this.refusable(where, `create table ${tableKey}`, async () => {
      await this.session.createTable(table, layout.columns, primaryKey);
      await applyComments(this.session, table, stream, null, layout.tableDescription, layout.columnDescriptions);
    });
    this.commits.tableChanged(tableKey);
    this.log.info(`stream ${JSON.stringify(stream)}: created table ${tableKey}`);
    return { table, columns: layout.columns, keyIsPrimaryKey: primaryKey.length > 0, created: true };
  }

  /** Add and widen the columns of an existing table that `layout` needs (never narrowing one), and refresh its comments. */
  private async fitExisting(
    stream: string,
    table: TableRef,
    existing: ExistingTable,
    layout: SchemaLayout,
    line: number,
    where: string,
  ): Promise<PreparedTable> {
    const tableKey = `${table.schema}.${table.table}`;
    const kinds = new Map(existing.columns.map((column) => [column.name, column.kind]));
    const plan = planColumns(kinds, layout.columns);
    if (plan.widen.length > 0 && !this.dialect.capabilities.canWidenColumns) {
      const first = plan.widen[0]!;
      throw new LoadError(
        `line ${line} (stream ${JSON.stringify(stream)}): column "${first.column.name}" would have to change from ${first.from} to ${first.column.kind}, and ${this.dialect.name} cannot alter column types`,
      );
    }
    for (const column of plan.add) {
      await this.refusable(where, `add column "${column.name}" to ${tableKey}`, () => this.session.addColumn(table, column));
    }
    for (const { column, from } of plan.widen) {
      await this.refusable(where, `change column "${column.name}" of ${tableKey} from ${from} to ${column.kind}`, () =>
        this.session.alterColumnType(table, column, from),
      );
    }
    const widened = new Map(plan.widen.map(({ column }) => [column.name, column.kind]));
    const columns = layout.columns.map((column) => ({
      name: column.name,
      kind: widened.get(column.name) ?? kinds.get(column.name) ?? column.kind,
    }));
    await this.refusable(where, `comment on table ${tableKey} and its columns`, () =>
      applyComments(this.session, table, stream, existing, layout.tableDescription, layout.columnDescriptions),
    );
    if (plan.add.length > 0 || plan.widen.length > 0) {
      this.commits.tableChanged(tableKey);
      const parts = [
        ...plan.add.map((column) => `added "${column.name}" (${column.kind})`),
        ...plan.widen.map(({ column, from }) => `widened "${column.name}" from ${from} to ${column.kind}`),
      ];
      this.log.info(`stream ${JSON.stringify(stream)}: table ${tableKey}: ${parts.join(', ')}`);
    }
    return { table, columns, keyIsPrimaryKey: sameNames(existing.primaryKey, layout.keyColumns), created: false };
  }

  /** Make the change a record needs of its table (`StreamSink.addRecord`), and tell the sink; its buffer is empty. */
  async applyChange(sink: StreamSink, change: TableChange, line: number): Promise<void> {
    if (change.kind === 'widen') await this.widen(sink, change.column, change.from, line);
    else await this.addUndeclared(sink, change.properties, line);
  }

  /** A value needs a wider column (an integer beyond int64, a decimal a double would round). */
  private async widen(sink: StreamSink, column: ColumnDef, from: ColumnKind, line: number): Promise<void> {
    if (!this.dialect.capabilities.canWidenColumns) {
      throw new LoadError(
        `line ${line} (stream ${JSON.stringify(sink.stream)}): column "${column.name}" would have to change from ${from} to ${column.kind} to hold this value, and ${this.dialect.name} cannot alter column types`,
      );
    }
    await this.refusable(
      describeLocation({ line, stream: sink.stream }),
      `change column "${column.name}" from ${from} to ${column.kind}`,
      () => this.session.alterColumnType(sink.table, column, from),
    );
    this.log.info(
      `stream ${JSON.stringify(sink.stream)}: column "${column.name}" widened from ${from} to ${column.kind} for a value on line ${line}`,
    );
    sink.widenColumn(column);
  }

  /**
   * A record brought properties its schema does not declare (README, "Undeclared properties"):
   * give each a column, typed from its value. A column the table already has under that name (an
   * earlier run, an earlier schema) is used, widened when the value needs it.
   */
  private async addUndeclared(
    sink: StreamSink,
    properties: readonly { readonly property: string; readonly value: unknown }[],
    line: number,
  ): Promise<void> {
    const existing = await this.session.describeTable(sink.table);
    const kinds = new Map((existing?.columns ?? []).map((column) => [column.name, column.kind]));
    const taken = new Set(sink.columns.map((column) => column.name));
    const max = this.settings.maxIdentifierBytes;
    const where = `line ${line} (stream ${JSON.stringify(sink.stream)})`;
    let layout = sink.layout;
    let columns = sink.columns;
    // Among new properties that normalise alike, the one spelled like the column gets it (as columnNamesFor).
    const found = [...properties].sort(
      (a, b) =>
        Number(normaliseName(a.property, max) !== a.property) - Number(normaliseName(b.property, max) !== b.property) ||
        (a.property < b.property ? -1 : a.property > b.property ? 1 : 0),
    );
    for (const { property, value } of found) {
      const plain = normaliseName(property, max);
      // A declared property (or metadata) already has the plain name: the undeclared one gets a hashed column.
      const name = taken.has(plain) ? disambiguatedColumnName(plain, property, max) : plain;
      taken.add(name);
      const wanted = kindOfValue(value);
      const has = kinds.get(name);
      let kind: ColumnKind = wanted;
      if (has === undefined) {
        await this.refusable(describeLocation({ line, stream: sink.stream }), `add column "${name}"`, () =>
          this.session.addColumn(sink.table, { name, kind }),
        );
        this.log.warn(`${where}: added column "${name}" (${kind}) for a property the schema does not declare ("${property}")`);
      } else if (has === null) {
        kind = 'string'; // a type we do not map (made by hand): values go as text, the database judges them
      } else {
        kind = has; // widened when a value needs it (a 'widen' TableChange), like any column
        this.log.info(`${where}: property "${property}", which the schema does not declare, is loaded into the existing column "${name}"`);
      }
      layout = withUndeclaredColumn(layout, property, { name, kind });
      columns = [...columns, { name, kind }];
    }
    sink.setLayout(layout, columns);
  }

  /** A change to the warehouse's tables; the database refusing it (too many columns, no permission) is a LoadError saying where (`line 3 (stream "s")`). */
  async refusable(where: string, action: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (error instanceof ResourceError || !(this.dialect.isRefusal?.(error) ?? false)) throw error;
      const reason = (error as Error).message.split('\n')[0];
      // PostgreSQL often says what to do ("You might need to increase max_locks_per_transaction.").
      const hint = (error as { hint?: unknown }).hint;
      const advice = typeof hint === 'string' && hint !== '' ? ` (${hint.replace(/\.$/, '')})` : '';
      throw new LoadError(`${where}: ${this.dialect.name} refused to ${action}: ${reason}${advice}`, { cause: error });
    }
  }

  /**
   * The table a stream loads into, the first time it is seen in this run (README, "Streams ->
   * tables"): its plain table unless another stream owns that (recorded in the table's comment),
   * else `<table>_<hash of the stream name>`. A table without an owner is adopted.
   */
  private async claimTable(stream: string, line: number): Promise<{ table: TableRef; existing: ExistingTable | null }> {
    const plain = this.tableFor(stream);
    await this.ensureSchema(plain.schema, describeLocation({ line, stream }));
    const existing = await this.session.describeTable(plain);
    const owner = existing === null ? null : ownerOf(existing.comment);
    if (existing === null || owner === stream) return { table: plain, existing };
    if (owner === null) {
      await this.adopt(plain, existing, stream);
      return { table: plain, existing };
    }
    const table = {
      schema: plain.schema,
      table: disambiguatedTableName(plain.table, stream, this.settings.maxIdentifierBytes),
    };
    const found = await this.session.describeTable(table);
    const foundOwner = found === null ? null : ownerOf(found.comment);
    if (found !== null && foundOwner !== null && foundOwner !== stream) {
      throw new LoadError(
        `stream ${JSON.stringify(stream)}: table ${plain.schema}.${plain.table} belongs to stream ${JSON.stringify(owner)} and table ${table.schema}.${table.table} to stream ${JSON.stringify(foundOwner)}; rename the stream (or one of those tables)`,
      );
    }
    if (found !== null && foundOwner === null) await this.adopt(table, found, stream);
    this.log.warn(
      `stream ${JSON.stringify(stream)}: table ${plain.schema}.${plain.table} belongs to stream ${JSON.stringify(owner)} (the names normalise alike); loading into table ${table.schema}.${table.table} instead`,
    );
    return { table, existing: found };
  }

  /** Record `stream` as the owner of a table nobody owns (made by hand, or by a version before owners were recorded). */
  private async adopt(table: TableRef, existing: ExistingTable, stream: string): Promise<void> {
    await this.session.setTableComment(table, commentWithOwner(existing.comment, stream));
    this.log.info(`stream ${JSON.stringify(stream)}: table ${table.schema}.${table.table} had no owning stream; it is now this stream's`);
  }

  private tableFor(stream: string): TableRef {
    const explicit = this.config.default_target_schema;
    return tableRefForStream(stream, {
      defaultSchema: normaliseName(explicit ?? this.dialect.capabilities.defaultSchema, this.settings.maxIdentifierBytes),
      schemaIsExplicit: explicit !== undefined,
      maxBytes: this.settings.maxIdentifierBytes,
    });
  }

  private async ensureSchema(schema: string, where: string): Promise<void> {
    if (this.schemasEnsured.has(schema)) return;
    await this.refusable(where, `create schema "${schema}"`, () => this.session.ensureSchema(schema));
    this.schemasEnsured.add(schema);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}
