// One stream's plan for a run (selection, schema, reader, bookmark kind) and what the run learns of it.

import type { z } from 'zod';
import type { StreamSelection } from './catalog.js';
import type { Context, StreamDefinition } from './declare.js';
import { TapError } from './errors.js';
import { type CursorKind, cursorKind, type JsonSchema, propertySchema, recordJsonSchema } from './json-schema.js';
import type { Logger } from './log.js';
import { SharedBookmark } from './partition-cursor.js';
import { REJECTS_SCHEMA, REJECTS_STREAM, RecordReader, type RejectedRecord, streamJsonSchema } from './record-reader.js';
import type { RunSummary } from './run-summary.js';
import { bookmarkProblem, type StateStore } from './state.js';

export interface StreamRun {
  def: StreamDefinition<z.ZodObject, unknown>;
  selection: StreamSelection;
  children: StreamRun[];
  /** Selected, or drives a selected descendant. */
  needed: boolean;
  schema: JsonSchema;
  /** Transforms and validates its records, keeps undeclared fields, sets aside what cannot be read. */
  reader: RecordReader;
  kind: CursorKind | undefined;
  incremental: boolean;
  /** One bookmark per context. */
  partitioned: boolean;
  /** Runs in several contexts sharing one bookmark: committed only when all are done. */
  shared: SharedBookmark | undefined;
  version: number | undefined;
  /** Why this run's listing may be incomplete (then no ACTIVATE_VERSION), from any of its contexts. */
  versionDoubt: string | undefined;
  recordCount: number;
}

/** The stream trees this run reads (roots first), each marked with whether it is needed. */
export function planRuns(
  streams: readonly StreamDefinition[],
  selection: Map<string, StreamSelection>,
  log: Logger,
  summary: RunSummary,
): StreamRun[] {
  const byDef = new Map<StreamDefinition, StreamRun>();
  for (const def of streams) byDef.set(def, planRun(def as StreamDefinition<z.ZodObject, unknown>, selection.get(def.name)!, log, summary));
  for (const def of streams) if (def.parent) byDef.get(def.parent.stream)!.children.push(byDef.get(def)!);
  const markNeeded = (run: StreamRun): boolean => {
    const childNeeded = run.children.map(markNeeded).some(Boolean);
    run.needed = run.selection.selected || childNeeded;
    return run.needed;
  };
  const roots = streams.filter((def) => !def.parent).map((def) => byDef.get(def)!);
  roots.forEach(markNeeded);
  return roots;
}

function planRun(def: StreamDefinition<z.ZodObject, unknown>, chosen: StreamSelection, log: Logger, summary: RunSummary): StreamRun {
  const schema = streamJsonSchema(def);
  if (chosen.fields) {
    const properties = schema.properties as Record<string, unknown>;
    schema.properties = Object.fromEntries(Object.entries(properties).filter(([name]) => chosen.fields!.has(name)));
    if (Array.isArray(schema.required)) schema.required = schema.required.filter((name) => chosen.fields!.has(String(name)));
  }
  const incremental = def.incremental !== undefined && chosen.replicationMethod === 'INCREMENTAL';
  const cursorProperty = def.incremental ? propertySchema(recordJsonSchema(def.record), def.incremental.cursor) : undefined;
  const kind = cursorProperty ? cursorKind(cursorProperty) : undefined;
  const multiContext = def.parent !== undefined || def.partitions !== undefined;
  const partitioned = incremental && multiContext && def.incremental?.partitioned === true;
  return {
    def,
    selection: chosen,
    children: [],
    needed: false,
    schema,
    reader: new RecordReader(def, log, (field) => chosen.selected && summary.undeclared(def.name, field)),
    kind,
    incremental,
    partitioned,
    shared: incremental && multiContext && !partitioned ? new SharedBookmark(kind!) : undefined,
    version: undefined,
    versionDoubt: undefined,
    recordCount: 0,
  };
}

