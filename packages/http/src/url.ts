// Request shaping: base URL + path/url joining and query encoding (repeatable keys), in one place.

export type QueryScalar = string | number | boolean | bigint;
/** A query value; arrays repeat the key (`?id=1&id=2`); null/undefined drop the key. */
export type QueryValue = QueryScalar | null | undefined | readonly QueryScalar[];
export type Query = Readonly<Record<string, QueryValue>>;

/** Join `path` onto `baseUrl` keeping the base's own path (`https://h/api` + `/v1.json` -> `https://h/api/v1.json`). */
export function joinUrl(baseUrl: string, path: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return new URL(path);
  const base = baseUrl.replace(/\/+$/, '');
  return new URL(base + (path.startsWith('/') ? path : `/${path}`));
}

/** Resolve a link a server returned (absolute, or relative to the URL of the response that carried it). */
export function resolveLink(link: string, againstUrl: string): URL {
  return new URL(link, againstUrl);
}

/** Set query params on `url`: a key given here replaces any value already in the URL. */
export function setQuery(url: URL, query: Query | undefined): void {
  if (!query) return;
  for (const [key, value] of Object.entries(query)) {
    url.searchParams.delete(key);
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values as readonly QueryScalar[]) url.searchParams.append(key, String(v));
  }
}

/** The URL with `%20` for spaces (URLSearchParams writes `+`, which some PHP/Django servers misread in paths). */
export function urlToString(url: URL): string {
  return url.href.replace(/\+/g, '%20');
}
