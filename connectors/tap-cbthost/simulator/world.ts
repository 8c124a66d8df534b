// The CBTHost simulator's data: exams (tests), their pass codes and students' scores, generated from a seed.
import type { SeededRandom } from '@tapline/simulator-kit';

export interface CbtTest {
  /** The `test-id` header value; the document's example is an e-mail address. */
  testId: string;
  /** `cbt_test_info` (the document's sample repeats the test id). */
  info: string;
  /** The exam's pass code, the path segment of the mass endpoint. Students' codes extend it. */
  passCode: string;
  /** Inferred: an exam whose owner switched API access off answers 401 like an invalid pass code. */
  apiEnabled: boolean;
}

export interface CbtResult {
  /** The student's pass code, e.g. `cbthost-pssi-0069`. */
  passCode: string;
  /** The pass code of the exam the result belongs to (what the mass endpoint is read through). */
  examPassCode: string;
  testId: string;
  /** Null for a result CBTHost sends without a score (the `null-scores` variant; docs/providers/cbthost.md). */
  score: number | null;
}

export interface CbtWorld {
  tests: CbtTest[];
  results: CbtResult[];
}

export interface WorldOptions {
  tests: number;
  studentsPerTest: number;
  /**
   * Every exam is set by one owner, whose e-mail is each exam's test id (the document's example test id
   * is an e-mail): exams are then told apart only by their pass codes.
   */
  sharedTestId?: boolean;
  /** About one result in six (and at least one) is sent with `cbt_total_score: null`. */
  nullScores?: boolean;
}

export function generateWorld(random: SeededRandom, options: WorldOptions): CbtWorld {
  const world: CbtWorld = { tests: [], results: [] };
  const sharedOwner = options.sharedTestId ? random.email(random.firstName(), random.lastName(), 'gmail.com') : undefined;
  for (let i = 0; i < options.tests; i++) {
    const own = random.email(random.firstName(), random.lastName(), random.pick(['gmail.com', 'school.edu.ng', 'example.com']));
    const owner = sharedOwner ?? own;
    const passCode = `cbthost-${random.alphanumeric(4)}`;
    world.tests.push({
      testId: owner,
      info: random.chance(0.5) ? owner : random.title(2),
      passCode,
      // The second-to-last test refuses API access; the last has no results: each default world has both cases.
      apiEnabled: i !== options.tests - 2,
    });
    const students = i === options.tests - 1 ? 0 : random.int(Math.ceil(options.studentsPerTest / 2), options.studentsPerTest * 2);
    let number = random.int(1, 80);
    for (let j = 0; j < students; j++) {
      world.results.push({ passCode: studentCode(passCode, number), examPassCode: passCode, testId: owner, score: random.int(0, 100) });
      number += random.int(1, 3);
    }
  }
  if (options.nullScores) blankSomeScores(random, world);
  return world;
}

/** The `null-scores` variant: about one result in six, and always the first, has no score. */
function blankSomeScores(random: SeededRandom, world: CbtWorld): void {
  world.results.forEach((result, index) => {
    if (index === 0 || random.chance(1 / 6)) result.score = null;
  });
}

/** `cbthost-pssi` + 69 → `cbthost-pssi-0069`, the document's format. */
export function studentCode(examPassCode: string, number: number): string {
  return `${examPassCode}-${String(number).padStart(4, '0')}`;
}

/** Between runs: a few scores are regraded, one result is removed upstream, and `newResults` are added. */
export function advanceWorld(
  random: SeededRandom,
  world: CbtWorld,
  newResults: number,
): { added: CbtResult[]; removed: CbtResult[]; changed: CbtResult[] } {
  const open = world.tests.filter((test) => test.apiEnabled && world.results.some((r) => r.examPassCode === test.passCode));
  const changed: CbtResult[] = [];
  for (let i = 0; i < 2 && world.results.length > 0; i++) {
    const result = random.pick(world.results);
    result.score = Math.min(100, (result.score ?? 0) + random.int(1, 5));
    changed.push(result);
  }
  const removed = world.results.length > 0 ? world.results.splice(random.int(0, world.results.length - 1), 1) : [];
  const added: CbtResult[] = [];
  for (let i = 0; i < newResults && open.length > 0; i++) {
    const test = random.pick(open);
    const highest = Math.max(0, ...world.results.filter((r) => r.examPassCode === test.passCode).map((r) => Number(r.passCode.slice(-4))));
    const result = {
      passCode: studentCode(test.passCode, highest + 1),
      examPassCode: test.passCode,
      testId: test.testId,
      score: random.int(0, 100),
    };
    world.results.push(result);
    added.push(result);
  }
  return { added, removed, changed: changed.filter((result) => !removed.includes(result)) };
}
