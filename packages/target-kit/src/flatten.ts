// Flattening (`data_flattening_max_level`, or the Meltano SDK's `flattening_enabled` and
// `flattening_max_depth`): an object property with declared properties becomes one column per
// child, `parent__child`, down to a depth; what is not flattened stays a JSON column.
import { isPlainObject, type JsonSchema, resolveLocalRefs, SingerInputError, setOwn } from '@tapline/singer';

/** Between a parent's name and its child's, as pipelinewise and the Meltano SDK write it. */
export const FLATTEN_SEPARATOR = '__';

type PropertySchemas = Record<string, JsonSchema | boolean>;

/**
 * The properties a stream's records have once flattened `maxLevel` levels deep, in schema order
 * (a parent's children take its place). A property is flattened when its schema is an object
 * (nullable or not, also as an anyOf/oneOf with null) with declared properties; an object without
 * declared properties, an array, a key property, and anything deeper than `maxLevel` stay one JSON
 * column. Two properties that would flatten to one name are refused (the SCHEMA's line).
 */
export function flattenedProperties(
  schema: JsonSchema,
  keyProperties: readonly string[],
  maxLevel: number,
  where: { readonly stream: string; readonly line: number },
): PropertySchemas {
  const flat: PropertySchemas = {};
  const origin = new Map<string, string>();
  const keys = new Set(keyProperties);
  const walk = (properties: PropertySchemas, path: readonly string[], level: number) => {
    for (const [name, property] of Object.entries(properties)) {
      const children = level < maxLevel && !(level === 0 && keys.has(name)) ? declaredChildren(resolveLocalRefs(property, schema)) : null;
      if (children !== null) {
        walk(children, [...path, name], level + 1);
        continue;
      }
      const flatName = [...path, name].join(FLATTEN_SEPARATOR);
      const spelled = [...path, name].map((part) => JSON.stringify(part)).join('.');
      const earlier = origin.get(flatName);
      if (earlier !== undefined) {
        throw new SingerInputError(
          { line: where.line, stream: where.stream, field: flatName },
          `properties ${earlier} and ${spelled} both flatten to the column name "${flatName}"; lower the flattening depth or rename one`,
        );
      }
      origin.set(flatName, spelled);
      setOwn(flat, flatName, property);
    }
  };
  walk(schema.properties as PropertySchemas, [], 0);
  return flat;
}

/** The declared properties of an object schema (also `["null", "object"]` and anyOf/oneOf with null), or null when it is no such schema. */
function declaredChildren(schema: JsonSchema | boolean | undefined): PropertySchemas | null {
  if (typeof schema !== 'object' || schema === null) return null;
  const types = typeof schema.type === 'string' ? [schema.type] : Array.isArray(schema.type) ? (schema.type as unknown[]) : null;
  if (types !== null) {
    const isObject = types.includes('object') && types.every((type) => type === 'object' || type === 'null');
    const properties = schema.properties;
    if (!isObject || typeof properties !== 'object' || properties === null || Array.isArray(properties)) return null;
    return Object.keys(properties).length > 0 ? (properties as PropertySchemas) : null;
  }
  const members = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (members === null) return null;
  const objects = members.filter((member) => !(typeof member === 'object' && member !== null && (member as JsonSchema).type === 'null'));
  return objects.length === 1 ? declaredChildren(objects[0] as JsonSchema) : null;
}

/**
 * A record as its flattened columns see it: an object value whose name is not a column of its
 * own is spread into `name__child` entries, down to `maxLevel` levels (the Meltano SDK's rule, so
 * an object a record brings that the schema does not declare flattens too, into undeclared
 * properties). Everything else keeps its value; an empty object adds nothing. A name reached twice
 * (`a__b` beside `a: {b}`) is refused by field rather than one value silently winning.
 */
export function flattenRecord(
  record: Record<string, unknown>,
  columns: ReadonlySet<string>,
  maxLevel: number,
  where: { readonly stream: string; readonly line: number },
): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const walk = (node: Record<string, unknown>, prefix: string, level: number) => {
    for (const name in node) {
      if (!Object.hasOwn(node, name)) continue;
      const flatName = prefix + name;
      const value = node[name];
      if (level < maxLevel && isPlainObject(value) && !columns.has(flatName)) {
        walk(value, flatName + FLATTEN_SEPARATOR, level + 1);
        continue;
      }
      if (Object.hasOwn(flat, flatName)) {
        throw new SingerInputError(
          { line: where.line, stream: where.stream, field: flatName },
          `two values of the record flatten to the column name "${flatName}"`,
        );
      }
      setOwn(flat, flatName, value);
    }
  };
  walk(record, '', 0);
  return flat;
}
