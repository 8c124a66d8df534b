// Testpress's exam webhook (docs/providers/testpress.md, "Exam webhook"): its `hash` check and its
// payload read into the tap's `attempts` rows, plus the webhook-only `attempt_subject_stats`.
import { createHmac } from 'node:crypto';
import { isLosslessNumber, parseJson, stringifyJson } from '@tapline/singer';
import { coerce, readStreamRecord, streamJsonSchema } from '@tapline/tap-kit';
import { PayloadError, signaturesMatch, type WebhookDefinition, type WebhookStream } from '@tapline/webhooks';
import { z } from 'zod';
import { attempts } from '../streams/attempts.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);

/**
 * The fields the hash covers, in order [doc: exam-webhook.md]: the public key, attempt_id,
 * correct_answers_count, the private key, incorrect_answers_count, unanswered_count, percentage,
 * score, user_id. The payload spells unanswered_count `unanswered_answers_count`.
 */
export function testpressHashMessage(payload: Json, privateKey: string): string {
  const unanswered = payload.unanswered_answers_count ?? payload.unanswered_count;
  const fields = [
    payload.key,
    payload.attempt_id,
    payload.correct_answers_count,
    privateKey,
    payload.incorrect_answers_count,
    unanswered,
    payload.percentage,
    payload.score,
    payload.user_id,
  ];
  return fields.map((value) => pythonQuote(pythonText(value))).join('|');
}

/** hex HMAC-SHA512 keyed with the private key over the `|`-joined fields [doc]. */
export const testpressHash = (payload: Json, privateKey: string): string =>
  createHmac('sha512', privateKey).update(testpressHashMessage(payload, privateKey)).digest('hex');

/**
 * A value as the vendor's Python writes it before hashing (inferred from the documented
 * `hmac.new(...)` sample): numbers with the digits sent (`"93"` and `93` alike), None for null.
 */
function pythonText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** "percentage encoded" [doc]: Python's urllib.parse.quote (letters, digits, `_.-~` and `/` kept). */
const pythonQuote = (text: string): string =>
  encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');

const subjectRecord = z.object({
  attempt_id: coerce.integer().describe('The attempt (`attempts.id`) these figures are of.'),
  subject_name: coerce.text().describe("The subject's name."),
  exam_id: coerce.emptyAsNull(coerce.integer()).optional().describe("The attempt's exam."),
  parent_subject_id: coerce.emptyAsNull(coerce.integer()).optional().describe("The parent subject's id, as sent; null when not sent."),
  correct_answers_count: coerce.emptyAsNull(coerce.integer()).optional().describe("The subject's questions answered correctly."),
  incorrect_answers_count: coerce.emptyAsNull(coerce.integer()).optional().describe("The subject's questions answered wrongly."),
  partial_correct_answers_count: coerce
    .emptyAsNull(coerce.integer())
    .optional()
    .describe("The subject's questions answered partly correctly."),
  unanswered_count: coerce.emptyAsNull(coerce.integer()).optional().describe("The subject's questions left unanswered."),
  answered_count: coerce.emptyAsNull(coerce.integer()).optional().describe("The subject's questions answered."),
  total_count: coerce.emptyAsNull(coerce.integer()).optional().describe('How many questions the subject has in the attempt.'),
  score: coerce.emptyAsNull(coerce.decimal()).optional().describe('The marks scored in the subject, exact (sent as a decimal string).'),
});

/** A completed attempt is newer than a started one: a late retry of "started" never undoes "completed". */
const stateRank = (record: Json) => (record.state === 'Completed' || record.attempt_state === 'completed' ? 1 : 0);

const streams: WebhookStream[] = [
  { name: attempts.name, key: attempts.key, schema: streamJsonSchema(attempts), version: stateRank },
  {
    name: 'attempt_subject_stats',
    key: ['attempt_id', 'subject_name'],
    schema: streamJsonSchema({
      record: subjectRecord,
      description: "Each subject's answer counts and score of an attempt, from Testpress's exam webhook (the API lists do not carry them).",
    }),
  },
];

/** Read into the attempt's own columns, so they are not kept again in _sdc_extra; `key` and `hash` are not data. */
const CONSUMED = [
  'attempt_id',
  'attempt_state',
  'attempt_start_time',
  'correct_answers_count',
  'incorrect_answers_count',
  'unanswered_answers_count',
  'total_count',
  'completed_on',
  'key',
  'hash',
  'subject_stats',
];

export const testpressWebhook: WebhookDefinition = {
  type: 'testpress',
  streams,
  verify(body, _headers, { secret, public_key }) {
    const payload = parseBody(body);
    if (!payload) return { ok: false, status: 400, reason: 'the body is not a JSON object' };
    if (typeof payload.hash !== 'string' || payload.hash === '') return { ok: false, status: 401, reason: 'the payload has no hash' };
    if (public_key !== undefined && !signaturesMatch(String(payload.key ?? ''), public_key)) {
      return { ok: false, status: 401, reason: "the payload's key is not the configured public_key" };
    }
    if (!signaturesMatch(payload.hash.toLowerCase(), testpressHash(payload, secret))) {
      return {
        ok: false,
        status: 401,
        reason: "the hash does not match the payload (is the receiver's secret the institute's private key?)",
      };
    }
    return { ok: true };
  },
  read(body) {
    const payload = parseBody(body);
    if (!payload) throw new PayloadError('the body is not a JSON object');
    const exam = isObject(payload.exam) ? payload.exam : {};
    const state = payload.attempt_state === 'completed' ? 'Completed' : payload.attempt_state === 'started' ? 'Running' : undefined;
    if (state === undefined)
      throw new PayloadError(`attempt_state must be "started" or "completed", not ${stringifyJson(payload.attempt_state ?? null)}`);
    const raw: Json = {
      ...payload,
      id: payload.attempt_id,
      exam_id: exam.id,
      date: payload.attempt_start_time,
      state,
      correct_count: payload.correct_answers_count,
      incorrect_count: payload.incorrect_answers_count,
      unanswered_count: payload.unanswered_answers_count ?? payload.unanswered_count,
      total_questions: payload.total_count,
      // The end of a completed attempt, as the admin API's last_answer_updated_time is read (docs/providers/testpress.md).
      last_answer_updated_time: payload.completed_on ?? undefined,
    };
    const outcome = readStreamRecord(attempts, raw, CONSUMED);
    if (!outcome.ok) throw new PayloadError(`the attempt does not read: ${outcome.reason}`);
    const attempt = outcome.record;
    const subjects = (Array.isArray(payload.subject_stats) ? payload.subject_stats : []).filter(isObject).map((subject) => {
      const read = readStreamRecord({ record: subjectRecord }, { ...subject, attempt_id: attempt.id, exam_id: attempt.exam_id });
      if (!read.ok) throw new PayloadError(`a subject_stats entry does not read: ${read.reason}`);
      return { stream: 'attempt_subject_stats', record: { ...read.record, _sdc_extra: undefined } };
    });
    return {
      sample: false,
      label: `attempt_id ${String(attempt.id)} (${String(payload.attempt_state)})`,
      records: [{ stream: 'attempts', record: attempt }, ...subjects],
    };
  },
};

function parseBody(body: Buffer): Json | undefined {
  try {
    const payload = parseJson(body.toString('utf8'));
    return isObject(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}
