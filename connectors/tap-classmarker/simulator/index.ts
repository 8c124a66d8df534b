// A local simulator of the ClassMarker v1 API, built on the @tapline/simulator-kit.
import { createHash } from 'node:crypto';
import {
  defineSimulator,
  type RouteDefinition,
  type Simulator,
  type SimulatorOptions,
  type SimulatorParts,
  type SimulatorRequest,
  type SimulatorResponse,
  seededRandom,
} from '@tapline/simulator-kit';
import { ClassMarkerData, type GroupResult, type LinkResult, type Stored } from './data.js';
import { type ErrorCode, errorEnvelope, type Format, type RenderOptions, render, renderError } from './envelope.js';
import { CLASSMARKER_ERROR_ANSWERS } from './error-answers.js';

export { type AccessList, ClassMarkerData, type Group, type GroupResult, type Link, type LinkResult, type Test } from './data.js';
export { ERROR_MESSAGES, type ErrorCode } from './envelope.js';
export { CLASSMARKER_ERROR_ANSWERS } from './error-answers.js';

export type SignatureAlgorithm = 'md5' | 'sha256';

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

export interface AccountState {
  /** `deleted` answers noApiKeyExists. */
  keyState: 'active' | 'inactive' | 'deleted';
  upgraded: boolean;
  maintenance: boolean;
}

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

const TIMESTAMP_WINDOW_SECONDS = 300; // "Valid for 5 minutes" [doc]
const DEFAULT_LOOKBACK_SECONDS = 14 * 86_400; // no finishedAfterTimestamp → two weeks ago [doc CM-S1 comments]
const MAX_LIMIT = 200; // "By default up to 200 results … decrease … but not increase" [doc]
const MAX_CODES_PER_REQUEST = 100; // [doc]
const MAX_CODE_LENGTH = 255; // [doc]
const MAX_CODES_PER_LIST = 20_000; // [doc]

/** "It can only be within the last 3 months" [doc]: read as three calendar months (inferred). */
function threeMonthsBefore(seconds: number): number {
  const date = new Date(seconds * 1000);
  date.setUTCMonth(date.getUTCMonth() - 3);
  return Math.floor(date.getTime() / 1000);
}

function hash(algorithm: SignatureAlgorithm, text: string): string {
  return createHash(algorithm).update(text).digest('hex');
}

