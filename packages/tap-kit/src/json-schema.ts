// The record schema as Singer targets expect it: zod's output JSON Schema, tidied.
import { z } from 'zod';
/** A JSON Schema as a plain object (same shape as @tapline/singer's JsonSchema). */
export type JsonSchema = { [key: string]: unknown };

const FORMATS_WITH_GENERATED_PATTERNS = new Set(['date-time', 'date', 'time', 'uuid', 'email']);

/** Every JSON value is one of these: what an untyped schema (`{}`, from z.unknown()) admits. */
const ANY_JSON_TYPES = ['object', 'array', 'string', 'number', 'boolean', 'null'];

/** Keywords whose value is a schema, a list of schemas, or a map of name -> schema: walked as schemas. */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'additionalProperties',
  'propertyNames',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'additionalItems',
  'unevaluatedItems',
  'unevaluatedProperties',
]);
const SCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/**
 * Validation keywords that constrain only values of some types (JSON Schema applies them to no
 * other value), so they may sit beside a `type` array without changing what its other types admit.
 */
const KEYWORD_APPLIES_TO: Record<string, readonly string[]> = {
  minimum: ['integer', 'number'],
  maximum: ['integer', 'number'],
  exclusiveMinimum: ['integer', 'number'],
  exclusiveMaximum: ['integer', 'number'],
  multipleOf: ['integer', 'number'],
  minLength: ['string'],
  maxLength: ['string'],
  pattern: ['string'],
};

/**
 * Converts a record schema to the JSON Schema sent in SCHEMA messages and the catalog. It describes
 * the *output* of parsing (after coercions), since that is what RECORD messages carry. zod's own
 * validation regexes are dropped (targets only need the format) and so is `additionalProperties:
 * false` (Singer schemas leave it open).
 *
 * It is written in the forms every peer target reads (pipelinewise-target-postgres reads only a
 * property's `type`: it crashes on a property without one whose first key is not `anyOf`, and drops
 * the column when `anyOf` starts with an integer, number or boolean):
 * - every schema has a `type`, listed first: a nullable value is `type: [T, "null"]`, an untyped
 *   one (z.unknown()) lists every JSON type;
 * - a union becomes one `type` array when its members differ only in type; `anyOf` stays only where
 *   nothing else expresses it (members that differ in format or structure), beside a `type` that
 *   lists every member's types;
 * - `format`, `description` and the other keywords are kept.
 */
export function recordJsonSchema(record: z.ZodType): JsonSchema {
  const generated = z.toJSONSchema(record, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  const { $schema: _ignored, ...schema } = tidySchema(generated);
  if (schema.type !== 'object' || typeof schema.properties !== 'object') {
    throw new Error('A stream record schema must be a z.object(...)');
  }
  return schema;
}

/** One schema, its subschemas tidied first, then written in the forms peers read. */
function tidySchema(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'pattern' && FORMATS_WITH_GENERATED_PATTERNS.has(String(node.format))) continue;
    out[key] = tidyKeyword(key, value);
  }
  return typeFirst(withType(out));
}

function tidyKeyword(key: string, value: unknown): unknown {
  const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (SCHEMA_KEYWORDS.has(key))
    return isSchema(value) ? tidySchema(value) : Array.isArray(value) ? value.map((v) => (isSchema(v) ? tidySchema(v) : v)) : value;
  if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) return value.map((v) => (isSchema(v) ? tidySchema(v) : v));
  if (SCHEMA_MAP_KEYWORDS.has(key) && isSchema(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, isSchema(v) ? tidySchema(v) : v]));
  }
  return value;
}

