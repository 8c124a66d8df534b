// The ClassMarker v1 API simulator: start it in a test (startClassMarkerSimulator) or from the CLI (classmarker-simulator).

import { defineSimulator, type Simulator, type SimulatorOptions, type SimulatorParts, seededRandom } from '@tapline/simulator-kit';
import { type AccountState, classMarkerRoutes, type SignatureAlgorithm } from './api.js';
import { type ErrorCode, errorEnvelope } from './envelope.js';
import { CLASSMARKER_ERROR_ANSWERS } from './error-answers.js';
import { sendNewestResults } from './webhooks.js';
import { ClassMarkerData, type GroupResult, type LinkResult } from './world.js';

export type { AccountState, SignatureAlgorithm } from './api.js';
export { ERROR_MESSAGES, type ErrorCode } from './envelope.js';
export { CLASSMARKER_ERROR_ANSWERS } from './error-answers.js';
export { type AccessList, ClassMarkerData, type Group, type GroupResult, type Link, type LinkResult, type Test } from './world.js';

export interface ClassMarkerSimulatorOptions extends SimulatorOptions {
  /** Requests per API key per window (default 30, the documented limit). */
  rateLimitPerHour?: number;
  /** The rate-limit window; 3600 in production, shorter in tests of the `wait` mode. */
  rateLimitWindowSeconds?: number;
  groupResults?: number;
  linkResults?: number;
  /** Send ids, percentages and timestamps inside results as strings, like the 2012 sample [doc CM-S1]. */
  numbersAsStrings?: boolean;
  /**
   * The older payload form (docs/providers/classmarker.md, "Variants"): numbers as strings, and no
   * `status`, `passed`, `percentage_passmark`, certificate fields or `view_results_url`.
   */
  legacyPayload?: boolean;
  /** Some results carry null `first` and/or `last`. */
  nullNames?: boolean;
  /** Group results too may carry a blank e-mail ("" or spaces), as link results always may. */
  blankEmails?: boolean;
  /** The latest N group and N link results still require grading (default: about one in ten of the last 3 days'). */
  awaitingGrading?: number;
  /** Send 4xx/429/5xx with error envelopes instead of ClassMarker's HTTP 200 (docs/providers/classmarker.md, "Errors", suggests a switch). */
  errorHttpStatus?: boolean;
  /** Signature hashes accepted (default both: the document says MD5, current clients send SHA-256). */
  signatureAlgorithms?: readonly SignatureAlgorithm[];
  /** UNIX seconds the seeded results are anchored at (default: now). Same seed + anchor = same data. */
  anchor?: number;
  /** Server clock minus real clock, in seconds (to provoke timeStampOutOfRange). */
  clockSkewSeconds?: number;
  /** Send links' `link_url_id`, as a key whose permissions allow it does; "not included by default" [doc: Links Note 1]. */
  linkUrlId?: boolean;
  /** Send results' `view_results_url`, "optional and needs to be turned on in the API settings pages" [doc]. */
  viewResultsUrl?: boolean;
  /**
   * Results carry the newer optional fields third-party descriptions of the current API show
   * (docs/providers/classmarker.md, "Result fields"): `test_type` ("Test") and the proctoring summary
   * `monitor_events` {browser_monitoring, camera_monitoring, total_event_count, total_seconds_away, events[]}.
   */
  monitoring?: boolean;
  /**
   * The hazardous reading of recent-results paging: cut a page at exactly `limit` results even inside
   * a second that continues on the next page, with next_finished_after_timestamp = that second, so a
   * client that follows it skips the rest of the second. Off by default: the document promises that
   * following it does not "download the same results twice" nor miss any.
   */
  splitSecondsAtPageEdge?: boolean;
}

// A type alias (not an interface) so it fits Record<string, unknown> where contract suites expect it.
export type ClassMarkerTapConfig = {
  api_key: string;
  api_secret: string;
  base_url: string;
};

/** What the ClassMarker simulator offers tests besides the kit's handle. */
export interface ClassMarkerSimulatorExtras {
  data: ClassMarkerData;
  account: AccountState;
  /** The server clock, UNIX seconds. */
  now(): number;
  /** New results finishing now. */
  addResults(kind: 'group' | 'link', count: number): void;
  /** Re-open exams: existing results re-sent with time_finished = now. */
  reopenResults(kind: 'group' | 'link', count: number): void;
  /** Essays marked: results that require grading become graded with a new score; time_finished unchanged. */
  gradePending(kind: 'group' | 'link', count?: number): Array<GroupResult | LinkResult>;
  /** An admin edits the points of the latest `count` graded results finished in the last `withinSeconds`; time_finished unchanged. */
  editPoints(kind: 'group' | 'link', count: number, withinSeconds?: number): Array<GroupResult | LinkResult>;
  /** An admin deletes a group or link: it is gone from v1.json (see ClassMarkerData.deleteGroupOrLink). */
  deleteGroupOrLink(kind: 'group' | 'link', id: number): void;
  resetRateLimit(): void;
  /** Every error code the simulator answered with, in order (for asserting a limit was never hit). */
  errorsSent: ErrorCode[];
}

