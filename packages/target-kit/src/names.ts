// Name normalisation: one rule for tables, schemas and columns, collisions disambiguated deterministically.
import { createHash } from 'node:crypto';
import type { TableRef } from './dialect.js';

/**
 * The naming rule (README, "Names"): snake_case, the way analysts type SQL.
 * 1. Unicode NFC; a lower-case letter or digit followed by an upper-case letter gets `_` between
 *    them (`clientName` -> `client_name`, `HTTPServer` -> `http_server`).
 * 2. Lower-case (Unicode-aware: `Ονομα` -> `ονομα`; non-ASCII letters are kept).
 * 3. Every run of characters that is not a letter, a digit or `_` becomes one `_`
 *    (`minus-column` -> `minus_column`, `a:b.c d` -> `a_b_c_d`). Existing underscores are kept,
 *    so `_id` and `_sdc_deleted_at` stay as they are.
 * 4. Empty result -> `_`. Reserved words and leading digits stay: every identifier is quoted.
 * 5. Longer than the dialect's limit (UTF-8 bytes): cut at a character boundary and end with
 *    `_` + 8 hex digits of the original name's SHA-1, so long names stay distinct.
 */
export function normaliseName(raw: string, maxBytes: number): string {
  let name = raw
    .normalize('NFC')
    .replace(/(\p{Ll}|\p{Nd})(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_]+/gu, '_');
  if (name === '') name = '_';
  return fitToBytes(name, raw, maxBytes);
}

/** `name` if it fits in `maxBytes`, else a prefix plus a hash of `original`. */
function fitToBytes(name: string, original: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const suffix = `_${shortHash(original)}`;
  return cutToBytes(name, maxBytes - suffix.length) + suffix;
}

function cutToBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 8);
}

/**
 * Column names for a schema's properties, with collisions resolved so that two properties never
 * share a column: among properties that normalise to the same name, the one whose name already
 * is the normalised form keeps it (else the first in code-point order of the original names);
 * each other gets `<name>__<8 hex of SHA-1 of its original name>`. The result depends only on
 * the set of property names, not their order. `reserved` names (metadata columns) are taken by
 * a property only when it spells them exactly and they are `claimable`; otherwise it gets the
 * hashed name too.
 */
export function columnNamesFor(
  properties: readonly string[],
  maxBytes: number,
  reserved: ReadonlySet<string> = new Set(),
  claimable: ReadonlySet<string> = reserved,
): Map<string, string> {
  const byName = new Map<string, string[]>();
  for (const property of properties) {
    const name = normaliseName(property, maxBytes);
    const group = byName.get(name);
    if (group) group.push(property);
    else byName.set(name, [property]);
  }
  const result = new Map<string, string>();
  for (const [name, group] of byName) {
    group.sort((a, b) => rank(a, name) - rank(b, name) || (a < b ? -1 : a > b ? 1 : 0));
    group.forEach((property, index) => {
      const ownsName = index === 0 && (!reserved.has(name) || (property === name && claimable.has(name)));
      const column = ownsName ? name : disambiguatedColumnName(name, property, maxBytes);
      result.set(property, column);
    });
  }
  return result;
}

function rank(property: string, name: string): number {
  return property === name ? 0 : 1;
}

/** `<name>__<8 hex of SHA-1 of the property>`, for a property whose normalised name another one has. */
export function disambiguatedColumnName(name: string, property: string, maxBytes: number): string {
  const suffix = `__${shortHash(property)}`;
  return cutToBytes(name, maxBytes - suffix.length) + suffix;
}

/**
 * Where a stream lands. `default_target_schema` set explicitly: every stream goes there, and the
 * table is the part after the last `-` (`tap_mysql-orders` -> `orders`). Not set: `a-b` means
 * schema `a`, table `b`; `db-a-b` means schema `a`, table `b` (the database part is ignored);
 * a name without `-` goes to the dialect's default schema. Each part is normalised.
 */
export function tableRefForStream(
  stream: string,
  options: { defaultSchema: string; schemaIsExplicit: boolean; maxBytes: number },
): TableRef {
  const parts = stream.split('-');
  const table = normaliseName(parts[parts.length - 1] ?? stream, options.maxBytes);
  if (options.schemaIsExplicit || parts.length < 2) return { schema: options.defaultSchema, table };
  return { schema: normaliseName(parts[parts.length - 2] ?? '', options.maxBytes), table };
}

/**
 * The table for a stream whose plain table belongs to another stream (README, "Streams -> tables"):
 * `<table>_<8 hex of SHA-1 of the raw stream name>`, cut to fit `maxBytes`. Stable across runs.
 */
export function disambiguatedTableName(table: string, stream: string, maxBytes: number): string {
  const suffix = `_${shortHash(stream)}`;
  return cutToBytes(table, maxBytes - suffix.length) + suffix;
}
