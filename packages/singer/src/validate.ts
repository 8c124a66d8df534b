// Record validation against a stream's JSON Schema: compiled once per schema with ajv, cheap per record.
import { createRequire } from 'node:module';
import type { Ajv, Code, ErrorObject, KeywordCxt, Name, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { isStackExhausted } from './errors.js';
import { containsLosslessNumber, isLosslessNumber, setOwn, stringifyJson } from './json.js';
import type { JsonSchema } from './messages.js';
import { describeValue } from './parse-message.js';

export interface ValidationProblem {
  /** Dotted path of the failing property (`address.city`, `tags[2]`); '' for the record itself. */
  field: string;
  /** One human sentence naming the field: `field "c_pk": must be integer (got "Non Numeric PK")`. */
  message: string;
}

export type RecordValidator = (record: unknown) => ValidationProblem | null;

export interface RecordValidatorOptions {
  /**
   * true (default): full JSON Schema, as the Meltano SDK validates. false: only what decides
   * whether a value can be stored (types, `required`, `additionalProperties`, the storage formats),
   * ignoring value constraints a source database wrote into the schema (maxLength, pattern,
   * minimum/maximum, enum, ...), which real taps often get wrong (pipelinewise fixtures send
   * 40-character strings under `maxLength: 16`).
   */
  constraints?: boolean;
}

/**
 * ajv and ajv-formats (CommonJS, ~70 modules) load with the first validator rather than with the
 * package: every tap and target loads @tapline/singer at start-up, and a tap never validates
 * against JSON Schema (packages/bench README, "Start-up").
 */
const requireLazily = createRequire(import.meta.url);
let loadedAjv: { ajv: typeof import('ajv'); addFormats: typeof addFormatsModule.default } | undefined;
function ajvLibrary() {
  loadedAjv ??= {
    ajv: requireLazily('ajv') as typeof import('ajv'),
    addFormats: requireLazily('ajv-formats') as typeof addFormatsModule.default,
  };
  return loadedAjv;
}

/**
 * date-time, leniently: real taps send `2019-02-01 15:12:45` (space, no zone; pipelinewise
 * fixtures) and fractional seconds of any length. A time part is required, the zone is optional
 * (a target reads a zone-less value as UTC).
 */
const dateTimePattern =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:\.\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$/;
/**
 * time of day with optional seconds, fraction and zone; also `24:00:00`, the end of the day
 * (PostgreSQL and DuckDB hold it, and a leap second `23:59:60` is stored as it), only with zero
 * minutes, seconds and fraction.
 */
const timePattern =
  /^(?:(?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:\.\d+)?)?|24:00(?::00(?:\.0+)?)?)(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$/;
/** A decimal sent as a string (SDK `use_singer_decimal`). */
const decimalPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function createAjv(options: { ownProperties?: boolean; inlineRefs?: boolean; code?: { optimize: boolean } } = {}): Ajv {
  const { ajv: library, addFormats } = ajvLibrary();
  const { _, str } = library;
  const ajv = new library.Ajv({
    ...options,
    strict: false, // real tap schemas carry unknown keywords and draft-04 leftovers
    // Not for the errors (the first one is reported) but for the code: stopping at the first error
    // nests each property's check inside the previous one's, and compiling ~2,000 properties
    // overflowed the call stack. With allErrors the checks sit side by side; valid records
    // validate as fast, and wide schemas compile 3x faster.
    allErrors: true,
    verbose: true, // errors carry the offending data and schema (costs nothing on the happy path)
    validateSchema: false,
    logger: false,
    // Only formats that decide how a value is stored are checked; any other format
    // (email, uri, hostname, ...) is accepted as plain text rather than failing a load.
    validateFormats: true,
  });
  addFormats(ajv, ['date', 'uuid']);
  ajv.addFormat('date-time', dateTimePattern);
  ajv.addFormat('time', timePattern);
  ajv.addFormat('x-singer.decimal', decimalPattern);
  ajv.addFormat('singer.decimal', decimalPattern);
  // multipleOf 0.01 (how pipelinewise-tap-postgres declares numeric(p,2)) with 19.99 divides to
  // 1998.9999999999998 in doubles, so ajv's own check refused every such price; a tolerance
  // (multipleOfPrecision) fails again on large values. Decide it on the decimals as written.
  ajv.removeKeyword('multipleOf');
  ajv.addKeyword({ keyword: 'multipleOf', type: 'number', schemaType: 'number', validate: checkMultipleOf });
  // ajv refuses NaN under any bound (`|| isNaN(data)`); these compare as JavaScript does, so NaN
  // passes (README: pipelinewise-tap-postgres declares bounds on numeric columns, which hold NaN).
  for (const [keyword, okStr, fail] of LIMITS) {
    ajv.removeKeyword(keyword);
    ajv.addKeyword({
      keyword,
      type: 'number',
      schemaType: 'number',
      error: {
        message: ({ schemaCode }) => str`must be ${okStr} ${schemaCode}`,
        params: ({ schemaCode }) => _`{comparison: ${okStr}, limit: ${schemaCode}}`,
      },
      code: (cxt: KeywordCxt) => cxt.fail(fail(cxt.data, cxt.schemaCode)),
    });
  }
  return ajv;
}

/** Each bound keyword, its comparison as ajv words it, and the condition that fails it (false for NaN). */
const LIMITS: readonly (readonly [string, string, (data: Name, limit: Code | number | boolean) => Code])[] = [
  ['maximum', '<=', (data, limit) => ajvLibrary().ajv._`${data} > ${limit}`],
  ['minimum', '>=', (data, limit) => ajvLibrary().ajv._`${data} < ${limit}`],
  ['exclusiveMaximum', '<', (data, limit) => ajvLibrary().ajv._`${data} >= ${limit}`],
  ['exclusiveMinimum', '>', (data, limit) => ajvLibrary().ajv._`${data} <= ${limit}`],
];

/**
 * NaN and the infinities are multiples of nothing and of everything: undecidable, so they pass
 * (Python taps send them for numeric columns that pipelinewise-tap-postgres declares with
 * `multipleOf`).
 */
function checkMultipleOf(divisor: number, value: number): boolean {
  if (!Number.isFinite(value) || isDecimalMultiple(value, divisor)) return true;
  checkMultipleOf.errors = [{ keyword: 'multipleOf', message: `must be multiple of ${divisor}`, params: { multipleOf: divisor } }];
  return false;
}
checkMultipleOf.errors = [] as Partial<ErrorObject>[];

/**
 * Whether `value` is a whole multiple of `divisor`, exactly, as both are written in decimal (the
 * shortest text that reads back as each double, which is what a tap wrote): 19.99 is a multiple
 * of 0.01 and of 1e-38; 0.035 is not a multiple of 0.01.
 */
export function isDecimalMultiple(value: number, divisor: number): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(divisor) || divisor <= 0) return false;
  const v = decimalOf(value);
  const d = decimalOf(divisor);
  const exponent = Math.min(v.exponent, d.exponent);
  const scaled = (digits: bigint, from: number) => digits * 10n ** BigInt(from - exponent);
  return scaled(v.digits, v.exponent) % scaled(d.digits, d.exponent) === 0n;
}

