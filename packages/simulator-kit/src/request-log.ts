// The simulator's record of every request it received, so tests can assert what a tap asked for.

export interface LoggedRequest {
  /** 1-based arrival order. */
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
  /** The route that matched, or null when no route did (an unexpected request). */
  route: string | null;
  /** The status sent, or null when the connection was dropped by a fault. */
  status: number | null;
  /** The fault applied to this request, if any. */
  fault: string | null;
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
}

export class RequestLog {
  private readonly entries: LoggedRequest[] = [];

  /** @internal used by the server */
  record(entry: Omit<LoggedRequest, 'seq'>): LoggedRequest {
    const logged = { ...entry, seq: this.entries.length + 1 };
    this.entries.push(logged);
    return logged;
  }

  all(): readonly LoggedRequest[] {
    return [...this.entries];
  }

  /** Requests that matched the named route. */
  to(route: string): LoggedRequest[] {
    return this.entries.filter((entry) => entry.route === route);
  }

  count(route?: string): number {
    return route === undefined ? this.entries.length : this.to(route).length;
  }

  /** Requests no route matched: a tap asking for something the API does not have. */
  unexpected(): LoggedRequest[] {
    return this.entries.filter((entry) => entry.route === null);
  }

  /** Throws, listing them, when any request matched no route. */
  assertNoUnexpected(): void {
    const unexpected = this.unexpected();
    if (unexpected.length > 0) {
      const lines = unexpected.map((entry) => `  ${entry.method} ${entry.path}`).join('\n');
      throw new Error(`simulator received ${unexpected.length} unexpected request(s):\n${lines}`);
    }
  }

  /** Throws when a request went to a route outside `allowed`. */
  assertOnly(allowed: readonly string[]): void {
    const others = this.entries.filter((entry) => entry.route === null || !allowed.includes(entry.route));
    if (others.length > 0) {
      const lines = others.map((entry) => `  ${entry.method} ${entry.path} (${entry.route ?? 'no route'})`).join('\n');
      throw new Error(`simulator received request(s) outside [${allowed.join(', ')}]:\n${lines}`);
    }
  }

  clear(): void {
    this.entries.length = 0;
  }
}
