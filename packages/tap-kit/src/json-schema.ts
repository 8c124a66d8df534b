// The record schema as Singer targets expect it: zod's output JSON Schema, tidied.
import { z } from 'zod';
/** A JSON Schema as a plain object (same shape as @tapline/singer's JsonSchema). */
export type JsonSchema = { [key: string]: unknown };

const FORMATS_WITH_GENERATED_PATTERNS = new Set(['date-time', 'date', 'time', 'uuid', 'email']);

/**
 * Converts a record schema to the JSON Schema sent in SCHEMA messages and the catalog. It describes
 * the *output* of parsing (after coercions), since that is what RECORD messages carry. zod's own
 * validation regexes are dropped (targets only need the format) and so is `additionalProperties:
 * false` (Singer schemas leave it open).
 */
export function recordJsonSchema(record: z.ZodType): JsonSchema {
  const generated = z.toJSONSchema(record, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  const { $schema: _ignored, ...schema } = tidy(generated) as JsonSchema;
  if (schema.type !== 'object' || typeof schema.properties !== 'object') {
    throw new Error('A stream record schema must be a z.object(...)');
  }
  return schema;
}

/** `anyOf: [{type: 'string', format}, {type: 'null'}]` -> `{type: ['string', 'null'], format}`: what targets read best. */
function flattenNullable(node: Record<string, unknown>): Record<string, unknown> {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length !== 2 || Object.keys(node).length !== 1) return node;
  const nullIndex = anyOf.findIndex((v) => (v as { type?: unknown })?.type === 'null' && Object.keys(v as object).length === 1);
  const other = anyOf[1 - nullIndex] as Record<string, unknown> | undefined;
  if (nullIndex === -1 || !other || typeof other.type !== 'string' || other.type === 'null') return node;
  return { ...other, type: [other.type, 'null'] };
}

function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (typeof node !== 'object' || node === null) return node;
  const flat = flattenNullable(node as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'pattern' && FORMATS_WITH_GENERATED_PATTERNS.has(String(flat.format))) continue;
    out[key] = tidy(value);
  }
  return out;
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