/** |n| as digits × 10^exponent, from its shortest round-trip text (`1.5e-7` -> 15 × 10^-8). */
function decimalOf(n: number): { digits: bigint; exponent: number } {
  const [mantissa = '0', exponent = '0'] = String(Math.abs(n)).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  return { digits: BigInt(whole + fraction), exponent: Number(exponent) - fraction.length };
}

/** One Ajv per option set in use (`huge`: see HUGE_SCHEMA_CHARS; `ownProperties`: see INHERITED_NAME). */
const ajvs = new Map<string, Ajv>();
function ajvFor(huge: boolean, ownProperties: boolean): Ajv {
  const key = `${huge}:${ownProperties}`;
  let ajv = ajvs.get(key);
  if (ajv === undefined) {
    ajv = createAjv({ ownProperties, ...(huge ? { inlineRefs: false, code: { optimize: false } } : {}) });
    ajvs.set(key, ajv);
  }
  return ajv;
}

/**
 * A schema naming a property every object inherits (`constructor`, `toString`, `__proto__`, ...):
 * its validator must look at own properties only, or a record without that property reads as
 * having Object's. Checked on the schema's text (a false positive only costs speed: own-property
 * checks make validation about 2x slower, so they are not the default).
 */
const INHERITED_NAME = new RegExp(`"(?:${Object.getOwnPropertyNames(Object.prototype).join('|')})"`);
const compiled = new Map<string, ValidateFunction>();
const CACHE_LIMIT = 256;

