// The ClassMarker v1 API the simulator serves: authentication and the hourly limit in the order a
// request meets them, then each endpoint [doc].
import { createHash } from 'node:crypto';
import type { RouteDefinition, SimulatorRequest, SimulatorResponse } from '@tapline/simulator-kit';
import { type ErrorCode, type Format, type RenderOptions, render, renderError } from './envelope.js';
import type { ClassMarkerSimulatorOptions } from './index.js';
import type { ClassMarkerData, GroupResult, LinkResult, Stored } from './world.js';

export type SignatureAlgorithm = 'md5' | 'sha256';

export interface AccountState {
  /** `deleted` answers noApiKeyExists. */
  keyState: 'active' | 'inactive' | 'deleted';
  upgraded: boolean;
  maintenance: boolean;
}

/** What the routes serve: the world, the account's state and credentials, and the server's switches. */
export interface ClassMarkerServing {
  options: ClassMarkerSimulatorOptions;
  data: ClassMarkerData;
  account: AccountState;
  /** The server clock, UNIX seconds. */
  now: () => number;
  apiKey: string;
  apiSecret: string;
  algorithms: readonly SignatureAlgorithm[];
  limitPerWindow: number;
  windowSeconds: number;
  /** When each request of the rolling rate-limit window was counted (a reset empties it). */
  counted: number[];
  /** Every error code answered, in order. */
  errorsSent: ErrorCode[];
}

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

/** The routes, and `fail`, which answers an error the way ClassMarker does (also for rate limits and unknown URLs). */
// Long on purpose: the vendor's route table, one short handler per endpoint, in the document's order.
export function classMarkerRoutes(serving: ClassMarkerServing) {
  const { options, data, account, now, apiKey, apiSecret, algorithms, limitPerWindow, windowSeconds, counted, errorsSent } = serving;
  const renderOptions = (format: Format): RenderOptions => ({
    format,
    numbersAsStrings: (options.numbersAsStrings ?? false) || (options.legacyPayload ?? false),
    errorHttpStatus: options.errorHttpStatus ?? false,
  });

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
  return { routes, fail };
}
