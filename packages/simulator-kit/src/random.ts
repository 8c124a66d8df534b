// Seeded, deterministic fake data for simulators: the same seed always yields the same data set.

/** A seed may be given as a number or any string (CLI `--seed abc`). */
export type Seed = number | string;

const FIRST_NAMES = [
  'Ada',
  'Amara',
  'Ben',
  'Carla',
  'Chen',
  'Dmitri',
  'Elif',
  'Femi',
  'Grace',
  'Hiro',
  'Ines',
  'Jamal',
  'Kaia',
  'Lars',
  'Mei',
  'Nadia',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Zoë',
  'José',
  'Siobhán',
  "D'Arcy",
] as const;

const LAST_NAMES = [
  'Abara',
  'Becker',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Papadopoulos',
  'Quispe',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Umar',
  'Vargas',
  'Wójcik',
  'Xu',
  'Yilmaz',
  'Zhou',
  "O'Brien",
] as const;

const WORDS = [
  'Safety',
  'Onboarding',
  'Compliance',
  'Product',
  'Sales',
  'Support',
  'Finance',
  'Privacy',
  'Security',
  'Leadership',
  'Chemistry',
  'Algebra',
  'History',
  'Biology',
  'Networking',
  'Ethics',
] as const;

/** Hash a seed to 32 bits (FNV-1a) so string and numeric seeds both work. */
function hashSeed(seed: Seed): number {
  const text = String(seed);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A small seeded PRNG (mulberry32) with helpers for the values simulators need. */
export class SeededRandom {
  private state: number;

  constructor(seed: Seed) {
    this.state = hashSeed(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('SeededRandom.pick needs a non-empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A new array in a seeded random order. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** A decimal rounded to `digits` fractional digits, in [min, max]. */
  decimal(min: number, max: number, digits = 1): number {
    const factor = 10 ** digits;
    return Math.round((min + this.next() * (max - min)) * factor) / factor;
  }

  firstName(): string {
    return this.pick(FIRST_NAMES);
  }

  lastName(): string {
    return this.pick(LAST_NAMES);
  }

  /** A plausible email for a person; ASCII-folded so it is a valid address. */
  email(first: string, last: string, domain = 'example.com'): string {
    const fold = (s: string) =>
      s
        .normalize('NFD')
        .replace(/[^A-Za-z]/g, '')
        .toLowerCase() || 'user';
    return `${fold(first)}.${fold(last)}${this.int(1, 999)}@${domain}`;
  }

  /** A short title such as "Privacy Security 3". */
  title(words = 2): string {
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(this.pick(WORDS));
    return `${parts.join(' ')} ${this.int(1, 9)}`;
  }

  /** Lowercase letters and digits, e.g. for codes and opaque ids. */
  alphanumeric(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** A UNIX timestamp (seconds) in [fromSeconds, toSeconds]. */
  unixSeconds(fromSeconds: number, toSeconds: number): number {
    return this.int(fromSeconds, toSeconds);
  }

  /** An ISO 8601 timestamp between two dates, with the given UTC offset (e.g. "+05:30"). */
  isoTimestamp(from: Date, to: Date, offset = 'Z'): string {
    const ms = this.int(from.getTime(), to.getTime());
    if (offset === 'Z') return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const sign = offset.startsWith('-') ? -1 : 1;
    const [h = '0', m = '0'] = offset.slice(1).split(':');
    const shifted = new Date(ms + sign * (Number(h) * 60 + Number(m)) * 60_000);
    return shifted.toISOString().replace(/\.\d{3}Z$/, offset);
  }
}

export function seededRandom(seed: Seed): SeededRandom {
  return new SeededRandom(seed);
}
