// Turning response bodies into records: the selector, placeholders and field selection.
import type { Context, RecordSelector } from './declare.js';

/**
 * Reads records out of a body. A path walks object keys ('data.items'); `name[*]` maps over an
 * array ('results[*].result' unwraps ClassMarker's `{"result": {...}}` items). A missing value
 * gives no records, so an envelope without a results list reads as an empty page.
 */
export function selectRecords(body: unknown, selector: RecordSelector | undefined): readonly unknown[] {
  if (typeof selector === 'function') return selector(body);
  let values: unknown[] = [body];
  for (const segment of (selector ?? '').split('.').filter((s) => s !== '' && s !== '$')) {
    const spread = segment.endsWith('[*]');
    const name = spread ? segment.slice(0, -3) : segment;
    values = values.flatMap((value) => {
      const child = name === '' ? value : (value as Record<string, unknown> | null | undefined)?.[name];
      if (child === undefined || child === null) return [];
      return spread ? (Array.isArray(child) ? child : []) : [child];
    });
  }
  if (values.length === 1 && Array.isArray(values[0])) return values[0];
  return values;
}

/** Fills `{name}` placeholders from the context; a missing value is a declaration bug. */
export function fillPath(path: string, context: Context, stream: string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = context[name];
    if (value === undefined || value === null) {
      throw new Error(`stream "${stream}": path ${path} needs "${name}", which its context does not provide.`);
    }
    return encodeURIComponent(String(value));
  });
}

/** Keeps only the selected top-level fields. */
export function pickFields(record: Record<string, unknown>, fields: Set<string> | undefined): Record<string, unknown> {
  if (!fields) return record;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (fields.has(key)) out[key] = value;
  return out;
}