/**
 * Schemas whose JSON text is longer than this are compiled the cheap way (see
 * `shareRepeatedSubschemas`). Ordinary stream schemas are a few KB and keep the fully inlined,
 * optimised code; peer test tap_aapl.singer (1 MB of schema) took ~20 s in ajv that way.
 */
const HUGE_SCHEMA_CHARS = 100_000;
/** Repeated subschemas at least this long (JSON text) are shared in huge schemas; short leaves stay inline. */
const SHARED_SUBSCHEMA_MIN_CHARS = 100;

/**
 * Compile a validator for records of a stream. Call it once per SCHEMA message, not per record:
 * identical schemas (taps re-send them) share one compiled function. The returned function
 * returns null when the record is valid, else the first problem found. Records holding a
 * LosslessNumber (big integers, long decimals) are checked as numbers.
 */
export function compileRecordValidator(schema: JsonSchema, options: RecordValidatorOptions = {}): RecordValidator {
  const validate = compileCached(schema, options.constraints ?? true);
  return (record: unknown): ValidationProblem | null => {
    if (validate(record)) return null;
    // A LosslessNumber is an object to ajv; check such records again with plain numbers.
    if (containsLosslessNumber(record)) {
      const approximate = toApproximateNumbers(record);
      if (validate(approximate)) return null;
      return describeProblem(validate.errors ?? []);
    }
    return describeProblem(validate.errors ?? []);
  };
}

function compileCached(schema: JsonSchema, constraints: boolean): ValidateFunction {
  const key = `${constraints ? 'full' : 'types'}:${stringifyJson(schema)}`;
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  let normalised = normaliseSchema(schema, constraints) as JsonSchema;
  // Generated code grows with the schema (20 MB of JavaScript for tap_aapl's 1 MB); sharing
  // repeated subschemas as separate functions and skipping ajv's code optimiser keeps it small.
  const huge = key.length > HUGE_SCHEMA_CHARS;
  if (huge) normalised = shareRepeatedSubschemas(normalised) as JsonSchema;
  const ajv = ajvFor(huge, INHERITED_NAME.test(key));
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(normalised);
  } catch (error) {
    if (isStackExhausted(error)) throw error;
    throw uncompilable(ajv, normalised, error);
  } finally {
    ajv.removeSchema(normalised); // we cache by text ourselves; keep ajv's cache from growing
  }
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, validate);
  return validate;
}

/**
 * A stream schema ajv cannot compile: a `pattern` in another regex dialect (Python's `(?i)`,
 * `\\Z`), a `$ref` that resolves nowhere or to another document, a type name JSON Schema does not
 * have (`"any"`, `"timestamp"`), a keyword whose value has the wrong type (`"minimum": "5"`,
 * `"enum": null`), a property schema that is no schema (`null`). `property` is the top-level
 * property whose schema is at fault, when one is; `reason` is ajv's (or ours) in a few words.
 */
export class UncompilableSchema extends Error {
  override readonly name = 'UncompilableSchema';

  constructor(
    readonly property: string | undefined,
    readonly reason: string,
  ) {
    super(
      property === undefined
        ? `the schema cannot be compiled: ${reason}`
        : `the schema of property ${JSON.stringify(property)} cannot be compiled: ${reason}`,
    );
  }
}

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * Which top-level property makes `root` fail to compile (the first, in schema order), by halving
 * the properties: a few compiles, only on this error path. None when the schema without its
 * properties fails too, or when the fault lies between properties (a `$ref` from one into another).
 */
