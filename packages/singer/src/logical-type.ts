// Reads a property's JSON Schema into one of a few logical column kinds, and widens kinds when schemas differ.
import { isLosslessNumber } from './json.js';
import type { JsonSchema } from './messages.js';

export type LogicalKind = 'boolean' | 'integer' | 'decimal' | 'number' | 'date' | 'time' | 'timestamp' | 'string' | 'json';

export interface LogicalType {
  kind: LogicalKind;
  /** The schema admits null (a `null` type member, `{type: "null"}` in anyOf, or untyped). */
  nullable: boolean;
  /** integer: declared bounds, when both values of a widening agree on having them (picks smallint/int/bigint). */
  minimum?: number;
  maximum?: number;
  /** string: `format: uuid`. */
  format?: 'uuid';
  /** string: e.g. `base16` (a target may store bytes). */
  contentEncoding?: string;
  /** `x-sql-datatype` from the Meltano SDK, passed through for a target to honour. */
  sqlDatatype?: string;
}

export const LOGICAL_KINDS: readonly LogicalKind[] = [
  'boolean',
  'integer',
  'decimal',
  'number',
  'date',
  'time',
  'timestamp',
  'string',
  'json',
];

/** JSON Schema `type` name -> kind, before `format` is considered. */
const kindOfType: Record<string, LogicalKind> = {
  boolean: 'boolean',
  integer: 'integer',
  number: 'number',
  string: 'string',
  object: 'json',
  array: 'json',
};

/** `format` on a string -> kind. Decimals arrive as strings (SDK `use_singer_decimal`). */
const kindOfStringFormat: Record<string, LogicalKind> = {
  'date-time': 'timestamp',
  date: 'date',
  time: 'time',
  'x-singer.decimal': 'decimal',
  'singer.decimal': 'decimal',
};

const decimalFormats = new Set(['x-singer.decimal', 'singer.decimal']);

const numericKinds = new Set<LogicalKind>(['integer', 'decimal', 'number']);

/**
 * The widening lattice, in full:
 *   same kind                        -> that kind
 *   anything with json               -> json
 *   two different numeric kinds      -> decimal (exact beats double: never lose integer digits)
 *   any other mix (dates with each other or with text, boolean with numbers, ...) -> string
 */
export function widenKind(a: LogicalKind, b: LogicalKind): LogicalKind {
  if (a === b) return a;
  if (a === 'json' || b === 'json') return 'json';
  if (numericKinds.has(a) && numericKinds.has(b)) return 'decimal';
  return 'string';
}

/** The narrowest logical type that holds every value of `a` and of `b`. */
export function widenLogical(a: LogicalType, b: LogicalType): LogicalType {
  const kind = widenKind(a.kind, b.kind);
  const widened: LogicalType = { kind, nullable: a.nullable || b.nullable };
  if (kind === 'integer' && a.kind === 'integer' && b.kind === 'integer') {
    if (a.minimum !== undefined && b.minimum !== undefined) widened.minimum = Math.min(a.minimum, b.minimum);
    if (a.maximum !== undefined && b.maximum !== undefined) widened.maximum = Math.max(a.maximum, b.maximum);
  }
  if (kind === a.kind && kind === b.kind) {
    if (a.format !== undefined && a.format === b.format) widened.format = a.format;
    if (a.contentEncoding !== undefined && a.contentEncoding === b.contentEncoding) {
      widened.contentEncoding = a.contentEncoding;
    }
    if (a.sqlDatatype !== undefined && a.sqlDatatype === b.sqlDatatype) widened.sqlDatatype = a.sqlDatatype;
  }
  return widened;
}

const UNTYPED: LogicalType = { kind: 'json', nullable: true };

/**
 * Read a property schema into a LogicalType. `type` may be a string or an array; `anyOf`/`oneOf`
 * members are widened together (a `{type: "null"}` member only adds nullability); `{}` and
 * schemas with no `type` are untyped -> nullable json. A schema that admits only null is a
 * nullable string.
 */
