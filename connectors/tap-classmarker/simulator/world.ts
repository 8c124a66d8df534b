// The ClassMarker simulator's seeded data set: tests, groups, links, access lists and results.
import { type Seed, type SeededRandom, seededRandom } from '@tapline/simulator-kit';

const DAY = 86_400;

export interface Test {
  test_id: number;
  test_name: string;
}

export interface Group {
  group_id: number;
  group_name: string;
  test_ids: number[];
}

export interface Link {
  link_id: number;
  link_name: string;
  link_url_id: string;
  /** Only present when an access list is assigned to the link [doc: Links Note 2]. */
  access_list_id?: number;
  test_ids: number[];
}

export interface AccessList {
  access_list_id: number;
  access_list_name: string;
  codes: Set<string>;
}

/** Fields shared by group and link results, in the current (numeric) form [doc examples]. */
interface ResultBase {
  /** null in the `nullNames` variant (a taker who gave no name; docs/providers/classmarker.md). */
  first: string | null;
  last: string | null;
  email: string;
  test_id: number;
  percentage: number;
  points_scored: number;
  points_available: number;
  time_started: number;
  time_finished: number;
  status: 'f';
  duration: string;
  percentage_passmark: number;
  passed: boolean;
  requires_grading: 'Yes' | 'No';
  give_certificate_only_when_passed: boolean;
  certificate_url: string;
  certificate_serial: string;
  view_results_url: string;
}

export interface GroupResult extends ResultBase {
  user_id: number;
  group_id: number;
}

export interface LinkResult extends ResultBase {
  link_id: number;
  link_result_id: number;
  access_code: string;
  extra_info: string;
  extra_info2: string;
  extra_info3: string;
  extra_info4: string;
  extra_info5: string;
  cm_user_id: string;
  ip_address: string;
}

/** A stored result plus its arrival order, the tie-breaker among equal `time_finished` values. */
export interface Stored<T> {
  seq: number;
  result: T;
}

export interface DataOptions {
  seed: Seed;
  /** UNIX seconds the data is anchored at (results finish before it). */
  anchor: number;
  groupResults: number;
  linkResults: number;
  /** Some results name nobody: `first` and/or `last` null. */
  nullNames?: boolean;
  /** Group results too may have a blank e-mail ("" or spaces); link results always may. */
  blankEmails?: boolean;
  /** The latest N group and N link results still require grading (default: about one in ten of the last 3 days'). */
  awaitingGrading?: number;
}

/**
 * Only results finished this recently may still require grading: older essays have been marked
 * (inferred; keeps the seeded data like an account whose teachers grade within days).
 */
const GRADING_DAYS = 3;

/** Percentage (one decimal, as ClassMarker rounds) and verdict for a score. */
function grade(points_scored: number, points_available: number, percentage_passmark: number) {
  const percentage = Math.round((points_scored / points_available) * 1000) / 10;
  // "if no passmark is set the value is true" [doc CM-S5]
  return { percentage, passed: percentage_passmark === 0 || percentage >= percentage_passmark };
}

