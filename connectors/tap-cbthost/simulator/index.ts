// The CBTHost API simulator: start it in a test (startCbthostSimulator) or from the CLI (cbthost-simulator).
import {
  type ErrorAnswerSpec,
  errorAnswerArgs,
  errorAnswerFault,
  type RunningSimulator,
  type Seed,
  type StartOptions,
  seededRandom,
  startSimulator,
} from '@tapline/simulator-kit';
import { cbthostRoutes, type MassShape } from './api.js';
import { CBTHOST_ERROR_ANSWERS } from './error-answers.js';
import { advanceWorld, type CbtResult, type CbtWorld, generateWorld } from './world.js';

export type { MassShape } from './api.js';
export { CBTHOST_ERROR_ANSWERS } from './error-answers.js';
export type { CbtResult, CbtTest, CbtWorld } from './world.js';

export interface CbthostSimulatorOptions extends StartOptions {
  seed?: Seed;
  tests?: number;
  studentsPerTest?: number;
  /** Variant: every exam has one owner, whose e-mail is every exam's test id (CLI `--shared-test-id`). */
  sharedTestId?: boolean;
  /** Variant: some results are sent with `cbt_total_score: null` (CLI `--null-scores`). */
  nullScores?: boolean;
  /** Error-answer modes from the start (CLI `--error-answer SHAPE[@ROUTE]`); shapes in `CBTHOST_ERROR_ANSWERS`. */
  errorAnswers?: readonly ErrorAnswerSpec[];
  /** Variant: where the mass answer puts its summary (CLI `--mass-summary none|beside|inside`); default none, as in the document's example. */
  massShape?: MassShape;
}

/** The tap config the simulator prints: exam pass codes for the mass endpoint, and two single results. */
// A type alias (not an interface) so it is assignable to Record<string, unknown>.
export type CbthostSimulatorConfig = {
  base_url: string;
  pass_codes: string[];
  results: { pass_code: string; test_id: string }[];
};

export interface CbthostSimulator extends RunningSimulator<CbthostSimulatorConfig> {
  world: CbtWorld;
  /** Between runs: regrade two scores, remove one result upstream, add `newResults`. */
  advance(newResults?: number): ReturnType<typeof advanceWorld>;
  /** Sets one result's score (null: CBTHost sends it without one); returns the result, or undefined when there is none. */
  setScore(passCode: string, testId: string, score: number | null): CbtResult | undefined;
  /** Serve one of CBTHost's error answers (action `error-answer`); `faults.clear()` ends it. */
  errorAnswer(spec: ErrorAnswerSpec): void;
}

export async function startCbthostSimulator(options: CbthostSimulatorOptions = {}): Promise<CbthostSimulator> {
  const seed = options.seed ?? 1;
  const world = generateWorld(seededRandom(seed), {
    tests: options.tests ?? 6,
    studentsPerTest: options.studentsPerTest ?? 40,
    sharedTestId: options.sharedTestId ?? false,
    nullScores: options.nullScores ?? false,
  });
  const advanceRandom = seededRandom(`${seed}/advance`);
  const advance = (newResults = 3) => advanceWorld(advanceRandom, world, newResults);
  const setScore = (passCode: string, testId: string, score: number | null) => {
    const result = world.results.find((r) => r.passCode === passCode && r.testId === testId);
    if (result) result.score = score;
    return result;
  };
  const serving = world.tests.filter((test) => test.apiEnabled && world.results.some((r) => r.examPassCode === test.passCode));
  // The config reads all but the last serving exam through the mass endpoint and two results of the
  // last one through the single endpoint, so no result is configured twice.
  const mass = serving.length > 1 ? serving.slice(0, -1) : serving;
  const singleExam = serving.length > 1 ? serving.at(-1)! : undefined;
  const singles = world.results
    .filter((r) => singleExam !== undefined && r.examPassCode === singleExam.passCode)
    .slice(0, 2)
    .map((r) => ({ pass_code: r.passCode, test_id: r.testId }));

  let errorAnswer = (_spec: ErrorAnswerSpec): void => {};
  const running = await startSimulator(
    {
      name: 'cbthost',
      routes: cbthostRoutes(world, { massShape: options.massShape }),
      tapConfig: (baseUrl) => ({ base_url: baseUrl, pass_codes: mass.map((test) => test.passCode), results: singles }),
      // Inferred: the server is Laravel, whose unknown-route answer to a JSON client is this.
      notFound: () => ({ status: 404, body: { message: 'Not Found' } }),
      actions: {
        'error-answer': (args) => errorAnswer(errorAnswerArgs(args)),
        advance: (args) => advance(typeof args.new_results === 'number' ? args.new_results : undefined),
        // {"pass_code", "test_id", "score": null} makes CBTHost send that result without a score.
        'set-score': (args) =>
          setScore(
            String(args.pass_code),
            String(args.test_id),
            args.score === null || args.score === undefined ? null : Number(args.score),
          ) ?? null,
        remove: (args) => {
          const index = world.results.findIndex((r) => r.passCode === args.pass_code && r.testId === args.test_id);
          return index >= 0 ? world.results.splice(index, 1) : [];
        },
      },
    },
    {
      ...options,
      faults: [...(options.faults ?? []), ...(options.errorAnswers ?? []).map((spec) => errorAnswerFault(CBTHOST_ERROR_ANSWERS, spec))],
    },
  );
  errorAnswer = (spec) => void running.faults.inject(errorAnswerFault(CBTHOST_ERROR_ANSWERS, spec));
  return { ...running, world, advance, setScore, errorAnswer };
}
