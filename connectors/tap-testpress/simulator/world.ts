// The Testpress simulator's data: an institute's exams, users and attempts, generated from a seed.
import type { SeededRandom } from '@tapline/simulator-kit';
import type { DateStyle } from './formats.js';

const MICROS_PER_SECOND = 1_000_000;
const DAY_MICROS = 86_400 * MICROS_PER_SECOND;

export interface TestpressUser {
  id: number;
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
}

export interface TestpressExam {
  id: number;
  slug: string;
  title: string;
  description: string;
  course: string;
  startMicros: number;
  /** null: the exam never closes. */
  endMicros: number | null;
  durationSeconds: number;
  number_of_questions: number;
  /** Hundredths, so "0.25" is exact. */
  negativeMarksHundredths: number;
  markPerQuestionHundredths: number;
  template_type: number;
  allow_retake: boolean;
  max_retakes: number | null;
  enable_ranks: boolean;
  createdMicros: number;
  allow_pdf: boolean;
  variable_mark_per_question: boolean;
  show_answers: boolean;
  comments_count: number;
  /** false: listed, but its detail and attempts answer 403 (testpress-api.md, "Get a single exam"). */
  availableToUser: boolean;
}

export interface TestpressAttempt {
  id: number;
  examId: number;
  userId: number;
  /** When the attempt was started: the `date` field. */
  startMicros: number;
  dateStyle: DateStyle;
  /** When the candidate last started (resumed) it: the start itself unless it was resumed later. */
  lastStartedMicros: number;
  /** When it ended (null while Running): the admin API's `last_answer_updated_time` (inferred). */
  endMicros: number | null;
  total_questions: number;
  correct_count: number;
  incorrect_count: number;
  unanswered_count: number;
  timeTakenSeconds: number;
  state: 'Running' | 'Completed';
  /** Percentile sometimes arrives as an int, sometimes as a float (docs/providers/testpress.md, "Attempts"). */
  percentile: number;
  /** An int, or the string "NA" when ranks are off (testpress-api.md sample). */
  rank: number | 'NA';
  max_rank: number;
}

export interface TestpressWorld {
  users: TestpressUser[];
  exams: TestpressExam[];
  attempts: TestpressAttempt[];
  nextAttemptId: number;
}

export interface WorldOptions {
  /** The moment the data is generated around (microseconds since the epoch). */
  nowMicros: number;
  exams: number;
  users: number;
  /** Mean attempts per exam that has already opened. */
  attemptsPerExam: number;
  /**
   * Share of completed attempts resumed days after their start (the document's own sample attempt
   * was last started 14 days after its `date`); their last session ends the attempt.
   */
  resumedShare: number;
  /** Draws the resumes, apart from `random` so the rest of the data does not depend on the share. */
  resumeRandom: SeededRandom;
}

const COURSES = ['IBPS', 'SSC', 'Banking', 'Uncategorized', 'NEET Physics'] as const;
const DATE_STYLES_FOR_ATTEMPTS: readonly DateStyle[] = ['utc-millis', 'utc-millis', 'utc-micros', 'ist-micros'];

