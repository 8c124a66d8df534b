// ClassMarker's result webhook (docs/providers/classmarker.md, "Webhooks"): its signature and its
// payload read into the rows the tap's group_results / link_results hold, plus the webhook-only
// question_responses and category_results.
import { createHmac } from 'node:crypto';
import { isLosslessNumber, parseJson, stringifyJson } from '@tapline/singer';
import { coerce, readStreamRecord, streamJsonSchema } from '@tapline/tap-kit';
import { firstHeaderValue, PayloadError, signaturesMatch, type WebhookDefinition, type WebhookStream } from '@tapline/webhooks';
import { z } from 'zod';
import { groupResults } from '../streams/group-results.js';
import { linkResults } from '../streams/link-results.js';

export const SIGNATURE_HEADER = 'X-Classmarker-Hmac-Sha256';

/** base64(HMAC-SHA256(secret phrase, raw body bytes)) [doc CM-S3]: what ClassMarker puts in the header. */
export const classmarkerSignature = (body: Buffer | string, secret: string): string =>
  createHmac('sha256', secret).update(body).digest('base64');

const text = coerce.emptyAsNull(coerce.text()).optional();
const integer = coerce.emptyAsNull(coerce.integer()).optional();
const decimal = coerce.emptyAsNull(coerce.decimal()).optional();

/** Which result a question or category row belongs to, in both forms: one text id, and the result's own key columns. */
const resultRef = {
  result_id: z
    .string()
    .describe(
      'The result this row belongs to: "link:<link_result_id>" or "group:<user_id>:<test_id>:<group_id>:<time_started as UNIX seconds>".',
    ),
  result_stream: z.enum(['group_results', 'link_results']).describe('The table holding the result: group_results or link_results.'),
  link_result_id: integer.describe("The link result's id; null for a group result."),
  user_id: integer.describe("The registered user's id; null for a link result."),
  group_id: integer.describe("The group's id; null for a link result."),
  link_id: integer.describe("The link's id; null for a group result."),
  test_id: coerce.integer().describe("ClassMarker's id of the test taken."),
  time_started: coerce.isoFromUnixSeconds().describe('When the taker started (sent as UNIX seconds, UTC).'),
  time_finished: coerce
    .isoFromUnixSeconds()
    .describe('When the taker finished, as of the delivery that sent this row (sent as UNIX seconds); a re-opened exam sends a newer one.'),
};

const questionRecord = z.object({
  ...resultRef,
  question_id: coerce.integer().describe("ClassMarker's question id."),
  position: z.number().int().describe('1 for the first question of the delivery.'),
  question_type: text.describe('As sent, e.g. "multiplechoice", "truefalse", "freetext", "matching", "essay", "grammar".'),
  category_id: integer.describe("The question's category id; null when not sent."),
  points_available: decimal.describe('The points the question is worth, exact.'),
  points_scored: decimal.describe('The points the taker scored on it, exact.'),
  result: text.describe('"correct", "partial_correct", "incorrect" or "requires_grading".'),
  question: text.describe('The question as sent.'),
  options_json: z.string().nullable().describe('The answer options as sent, as JSON text.'),
  correct_option: z.string().nullable().describe('As sent (text, or JSON text for a list or object).'),
  user_response: z.string().nullable().describe('As sent (text, or JSON text for a list or object).'),
  feedback: text.describe('The feedback shown for the response, as sent; null when none.'),
});

const categoryRecord = z.object({
  ...resultRef,
  category_id: coerce.integer().describe("ClassMarker's category id."),
  name: text.describe("The category's name."),
  percentage: decimal.describe('The percentage scored in the category, exact.'),
  points_available: decimal.describe("The points the category's questions are worth, exact."),
  points_scored: decimal.describe('The points scored in the category, exact.'),
});

/** The newer of two deliveries of one result is the one with the later time_finished (a re-opened exam). */
const finishedAt = (record: Record<string, unknown>) => Date.parse(String(record.time_finished));

const streams: WebhookStream[] = [
  { name: groupResults.name, key: groupResults.key, schema: streamJsonSchema(groupResults), version: finishedAt },
  { name: linkResults.name, key: linkResults.key, schema: streamJsonSchema(linkResults), version: finishedAt },
  {
    name: 'question_responses',
    key: ['result_id', 'question_id'],
    schema: streamJsonSchema({
      record: questionRecord,
      description: "Each question of a result with the taker's response, from ClassMarker's webhook (the API does not serve them).",
    }),
    version: finishedAt,
  },
  {
    name: 'category_results',
    key: ['result_id', 'category_id'],
    schema: streamJsonSchema({
      record: categoryRecord,
      description: "Each category's score of a result, from ClassMarker's webhook (the API does not serve them).",
    }),
    version: finishedAt,
  },
];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);

