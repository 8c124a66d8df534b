// The CBTHost API simulator: start it in a test (startCbthostSimulator) or from the CLI (cbthost-simulator).
import { defineSimulator, type Simulator, type SimulatorOptions, seededRandom } from '@tapline/simulator-kit';
import { cbthostRoutes, type MassShape } from './api.js';
import { CBTHOST_ERROR_ANSWERS } from './error-answers.js';
import { advanceWorld, type CbtResult, type CbtWorld, generateWorld } from './world.js';

export type { MassShape } from './api.js';
export { CBTHOST_ERROR_ANSWERS } from './error-answers.js';
export type { CbtResult, CbtTest, CbtWorld } from './world.js';

export interface CbthostSimulatorOptions extends SimulatorOptions {
  tests?: number;
  studentsPerTest?: number;
  /** Variant: every exam has one owner, whose e-mail is every exam's test id (CLI `--shared-test-id`). */
  sharedTestId?: boolean;
  /** Variant: some results are sent with `cbt_total_score: null` (CLI `--null-scores`). */
  nullScores?: boolean;
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

/** What the CBTHost simulator offers tests besides the kit's handle. */
export interface CbthostSimulatorExtras {
  world: CbtWorld;
  /** Between runs: regrade two scores, remove one result upstream, add `newResults`. */
  advance(newResults?: number): ReturnType<typeof advanceWorld>;
  /** Sets one result's score (null: CBTHost sends it without one); returns the result, or undefined when there is none. */
  setScore(passCode: string, testId: string, score: number | null): CbtResult | undefined;
}

export type CbthostSimulator = Simulator<CbthostSimulatorConfig, CbthostSimulatorExtras>;

function massShapeOf(value: unknown): MassShape {
  if (value === 'none' || value === 'beside' || value === 'inside') return value;
  throw new Error('--mass-summary must be none, beside or inside');
}

export const cbthostSimulator = defineSimulator({
  name: 'cbthost',
  errorAnswers: CBTHOST_ERROR_ANSWERS,
  build: (options: CbthostSimulatorOptions) => {
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
    return {
      routes: cbthostRoutes(world, { massShape: options.massShape }),
      tapConfig: (baseUrl: string): CbthostSimulatorConfig => ({
        base_url: baseUrl,
        pass_codes: mass.map((test) => test.passCode),
        results: singles,
      }),
      // Inferred: the server is Laravel, whose unknown-route answer to a JSON client is this.
      notFound: () => ({ status: 404, body: { message: 'Not Found' } }),
      actions: {
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
      extra: { world, advance, setScore } satisfies CbthostSimulatorExtras,
    };
  },
  cli: {
    description: 'A local CBTHost results API (single and mass endpoints) with seeded data.',
    flags: {
      tests: { type: 'number', description: 'number of exams (tests)', default: 6 },
      'students-per-test': { type: 'number', description: 'mean results per exam', default: 40 },
      'shared-test-id': {
        type: 'boolean',
        description: "variant: every exam has one owner, whose e-mail is every exam's test id",
        default: false,
      },
      'null-scores': { type: 'boolean', description: 'variant: some results are sent with cbt_total_score null', default: false },
      'mass-summary': {
        type: 'string',
        description:
          'variant: where the mass answer puts its summary: none (the example), beside (data + summary) or inside (data: {students, summary})',
        default: 'none',
      },
    },
    options: (flags) => ({
      tests: Number(flags.tests),
      studentsPerTest: Number(flags['students-per-test']),
      sharedTestId: flags['shared-test-id'] === true,
      nullScores: flags['null-scores'] === true,
      massShape: massShapeOf(flags['mass-summary']),
    }),
  },
});

export const startCbthostSimulator = (options?: CbthostSimulatorOptions): Promise<CbthostSimulator> => cbthostSimulator.start(options);
