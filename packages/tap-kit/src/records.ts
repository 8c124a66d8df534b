// Turning response bodies into records: the selector, placeholders and field selection.
import type { Context, RecordSelector } from './declare.js';
import { TapError } from './errors.js';

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

/**
 * The URL a parent record hands its child (`each(..., { follow })`), on the API's host. Its path and
 * query are kept as sent; scheme and port are the configured base URL's (vendors write `http://`
 * links behind TLS proxies, inferred from testpress-api.md). Undefined when the record has none.
 */
export function followedUrl(value: unknown, baseUrl: string, where: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const base = new URL(baseUrl);
  let url: URL;
  try {
    url = new URL(String(value), `${base.href.replace(/\/+$/, '')}/`);
  } catch {
    throw new TapError(`${where} is not a URL (got ${JSON.stringify(String(value).slice(0, 200))}).`, 'system');
  }
  if (url.hostname !== base.hostname) {
    throw new TapError(
      `${where} points to ${url.hostname}, not to the configured host ${base.hostname}; the tap does not send credentials to another host. Check base_url.`,
      'config',
    );
  }
  return `${base.origin}${url.pathname}${url.search}`;
}