export const classmarkerWebhook: WebhookDefinition = {
  type: 'classmarker',
  streams,
  verify(body, headers, { secret }) {
    const received = firstHeaderValue(headers, SIGNATURE_HEADER);
    if (received === undefined) return { ok: false, status: 401, reason: `no ${SIGNATURE_HEADER} header` };
    if (!signaturesMatch(received, classmarkerSignature(body, secret))) {
      return {
        ok: false,
        status: 401,
        reason: `the ${SIGNATURE_HEADER} signature does not match the body (is the receiver's secret the webhook's secret phrase?)`,
      };
    }
    return { ok: true };
  },
  triage(body) {
    // JSON.parse, not the lossless parser and no schema: this runs before every acknowledgement.
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
    if (!isObject(payload)) return { ok: false, reason: 'the body is not a JSON object' };
    const problem = envelopeProblem(payload);
    if (problem !== undefined) return { ok: false, reason: problem };
    // "verify": the sample "Verify on Save" sends [doc CM-S5]: acknowledged, never stored or loaded.
    return { ok: true, sample: payload.payload_status === 'verify' };
  },
  read(body) {
    let payload: unknown;
    try {
      payload = parseJson(body.toString('utf8'));
    } catch {
      throw new PayloadError('the body is not JSON');
    }
    if (!isObject(payload)) throw new PayloadError('the body is not a JSON object');
    const problem = envelopeProblem(payload);
    if (problem !== undefined) throw new PayloadError(problem);
    const link = payload.payload_type === 'single_user_test_results_link';
    const test = isObject(payload.test) ? payload.test : {};
    const owner = (link ? payload.link : payload.group) as Json;
    const result = resultRow(payload.result as Json, test, owner, link);
    // A "verify" sample is not stored (triage); read here too, it is still never loaded.
    const sample = payload.payload_status === 'verify';
    const label = link
      ? `link_result_id ${String(result.link_result_id)}`
      : `group ${String(result.group_id)}, test ${String(result.test_id)}`;
    const ref = resultReference(result, link);
    const records = [
      { stream: link ? 'link_results' : 'group_results', record: result },
      ...list(payload.questions).map((q, i) => ({
        stream: 'question_responses',
        record: read(questionRecord, { ...ref, ...questionFields(q), position: i + 1 }, 'question'),
      })),
      ...list(payload.category_results).map((c) => ({
        stream: 'category_results',
        record: read(categoryRecord, { ...ref, ...unwrap(c, 'category') }, 'category result'),
      })),
    ];
    return { sample, label, records };
  },
};

/** Why a payload is not a ClassMarker result delivery at all (its type, its result and group/link objects), or undefined. */
function envelopeProblem(payload: Json): string | undefined {
  const type = payload.payload_type;
  const link = type === 'single_user_test_results_link';
  if (!link && type !== 'single_user_test_results_group') {
    return `payload_type must be single_user_test_results_group or single_user_test_results_link, not ${JSON.stringify(String(type))}`;
  }
  if (!isObject(payload.result) || !isObject(link ? payload.link : payload.group))
    return `the payload has no result or ${link ? 'link' : 'group'} object`;
  return undefined;
}

/** The webhook's result in the API's names [doc CM-S5]: `access_code_used` -> `access_code`, `extra_info*_answer` -> `extra_info*`. */
function resultRow(result: Json, test: Json, owner: Json, link: boolean): Json {
  const raw: Json = { ...result, test_id: result.test_id ?? test.test_id, test_name: result.test_name ?? test.test_name };
  if (link) {
    raw.link_id = owner.link_id;
    for (const n of ['', '2', '3', '4', '5']) {
      if (`extra_info${n}_answer` in raw) raw[`extra_info${n}`] = raw[`extra_info${n}_answer`];
      delete raw[`extra_info${n}_answer`];
    }
    if ('access_code_used' in raw) raw.access_code = raw.access_code_used;
    delete raw.access_code_used;
  } else {
    raw.group_id = owner.group_id;
  }
  // Webhooks are sent when a test is finished [doc CM-S5]; the API's status "f" says the same.
  raw.status ??= 'f';
  raw.duration_seconds = raw.duration;
  return read(link ? linkResults.record : groupResults.record, raw, 'result');
}

function read(schema: z.ZodObject, raw: Json, what: string): Json {
  const outcome = readStreamRecord({ record: schema }, raw);
  if (!outcome.ok) throw new PayloadError(`the ${what} does not read: ${outcome.reason}`);
  return outcome.record;
}

function resultReference(result: Json, link: boolean): Json {
  const started = Math.floor(Date.parse(String(result.time_started)) / 1000);
  const result_id = link
    ? `link:${String(result.link_result_id)}`
    : `group:${String(result.user_id)}:${String(result.test_id)}:${String(result.group_id)}:${started}`;
  return {
    result_id,
    result_stream: link ? 'link_results' : 'group_results',
    link_result_id: result.link_result_id ?? null,
    user_id: result.user_id ?? null,
    group_id: result.group_id ?? null,
    link_id: result.link_id ?? null,
    test_id: result.test_id,
    time_started: started,
    time_finished: Math.floor(Date.parse(String(result.time_finished)) / 1000),
  };
}

function questionFields(item: unknown): Json {
  const q = unwrap(item, 'question');
  const { options, correct_option, user_response, ...rest } = q;
  return {
    ...rest,
    options_json: options === undefined || options === null ? null : stringifyJson(options),
    correct_option: asText(correct_option),
    user_response: asText(user_response),
  };
}

const asText = (value: unknown): string | null =>
  value === undefined || value === null ? null : typeof value === 'string' ? value : stringifyJson(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** An item as sent, or unwrapped from `{"question": {...}}` (the API wraps list items so; inferred for webhooks). */
const unwrap = (item: unknown, name: string): Json =>
  isObject(item) ? (isObject(item[name]) && Object.keys(item).length === 1 ? (item[name] as Json) : item) : {};
