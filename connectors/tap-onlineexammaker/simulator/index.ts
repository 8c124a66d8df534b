// The OnlineExamMaker API simulator: start it in a test (startOemSimulator) or from the CLI (onlineexammaker-simulator).
import { defineSimulator, type Simulator, type SimulatorOptions, seededRandom } from '@tapline/simulator-kit';
import { DOCUMENT_VARIANT, type OemVariant, oemRoutes } from './api.js';
import { OEM_ERROR_ANSWERS } from './error-answers.js';
import { advanceWorld, generateWorld, type OemResult, type OemWorld } from './world.js';

export { DOCUMENT_VARIANT, type OemVariant, tidOf, VIEW_RESULT_TTL_SECONDS } from './api.js';
export { OEM_ERROR_ANSWERS } from './error-answers.js';
export type { OemExam, OemResult, OemWorld, ResultStatus } from './world.js';

export interface OemSimulatorOptions extends SimulatorOptions {
  /** Live time in milliseconds (v1 signature window, viewResult expiry). Default Date.now. */
  now?: () => number;
  /** The moment the data is generated around (ms). Default: now(), floored to the hour. */
  anchor?: number;
  exams?: number;
  resultsPerExam?: number;
  /** Largest page served (default 100). */
  maxLimit?: number;
  /** Whether the account may use the v1 API (default true). */
  v1Enabled?: boolean;
  /** What the every-candidate answer carries (default: the document's section (2) shape). */
  variant?: Partial<OemVariant>;
}

/** The tap config the simulator prints. */
// A type alias (not an interface) so it is assignable to Record<string, unknown>.
export type OemSimulatorConfig = {
  base_url: string;
  v1_base_url: string;
  code: string;
};

/** What the OnlineExamMaker simulator offers tests besides the kit's handle. */
export interface OemSimulatorExtras {
  world: OemWorld;
  /** Between runs: finish every result in progress and add `newResults` finished ones. */
  advance(newResults?: number): OemResult[];
  /** The account deletes an exam: api.getExams no longer lists it, and its results go with it (inferred). */
  deleteExam(eid: number): void;
  /** Changes what the answers carry from the next request on (a deployment upgraded between runs); returns the whole variant. */
  setVariant(change: Partial<OemVariant>): OemVariant;
}

export type OemSimulator = Simulator<OemSimulatorConfig, OemSimulatorExtras>;

const HOUR_MS = 3_600_000;

