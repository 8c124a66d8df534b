// Local `$ref`s, followed where a column's type depends on them.
import type { JsonSchema } from './messages.js';

/** The members of a schema whose references decide its type (`items` and `properties` do not: such values are JSON). */
const UNION_KEYWORDS = ['anyOf', 'oneOf', 'allOf'] as const;

/**
 * `schema` with its local references (`{"$ref": "#/definitions/ts"}`, `#/$defs/...`) replaced by
 * what they point to in `root`, the stream's whole schema, merged with the keywords beside the
 * `$ref`: in the schema itself and in its anyOf/oneOf/allOf members. Some taps send schemas so;
 * read unresolved, every such property would be an untyped JSON column. A reference that points
 * nowhere, outside the document, or back into itself (a recursive tree) is kept, and reads as
 * untyped. Nothing is copied unless a reference is found.
 */
export function resolveLocalRefs<S extends JsonSchema | boolean | undefined>(
  schema: S,
  root: JsonSchema,
  seen: ReadonlySet<string> = new Set(),
): S {
  if (typeof schema !== 'object' || schema === null) return schema;
  let current: JsonSchema = schema;
  const chain = new Set(seen);
  while (typeof current.$ref === 'string') {
    const ref = current.$ref;
    const target = chain.has(ref) ? undefined : pointerTarget(root, ref);
    if (typeof target !== 'object' || target === null || Array.isArray(target)) break;
    chain.add(ref);
    const { $ref: _followed, ...beside } = current;
    current = { ...(target as JsonSchema), ...beside };
  }
  for (const keyword of UNION_KEYWORDS) {
    const members = current[keyword];
    if (!Array.isArray(members)) continue;
    const resolved = members.map((member: unknown) => resolveLocalRefs(member as JsonSchema, root, chain));
    if (resolved.some((member, index) => member !== members[index])) current = { ...current, [keyword]: resolved };
  }
  return current as S;
}

/** What a `#/a/b` JSON Pointer fragment names in `root`, or undefined (a remote or broken reference). */
function pointerTarget(root: JsonSchema, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (fragment === '') return root;
  if (!fragment.startsWith('/')) return undefined; // `#anchor`: not followed
  let node: unknown = root;
  for (const token of fragment.slice(1).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
