// A setting's value from text (an environment variable, a `${VAR}` reference), typed by the setting's JSON Schema.
import type { JsonSchema } from './messages.js';

export type SettingFromText = { ok: true; value: unknown } | { ok: false; expected: string };

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** The JSON types a setting admits: its `type`, else its union members' (zod writes enums and unions so). */
export function settingTypes(schema: JsonSchema | undefined): string[] {
  if (!schema) return [];
  const own = ([] as unknown[]).concat(schema.type ?? []).map(String);
  if (own.length > 0) return own;
  const members = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return Array.isArray(members) ? members.flatMap(settingTypes) : [];
}

/**
 * Reads text as the setting's type, the way the Meltano SDK reads `--config ENV`: a string setting
 * (or an untyped or unknown one) takes the text as it is; a boolean takes true/false (also 1/0,
 * yes/no, on/off); an integer or number takes a decimal literal; an array or object takes JSON.
 * Nothing is guessed: text that does not read exactly is refused, and `expected` says what was
 * wanted (never the text itself, which may be a secret).
 */
export function settingFromText(text: string, schema: JsonSchema | undefined): SettingFromText {
  const types = settingTypes(schema);
  if (types.length === 0 || types.includes('string')) return { ok: true, value: text };
  const trimmed = text.trim();
  if (types.includes('null') && trimmed === 'null') return { ok: true, value: null };
  if (types.includes('boolean')) {
    if (TRUE.has(trimmed.toLowerCase())) return { ok: true, value: true };
    if (FALSE.has(trimmed.toLowerCase())) return { ok: true, value: false };
  }
  if (types.includes('integer') || types.includes('number')) {
    const value = NUMBER.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (Number.isFinite(value) && (types.includes('number') || Number.isSafeInteger(value))) return { ok: true, value };
  }
  if (types.includes('array') || types.includes('object')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
      if (types.includes(kind)) return { ok: true, value };
    } catch {
      // refused below
    }
  }
  return { ok: false, expected: describeTypes(types) };
}

function describeTypes(types: readonly string[]): string {
  const words: Record<string, string> = {
    boolean: 'true or false',
    integer: 'an integer',
    number: 'a number',
    array: 'a JSON array',
    object: 'a JSON object',
    null: 'null',
  };
  return [...new Set(types.map((type) => words[type] ?? type))].join(' or ');
}
