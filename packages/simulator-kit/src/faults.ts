// Fault injection: make chosen routes fail in the ways real APIs do, from the start or mid-test.
import type { SimulatorResponse } from './routes.js';

/** Which requests a fault applies to, and how many. */
interface FaultTarget {
  /** A route name; omitted or "*" means every route. */
  route?: string;
  /** How many matching requests to affect (default 1; Infinity until cleared). */
  times?: number;
  /** Let this many matching requests through untouched first (default 0). */
  after?: number;
}

export type FaultSpec = FaultTarget &
  (
    | /** An error status burst (default 503). */ { kind: 'status'; status?: number; body?: unknown; headers?: Record<string, string> }
    | /** Wait before answering normally. */ { kind: 'delay'; ms: number }
    | /** Close the connection without any response. */ { kind: 'drop' }
    | /** Answer 200 with a cut-off body (default: the real body, truncated in half). */ { kind: 'malformed'; body?: string }
    | /** The simulator's rate-limit answer (vendor-specific, default 429 + Retry-After). */ {
        kind: 'rate-limit';
        retryAfterSeconds?: number;
      }
    | /** A canned response. */ { kind: 'respond'; response: SimulatorResponse }
    | /**
     * Run one of the simulator's named actions (e.g. `delete-exam`), then answer normally: the
     * vendor's data changes mid-sync, at a request the test chooses.
     */ { kind: 'act'; action: string; args?: Record<string, unknown> }
  );

interface ActiveFault {
  spec: FaultSpec;
  seen: number;
  applied: number;
}

export class FaultController {
  private readonly active: ActiveFault[] = [];

  /** Adds a fault; returns a function that removes it. */
  inject(spec: FaultSpec): () => void {
    const fault: ActiveFault = { spec, seen: 0, applied: 0 };
    this.active.push(fault);
    return () => {
      const index = this.active.indexOf(fault);
      if (index >= 0) this.active.splice(index, 1);
    };
  }

  clear(): void {
    this.active.length = 0;
  }

  /** Faults still waiting to fire (for assertions that a fault was actually exercised). */
  pending(): FaultSpec[] {
    return this.active.filter((fault) => fault.applied < (fault.spec.times ?? 1)).map((fault) => fault.spec);
  }

  /** @internal The fault to apply to a request on `route`, if any; counts it as used. */
  take(route: string): FaultSpec | undefined {
    for (const fault of this.active) {
      if (fault.spec.route !== undefined && fault.spec.route !== '*' && fault.spec.route !== route) continue;
      if (fault.applied >= (fault.spec.times ?? 1)) continue;
      fault.seen += 1;
      if (fault.seen <= (fault.spec.after ?? 0)) continue;
      fault.applied += 1;
      return fault.spec;
    }
    return undefined;
  }
}

const FAULT_KINDS = new Set(['status', 'delay', 'drop', 'malformed', 'rate-limit', 'respond', 'act']);

/** Parses a fault given as JSON (CLI `--fault`, control endpoint); throws a readable error. */
export function parseFaultSpec(input: unknown): FaultSpec {
  const value = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  if (typeof value !== 'object' || value === null || !FAULT_KINDS.has((value as { kind?: string }).kind ?? '')) {
    throw new Error(`a fault needs "kind": one of ${[...FAULT_KINDS].join(', ')}; got ${JSON.stringify(value)}`);
  }
  const spec = value as FaultSpec & { times?: number | null };
  // JSON cannot carry Infinity; null (or -1) means "until cleared".
  if (spec.times === null || spec.times === -1) spec.times = Number.POSITIVE_INFINITY;
  return spec;
}
