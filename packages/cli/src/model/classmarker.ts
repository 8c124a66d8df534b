// ClassMarker → unified exam model: link_results and group_results, titles from tests.

import type { Columns } from './columns.js';
import { fullName, type ProviderModel, type ResultSource, unixSeconds } from './mapping.js';

// Titles come from the `tests` stream (v1.json); a result only carries test_id.
const testsLookup = {
  alias: 't',
  table: 'tests',
  on: (r: Columns, t: Columns) => `${t.text('test_id')} = ${r.text('test_id')}`,
};

/** Blank text ("", spaces) as NULL: tables loaded before the tap nulled blank e-mails still hold "". */
const blankAsNull = (text: string) => `NULLIF(trim(${text}), '')`;

function common(r: Columns, t: Columns) {
  return {
    exam_id: r.text('test_id'),
    // v1.json's tests, else the name the result's own response gave (a test no group or link lists any more).
    exam_title: `COALESCE(${t.text('test_name')}, ${r.text('test_name')})`,
    candidate_name: fullName(r.text('first'), r.text('last')),
    email: blankAsNull(r.text('email')),
    score: r.number('points_scored'),
    max_score: r.number('points_available'),
    percentage: r.number('percentage'),
    // `passed` is in newer payloads only; else compare with the pass mark when it is known; the older
    // form has neither, so the verdict is unknown (docs/providers/classmarker.md, "Variants").
    passed: `COALESCE(${r.boolean('passed')}, CASE WHEN ${r.number('percentage_passmark')} IS NOT NULL THEN ${r.number('percentage')} >= ${r.number('percentage_passmark')} END)`,
    started_at: r.timestamp('time_started'),
    finished_at: r.timestamp('time_finished'),
    duration_seconds: r.has('duration_seconds') ? r.number('duration_seconds') : r.seconds('duration'),
    // "f" finished, "ip" in progress; recent_results only serves finished ones, so a result of the
    // older form, without `status`, is finished (docs/providers/classmarker.md, "Result fields").
    status: `CASE COALESCE(${r.text('status')}, 'f') WHEN 'f' THEN 'finished' WHEN 'ip' THEN 'in_progress' ELSE ${r.text('status')} END`,
  };
}

const linkResults: ResultSource = {
  table: 'link_results',
  key: ['link_result_id'],
  lookups: [testsLookup],
  map: (r, { t }) => ({
    ...common(r, t!),
    candidate_id: `COALESCE(NULLIF(${r.text('cm_user_id')}, ''), ${blankAsNull(r.text('email'))})`,
    source_key: `'link_result:' || ${r.text('link_result_id')}`,
  }),
};

// Group results have no id: the key is who took which test in which group, and when they started
// (time_started survives an admin re-opening the attempt; time_finished does not), as unix seconds:
// a timestamp cast to text would follow the session's time zone (and differ between databases).
const groupResults: ResultSource = {
  table: 'group_results',
  key: ['user_id', 'test_id', 'group_id', 'time_started'],
  lookups: [testsLookup],
  map: (r, { t }) => ({
    ...common(r, t!),
    candidate_id: r.text('user_id'),
    source_key: `'group_result:' || ${r.text('group_id')} || ':' || ${r.text('test_id')} || ':' || ${r.text('user_id')} || ':' || ${unixSeconds(r.timestamp('time_started'))}`,
  }),
};

export const classmarkerModel: ProviderModel = {
  provider: 'classmarker',
  results: [linkResults, groupResults],
  exams: [{ table: 'tests', map: (t) => ({ exam_id: t.text('test_id'), exam_title: t.text('test_name') }) }],
};

/**
 * `question_results` rows from the webhook-only `question_responses`: `source_key` is the one the
 * result's `exam_results` row has, so questions join their attempt.
 */
export function classmarkerQuestions(q: Columns): Record<string, string> {
  const groupKey = `'group_result:' || ${q.text('group_id')} || ':' || ${q.text('test_id')} || ':' || ${q.text('user_id')} || ':' || ${unixSeconds(q.timestamp('time_started'))}`;
  return {
    source_key: `CASE WHEN ${q.text('result_stream')} = 'link_results' THEN 'link_result:' || ${q.text('link_result_id')} ELSE ${groupKey} END`,
    exam_id: q.text('test_id'),
    question_id: q.text('question_id'),
    position: q.number('position'),
    question_type: q.text('question_type'),
    category_id: q.text('category_id'),
    question: q.text('question'),
    response: q.text('user_response'),
    result: q.text('result'),
    score: q.number('points_scored'),
    max_score: q.number('points_available'),
  };
}