function uncompilable(ajv: Ajv, root: JsonSchema, error: unknown): UncompilableSchema {
  const properties = root.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    return new UncompilableSchema(undefined, reasonOf(error));
  const all = properties as Record<string, unknown>;
  /** The error compiling `root` with only these properties throws, or null. */
  const failure = (names: readonly string[]): unknown => {
    const probe = { ...root, properties: Object.fromEntries(names.map((name) => [name, all[name]])) };
    try {
      ajv.compile(probe);
      return null;
    } catch (problem) {
      return problem;
    } finally {
      ajv.removeSchema(probe);
    }
  };
  if (failure([]) !== null) return new UncompilableSchema(undefined, reasonOf(error));
  let names = Object.keys(all);
  let found: unknown = error;
  while (names.length > 1) {
    const half = names.slice(0, Math.ceil(names.length / 2));
    const rest = names.slice(half.length);
    const first = failure(half);
    if (first !== null) [names, found] = [half, first];
    else {
      const second = failure(rest);
      if (second === null) return new UncompilableSchema(undefined, reasonOf(error));
      [names, found] = [rest, second];
    }
  }
  const name = names[0];
  if (name === undefined) return new UncompilableSchema(undefined, reasonOf(error));
  const sub = all[name];
  if (typeof sub !== 'boolean' && (typeof sub !== 'object' || sub === null || Array.isArray(sub))) {
    return new UncompilableSchema(name, `it is ${stringifyJson(sub)}, not a JSON Schema object`);
  }
  return new UncompilableSchema(name, reasonOf(found));
}

const schemaMapKeywords = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']);
const schemaListKeywords = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const schemaKeywords = new Set([
  'items',
  'additionalProperties',
  'additionalItems',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
]);

/** Keywords that constrain values rather than decide how they are stored. */
const constraintKeywords = new Set([
  'maxLength',
  'minLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'enum',
  'const',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'contains',
  'propertyNames',
  'patternProperties',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
]);

/**
 * A copy of a tap's schema that ajv (draft-07 rules) accepts: `$schema`, `$id` and draft-04
 * `id` are dropped (refs are resolved before SCHEMA is sent; a repeated `$id` would clash),
 * draft-04 boolean `exclusiveMinimum`/`exclusiveMaximum` become their numeric form, and
 * LosslessNumbers (`"maximum": 9223372036854775807`) become doubles.
 */
function normaliseSchema(schema: unknown, constraints: boolean): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const normalise = (sub: unknown) => normaliseSchema(sub, constraints);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === '$id' || (key === 'id' && typeof value === 'string')) continue;
    if (!constraints && constraintKeywords.has(key)) continue;
    if (schemaMapKeywords.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, normalise(sub)]));
    } else if (schemaListKeywords.has(key) && Array.isArray(value)) {
      result[key] = value.map(normalise);
    } else if (schemaKeywords.has(key)) {
      result[key] = Array.isArray(value) ? value.map(normalise) : normalise(value);
    } else {
      result[key] = toApproximateNumbers(value);
    }
  }
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof result[flag] === 'boolean') {
      if (result[flag] === true && typeof result[bound] === 'number') {
        result[flag] = result[bound];
        delete result[bound];
      } else {
        delete result[flag];
      }
    }
  }
  return result;
}

/**
 * A huge schema is usually one shape repeated (tap_aapl: 24,600 subschemas, 137 distinct). Each
 * subschema that occurs more than once moves to `definitions` and is referenced, so ajv compiles
 * it once. Schemas that already use `$ref` are left alone (a JSON pointer might lead through a
 * subschema that moved).
 */
function shareRepeatedSubschemas(root: JsonSchema): JsonSchema {
  const rootText = JSON.stringify(root);
  if (rootText.includes('"$ref"')) return root;
  const counts = new Map<string, number>();
  const textOf = new Map<object, string>();
  const count = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const text = JSON.stringify(node);
    textOf.set(node, text);
    counts.set(text, (counts.get(text) ?? 0) + 1);
    forEachSubschema(node as Record<string, unknown>, count);
  };
  forEachSubschema(root, count);

  const definitions: Record<string, unknown> = {};
  const nameOf = new Map<string, string>();
  const share = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
    const text = textOf.get(node)!;
    if (text.length < SHARED_SUBSCHEMA_MIN_CHARS || counts.get(text)! < 2) return withSharedChildren(node);
    let name = nameOf.get(text);
    if (name === undefined) {
      name = `tapline_shared_${nameOf.size}`;
      nameOf.set(text, name);
      definitions[name] = withSharedChildren(node);
    }
    return { $ref: `#/definitions/${name}` };
  };
  const withSharedChildren = (node: object): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...node };
    forEachSubschema(copy, share, (key, value) => (copy[key] = value));
    return copy;
  };
  const result = withSharedChildren(root);
  if (nameOf.size === 0) return root;
  result.definitions = { ...(result.definitions as Record<string, unknown> | undefined), ...definitions };
  return result as JsonSchema;
}

