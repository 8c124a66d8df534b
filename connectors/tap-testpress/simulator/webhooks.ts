// The simulator's side of Testpress's exam webhook (docs/providers/testpress.md, "Exam webhook"):
// an attempt as the JSON Testpress posts when it starts or completes, with its `hash`, sent again
// on anything but 2xx.
import { createHmac } from 'node:crypto';
import { sendWebhook, sendWebhooksInTurn, type WebhookSendOptions, type WebhookSendResult } from '@tapline/simulator-kit';
import type { TestpressAttempt, TestpressWorld } from './world.js';

export interface ExamWebhookKeys {
  /** The institute's public key, sent as `key`. */
  publicKey: string;
  privateKey: string;
}

const iso = (micros: number) =>
  new Date(Math.floor(micros / 1000)).toISOString().replace('Z', `${String(micros % 1000).padStart(3, '0')}Z`);

/** The exam webhook body for an attempt: `started`, or `completed` (a completed attempt only). */
export function examWebhookBody(
  world: TestpressWorld,
  attempt: TestpressAttempt,
  event: 'started' | 'completed',
  keys: ExamWebhookKeys,
  options: { numbersAsStrings?: boolean } = {},
): string {
  const user = world.users.find((u) => u.id === attempt.userId);
  const exam = world.exams.find((e) => e.id === attempt.examId);
  const completed = event === 'completed';
  const n = (value: number) => (options.numbersAsStrings ? String(value) : value);
  const correct = completed ? attempt.correct_count : 0;
  const incorrect = completed ? attempt.incorrect_count : 0;
  const unanswered = completed ? attempt.unanswered_count : 0;
  const score = `${correct}.00`;
  const percentage = completed && attempt.total_questions > 0 ? ((correct / attempt.total_questions) * 100).toFixed(2) : '0.00';
  const payload: Record<string, unknown> = {
    username: user?.username ?? '',
    email: user?.email ?? '',
    user_id: n(attempt.userId),
    attempt_id: n(attempt.id),
    attempt_state: event,
    attempt_start_time: iso(attempt.startMicros),
    completed_on: completed && attempt.endMicros !== null ? iso(attempt.endMicros) : null,
    exam: {
      id: n(attempt.examId),
      title: exam?.title ?? '',
      duration: null,
      start_date: exam ? iso(exam.startMicros) : null,
      end_date: null,
    },
    total_count: n(attempt.total_questions),
    correct_answers_count: n(correct),
    incorrect_answers_count: n(incorrect),
    unanswered_answers_count: n(unanswered),
    partial_correct_answers_count: completed ? n(0) : null,
    score,
    percentage,
    speed: n(0),
    accuracy: n(0),
    subject_stats: completed
      ? [
          {
            subject_name: 'General',
            parent_subject_id: null,
            correct_answers_count: n(correct),
            incorrect_answers_count: n(incorrect),
            partial_correct_answers_count: n(0),
            unanswered_count: n(unanswered),
            answered_count: n(correct + incorrect),
            total_count: n(attempt.total_questions),
            score,
          },
        ]
      : [],
    difficulty_level_stats: {},
    institute_attempt_id: null,
    key: keys.publicKey,
  };
  // hex HMAC-SHA512 with the private key over the |-joined values, in the documented order [doc].
  const message = [keys.publicKey, attempt.id, correct, keys.privateKey, incorrect, unanswered, percentage, score, attempt.userId]
    .map((v) => encodeURIComponent(String(v)))
    .join('|');
  payload.hash = createHmac('sha512', keys.privateKey).update(message).digest('hex');
  return JSON.stringify(payload);
}

/** Posts an exam webhook body until a 2xx (Testpress documents no retries; the simulator retries as ClassMarker does). */
export function sendExamWebhook(url: string, body: string, options?: WebhookSendOptions): Promise<WebhookSendResult> {
  return sendWebhook(url, body, { 'content-type': 'application/json' }, options);
}

/** The bin's `--webhook-url`: the `count` newest attempts, `started` for each, then `completed` for those that are. */
export function sendNewestAttempts(world: TestpressWorld, url: string, keys: ExamWebhookKeys, count: number) {
  const attempts = [...world.attempts].sort((a, b) => b.startMicros - a.startMicros).slice(0, count);
  const events = attempts.flatMap((attempt) =>
    (attempt.state === 'Completed' ? (['started', 'completed'] as const) : (['started'] as const)).map((event) => ({ attempt, event })),
  );
  return sendWebhooksInTurn(
    'testpress-simulator',
    url,
    events.map(({ attempt, event }) => ({
      label: `attempt_id ${attempt.id} ${event}`,
      send: () => sendExamWebhook(url, examWebhookBody(world, attempt, event, keys)),
    })),
  );
}