export function logicalTypeOf(schema: JsonSchema | boolean | undefined): LogicalType {
  // Anything but a schema object (`true`, `null`, `"string"`: possible with validate_records off) says nothing of the type.
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return { ...UNTYPED };
  return readSchema(schema) ?? { kind: 'string', nullable: true };
}

/** null = the schema admits only null. */
function readSchema(schema: JsonSchema): LogicalType | null {
  const declared = schema.type;
  const extraNullable = schema.nullable === true; // OpenAPI style, seen in some generated schemas
  let result: LogicalType | null;
  if (typeof declared === 'string' || Array.isArray(declared)) {
    result = readTypeList(schema, typeof declared === 'string' ? [declared] : declared);
  } else {
    const members = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
    if (members !== undefined) result = readUnion(members);
    // allOf with one member is how generators wrap a resolved $ref; more members would need intersecting.
    else if (Array.isArray(schema.allOf) && schema.allOf.length === 1) result = logicalTypeOf(schema.allOf[0] as JsonSchema);
    else if (Array.isArray(schema.enum)) result = readValues(schema.enum);
    else if ('const' in schema) result = readValues([schema.const]);
    else return { ...UNTYPED };
  }
  if (result !== null && extraNullable) result.nullable = true;
  return result;
}

function readTypeList(schema: JsonSchema, types: unknown[]): LogicalType | null {
  let nullable = false;
  let result: LogicalType | undefined;
  for (const name of types) {
    if (name === 'null') {
      nullable = true;
      continue;
    }
    const member = typeof name === 'string' ? readSingleType(schema, name) : { ...UNTYPED };
    result = result === undefined ? member : widenLogical(result, member);
  }
  if (result === undefined) return types.length === 0 ? { ...UNTYPED } : null;
  if (nullable) result.nullable = true;
  return result;
}

function readSingleType(schema: JsonSchema, name: string): LogicalType {
  const base = kindOfType[name];
  if (base === undefined) return { ...UNTYPED }; // unknown type name: keep the value as JSON
  const format = typeof schema.format === 'string' ? schema.format : undefined;
  const result: LogicalType = { kind: base, nullable: false };
  if (base === 'string') {
    const formatted = format === undefined ? undefined : kindOfStringFormat[format];
    if (formatted !== undefined) result.kind = formatted;
    if (format === 'uuid') result.format = 'uuid';
    if (typeof schema.contentEncoding === 'string') result.contentEncoding = schema.contentEncoding;
  } else if (format !== undefined && decimalFormats.has(format) && (base === 'number' || base === 'integer')) {
    result.kind = 'decimal';
  }
  if (result.kind === 'integer') {
    const minimum = boundOf(schema.minimum);
    const maximum = boundOf(schema.maximum);
    if (minimum !== undefined) result.minimum = minimum;
    if (maximum !== undefined) result.maximum = maximum;
  }
  if (typeof schema['x-sql-datatype'] === 'string') result.sqlDatatype = schema['x-sql-datatype'];
  return result;
}

/** A bound beyond 2^53 (`9223372036854775807`) arrives as a LosslessNumber; the nearest double serves for picking a column size. */
function boundOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (isLosslessNumber(value)) return Number(value.toString());
  return undefined;
}

/** An `enum`/`const` without `type`: the kind of its values. */
function readValues(values: unknown[]): LogicalType | null {
  const types = values.map((value) =>
    value === null
      ? 'null'
      : typeof value === 'number' || isLosslessNumber(value)
        ? Number.isInteger(Number(value))
          ? 'integer'
          : 'number'
        : typeof value === 'object'
          ? 'object'
          : typeof value,
  );
  return readTypeList({}, [...new Set(types)]);
}

function readUnion(members: unknown[]): LogicalType | null {
  let nullable = false;
  let result: LogicalType | undefined;
  for (const member of members) {
    const read =
      typeof member === 'object' && member !== null && !Array.isArray(member) ? readSchema(member as JsonSchema) : { ...UNTYPED };
    if (read === null) {
      nullable = true;
      continue;
    }
    result = result === undefined ? read : widenLogical(result, read);
  }
  if (result === undefined) return members.length === 0 ? { ...UNTYPED } : null;
  if (nullable) result.nullable = true;
  return result;
}