export const oemSimulator = defineSimulator({
  name: 'onlineexammaker',
  errorAnswers: OEM_ERROR_ANSWERS,
  build: (options: OemSimulatorOptions) => {
    const seed = options.seed ?? 1;
    const now = options.now ?? Date.now;
    const anchor = options.anchor ?? Math.floor(now() / HOUR_MS) * HOUR_MS;
    const random = seededRandom(seed);
    const world = generateWorld(random, {
      now: Math.floor(anchor / 1000),
      exams: options.exams ?? 8,
      resultsPerExam: options.resultsPerExam ?? 60,
    });
    const code = random.alphanumeric(32);
    const advanceRandom = seededRandom(`${seed}/advance`);
    const advance = (newResults = 5) => advanceWorld(advanceRandom, world, Math.floor(now() / 1000), newResults);
    const deleteExam = (eid: number) => {
      const index = world.exams.findIndex((exam) => exam.eid === eid);
      if (index < 0) throw new Error(`no exam ${eid} to delete`);
      world.exams.splice(index, 1);
      world.results = world.results.filter((result) => result.eid !== eid);
    };
    const variant: OemVariant = { ...DOCUMENT_VARIANT, ...checkVariant(options.variant ?? {}) };
    const setVariant = (change: Partial<OemVariant>) => Object.assign(variant, checkVariant(change));
    return {
      routes: oemRoutes({
        world,
        variant,
        code,
        now,
        maxLimit: options.maxLimit ?? 100,
        v1Enabled: options.v1Enabled ?? true,
        linkSecret: `oem-simulator-${seed}`,
      }),
      tapConfig: (baseUrl: string): OemSimulatorConfig => ({ base_url: baseUrl, v1_base_url: baseUrl, code }),
      actions: {
        'delete-exam': (args) => deleteExam(Number(args.eid)),
        // {"status": true, "passed": "string", "tid": true, "strings": false, "oneCandidateShape": false}: any subset.
        variant: (args) => ({ ...setVariant(args as Partial<OemVariant>) }),
        advance: (args) =>
          advance(typeof args.new_results === 'number' ? args.new_results : undefined).map((result) => ({
            eid: result.eid,
            sid: result.sid,
            startTime: result.startTime,
          })),
      },
      extra: { world, advance, deleteExam, setVariant } satisfies OemSimulatorExtras,
    };
  },
  cli: {
    description: 'A local OnlineExamMaker API (legacy index.php tasks and the v1 API) with seeded data.',
    flags: {
      exams: { type: 'number', description: 'number of exams', default: 8 },
      'results-per-exam': { type: 'number', description: 'mean results per exam', default: 60 },
      'max-limit': { type: 'number', description: 'largest page served', default: 100 },
      'no-v1': { type: 'boolean', description: 'refuse the v1 API (a non-premium account)', default: false },
      'with-status': { type: 'boolean', description: 'variant: the every-candidate answer carries status (0-4)', default: false },
      passed: {
        type: 'string',
        description:
          'variant: the every-candidate answer carries passed as boolean, number (1/0), string ("1"/"0") or text ("true"/"false")',
        default: 'absent',
      },
      'with-tid': { type: 'boolean', description: 'variant: both APIs send tid, the attempt id', default: false },
      strings: { type: 'boolean', description: 'variant: every value of the legacy answer is a string', default: false },
      'one-candidate-shape': {
        type: 'boolean',
        description: "variant: answer the every-candidate request in the document's one-candidate shape (status, no sid, no name)",
        default: false,
      },
      anchor: { type: 'number', description: 'UNIX seconds the seeded data is generated around (default: now, floored to the hour)' },
    },
    options: (flags) => ({
      exams: Number(flags.exams),
      resultsPerExam: Number(flags['results-per-exam']),
      maxLimit: Number(flags['max-limit']),
      v1Enabled: flags['no-v1'] !== true,
      variant: checkVariant({
        status: flags['with-status'] === true,
        passed: flags.passed,
        tid: flags['with-tid'] === true,
        strings: flags.strings === true,
        oneCandidateShape: flags['one-candidate-shape'] === true,
      }),
      // Same seed + anchor = same data (the demo anchors its runs, so a rerun loads nothing new).
      anchor: flags.anchor === undefined ? undefined : Number(flags.anchor) * 1000,
    }),
  },
});

export const startOemSimulator = (options?: OemSimulatorOptions): Promise<OemSimulator> => oemSimulator.start(options);

const PASSED_FORMS: readonly OemVariant['passed'][] = ['absent', 'boolean', 'number', 'string', 'text'];

/** A variant change as given (CLI flag, action body): unknown keys and values are refused, naming them. */
export function checkVariant(change: Record<string, unknown>): Partial<OemVariant> {
  const out: Partial<OemVariant> = {};
  for (const [key, value] of Object.entries(change)) {
    if (key === 'passed') {
      if (!PASSED_FORMS.includes(value as OemVariant['passed']))
        throw new Error(`variant passed must be one of ${PASSED_FORMS.join(', ')}, got ${JSON.stringify(value)}`);
      out.passed = value as OemVariant['passed'];
    } else if (key === 'status' || key === 'tid' || key === 'strings' || key === 'oneCandidateShape') {
      if (typeof value !== 'boolean') throw new Error(`variant ${key} must be true or false, got ${JSON.stringify(value)}`);
      out[key] = value;
    } else {
      throw new Error(`unknown variant key ${JSON.stringify(key)} (status, passed, tid, strings, oneCandidateShape)`);
    }
  }
  return out;
}
