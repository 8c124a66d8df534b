// What a stream's JSON Schema accepts, as rules the plain-record scanner checks on a record's bytes.
//
// A rule only ever accepts a subset of what ajv accepts for the same schema (validate.ts in
// @tapline/singer): a value outside the subset is not refused, it is handed to the parsing path,
// where ajv decides. So a keyword we cannot check on bytes makes the schema ineligible, never lax.
import type { JsonSchema } from '@tapline/singer';

/** The kinds of JSON token a value may be, as the scanner tells them apart. */
export const TOKEN = {
  null: 1,
  /** An integer literal of at most 15 digits (exact in a double), no fraction, no exponent. */
  integer: 2,
  /** A literal with a fraction, at most 15 digits in all, no exponent. */
  decimal: 4,
  string: 8,
  true: 16,
  false: 32,
  object: 64,
  array: 128,
} as const;

const ANY_TOKEN = 255;
const BOOLEAN_TOKENS = TOKEN.true | TOKEN.false;

/** String formats the scanner checks (ajv checks these; any other format name is not checked by ajv either). */
export const FORMAT = { none: 0, dateTime: 1, date: 2, time: 3, uuid: 4 } as const;

export interface ValueRule {
  /** TOKEN bits this value may be. */
  readonly tokens: number;
  /** A FORMAT a string token must have. */
  readonly format: number;
  /** For object tokens: their properties, or null for any object. */
  readonly object: ObjectRule | null;
  /** For array tokens: the rule of every item, or null for any item. */
  readonly items: ValueRule | null;
}

export interface ObjectRule {
  readonly names: readonly string[];
  /** Each name as its JSON string's bytes, quotes included (`"id"`), to match keys without decoding. */
  readonly quotedNames: readonly Buffer[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly rules: readonly ValueRule[];
  /** Per name: whether it is array-index-like (`"7"`), a key JavaScript orders before the others. */
  readonly indexLike: readonly boolean[];
  /** Indexes of required properties. */
  readonly required: readonly number[];
  /** Whether keys other than `names` may appear (`additionalProperties` is not false). */
  readonly additional: boolean;
}

/** Any JSON value. */
export const ANY_VALUE: ValueRule = { tokens: ANY_TOKEN, format: FORMAT.none, object: null, items: null };

/** Thrown while compiling: the schema uses something the scanner cannot check (why, for a log line). */
export class NotPlain extends Error {}

/**
 * Keywords that only describe a value (ajv ignores them) or that ajv is not asked to enforce
 * (unknown keywords, with `strict: false`). Anything else that validates is listed as supported
 * below or makes the schema ineligible.
 */
const VALIDATING_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'format',
  'items',
  'additionalItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'contains',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'patternProperties',
  'additionalProperties',
  'dependencies',
  'propertyNames',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  '$ref',
  'nullable',
  'discriminator',
  'dependentRequired',
  'dependentSchemas',
  'prefixItems',
  'unevaluatedItems',
  'unevaluatedProperties',
  '$dynamicRef',
  '$recursiveRef',
]);
const SUPPORTED_KEYWORDS = new Set(['type', 'format', 'items', 'required', 'properties', 'additionalProperties', 'anyOf', 'oneOf']);

/** A nested object's seen properties are kept as bits of one number. */
const MAX_NESTED_PROPERTIES = 30;

const TYPE_TOKENS: Record<string, number> = {
  null: TOKEN.null,
  integer: TOKEN.integer,
  number: TOKEN.integer | TOKEN.decimal,
  string: TOKEN.string,
  boolean: BOOLEAN_TOKENS,
  object: TOKEN.object,
  array: TOKEN.array,
};

const FORMATS: Record<string, number> = {
  'date-time': FORMAT.dateTime,
  date: FORMAT.date,
  time: FORMAT.time,
  uuid: FORMAT.uuid,
};