export type ClassMarkerSimulator = Simulator<ClassMarkerTapConfig, ClassMarkerSimulatorExtras>;

/** One start's world (seeded results, the account, its credentials) and the routes serving it. */
function buildClassMarker(options: ClassMarkerSimulatorOptions): SimulatorParts<ClassMarkerTapConfig, ClassMarkerSimulatorExtras> {
  const seed = options.seed ?? 'tapline';
  const skew = options.clockSkewSeconds ?? 0;
  const now = () => Math.floor(Date.now() / 1000) + skew;
  const data = new ClassMarkerData({
    seed,
    anchor: options.anchor ?? now(),
    groupResults: options.groupResults ?? 500,
    linkResults: options.linkResults ?? 2000,
    nullNames: options.nullNames ?? false,
    blankEmails: options.blankEmails ?? false,
    awaitingGrading: options.awaitingGrading,
  });
  const credentials = seededRandom(`${String(seed)}/credentials`);
  const apiKey = `cm${credentials.alphanumeric(30)}`;
  const apiSecret = credentials.alphanumeric(24);
  const algorithms = options.signatureAlgorithms ?? ['md5', 'sha256'];
  const limitPerWindow = options.rateLimitPerHour ?? 30;
  const windowSeconds = options.rateLimitWindowSeconds ?? 3600;
  const account: AccountState = { keyState: 'active', upgraded: true, maintenance: false };
  // Rolling window per key (inferred; the document only says "30 requests per hour").
  const counted: number[] = [];

  const errorsSent: ErrorCode[] = [];
  const { routes, fail } = classMarkerRoutes({
    options,
    data,
    account,
    now,
    apiKey,
    apiSecret,
    algorithms,
    limitPerWindow,
    windowSeconds,
    counted,
    errorsSent,
  });

  const addResults = (kind: 'group' | 'link', count: number) => data.addResults(kind, count, now());
  const reopenResults = (kind: 'group' | 'link', count: number) => void data.reopenResults(kind, count, now());
  const gradePending = (kind: 'group' | 'link', count?: number) => data.gradePending(kind, count);
  const editPoints = (kind: 'group' | 'link', count: number, withinSeconds = 86_400) => data.editPoints(kind, count, now() - withinSeconds);
  const kindOf = (value: unknown): 'group' | 'link' => (value === 'group' ? 'group' : 'link');
  const deleteGroupOrLink = (kind: 'group' | 'link', id: number) => {
    if (!data.deleteGroupOrLink(kind, id)) throw new Error(`no ${kind} ${id} to delete`);
  };

  return {
    routes,
    tapConfig: (baseUrl) => ({ api_key: apiKey, api_secret: apiSecret, base_url: baseUrl }),
    rateLimitResponse: (request, seconds) =>
      fail(request, 'rateLimitExceeded', { nextRequestAfter: now() + seconds, substitutions: { LIMIT: String(limitPerWindow) } }),
    notFound: (request, reason) => {
      if (reason === 'wrong-method') return fail(request, 'incorrectRequestMethod', { substitutions: { METHOD: request.method } });
      if (!/^\/v1([./]|$)/.test(request.path)) return fail(request, 'incorrectUrlVersionNumber');
      return fail(request, 'incorrectUrl');
    },
    actions: {
      'add-results': (args) => addResults(kindOf(args.kind), Number(args.count ?? 1)),
      'reopen-results': (args) => reopenResults(kindOf(args.kind), Number(args.count ?? 1)),
      'grade-pending': (args) => gradePending(kindOf(args.kind), args.count === undefined ? undefined : Number(args.count)).length,
      'edit-points': (args) =>
        editPoints(kindOf(args.kind), Number(args.count ?? 1), args.within_seconds === undefined ? undefined : Number(args.within_seconds))
          .length,
      'delete-group': (args) => deleteGroupOrLink('group', Number(args.group_id)),
      'delete-link': (args) => deleteGroupOrLink('link', Number(args.link_id)),
      'set-account': (args) => Object.assign(account, args),
      'reset-rate-limit': () => {
        counted.length = 0;
      },
    },
    extra: {
      data,
      account,
      now,
      addResults,
      reopenResults,
      gradePending,
      editPoints,
      deleteGroupOrLink,
      resetRateLimit: () => {
        counted.length = 0;
      },
      errorsSent,
    },
  };
}

