// Durations as written in declarations ('10m', '2h', '7d', '3mo'), applied to instants.

/** A duration: a number followed by s, m, h, d, w or mo (calendar months), e.g. '10m' or '3mo'. */
export type Duration = `${number}${'s' | 'm' | 'h' | 'd' | 'w' | 'mo'}`;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Returns the instant `duration` before `instant` (calendar months use UTC month arithmetic). */
export function subtractDuration(instant: Date, duration: Duration): Date {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d|w|mo)$/.exec(duration);
  if (!match) throw new Error(`Invalid duration "${duration}": expected a number followed by s, m, h, d, w or mo.`);
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof UNIT_MS | 'mo';
  if (unit === 'mo') {
    const result = new Date(instant.getTime());
    result.setUTCMonth(result.getUTCMonth() - amount);
    return result;
  }
  return new Date(instant.getTime() - amount * UNIT_MS[unit]);
}

/** Validates a duration at declaration time so a typo fails when the tap loads, not mid-sync. */
export function assertDuration(duration: string, where: string): asserts duration is Duration {
  if (!/^(\d+(?:\.\d+)?)(s|m|h|d|w|mo)$/.test(duration)) {
    throw new Error(`${where}: invalid duration "${duration}" (expected e.g. '10m', '1d' or '3mo').`);
  }
}

const UNIT_WORDS = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month' } as const;

/** '3mo' -> '3 months', '1d' -> '1 day', for log lines. */
export function describeDuration(duration: Duration): string {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d|w|mo)$/.exec(duration);
  if (!match) return duration;
  const amount = Number(match[1]);
  return `${match[1]} ${UNIT_WORDS[match[2] as keyof typeof UNIT_WORDS]}${amount === 1 ? '' : 's'}`;
}

/** A span of milliseconds in its two largest whole units: '2 days 3 hours', '5 minutes'. */
export function describeSpan(ms: number): string {
  const units: Array<[string, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1_000],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, ms);
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0 ')).join(' ') || 'less than a second';
}
