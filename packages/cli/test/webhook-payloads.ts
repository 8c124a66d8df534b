// Webhook bodies as ClassMarker and Testpress send them (docs/providers/*.md, "Webhooks"), signed
// over the exact bytes, and a client that posts them to a running `tapline serve`.
import { classmarkerSignature } from '@tapline/tap-classmarker/webhooks';
import { testpressHash } from '@tapline/tap-testpress/webhooks';

export const CM_SECRET = 'cm-secret-phrase-not-for-logs';
export const TP_PRIVATE = 'tp-private-key-not-for-logs';
export const TP_PUBLIC = 'YDRAXrgV3STf7EH5';

/** PHP's json_encode escapes `/` as `\/`: the bytes signed are those, never a re-serialisation. */
const phpJson = (value: unknown): string => JSON.stringify(value).replace(/\//g, '\\/');

export function cmGroupBody(
  overrides: { user_id?: string; time_finished?: number; status?: 'live' | 'verify'; percentage?: number } = {},
): string {
  return phpJson({
    payload_type: 'single_user_test_results_group',
    payload_status: overrides.status ?? 'live',
    test: { test_id: 1234, test_name: 'Safety 101' },
    group: { group_id: 77, group_name: 'Night shift' },
    result: {
      user_id: overrides.user_id ?? '319118',
      first: 'Mary',
      last: 'Simmons',
      email: 'mary@example.com',
      percentage: overrides.percentage ?? 75.0,
      points_scored: 30,
      points_available: 40,
      requires_grading: 'No',
      time_started: 1765000000,
      time_finished: overrides.time_finished ?? 1765000600,
      duration: '00:10:00',
      percentage_passmark: 50,
      passed: true,
      feedback: 'Well done',
      give_certificate_only_when_passed: false,
      certificate_url: 'https://www.classmarker.com/cert/abc',
      view_results_url: 'https://www.classmarker.com/view/results/?required=abc',
    },
    questions: [
      {
        question_id: 501,
        question_type: 'multiplechoice',
        category_id: 9,
        points_available: 10,
        points_scored: 10,
        question: 'Pick A/B',
        options: { A: { content: 'yes' }, B: { content: 'no' } },
        correct_option: 'A',
        user_response: 'A',
        result: 'correct',
      },
      {
        question_id: 502,
        question_type: 'freetext',
        category_id: 9,
        points_available: 30,
        points_scored: 20,
        question: 'Explain',
        options: null,
        correct_option: null,
        user_response: 'Because',
        result: 'partial_correct',
      },
    ],
    category_results: [{ category_id: 9, name: 'General', percentage: 75, points_available: 40, points_scored: 30 }],
  });
}

export function cmLinkBody(linkResultId: number, overrides: { time_finished?: number; percentage?: number } = {}): string {
  return phpJson({
    payload_type: 'single_user_test_results_link',
    payload_status: 'live',
    test: { test_id: 1234, test_name: 'Safety 101' },
    link: { link_id: 38676, link_name: 'Public link', link_url_id: 'x9y8z7' },
    result: {
      link_result_id: linkResultId,
      first: 'Ann',
      last: '',
      email: '',
      percentage: overrides.percentage ?? 90.0,
      points_scored: 36,
      points_available: 40,
      requires_grading: 'No',
      time_started: 1765000000 + linkResultId,
      time_finished: overrides.time_finished ?? 1765000900 + linkResultId,
      duration: '00:15:00',
      percentage_passmark: 50,
      passed: true,
      access_code_question: 'Your code',
      access_code_used: 'abc123',
      extra_info_question: 'Department',
      extra_info_answer: 'Sales/Ops',
      cm_user_id: 'u-1',
      ip_address: '192.0.2.10',
    },
  });
}

export const cmHeaders = (body: string, secret = CM_SECRET): Record<string, string> => ({
  'content-type': 'application/json',
  'x-classmarker-hmac-sha256': classmarkerSignature(Buffer.from(body), secret),
});

/** A Testpress exam webhook body; `strings`: the older form with every number as a string. */
export function tpBody(
  attemptId: number,
  state: 'started' | 'completed',
  options: { strings?: boolean; privateKey?: string } = {},
): string {
  const completed = state === 'completed';
  const n = (value: number) => (options.strings ? String(value) : value);
  const payload: Record<string, unknown> = {
    username: 'student',
    accuracy: n(completed ? 80 : 0),
    exam: { id: n(27), title: 'File type exam', duration: null, start_date: '2023-03-15T12:04:32+05:30', end_date: null },
    subject_stats: completed
      ? [
          {
            subject_name: 'Quantitative',
            parent_subject_id: null,
            correct_answers_count: n(4),
            incorrect_answers_count: n(1),
            partial_correct_answers_count: n(0),
            unanswered_count: n(0),
            answered_count: n(5),
            total_count: n(5),
            score: '4.00',
          },
        ]
      : [],
    email: 'student@example.com',
    partial_correct_answers_count: completed ? n(0) : null,
    attempt_id: n(attemptId),
    attempt_state: state,
    incorrect_answers_count: n(completed ? 1 : 0),
    difficulty_level_stats: {},
    completed_on: completed ? '2023-03-31T16:27:41.151586+05:30' : null,
    unanswered_answers_count: n(0),
    key: TP_PUBLIC,
    attempt_start_time: '2023-03-31T10:55:54.968829Z',
    user_id: n(2),
    percentage: completed ? '80.00' : '0.00',
    score: completed ? '4.00' : '0.00',
    speed: n(0),
    institute_attempt_id: null,
    correct_answers_count: n(completed ? 4 : 0),
  };
  payload.hash = testpressHash(JSON.parse(JSON.stringify(payload)) as Record<string, unknown>, options.privateKey ?? TP_PRIVATE);
  return JSON.stringify(payload);
}

export async function post(
  url: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<number> {
  const response = await fetch(url, { method: 'POST', body, headers });
  await response.arrayBuffer();
  return response.status;
}
