// The CBTHost simulator's data: exams (tests), their pass codes and students' scores, generated from a seed.
import type { SeededRandom } from '@tapline/testing/simulator';

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
  testId: string;
  score: number;
}

export interface CbtWorld {
  tests: CbtTest[];
  results: CbtResult[];
}

export interface WorldOptions {
  tests: number;
  studentsPerTest: number;
}

export function generateWorld(random: SeededRandom, options: WorldOptions): CbtWorld {
  const world: CbtWorld = { tests: [], results: [] };
  for (let i = 0; i < options.tests; i++) {
    const owner = random.email(random.firstName(), random.lastName(), random.pick(['gmail.com', 'school.edu.ng', 'example.com']));
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
      world.results.push({ passCode: studentCode(passCode, number), testId: owner, score: random.int(0, 100) });
      number += random.int(1, 3);
    }
  }
  return world;
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
  const open = world.tests.filter((test) => test.apiEnabled && world.results.some((r) => r.testId === test.testId));
  const changed: CbtResult[] = [];
  for (let i = 0; i < 2 && world.results.length > 0; i++) {
    const result = random.pick(world.results);
    result.score = Math.min(100, result.score + random.int(1, 5));
    changed.push(result);
  }
  const removed = world.results.length > 0 ? world.results.splice(random.int(0, world.results.length - 1), 1) : [];
  const added: CbtResult[] = [];
  for (let i = 0; i < newResults && open.length > 0; i++) {
    const test = random.pick(open);
    const highest = Math.max(0, ...world.results.filter((r) => r.testId === test.testId).map((r) => Number(r.passCode.slice(-4))));
    const result = { passCode: studentCode(test.passCode, highest + 1), testId: test.testId, score: random.int(0, 100) };
    world.results.push(result);
    added.push(result);
  }
  return { added, removed, changed: changed.filter((result) => !removed.includes(result)) };
}