/** "v1/groups/recent_results" from "/v1/groups/recent_results.json" (no extension) [doc examples]. */
function requestPathOf(path: string): string {
  return path.replace(/^\//, '').replace(/\.(json|xml)$/i, '');
}

function formatOf(path: string): Format {
  return /\.xml$/i.test(path) ? 'xml' : 'json';
}

const isUnsignedInteger = (text: string) => /^\d+$/.test(text);

/** Result fields the older payload form does not have (the 2012 sample; docs/providers/classmarker.md). */
const NEWER_RESULT_FIELDS = [
  'status',
  'passed',
  'percentage_passmark',
  'give_certificate_only_when_passed',
  'certificate_url',
  'certificate_serial',
] as const;

/** The newer proctoring fields of one result, derived from it (so the same result always says the same). */
function monitoringFields(result: GroupResult | LinkResult) {
  const count = result.time_started % 3;
  const away = count * 7;
  return {
    test_type: 'Test',
    monitor_events: {
      browser_monitoring: 'Enabled',
      camera_monitoring: count === 2 ? 'Enabled' : 'Disabled',
      total_event_count: count,
      total_seconds_away: away,
      events: Array.from({ length: count }, (_, i) => ({
        timestamp: result.time_started + 60 * (i + 1),
        event: 'left_test_window',
        seconds_away: 7,
      })),
    },
  };
}

/**
 * One start's world and the routes serving it. Long, as the API it serves: the signature and
 * rate-limit checks and every route's handler share this one closure over the account's state.
 */
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

  const renderOptions = (format: Format): RenderOptions => ({
    format,
    numbersAsStrings: (options.numbersAsStrings ?? false) || (options.legacyPayload ?? false),
    errorHttpStatus: options.errorHttpStatus ?? false,
  });

  const errorsSent: ErrorCode[] = [];
  const fail = (
    request: Pick<SimulatorRequest, 'path'>,
    code: ErrorCode,
    extra: { finishedAfter?: number; nextRequestAfter?: number; substitutions?: Record<string, string> } = {},
  ) => {
    errorsSent.push(code);
    return renderError(
      code,
      {
        requestPath: requestPathOf(request.path),
        serverTimestamp: now(),
        finishedAfterTimestampUsed: extra.finishedAfter,
        nextRequestAfter: extra.nextRequestAfter,
        substitutions: extra.substitutions,
      },
      renderOptions(formatOf(request.path)),
    );
  };

  /** Authentication and the hourly limit, in the order a request meets them. Returns an error response or undefined. */
  function guard(request: SimulatorRequest, rateLimited: boolean): SimulatorResponse | undefined {
    if (account.maintenance) return fail(request, 'offlineMaintenance');
    const key = request.query.get('api_key');
    if (!key || key !== apiKey || account.keyState === 'deleted') return fail(request, 'noApiKeyExists');
    const timestamp = request.query.get('timestamp') ?? '';
    // A millisecond timestamp is simply far out of the window ("Use seconds … not milliseconds" [doc]).
    if (!isUnsignedInteger(timestamp) || Math.abs(Number(timestamp) - now()) > TIMESTAMP_WINDOW_SECONDS)
      return fail(request, 'timeStampOutOfRange');
    const signature = request.query.get('signature') ?? '';
    // Lowercase hex only: "The md5() signature hash should be created in lowercase" [doc].
    if (!algorithms.some((algorithm) => hash(algorithm, `${key}${apiSecret}${timestamp}`) === signature))
      return fail(request, 'apiKeyAuthFail');
    if (account.keyState === 'inactive') return fail(request, 'apiKeyInactive');
    if (!account.upgraded) return fail(request, 'accountNotUpgraded');
    if (rateLimited) {
      const current = now();
      while (counted.length > 0 && (counted[0] as number) <= current - windowSeconds) counted.shift();
      if (counted.length >= limitPerWindow) {
        const finishedAfter = request.query.get('finishedAfterTimestamp');
        return fail(request, 'rateLimitExceeded', {
          nextRequestAfter: (counted[0] as number) + windowSeconds,
          finishedAfter: finishedAfter && isUnsignedInteger(finishedAfter) ? Number(finishedAfter) : undefined,
          substitutions: { LIMIT: String(limitPerWindow) },
        });
      }
      counted.push(current);
    }
    return undefined;
  }

  const formatParam = (request: SimulatorRequest): Format | undefined => {
    const format = request.params.format?.toLowerCase();
    return format === 'json' || format === 'xml' ? format : undefined;
  };

  /** Wraps a handler with the format check and the auth guard shared by every endpoint. */
  const endpoint =
    (rateLimited: boolean, handler: (request: SimulatorRequest, format: Format) => SimulatorResponse) =>
    (request: SimulatorRequest): SimulatorResponse => {
      const format = formatParam(request);
      if (!format) return fail(request, 'incorrectUrl');
      return guard(request, rateLimited) ?? handler(request, format);
    };

  const testName = (testId: number) => data.tests.find((test) => test.test_id === testId)?.test_name ?? '';
  const wrapTests = (ids: Iterable<number>) => [...new Set(ids)].map((test_id) => ({ test: { test_id, test_name: testName(test_id) } }));
  const linkSummary = (link: (typeof data.links)[number]) => ({
    link_name: link.link_name,
    link_id: link.link_id,
    ...(options.linkUrlId ? { link_url_id: link.link_url_id } : {}),
    ...(link.access_list_id === undefined ? {} : { access_list_id: link.access_list_id }),
  });
  /** A result as sent: without view_results_url unless the account turned it on; the older form without the newer fields. */
  const asSent = <T extends GroupResult | LinkResult>(result: T): Partial<T> => {
    const sent: Partial<T> = { ...result };
    if (!options.viewResultsUrl || options.legacyPayload) delete sent.view_results_url;
    if (options.legacyPayload) for (const field of NEWER_RESULT_FIELDS) delete sent[field];
    else if (options.monitoring) Object.assign(sent, monitoringFields(result));
    return sent;
  };

  function catalog(_request: SimulatorRequest, format: Format): SimulatorResponse {
    return render(
      {
        status: 'ok',
        request_path: 'v1',
        server_timestamp: now(),
        groups: data.groups.map((group) => ({
          group: { group_name: group.group_name, group_id: group.group_id, assigned_tests: wrapTests(group.test_ids) },
        })),
        links: data.links.map((link) => ({ link: { ...linkSummary(link), assigned_tests: wrapTests(link.test_ids) } })),
      },
      renderOptions(format),
    );
  }

  /**
   * Recent results: strictly "finished after" finishedAfterTimestamp, oldest first (ties in arrival
   * order), at most `limit`. next_finished_after_timestamp is the time_finished of the last result
   * returned, and the document promises that using it as the next finishedAfterTimestamp returns
   * the rest "so as to not download the same results twice" [doc: more_results_exist,
   * next_finished_after_timestamp]. So by default a page never ends inside a second: results of a
   * second that continues past `limit` move to the next page (the page is shorter), and when one
   * second alone holds more than `limit` the page holds that whole second (inferred: the only way to
   * keep the promise). `splitSecondsAtPageEdge` cuts at `limit` regardless (the hazard in
   * docs/providers/classmarker.md, "Paging"), for taps that must survive a server that does.
   */
  function recentResults<T extends GroupResult | LinkResult>(
    request: SimulatorRequest,
    format: Format,
    kind: 'group' | 'link',
    pool: Stored<T>[],
    scope: (result: T) => boolean,
    extra: Record<string, unknown> = {},
  ): SimulatorResponse {
    const rawAfter = request.query.get('finishedAfterTimestamp');
    const rawLimit = request.query.get('limit');
    if ((rawAfter !== null && !isUnsignedInteger(rawAfter)) || (rawLimit !== null && !isUnsignedInteger(rawLimit)))
      return fail(request, 'requestParamValidationError');
    const current = now();
    const after = rawAfter === null ? current - DEFAULT_LOOKBACK_SECONDS : Number(rawAfter);
    if (after < threeMonthsBefore(current)) return fail(request, 'finishedAfterTimestampTooEarly', { finishedAfter: after });
    const limit = rawLimit === null ? MAX_LIMIT : Number(rawLimit);
    // "You can decrease … but not increase" [doc]: an out-of-range limit is a parameter with invalid
    // data, the document's requestParamValidationError ("the request parameter has invalid data").
    if (limit < 1 || limit > MAX_LIMIT) return fail(request, 'requestParamValidationError', { finishedAfter: after });

    const matching = pool
      .filter((entry) => entry.result.time_finished > after && scope(entry.result))
      .sort((a, b) => a.result.time_finished - b.result.time_finished || a.seq - b.seq);
    const requestPath = requestPathOf(request.path);
    if (matching.length === 0) {
      // Empty: status, request_path, server_timestamp, finished_after_timestamp_used only [doc; docs/providers/classmarker.md, "Envelopes"].
      return render(
        { status: 'no_results', request_path: requestPath, server_timestamp: current, finished_after_timestamp_used: after },
        renderOptions(format),
      );
    }
    let cut = Math.min(limit, matching.length);
    const edge = matching[cut - 1]!.result.time_finished;
    if (!options.splitSecondsAtPageEdge && cut < matching.length && matching[cut]!.result.time_finished === edge) {
      // The page would end inside a second: end it before that second, or, if the second fills the
      // whole page, after all of it.
      while (cut > 0 && matching[cut - 1]!.result.time_finished === edge) cut -= 1;
      if (cut === 0) while (cut < matching.length && matching[cut]!.result.time_finished === edge) cut += 1;
    }
    const page = matching.slice(0, cut).map((entry) => entry.result);
    const last = page[page.length - 1] as T;
    const containers =
      kind === 'group'
        ? {
            groups: [...new Set(page.map((r) => (r as GroupResult).group_id))].map((id) => ({
              group: { group_id: id, group_name: data.groups.find((g) => g.group_id === id)?.group_name ?? '' },
            })),
          }
        : {
            links: [...new Set(page.map((r) => (r as LinkResult).link_id))].flatMap((id) => {
              const link = data.links.find((l) => l.link_id === id);
              return link ? [{ link: linkSummary(link) }] : [];
            }),
          };
    return render(
      {
        status: 'ok',
        request_path: requestPath,
        ...extra,
        server_timestamp: current,
        finished_after_timestamp_used: after,
        ...containers,
        tests: wrapTests(page.map((r) => r.test_id)),
        results: page.map((result) => ({ result: asSent(result) })),
        num_results_available: matching.length,
        num_results_returned: page.length,
        more_results_exist: matching.length > page.length,
        next_finished_after_timestamp: last.time_finished,
      },
      renderOptions(format),
    );
  }

  function groupTestResults(request: SimulatorRequest, format: Format): SimulatorResponse {
    const { group_id: groupId = '', test_id: testId = '' } = request.params;
    if (!isUnsignedInteger(groupId) || !isUnsignedInteger(testId)) return fail(request, 'incorrectUrlId');
    const group = data.groups.find((g) => g.group_id === Number(groupId));
    // An id the key cannot see is indistinguishable from one it may not access (inferred).
    if (!group) return fail(request, 'apiKeyNoGroupPermission');
    if (!group.test_ids.includes(Number(testId))) return fail(request, 'incorrectUrlId');
    return recentResults(request, format, 'group', data.groupResults, (r) => r.group_id === group.group_id && r.test_id === Number(testId));
  }

  function linkTestResults(request: SimulatorRequest, format: Format): SimulatorResponse {
    const { link_id: linkId = '', test_id: testId = '' } = request.params;
    if (!isUnsignedInteger(linkId) || !isUnsignedInteger(testId)) return fail(request, 'incorrectUrlId');
    const link = data.links.find((l) => l.link_id === Number(linkId));
    // The document has no link-permission code; an unknown link is an incorrect URL id (inferred).
    if (!link?.test_ids.includes(Number(testId))) return fail(request, 'incorrectUrlId');
    return recentResults(request, format, 'link', data.linkResults, (r) => r.link_id === link.link_id && r.test_id === Number(testId));
  }

  /** POST adds, DELETE removes; "API Rate Limits do not apply when adding or removing Access codes" [doc]. */
  function accessList(request: SimulatorRequest, format: Format): SimulatorResponse {
    const id = request.params.access_list_id ?? '';
    if (!isUnsignedInteger(id)) return fail(request, 'incorrectUrlId');
    const list = data.accessLists.find((l) => l.access_list_id === Number(id));
    if (!list) return fail(request, 'incorrectUrlId');
    let codes: unknown;
    try {
      codes = JSON.parse(request.body);
    } catch {
      return fail(request, 'invalidJson');
    }
    if (!Array.isArray(codes) || !codes.every((code) => typeof code === 'string')) return fail(request, 'invalidJson');
    const valid =
      codes.length >= 1 &&
      codes.length <= MAX_CODES_PER_REQUEST &&
      codes.every((code: string) => code.length >= 1 && code.length <= MAX_CODE_LENGTH);
    if (!valid) return fail(request, 'payloadValidationError');
    let changed = 0;
    if (request.method === 'POST') {
      const fresh = new Set(codes.filter((code: string) => !list.codes.has(code)));
      if (list.codes.size + fresh.size > MAX_CODES_PER_LIST) return fail(request, 'payloadValidationError');
      for (const code of fresh) list.codes.add(code);
      changed = fresh.size; // duplicates are not counted as added (inferred)
    } else {
      for (const code of new Set(codes as string[])) if (list.codes.delete(code)) changed += 1;
    }
    return render(
      {
        status: 'ok',
        request_path: requestPathOf(request.path),
        server_timestamp: now(),
        access_lists: {
          access_list: {
            access_list_id: list.access_list_id,
            access_list_name: list.access_list_name,
            [request.method === 'POST' ? 'num_codes_added' : 'num_codes_deleted']: changed,
            num_codes_total: list.codes.size,
          },
        },
      },
      renderOptions(format),
    );
  }

  const routes: RouteDefinition[] = [
    { name: 'catalog', method: 'GET', path: '/v1.:format', handle: endpoint(true, catalog) },
    {
      name: 'groups_recent_results',
      method: 'GET',
      path: '/v1/groups/recent_results.:format',
      handle: endpoint(true, (req, format) =>
        recentResults(req, format, 'group', data.groupResults, () => true, { request_type: 'groups_recent_results' }),
      ),
    },
    {
      name: 'links_recent_results',
      method: 'GET',
      path: '/v1/links/recent_results.:format',
      handle: endpoint(true, (req, format) => recentResults(req, format, 'link', data.linkResults, () => true)),
    },
    {
      name: 'group_test_recent_results',
      method: 'GET',
      path: '/v1/groups/:group_id/tests/:test_id/recent_results.:format',
      handle: endpoint(true, groupTestResults),
    },
    {
      name: 'link_test_recent_results',
      method: 'GET',
      path: '/v1/links/:link_id/tests/:test_id/recent_results.:format',
      handle: endpoint(true, linkTestResults),
    },
    {
      name: 'access_list',
      method: ['POST', 'DELETE'],
      path: '/v1/accesslists/:access_list_id.:format',
      handle: endpoint(false, accessList),
    },
  ];

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
    },
    options: (flags) => ({
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
    }),
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