/** Visit the subschemas directly under `node` (properties, items, anyOf members, ...); `replace` stores a new value. */
function forEachSubschema(
  node: Record<string, unknown>,
  visit: (sub: unknown) => unknown,
  replace?: (key: string, value: unknown) => void,
): void {
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (schemaMapKeywords.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const mapped: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) setOwn(mapped, name, visit(sub));
      replace?.(key, mapped);
    } else if ((schemaListKeywords.has(key) || schemaKeywords.has(key)) && Array.isArray(value)) {
      const mapped = value.map((sub) => visit(sub));
      replace?.(key, mapped);
    } else if (schemaKeywords.has(key)) {
      const mapped = visit(value);
      replace?.(key, mapped);
    }
  }
}

function toApproximateNumbers(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (isLosslessNumber(value)) {
    const number = Number(value.toString());
    // 1e400 is a valid JSON number; let it through as the largest double rather than Infinity.
    return Number.isFinite(number) ? number : Math.sign(number) * Number.MAX_VALUE;
  }
  if (Array.isArray(value)) return value.map(toApproximateNumbers);
  const copy: Record<string, unknown> = {};
  for (const key in value) setOwn(copy, key, toApproximateNumbers((value as Record<string, unknown>)[key]));
  return copy;
}

/** `/a/b/0/c` -> `a.b[0].c` (JSON Pointer escapes undone). */
function dottedPath(pointer: string): string {
  if (pointer === '') return '';
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : path === '' ? part : `.${part}`;
  }
  return path;
}

function joinPath(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

function typeList(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'any value';
  const s = schema as JsonSchema;
  const types = Array.isArray(s.type) ? s.type.map(String) : typeof s.type === 'string' ? [s.type] : [];
  const named = types.map((type) => (type === 'string' && typeof s.format === 'string' ? `${type} (${s.format})` : type));
  if (named.length > 0) return named.join(' or ');
  const members = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (members !== undefined) return members.length === 0 ? 'no value at all' : members.map(typeList).join(' or ');
  return 'a value of the declared shape';
}

/** Pick the error that explains the failure best and phrase it. */
function describeProblem(errors: ErrorObject[]): ValidationProblem {
  // With anyOf/oneOf, ajv lists each branch's complaint before the union's own error; the union's
  // error (last) is the one that names the field's whole contract.
  // ajv reports every problem (allErrors): the first one, or the union around it, is the one told.
  const first = errors[0];
  if (first === undefined) return { field: '', message: 'record does not match the schema' };
  const error =
    errors.find(
      (e) =>
        (e.keyword === 'anyOf' || e.keyword === 'oneOf') &&
        (first.instancePath === e.instancePath || first.instancePath.startsWith(`${e.instancePath}/`)),
    ) ?? first;
  let field = dottedPath(error.instancePath);
  let problem: string;
  switch (error.keyword) {
    case 'required': {
      field = joinPath(field, String((error.params as { missingProperty: string }).missingProperty));
      problem = 'is required but missing';
      break;
    }
    case 'additionalProperties': {
      field = joinPath(field, String((error.params as { additionalProperty: string }).additionalProperty));
      problem = 'is not in the schema, which allows no additional properties';
      break;
    }
    case 'type': {
      const expected = String((error.params as { type: string | string[] }).type)
        .split(',')
        .join(' or ');
      problem = `must be ${expected} (got ${describeValue(error.data)})`;
      break;
    }
    case 'format': {
      problem = `must be a ${String((error.params as { format: string }).format)} string (got ${describeValue(error.data)})`;
      break;
    }
    case 'anyOf':
    case 'oneOf': {
      // `{"anyOf": []}` admits nothing: say so rather than "must be  (got ...)".
      const members = (error.parentSchema as JsonSchema | undefined)?.[error.keyword];
      problem =
        Array.isArray(members) && members.length === 0
          ? `can hold no value: its schema's ${error.keyword} lists no schemas (got ${describeValue(error.data)})`
          : `must be ${typeList(error.parentSchema)} (got ${describeValue(error.data)})`;
      break;
    }
    default:
      problem = `${error.message ?? 'is invalid'} (got ${describeValue(error.data)})`;
  }
  return { field, message: field === '' ? `record ${problem}` : `field ${JSON.stringify(field)}: ${problem}` };
}
