// The data dictionary a tap owes its warehouse: every stream and field described, since targets turn descriptions into comments.
import type { JsonSchema } from '@tapline/singer';

/**
 * Where a stream's schema lacks a description: the record itself (the table's comment) and every
 * property, nested object properties included (each a column's comment, or part of one). Returns
 * one line per gap (`properties.score`); empty when the schema describes everything.
 */
export function undescribedFields(schema: JsonSchema, at = '(record)'): string[] {
  const gaps: string[] = [];
  const described = typeof schema.description === 'string' && schema.description.trim() !== '';
  if (!described) gaps.push(at);
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  for (const [name, property] of Object.entries(properties ?? {})) {
    const path = `${at === '(record)' ? '' : `${at}.`}properties.${name}`;
    gaps.push(...undescribedFields(property, path));
  }
  const items = schema.items as JsonSchema | undefined;
  // Array items need no description of their own (the array's is the column's); their fields do.
  if (items?.properties !== undefined) gaps.push(...undescribedFields(items, `${at}.items`).filter((gap) => gap !== `${at}.items`));
  return gaps;
}