export const classMarkerSimulator = defineSimulator({
  name: 'classmarker',
  errorAnswers: CLASSMARKER_ERROR_ANSWERS,
  build: buildClassMarker,
  cli: {
    description: 'A local ClassMarker v1 API (JSON and XML) with seeded results, signature checks and the hourly limit.',
    flags: {
      'rate-limit-per-hour': { type: 'number', default: 30, description: 'requests per API key per window' },
      'rate-limit-window-seconds': { type: 'number', default: 3600, description: 'length of the rate-limit window' },
      'group-results': { type: 'number', default: 500, description: 'seeded group results' },
      'link-results': { type: 'number', default: 2000, description: 'seeded link results' },
      'numbers-as-strings': {
        type: 'boolean',
        default: false,
        description: 'send result ids/percentages/timestamps as strings (2012 sample form)',
      },
      'legacy-payload': {
        type: 'boolean',
        default: false,
        description: 'the older result form: numbers as strings, no status/passed/percentage_passmark/certificate fields',
      },
      'null-names': { type: 'boolean', default: false, description: 'some results carry null first and/or last names' },
      'blank-emails': { type: 'boolean', default: false, description: 'group results too may carry a blank e-mail ("" or spaces)' },
      'awaiting-grading': {
        type: 'number',
        description: 'the latest N group and N link results still require grading (default: about 1 in 10 of the last 3 days)',
      },
      'error-http-status': { type: 'boolean', default: false, description: 'send 4xx/429/5xx with error envelopes instead of HTTP 200' },
      anchor: { type: 'number', description: 'UNIX seconds the seeded results end at (default: now)' },
      'link-url-id': {
        type: 'boolean',
        default: false,
        description: "send links' link_url_id (off by default, as for an API key without that permission)",
      },
      'view-results-url': {
        type: 'boolean',
        default: false,
        description: "send results' view_results_url (off by default, as in ClassMarker's API settings)",
      },
      monitoring: {
        type: 'boolean',
        default: false,
        description: 'variant: results carry the newer test_type and monitor_events (proctoring) fields',
      },
      'split-seconds-at-page-edge': {
        type: 'boolean',
        default: false,
        description: 'cut pages at limit even inside a second (the hazardous reading; the document promises no loss)',
      },
      'webhook-url': {
        type: 'string',
        description: 'once started, post the newest results to this URL as ClassMarker webhooks (e.g. a tapline serve receiver)',
      },
      'webhook-secret': { type: 'string', description: "the webhook's secret phrase the deliveries are signed with (with --webhook-url)" },
      'webhook-count': { type: 'number', default: 10, description: 'how many results to send, group and link results in turn' },
      'webhook-questions': {
        type: 'boolean',
        default: false,
        description: 'include questions and category results (the webhook setting of that name)',
      },
    },
    options: (flags) => {
      if (flags['webhook-url'] !== undefined && !flags['webhook-secret'])
        throw new Error('--webhook-url needs --webhook-secret (the webhook secret phrase to sign with)');
      return {
        rateLimitPerHour: flags['rate-limit-per-hour'] as number,
        rateLimitWindowSeconds: flags['rate-limit-window-seconds'] as number,
        groupResults: flags['group-results'] as number,
        linkResults: flags['link-results'] as number,
        numbersAsStrings: flags['numbers-as-strings'] as boolean,
        errorHttpStatus: flags['error-http-status'] as boolean,
        legacyPayload: flags['legacy-payload'] as boolean,
        nullNames: flags['null-names'] as boolean,
        blankEmails: flags['blank-emails'] as boolean,
        awaitingGrading: flags['awaiting-grading'] as number | undefined,
        anchor: flags.anchor as number | undefined,
        linkUrlId: flags['link-url-id'] as boolean,
        viewResultsUrl: flags['view-results-url'] as boolean,
        monitoring: flags.monitoring as boolean,
        splitSecondsAtPageEdge: flags['split-seconds-at-page-edge'] as boolean,
      };
    },
    started: (simulator, flags) => {
      const url = flags['webhook-url'] as string | undefined;
      const secret = flags['webhook-secret'] as string;
      const options = { count: flags['webhook-count'] as number, questions: flags['webhook-questions'] as boolean };
      if (url !== undefined) void sendNewestResults(simulator.data, url, secret, options);
    },
  },
});

export const startClassMarkerSimulator = (options?: ClassMarkerSimulatorOptions): Promise<ClassMarkerSimulator> =>
  classMarkerSimulator.start(options);

/** The envelope of an error, for tests that inject one as a canned response. */
export function classMarkerErrorEnvelope(
  code: ErrorCode,
  options: { requestPath?: string; serverTimestamp?: number; nextRequestAfter?: number } = {},
): Record<string, unknown> {
  return errorEnvelope(code, {
    requestPath: options.requestPath ?? 'v1',
    serverTimestamp: options.serverTimestamp ?? Math.floor(Date.now() / 1000),
    nextRequestAfter: options.nextRequestAfter,
  });
}
export { resultWebhookBody, sendResultWebhook, type WebhookPayloadOptions } from './webhooks.js';
