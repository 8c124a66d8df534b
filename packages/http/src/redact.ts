// Secret redaction: the one place that knows which values and which parameter names are secret.

export const REDACTED = '[REDACTED]';

/** Parameter/header/field names whose values are always secret, whatever the connector says. */
export const DEFAULT_SECRET_NAMES: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'api_secret',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'password',
  'passwd',
];

export interface Redactor {
  /** Replace every known secret in `text` (raw, URL-encoded or as a `name=value` / `"name": "value"` pair). */
  redact(text: string): string;
  /** Learn a secret value discovered at run time (a fetched token, a computed signature). */
  addSecret(value: string | undefined | null): void;
  /** Learn a parameter/header/field name whose values are secret. */
  addSecretName(name: string): void;
  isSecretName(name: string): boolean;
}

export interface RedactorOptions {
  /** Secret values, e.g. the config's api_secret and password. Values shorter than 4 characters are ignored (too likely to mangle ordinary text). */
  values?: Iterable<string | undefined | null>;
  /** Names of query parameters, headers or body fields whose values are secret (case-insensitive). */
  names?: Iterable<string>;
}

const MIN_SECRET_LENGTH = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const values = new Set<string>();
  const names = new Set<string>(DEFAULT_SECRET_NAMES);
  let valuePattern: RegExp | null = null;
  let namePattern: RegExp | null = null;

  const addSecret = (value: string | undefined | null): void => {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    // As written, URL-encoded (both space forms) and as it appears inside a JSON string.
    const forms = [value, encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), JSON.stringify(value).slice(1, -1)];
    for (const form of forms)
      if (!values.has(form)) {
        values.add(form);
        valuePattern = null;
      }
  };
  const addSecretName = (name: string): void => {
    const lower = name.toLowerCase();
    if (!names.has(lower)) {
      names.add(lower);
      namePattern = null;
    }
  };
  for (const v of options.values ?? []) addSecret(v);
  for (const n of options.names ?? []) addSecretName(n);

  const compileValues = (): RegExp | null => {
    if (values.size === 0) return null;
    // Longest first so a secret that contains another is replaced whole.
    const alternatives = [...values].sort((a, b) => b.length - a.length).map(escapeRegExp);
    return new RegExp(alternatives.join('|'), 'g');
  };
  const compileNames = (): RegExp => {
    const alternatives = [...names]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|');
    // query/form `name=value`, JSON `"name": "value"`, header-ish `name: value` and `Authorization: JWT x`
    // (a scheme word is swallowed with its token, nothing further, so `?api_key=x 200 12ms` keeps `200`).
    return new RegExp(
      `(["']?)\\b(${alternatives})\\1(\\s*[=:]\\s*)(?:"((?:[^"\\\\]|\\\\.)*)"|'((?:[^'\\\\]|\\\\.)*)'|(\\[REDACTED\\]|(?:(?:Bearer|JWT|Basic|Token|Digest)[ ]+)?[^\\s&"',;}\\]]+))`,
      'gi',
    );
  };

  const redact = (text: string): string => {
    if (!text) return text;
    if (valuePattern === null) valuePattern = compileValues();
    if (namePattern === null) namePattern = compileNames();
    let out = valuePattern ? text.replace(valuePattern, REDACTED) : text;
    out = out.replace(namePattern, (_m, quote: string, name: string, sep: string, doubleQuoted?: string, singleQuoted?: string) => {
      const value = doubleQuoted !== undefined ? `"${REDACTED}"` : singleQuoted !== undefined ? `'${REDACTED}'` : REDACTED;
      return `${quote}${name}${quote}${sep}${value}`;
    });
    return out;
  };

  return {
    redact,
    addSecret,
    addSecretName,
    isSecretName: (name) => names.has(name.toLowerCase()),
  };
}