export function generateWorld(random: SeededRandom, options: WorldOptions): TestpressWorld {
  const users: TestpressUser[] = [];
  for (let i = 0; i < options.users; i++) {
    const first = random.firstName();
    const last = random.lastName();
    users.push({
      id: 17 + i,
      username: `${first}${last}${i}`
        .normalize('NFD')
        .replace(/[^A-Za-z0-9]/g, '')
        .toLowerCase(),
      first_name: first,
      last_name: last,
      email: random.email(first, last),
      phone: random.chance(0.4) ? null : `+91${random.int(7_000_000_000, 9_999_999_999)}`,
    });
  }

  const exams: TestpressExam[] = [];
  for (let i = 0; i < options.exams; i++) {
    const id = 2394 + i;
    const title = random.title(2);
    // Most exams are open now; a few are upcoming or closed, so the `state` filter has something to do.
    const kind = i === 0 ? 'available' : random.pick(['available', 'available', 'available', 'history', 'upcoming'] as const);
    const startMicros =
      kind === 'upcoming' ? options.nowMicros + random.int(2, 30) * DAY_MICROS : options.nowMicros - random.int(60, 400) * DAY_MICROS;
    const endMicros =
      kind === 'history'
        ? options.nowMicros - random.int(1, 20) * DAY_MICROS
        : random.chance(0.3)
          ? null
          : options.nowMicros + random.int(30, 900) * DAY_MICROS;
    exams.push({
      id,
      slug: `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${id}`,
      title,
      description: random.chance(0.5) ? '' : `Practice test for ${title}.`,
      course: random.pick(COURSES),
      startMicros: wholeSeconds(startMicros),
      endMicros: endMicros === null ? null : wholeSeconds(endMicros),
      durationSeconds: random.pick([1800, 1830, 3600, 5400, 10800]),
      number_of_questions: random.int(10, 100),
      negativeMarksHundredths: random.pick([0, 25, 33, 100]),
      markPerQuestionHundredths: random.pick([100, 100, 200, 400]),
      template_type: random.int(1, 4),
      allow_retake: random.chance(0.7),
      max_retakes: random.chance(0.5) ? null : random.int(1, 5),
      enable_ranks: random.chance(0.5),
      createdMicros: wholeSeconds(startMicros - random.int(1, 30) * DAY_MICROS),
      allow_pdf: random.chance(0.5),
      variable_mark_per_question: random.chance(0.2),
      show_answers: random.chance(0.8),
      comments_count: random.int(0, 5),
      // One exam in six (never the first) is restricted, so every default world exercises the 403.
      availableToUser: i === 0 || !(i % 6 === 5),
    });
  }

  const world: TestpressWorld = { users, exams, attempts: [], nextAttemptId: 31823 };
  for (const exam of exams) {
    if (exam.startMicros > options.nowMicros) continue;
    const count = random.int(0, options.attemptsPerExam * 2);
    const until = Math.min(exam.endMicros ?? options.nowMicros, options.nowMicros);
    for (let i = 0; i < count; i++) {
      const startMicros = random.int(exam.startMicros, until - 3600 * MICROS_PER_SECOND);
      // A few attempts share their start to the microsecond with another, so ties sit at page edges.
      const previous = world.attempts.at(-1);
      const tied = previous !== undefined && previous.examId === exam.id && random.chance(0.08);
      world.attempts.push(generateAttempt(random, world, exam, tied ? previous.startMicros : startMicros, options.nowMicros));
    }
  }
  // One attempt on the first exam is still running, so a sync can see it finish later.
  const first = exams[0];
  if (first && world.users.length > 0) {
    world.attempts.push(
      generateAttempt(random, world, first, wholeSeconds(options.nowMicros) - 600 * MICROS_PER_SECOND, options.nowMicros, 'Running'),
    );
  }
  resumeSome(options.resumeRandom, world, options.nowMicros, options.resumedShare);
  return world;
}

/**
 * Some completed attempts were paused and resumed 1–20 days after their start: `last_started_time`
 * is that resume, the last session (part of `time_taken`) ends the attempt, so start + time taken
 * falls days before the real end.
 */
function resumeSome(random: SeededRandom, world: TestpressWorld, nowMicros: number, share: number): void {
  for (const attempt of world.attempts) {
    if (attempt.state !== 'Completed' || !random.chance(share)) continue;
    const resumed =
      attempt.startMicros + random.int(1, 20) * DAY_MICROS + random.int(0, 86_399) * MICROS_PER_SECOND + random.int(0, 999_999);
    if (resumed + attempt.timeTakenSeconds * MICROS_PER_SECOND > nowMicros) continue;
    attempt.lastStartedMicros = resumed;
    attempt.endMicros = resumed + random.int(1, attempt.timeTakenSeconds) * MICROS_PER_SECOND;
  }
}