function typesOf(schema: JsonSchema): string[] {
  return ([] as unknown[]).concat(schema.type ?? []).map(String);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `[T]` -> `T`; `[T, "null"]` stays an array. Duplicates dropped, order kept. */
function typeValue(types: readonly string[]): string | string[] {
  const unique = [...new Set(types)];
  return unique.length === 1 ? unique[0]! : unique;
}

/** Gives a schema without `type` the one its keywords imply (unions, enums, nothing at all). */
function withType(schema: JsonSchema): JsonSchema {
  if (schema.type !== undefined) return schema;
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return simplifyUnion(schema, union);
  if (Array.isArray(schema.enum)) return { ...schema, type: typeValue(schema.enum.map(jsonTypeOf)) };
  if ('const' in schema) return { ...schema, type: jsonTypeOf(schema.const) };
  // `{}` admits any value: say so in a type every target reads (stored as JSON).
  if (!['allOf', '$ref', 'not', 'if'].some((key) => key in schema)) return { ...schema, type: [...ANY_JSON_TYPES] };
  return schema;
}

const isBareNull = (member: JsonSchema) => member.type === 'null' && Object.keys(member).length === 1;

/**
 * `anyOf: [X, {type: "null"}]` -> X with "null" in its type; `anyOf: [{type: "string"},
 * {type: "integer", minimum, maximum}]` -> `type: ["string", "integer"], minimum, maximum`. Any other
 * union is kept, beside a `type` listing its members' types.
 */
function simplifyUnion(schema: JsonSchema, given: JsonSchema[]): JsonSchema {
  const keyword = schema.anyOf !== undefined ? 'anyOf' : 'oneOf';
  const { [keyword]: _members, ...outer } = schema;
  // A member that is itself only a union (`z.union([...]).nullable()`) joins this one.
  const isPlainUnion = (member: JsonSchema) =>
    Array.isArray(member[keyword]) && Object.keys(member).every((key) => key === 'type' || key === keyword);
  const members = given.flatMap((member) => (isPlainUnion(member) ? (member[keyword] as JsonSchema[]) : [member]));
  const nullable = members.some(isBareNull);
  const others = members.filter((member) => !isBareNull(member));
  if (others.length === 1) {
    const merged = nullableMember(others[0]!, nullable);
    if (merged) return { ...merged, ...outer };
  } else if (others.length > 1) {
    const merged = mergeByType(others);
    if (merged) return { ...merged, ...outer, type: typeValue([...typesOf(merged), ...(nullable ? ['null'] : [])]) };
  }
  const types = members.every((member) => member.type !== undefined) ? members.flatMap(typesOf) : undefined;
  return types ? { type: typeValue(types), ...outer, [keyword]: members } : schema;
}

/** X admitting null too, or undefined when X has a keyword that would refuse null however typed. */
function nullableMember(member: JsonSchema, nullable: boolean): JsonSchema | undefined {
  if (member.type === undefined || ['allOf', '$ref', 'not', 'if', 'anyOf', 'oneOf'].some((key) => key in member)) return undefined;
  if (!nullable) return member;
  const out: JsonSchema = { ...member, type: typeValue([...typesOf(member), 'null']) };
  if (Array.isArray(member.enum) && !member.enum.includes(null)) out.enum = [...member.enum, null];
  if ('const' in member) {
    delete out.const;
    out.enum = [member.const, null];
  }
  return out;
}

/**
 * Members that differ only in type (and in keywords that apply to their own type alone) as one
 * schema with a `type` array; undefined when a member carries anything else (a format, properties).
 */
function mergeByType(members: JsonSchema[]): JsonSchema | undefined {
  const merged: JsonSchema = {};
  for (const member of members) {
    if (member.type === undefined) return undefined;
    for (const key of Object.keys(member)) if (key !== 'type' && !(key in KEYWORD_APPLIES_TO)) return undefined;
  }
  const types = members.flatMap(typesOf);
  for (const [key, appliesTo] of Object.entries(KEYWORD_APPLIES_TO)) {
    const values = members.filter((member) => typesOf(member).some((type) => appliesTo.includes(type))).map((member) => member[key]);
    if (values.length === 0 || values.every((value) => value === undefined)) continue;
    // Beside a type array, the keyword binds every member it applies to: all must agree.
    if (!values.every((value) => value === values[0])) return undefined;
    merged[key] = values[0];
  }
  return { type: typeValue(types), ...merged };
}

/** `type` as the first key (then `format`), so a reader that looks at the first key finds it. */
function typeFirst(schema: JsonSchema): JsonSchema {
  if (schema.type === undefined) return schema;
  const { type, format, ...rest } = schema;
  return { type, ...(format !== undefined ? { format } : {}), ...rest };
}

/** The JSON Schema of one top-level property, or undefined when the schema has no such property. */
export function propertySchema(schema: JsonSchema, name: string): JsonSchema | undefined {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  return properties && Object.hasOwn(properties, name) ? properties[name] : undefined;
}

/** How a cursor's values compare: as instants, as numbers, or as plain strings. */
export type CursorKind = 'datetime' | 'number' | 'string';

export function cursorKind(property: JsonSchema): CursorKind {
  const variants = [property, ...((property.anyOf as JsonSchema[] | undefined) ?? [])];
  for (const variant of variants) {
    if (variant.format === 'date-time' || variant.format === 'date') return 'datetime';
    const types = ([] as unknown[]).concat(variant.type ?? []);
    if (types.includes('integer') || types.includes('number')) return 'number';
  }
  return 'string';
}