/** The rule of one (sub)schema, as ajv (draft-07, `strict: false`) reads it; throws NotPlain. */
export function valueRule(schema: JsonSchema | boolean | undefined, depth = 0): ValueRule {
  if (schema === undefined || schema === true) return ANY_VALUE;
  if (schema === false) throw new NotPlain('a schema of `false`');
  // `null` or `"string"` where a schema belongs loads only with validate_records off: the parsing path stores it.
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new NotPlain('a schema that is no object');
  if (depth > 32) throw new NotPlain('a schema nested more than 32 levels');
  for (const keyword of Object.keys(schema)) {
    if (VALIDATING_KEYWORDS.has(keyword) && !SUPPORTED_KEYWORDS.has(keyword)) throw new NotPlain(`the keyword "${keyword}"`);
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return unionRule(schema, union, depth);
  let tokens = ANY_TOKEN;
  if (schema.type !== undefined) {
    const names = Array.isArray(schema.type) ? schema.type : [schema.type];
    tokens = 0;
    for (const name of names) {
      const bits = typeof name === 'string' ? TYPE_TOKENS[name] : undefined;
      if (bits === undefined) throw new NotPlain(`the type ${JSON.stringify(name)}`);
      tokens |= bits;
    }
  }
  const format = typeof schema.format === 'string' && tokens & TOKEN.string ? (FORMATS[schema.format] ?? FORMAT.none) : FORMAT.none;
  const object = tokens & TOKEN.object ? objectRule(schema, depth) : null;
  let items: ValueRule | null = null;
  if (tokens & TOKEN.array && schema.items !== undefined) {
    if (Array.isArray(schema.items)) throw new NotPlain('`items` as a list');
    items = valueRule(schema.items as JsonSchema | boolean, depth + 1);
  }
  return { tokens, format, object, items };
}

/**
 * `anyOf`/`oneOf` of one schema and `{"type": "null"}` (how the Meltano SDK writes an optional
 * property): the schema, nullable. With `oneOf` the member must not admit null itself (null would
 * then match twice, which oneOf refuses). Any other union is ineligible.
 */
function unionRule(schema: JsonSchema, union: unknown, depth: number): ValueRule {
  if (schema.type !== undefined || !Array.isArray(union) || union.length !== 2) throw new NotPlain('a union of schemas');
  const isNull = (member: unknown) =>
    typeof member === 'object' && member !== null && Object.keys(member).length === 1 && (member as JsonSchema).type === 'null';
  const other = isNull(union[0]) ? union[1] : isNull(union[1]) ? union[0] : undefined;
  if (other === undefined || typeof other !== 'object' || other === null) throw new NotPlain('a union of schemas');
  const rule = valueRule(other as JsonSchema, depth + 1);
  if (schema.oneOf !== undefined && rule.tokens & TOKEN.null) throw new NotPlain('a oneOf whose members both admit null');
  return { ...rule, tokens: rule.tokens | TOKEN.null };
}

function objectRule(schema: JsonSchema, depth: number): ObjectRule | null {
  const properties = schema.properties;
  const additional = schema.additionalProperties;
  if (additional !== undefined && typeof additional !== 'boolean') throw new NotPlain('`additionalProperties` as a schema');
  const required = Array.isArray(schema.required) ? schema.required : [];
  if (properties === undefined && required.length === 0 && additional !== false) return null;
  if (properties !== undefined && (typeof properties !== 'object' || properties === null || Array.isArray(properties))) {
    throw new NotPlain('`properties` that is not an object');
  }
  const names = Object.keys(properties ?? {});
  for (const name of required) {
    if (typeof name !== 'string') throw new NotPlain('a `required` entry that is not a name');
    // A required name without a schema is still required: it gets a rule accepting any value.
    if (!names.includes(name)) names.push(name);
  }
  if (depth > 0 && names.length > MAX_NESTED_PROPERTIES)
    throw new NotPlain(`a nested object of more than ${MAX_NESTED_PROPERTIES} properties`);
  const rules = names.map((name) => valueRule((properties as Record<string, JsonSchema | boolean> | undefined)?.[name], depth + 1));
  return {
    names,
    quotedNames: names.map((name) => Buffer.from(JSON.stringify(name), 'utf8')),
    indexOf: new Map(names.map((name, index) => [name, index])),
    rules,
    indexLike: names.map((name) => /^(?:0|[1-9]\d{0,9})$/.test(name)),
    required: (required as string[]).map((name) => names.indexOf(name)),
    additional: additional !== false,
  };
}