/** Marks this run's listing as possibly incomplete (the first reason wins), so it sends no ACTIVATE_VERSION. */
export function doubtVersion(run: StreamRun, reason: () => string): void {
  if (run.version !== undefined) run.versionDoubt ??= reason();
}

/** A bookmark the run cannot use is the state's owner's to fix: one sentence, before any request. */
export function checkBookmarks(runs: readonly StreamRun[], store: StateStore, stateFile: string | undefined): void {
  for (const run of runs) {
    checkBookmarks(run.children, store, stateFile);
    if (!run.needed || !run.incremental || run.kind === undefined) continue;
    for (const { context, value } of store.kept(run.def.name, run.def.incremental!.cursor)) {
      const problem = bookmarkProblem(run.kind, value);
      if (problem === undefined) continue;
      const where = context === undefined ? '' : ` (partition ${JSON.stringify(context)})`;
      throw new TapError(
        `${stateFile === undefined ? 'The state' : `The state file ${stateFile}`} holds a bookmark for stream ${run.def.name}${where} that ${problem}: ${JSON.stringify(value)?.slice(0, 80)}; correct it, or remove it to read that stream from start_date again.`,
        'config',
      );
    }
  }
}

/** The contexts a parent record hands to a child (none for null). */
export function contextsOf(child: StreamRun, parentRecord: Record<string, unknown>): readonly Context[] {
  const produced = child.def.parent!.contexts(parentRecord);
  if (produced === null || produced === undefined) return [];
  return Array.isArray(produced) ? produced : [produced as Context];
}

/**
 * A parent record set aside hands no context to its children, so their records under it are unread:
 * a bookmark they share stays put and a full-table child sends no ACTIVATE_VERSION this run. Returns
 * the names of the children affected (a partitioned child's own bookmarks are untouched anyway).
 */
export function unreadChildren(run: StreamRun, reject: RejectedRecord): string[] {
  const names: string[] = [];
  for (const child of run.children) {
    if (!child.needed) continue;
    names.push(child.def.name, ...unreadChildren(child, reject));
    child.shared?.keep();
    doubtVersion(
      child,
      () =>
        `a ${run.def.name} record could not be read and was set aside in ${REJECTS_STREAM} (reject_id ${reject.reject_id.slice(0, 12)}…), so its ${child.def.name} were not read`,
    );
  }
  return names;
}

/** The rejects stream's schema with only the selected fields. */
export function rejectsSchema(fields: Set<string> | undefined): JsonSchema {
  if (!fields) return REJECTS_SCHEMA;
  const properties = Object.fromEntries(
    Object.entries(REJECTS_SCHEMA.properties as Record<string, JsonSchema>).filter(([name]) => fields.has(name)),
  );
  return { ...REJECTS_SCHEMA, properties, required: (REJECTS_SCHEMA.required as string[]).filter((name) => fields.has(name)) };
}

/** A stream run and its descendants that are selected: what a stop before it leaves unread. */
export function selectedIn(run: StreamRun): string[] {
  return [...(run.selection.selected ? [run.def.name] : []), ...run.children.flatMap(selectedIn)];
}

/** How the summary names a partition: its context as JSON, or "(whole stream)". */
export function partitionName(context: Context | undefined): string {
  return context === undefined || Object.keys(context).length === 0 ? '(whole stream)' : JSON.stringify(context);
}

/** " (partition {...})" after a stream's name in a message; nothing for a whole stream. */
export function partitionLabel(context: Context | undefined): string {
  return context !== undefined && Object.keys(context).length > 0 ? ` (partition ${JSON.stringify(context)})` : '';
}

/** "partition {...}" + `separator` before a message about one partition; nothing for a whole stream. */
export function partitionPrefix(context: Context, separator: string): string {
  return Object.keys(context).length > 0 ? `partition ${JSON.stringify(context)}${separator}` : '';
}
