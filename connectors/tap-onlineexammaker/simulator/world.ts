// The OnlineExamMaker simulator's data: an account's exams and candidates' results, generated from a seed.
import type { SeededRandom } from '@tapline/simulator-kit';

/** The answering status (docs/providers/onlineexammaker.md): 0 still in the exam, 1 submitted, 2 timed out,
 * 3 forced by an administrator, 4 submitted by the system. */
export type ResultStatus = 0 | 1 | 2 | 3 | 4;

export interface OemExam {
  eid: number;
  title: string;
  img: string;
  url: string;
  createTime: number;
  available: 0 | 1;
  category: string;
}

export interface OemResult {
  /** Internal only: the API gives no result id (docs/providers/onlineexammaker.md). */
  id: number;
  eid: number;
  sid: number;
  name: string;
  /** The login the candidate used (the v1 API's `loginValue`). */
  loginValue: string;
  /** A float (docs/providers/onlineexammaker.md); some scores carry a fraction. */
  score: number;
  passed: 0 | 1;
  startTime: number;
  /** 0 while the candidate is still in the exam (inferred: the document shows no in-progress sample). */
  endTime: number;
  status: ResultStatus;
}

export interface OemWorld {
  exams: OemExam[];
  results: OemResult[];
  nextResultId: number;
}

export interface WorldOptions {
  /** Unix seconds the data is generated around. */
  now: number;
  exams: number;
  /** Mean results per exam. */
  resultsPerExam: number;
}

const CATEGORIES = ['Onboarding', 'Compliance', 'Certification', 'Uncategorized'] as const;
const DAY = 86_400;

export function generateWorld(random: SeededRandom, options: WorldOptions): OemWorld {
  const world: OemWorld = { exams: [], results: [], nextResultId: 1 };
  const candidates = Array.from({ length: 60 }, (_, i) => {
    const first = random.firstName();
    const last = random.lastName();
    return { sid: 19300 + i * 3 + random.int(0, 2), name: `${first} ${last}`, loginValue: random.email(first, last) };
  });
  let eid = 23812;
  for (let i = 0; i < options.exams; i++) {
    eid += i === 0 ? 0 : random.int(1, 9);
    const createTime = options.now - random.int(30, 500) * DAY;
    world.exams.push({
      eid,
      title: random.title(2),
      img: `https://fs.onlineexammaker.com/${random.alphanumeric(12)}.jpg`,
      url: `https://ks.onlineexammaker.com/${eid}`,
      createTime,
      available: i % 5 === 4 ? 0 : 1,
      category: random.pick(CATEGORIES),
    });
    // The last exam has no results at all, so an empty first page is part of every default world.
    const count = i === options.exams - 1 ? 0 : random.int(0, options.resultsPerExam * 2);
    for (let j = 0; j < count; j++) {
      const candidate = random.pick(candidates);
      const previous = world.results.at(-1);
      // Candidates often start together (a class sits the exam at once): repeat a start second now and then.
      const startTime =
        previous && previous.eid === eid && previous.sid !== candidate.sid && random.chance(0.1)
          ? previous.startTime
          : random.int(createTime, options.now - 7200);
      world.results.push(generateResult(random, world, eid, candidate, startTime, false));
    }
  }
  // A few candidates are still in their exam at `now`; they finish between runs.
  const firstExam = world.exams[0];
  for (let k = 0; k < 2 && firstExam; k++) {
    world.results.push(generateResult(random, world, firstExam.eid, random.pick(candidates), options.now - 600 - k, true));
  }
  world.results.sort(byStart);
  return world;
}

function generateResult(
  random: SeededRandom,
  world: OemWorld,
  eid: number,
  candidate: { sid: number; name: string; loginValue: string },
  startTime: number,
  inProgress: boolean,
): OemResult {
  const score = random.chance(0.2) ? random.decimal(0, 100, 1) : random.int(0, 100);
  const result: OemResult = {
    id: world.nextResultId++,
    eid,
    sid: candidate.sid,
    name: candidate.name,
    loginValue: candidate.loginValue,
    score,
    passed: score >= 60 ? 1 : 0,
    startTime,
    endTime: inProgress ? 0 : startTime + random.int(60, 5400),
    status: inProgress ? 0 : random.pick([1, 1, 1, 1, 2, 3, 4] as const),
  };
  return result;
}

/** Between runs: every candidate still in an exam finishes, and `newResults` new ones arrive. */
export function advanceWorld(random: SeededRandom, world: OemWorld, now: number, newResults: number): OemResult[] {
  const changed: OemResult[] = [];
  for (const result of world.results) {
    if (result.status !== 0) continue;
    result.status = random.pick([1, 2, 4] as const);
    result.endTime = Math.max(result.startTime + 1, now - random.int(0, 60));
    changed.push(result);
  }
  const open = world.exams.filter((exam) => exam.available === 1);
  for (let i = 0; i < newResults && open.length > 0; i++) {
    const exam = random.pick(open);
    if (world.results.length === 0) break;
    const other = random.pick(world.results);
    const candidate = { sid: other.sid, name: other.name, loginValue: other.loginValue };
    const result = generateResult(random, world, exam.eid, candidate, now - random.int(120, 3600), false);
    result.endTime = Math.min(result.endTime, now);
    world.results.push(result);
    changed.push(result);
  }
  world.results.sort(byStart);
  return changed;
}

/** Inferred stable order: by start time, then arrival (the document does not say). */
function byStart(a: OemResult, b: OemResult): number {
  return a.startTime - b.startTime || a.id - b.id;
}