/** A running attempt ends at `nowMicros` (or when its time ran out, if earlier). */
export function finishAttempt(attempt: TestpressAttempt, nowMicros: number): void {
  attempt.state = 'Completed';
  attempt.endMicros = Math.min(nowMicros, attempt.lastStartedMicros + attempt.timeTakenSeconds * MICROS_PER_SECOND);
}

/** One attempt at `exam`, started at `startMicros`; recent ones may still be running. */
export function generateAttempt(
  random: SeededRandom,
  world: TestpressWorld,
  exam: TestpressExam,
  startMicros: number,
  nowMicros: number,
  state?: TestpressAttempt['state'],
): TestpressAttempt {
  const user = random.pick(world.users);
  const total = exam.number_of_questions;
  const correct = random.int(0, total);
  const incorrect = random.int(0, total - correct);
  const running = state ? state === 'Running' : nowMicros - startMicros < exam.durationSeconds * MICROS_PER_SECOND && random.chance(0.5);
  const attempt: TestpressAttempt = {
    id: world.nextAttemptId,
    examId: exam.id,
    userId: user.id,
    startMicros,
    dateStyle: random.pick(DATE_STYLES_FOR_ATTEMPTS),
    // One session unless resumed later (resumeSome): it ends time_taken after its start.
    lastStartedMicros: startMicros,
    endMicros: null,
    total_questions: total,
    correct_count: correct,
    incorrect_count: incorrect,
    unanswered_count: total - correct - incorrect,
    timeTakenSeconds: random.int(1, exam.durationSeconds),
    state: running ? 'Running' : 'Completed',
    percentile: random.chance(0.5) ? random.int(0, 100) : random.decimal(0, 100, 2),
    rank: exam.enable_ranks ? random.int(1, 500) : 'NA',
    max_rank: exam.enable_ranks ? 500 : 0,
  };
  if (!running) attempt.endMicros = startMicros + attempt.timeTakenSeconds * MICROS_PER_SECOND;
  world.nextAttemptId += random.int(1, 40);
  return attempt;
}

/** Between runs: finishes every running attempt and adds `newAttempts` completed ones started shortly before `nowMicros`. */
export function advanceWorld(random: SeededRandom, world: TestpressWorld, nowMicros: number, newAttempts: number): TestpressAttempt[] {
  for (const attempt of world.attempts) {
    if (attempt.state === 'Running') finishAttempt(attempt, nowMicros);
  }
  const open = world.exams.filter(
    (exam) => exam.availableToUser && exam.startMicros <= nowMicros && (exam.endMicros === null || exam.endMicros > nowMicros),
  );
  const added: TestpressAttempt[] = [];
  if (open.length === 0) return added;
  for (let i = 0; i < newAttempts; i++) {
    const exam = random.pick(open);
    const start = nowMicros - random.int(60, 3000) * MICROS_PER_SECOND - random.int(0, 999_999);
    const attempt = generateAttempt(random, world, exam, start, nowMicros, 'Completed');
    world.attempts.push(attempt);
    added.push(attempt);
  }
  return added;
}

/** Score in hundredths: marks for correct answers minus negative marks. */
export function scoreHundredths(exam: TestpressExam, attempt: TestpressAttempt): number {
  return attempt.correct_count * exam.markPerQuestionHundredths - attempt.incorrect_count * exam.negativeMarksHundredths;
}

/** The exam's state as the `state` filter sees it at `nowMicros`. */
export function examState(exam: TestpressExam, nowMicros: number): 'available' | 'upcoming' | 'history' {
  if (exam.startMicros > nowMicros) return 'upcoming';
  if (exam.endMicros !== null && exam.endMicros <= nowMicros) return 'history';
  return 'available';
}

function wholeSeconds(micros: number): number {
  return Math.floor(micros / MICROS_PER_SECOND) * MICROS_PER_SECOND;
}