function formatDuration(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/**
 * Spreads `count` finish times over the last 87 days (inside the 3-month look-back), oldest first,
 * then forces runs of results to share ONE second around every multiple of 200 (the page size),
 * so page edges fall inside same-second ties.
 */
function finishTimes(random: SeededRandom, count: number, anchor: number): number[] {
  const times = Array.from({ length: count }, () => random.unixSeconds(anchor - 87 * DAY, anchor - 120)).sort((a, b) => a - b);
  for (let edge = 200; edge < count; edge += 200) {
    const start = Math.max(0, edge - random.int(10, 40));
    const end = Math.min(count, edge + random.int(10, 40));
    const second = times[start] as number;
    for (let i = start; i < end; i++) times[i] = second;
  }
  // A few small ties elsewhere too, as real exams end together when a timer runs out.
  for (let i = 0; i < Math.floor(count / 50); i++) {
    const at = random.int(0, count - 4);
    for (let j = 1; j < 4; j++) times[at + j] = times[at] as number;
  }
  return times.sort((a, b) => a - b);
}

export class ClassMarkerData {
  readonly tests: Test[] = [];
  readonly groups: Group[] = [];
  readonly links: Link[] = [];
  readonly accessLists: AccessList[] = [];
  readonly groupResults: Stored<GroupResult>[] = [];
  readonly linkResults: Stored<LinkResult>[] = [];
  private readonly random: SeededRandom;
  private seq = 0;
  private nextLinkResultId: number;
  private readonly users: { user_id: number; first: string; last: string; email: string }[] = [];
  private readonly groupKeys = new Set<string>();
  private readonly anchor: number;

  constructor(options: DataOptions) {
    const random = seededRandom(options.seed);
    this.random = random;
    this.anchor = options.anchor;
    for (let i = 0; i < 10; i++) this.tests.push({ test_id: 48_700 + i * 37 + random.int(0, 30), test_name: `${random.title()} exam` });
    // Names with "&" exercise XML escaping [docs/providers/classmarker.md, "XML"].
    const groupNames = ['Internal Accounts department', 'Sales & Marketing', 'Warehouse staff', 'Graduate intake', 'Night shift'];
    groupNames.forEach((group_name, i) => {
      this.groups.push({
        group_id: 29_700 + i * 11 + random.int(0, 9),
        group_name,
        test_ids: random
          .shuffle(this.tests)
          .slice(0, random.int(2, 4))
          .map((t) => t.test_id),
      });
    });
    for (let i = 0; i < 8; i++) {
      const link: Link = {
        link_id: 38_600 + i * 13 + random.int(0, 9),
        link_name: `${random.pick(['New York', 'Lagos', 'Berlin', 'Mumbai', 'São Paulo', 'Osaka'])} ${random.pick(['Sales', 'Support', 'Applicants', 'Contractors'])} ${i + 1}`,
        link_url_id: random.alphanumeric(19),
        test_ids: random
          .shuffle(this.tests)
          .slice(0, random.int(1, 2))
          .map((t) => t.test_id),
      };
      if (i % 2 === 0) {
        const list: AccessList = { access_list_id: 123_400 + i, access_list_name: `${link.link_name} codes`, codes: new Set() };
        for (let c = 0; c < 12; c++) list.codes.add(random.alphanumeric(8));
        this.accessLists.push(list);
        link.access_list_id = list.access_list_id;
      }
      this.links.push(link);
    }
    for (let i = 0; i < 150; i++) {
      const first = random.firstName();
      const last = random.lastName();
      this.users.push({ user_id: 319_000 + i * 3 + random.int(0, 2), first, last, email: random.email(first, last) });
    }
    this.nextLinkResultId = 22_000 + random.int(0, 999);

    for (const time of finishTimes(random, options.groupResults, options.anchor))
      this.groupResults.push(this.stored(this.makeGroupResult(time)));
    for (const time of finishTimes(random, options.linkResults, options.anchor))
      this.linkResults.push(this.stored(this.makeLinkResult(time)));
    this.applyVariants(seededRandom(`${String(options.seed)}/variants`), options);
  }

  /** The data-shape variants, drawn from their own random stream so the base data stays the same. */
  private applyVariants(random: SeededRandom, options: DataOptions): void {
    const all: Stored<GroupResult | LinkResult>[] = [...this.groupResults, ...this.linkResults];
    for (const { result } of all) {
      if (options.nullNames && random.chance(0.1)) {
        const which = random.pick(['first', 'last', 'both'] as const);
        if (which !== 'last') result.first = null;
        if (which !== 'first') result.last = null;
      }
    }
    if (options.awaitingGrading !== undefined) {
      for (const pool of [this.groupResults, this.linkResults] as Stored<GroupResult | LinkResult>[][]) {
        for (const [i, entry] of pool.entries()) {
          entry.result.requires_grading = i >= pool.length - options.awaitingGrading ? 'Yes' : 'No';
        }
      }
    }
    if (options.blankEmails) for (const { result } of this.groupResults) if (random.chance(0.15)) result.email = random.pick(['', ' ']);
  }

  private stored<T>(result: T): Stored<T> {
    this.seq += 1;
    return { seq: this.seq, result };
  }

  private scores(random: SeededRandom, time_finished: number) {
    const points_available = random.pick([10, 20, 25, 40, 50]);
    const points_scored = random.decimal(0, points_available, 1);
    const percentage_passmark = random.pick([0, 50, 60, 70]);
    const give_certificate_only_when_passed = random.chance(0.5);
    const { percentage, passed } = grade(points_scored, points_available, percentage_passmark);
    const certificate = passed || !give_certificate_only_when_passed;
    const gradable = this.anchor - time_finished < GRADING_DAYS * DAY;
    return {
      percentage,
      points_scored,
      points_available,
      percentage_passmark,
      passed,
      requires_grading: random.chance(0.1) && gradable ? ('Yes' as const) : ('No' as const),
      give_certificate_only_when_passed,
      // Empty optional strings are "" [docs/providers/classmarker.md, "Result fields"].
      certificate_url: certificate ? `https://www.classmarker.com/pdf/certificate/${random.alphanumeric(12)}.pdf` : '',
      certificate_serial: certificate ? random.alphanumeric(10).toUpperCase() : '',
      view_results_url: `https://www.classmarker.com/view/results/?r=${random.alphanumeric(16)}`,
    };
  }

  private timing(random: SeededRandom, time_finished: number) {
    const seconds = random.int(60, 5400);
    return { time_started: time_finished - seconds, time_finished, status: 'f' as const, duration: formatDuration(seconds) };
  }

  private makeGroupResult(time_finished: number): GroupResult {
    const random = this.random;
    const group = random.pick(this.groups);
    const user = random.pick(this.users);
    let timing = this.timing(random, time_finished);
    const test_id = random.pick(group.test_ids);
    // (user_id, test_id, group_id, time_started) identifies a group result; keep it unique.
    while (this.groupKeys.has(`${user.user_id}/${test_id}/${group.group_id}/${timing.time_started}`))
      timing = this.timing(random, time_finished);
    this.groupKeys.add(`${user.user_id}/${test_id}/${group.group_id}/${timing.time_started}`);
    return {
      user_id: user.user_id,
      first: user.first,
      last: user.last,
      email: user.email,
      test_id,
      group_id: group.group_id,
      ...this.scores(random, time_finished),
      ...timing,
    };
  }

  private makeLinkResult(time_finished: number): LinkResult {
    const random = this.random;
    const link = random.pick(this.links);
    const first = random.firstName();
    const last = random.lastName();
    return {
      link_result_id: this.nextLinkResultId++,
      first,
      last,
      // Link takers may leave email blank [docs/providers/classmarker.md, "Result fields"].
      email: random.chance(0.1) ? '' : random.email(first, last),
      test_id: random.pick(link.test_ids),
      link_id: link.link_id,
      ...this.scores(random, time_finished),
      ...this.timing(random, time_finished),
      access_code: link.access_list_id === undefined ? '' : random.alphanumeric(8),
      extra_info: random.pick(['Engineering', 'Sales', 'HR', '']),
      extra_info2: random.chance(0.5) ? `Employee #${random.int(100, 999)}` : '',
      extra_info3: '',
      extra_info4: '',
      extra_info5: random.chance(0.05) ? 'Notes with "quotes", commas & <angle brackets>' : '',
      cm_user_id: random.chance(0.7) ? `cm${random.alphanumeric(6)}` : '',
      ip_address: `192.0.${random.int(0, 255)}.${random.int(1, 254)}`,
    };
  }

  /** New results finishing at `at` (e.g. "now"): what a second sync should pick up. */
  addResults(kind: 'group' | 'link', count: number, at: number): void {
    for (let i = 0; i < count; i++) {
      if (kind === 'group') this.groupResults.push(this.stored(this.makeGroupResult(at)));
      else this.linkResults.push(this.stored(this.makeLinkResult(at)));
    }
  }

  /**
   * An admin deletes a group or link: it leaves v1.json (and the tests only it used go with it), and
   * new results never name it. Results already taken are still served (inferred: the document says
   * nothing about deletion; results are history, which incremental streams could not retract anyway).
   * Returns false when no such group or link exists.
   */
  deleteGroupOrLink(kind: 'group' | 'link', id: number): boolean {
    const list: Array<Group | Link> = kind === 'group' ? this.groups : this.links;
    const index = list.findIndex((entry) => (kind === 'group' ? (entry as Group).group_id : (entry as Link).link_id) === id);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  /**
   * An admin re-opens finished exams: the same results (same link_result_id / time_started) are
   * re-sent with a later time_finished and possibly a new score [doc CM-S5 comment on re-sends].
   */
  reopenResults(kind: 'group' | 'link', count: number, at: number): number[] {
    const pool = kind === 'group' ? this.groupResults : this.linkResults;
    const chosen = this.random
      .shuffle(pool.map((_, i) => i))
      .slice(0, count)
      .sort((a, b) => b - a);
    const moved: Stored<GroupResult | LinkResult>[] = [];
    for (const index of chosen) {
      const [entry] = pool.splice(index, 1) as [Stored<GroupResult | LinkResult>];
      const result = { ...entry.result, time_finished: at, duration: formatDuration(at - entry.result.time_started) };
      Object.assign(result, this.scores(this.random, at));
      moved.push(this.stored(result));
    }
    (pool as Stored<GroupResult | LinkResult>[]).push(...moved);
    return moved.map((entry) => entry.seq);
  }

  /**
   * Teachers mark the essays: results that require grading become graded, with a new score, and keep
   * their time_finished, so a client reading forward from a later finishedAfterTimestamp never sees
   * the change (docs/providers/classmarker.md, "Regrading"). `count` omitted: all of them.
   */
  gradePending(kind: 'group' | 'link', count?: number): Array<GroupResult | LinkResult> {
    const pool: Stored<GroupResult | LinkResult>[] = kind === 'group' ? this.groupResults : this.linkResults;
    const pending = pool.filter((entry) => entry.result.requires_grading === 'Yes').slice(0, count);
    for (const { result } of pending) {
      result.requires_grading = 'No';
      this.rescore(result);
    }
    return pending.map((entry) => entry.result);
  }

  /**
   * An administrator edits the points of the `count` most recent graded results finished at or after
   * `since` (UNIX seconds); time_finished stays as it was.
   */
  editPoints(kind: 'group' | 'link', count: number, since: number): Array<GroupResult | LinkResult> {
    const pool: Stored<GroupResult | LinkResult>[] = kind === 'group' ? this.groupResults : this.linkResults;
    const edited = pool
      .filter((entry) => entry.result.requires_grading === 'No' && entry.result.time_finished >= since)
      .sort((a, b) => b.result.time_finished - a.result.time_finished)
      .slice(0, count);
    for (const { result } of edited) this.rescore(result);
    return edited.map((entry) => entry.result);
  }

  /** A new score (never the old one), with percentage and passed to match. */
  private rescore(result: GroupResult | LinkResult): void {
    let points = result.points_scored;
    while (points === result.points_scored) points = this.random.decimal(0, result.points_available, 1);
    result.points_scored = points;
    Object.assign(result, grade(points, result.points_available, result.percentage_passmark));
  }
}
