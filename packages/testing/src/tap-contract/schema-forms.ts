// The forms of JSON Schema every peer Singer target reads, as rules a tap's schemas are checked against.
import type { JsonSchema } from '@tapline/singer';

const JSON_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/** Keywords whose value is a schema / a list of schemas / a map of name -> schema. */
const SCHEMA_KEYWORDS = ['items', 'additionalProperties', 'propertyNames', 'contains', 'additionalItems'];
const SCHEMA_LIST_KEYWORDS = ['anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties'];

/**
 * The rules, each a way a widely deployed target misreads a schema:
 * 1. Every schema (the record, each property, array items, union members) has a `type`: a JSON type
 *    name or a list of them. pipelinewise-target-postgres reads only `type`: a property without one
 *    crashes it (first key `description`) or loses its column (`anyOf` led by integer, number or
 *    boolean); jwills target-duckdb reads schemas the same way.
 * 2. Nullable is `null` in the type list, never `anyOf: [X, {type: "null"}]`.
 * 3. No `anyOf`/`oneOf` whose members differ only in `type`: a type list says it.
 * 4. Where a union stays (its members differ in format or structure), the `type` beside it lists
 *    every member's types, so a reader of `type` alone still picks a column that holds them all.
 * 5. No `$ref`, `allOf` or `not`: peers do not resolve or combine schemas (the spec asks taps to
 *    send them resolved).
 * 6. `format` only beside a type that includes "string": pipelinewise reads `format` before the
 *    type, so a date-time format on a number would make a timestamp column.
 * Returns one line per problem, naming where it is (`properties.score: ...`); empty when none.
 */
export function peerSchemaProblems(schema: JsonSchema, at = '(record)'): string[] {
  const problems: string[] = [];
  const types = typeList(schema.type);
  if (types === undefined) problems.push(`${at}: has no "type" (a JSON type name or a list of them)`);
  for (const keyword of ['$ref', 'allOf', 'not']) {
    if (keyword in schema) problems.push(`${at}: uses "${keyword}", which peer targets do not read`);
  }
  if (schema.format !== undefined && types !== undefined && !types.includes('string')) {
    problems.push(
      `${at}: has format "${String(schema.format)}" beside type ${JSON.stringify(schema.type)}, which does not include "string"`,
    );
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const members = schema[keyword];
    if (Array.isArray(members)) problems.push(...unionProblems(members as JsonSchema[], types, `${at}.${keyword}`));
  }
  for (const keyword of SCHEMA_KEYWORDS) {
    const sub = schema[keyword];
    if (isSchema(sub)) problems.push(...peerSchemaProblems(sub, `${at === '(record)' ? '' : `${at}.`}${keyword}`));
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [i, sub] of list.entries()) {
      if (isSchema(sub)) problems.push(...peerSchemaProblems(sub, `${at}.${keyword}[${i}]`));
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (!isSchema(map)) continue;
    for (const [name, sub] of Object.entries(map)) {
      if (isSchema(sub)) problems.push(...peerSchemaProblems(sub, `${at === '(record)' ? '' : `${at}.`}${keyword}.${name}`));
    }
  }
  return problems;
}

function unionProblems(members: JsonSchema[], types: string[] | undefined, at: string): string[] {
  const problems: string[] = [];
  const isBareNull = (m: JsonSchema) => m.type === 'null' && Object.keys(m).length === 1;
  const others = members.filter((m) => !isBareNull(m));
  if (others.length === 1 && others.length < members.length) {
    problems.push(`${at}: is a nullable value written as a union; write "null" in the type list instead`);
  } else if (members.length > 1 && members.every((m) => Object.keys(m).length === 1 && typeList(m.type) !== undefined)) {
    problems.push(`${at}: members differ only in type; write one type list instead`);
  }
  const memberTypes = members.flatMap((m) => typeList(m.type) ?? []);
  const missing = [...new Set(memberTypes)].filter((t) => !types?.includes(t) && !(t === 'integer' && types?.includes('number')));
  if (types !== undefined && missing.length > 0) problems.push(`${at}: the type beside the union leaves out ${missing.join(', ')}`);
  return problems;
}

function typeList(type: unknown): string[] | undefined {
  const list = typeof type === 'string' ? [type] : Array.isArray(type) ? type : undefined;
  if (!list || list.length === 0 || !list.every((t) => typeof t === 'string' && JSON_TYPES.has(t))) return undefined;
  return list as string[];
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
