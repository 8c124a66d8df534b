// What the unified model must show for the attempts a Testpress simulator served, per attempts source.

/** One attempt as the unified model must show it, computed from the simulator's own data. */
export interface ServedAttempt {
  exam_id: string;
  score: number;
  max_score: number | null;
  percentage: number | null;
  passed: boolean | null;
  started_at: number | null; // ms
  finished_at: number | null; // ms
  duration_seconds: number | null;
  status: string;
  email: string | null;
  source_key: string;
}

const ms = (micros: number, style: string) => (style === 'utc-millis' ? Math.floor(micros / 1000) : micros / 1000);

/**
 * The attempts tap-testpress reads and how the model shows them. `admin` (the default source): every
 * attempt, dates in microseconds, the end from last_answer_updated_time, the verdict from `result`.
 * `exam`: the attempts of exams available to the account, dates as the attempt's style, the end
 * estimated as the later of date + time taken and the last resume (docs/providers/testpress.md).
 */
export function servedAttempts(world: any, source: 'admin' | 'exam'): ServedAttempt[] {
  const exams = new Map<number, any>(world.exams.map((e: any) => [e.id, e]));
  const users = new Map<number, any>(world.users.map((u: any) => [u.id, u]));
  return (world.attempts as any[])
    .filter((a) => source === 'admin' || exams.get(a.examId).availableToUser)
    .map((a): ServedAttempt => {
      const exam = exams.get(a.examId);
      const completed = a.state === 'Completed';
      const style = source === 'admin' ? 'utc-micros' : a.dateStyle;
      const start = ms(a.startMicros, style);
      // The admin API writes time_taken with microseconds for the utc-micros style (the simulator's choice).
      const fraction = source === 'admin' && a.dateStyle === 'utc-micros' ? (a.lastStartedMicros % 1_000_000) / 1e6 : 0;
      const lastAnswer = a.endMicros ?? a.lastStartedMicros + a.timeTakenSeconds * 1e6;
      const estimate = Math.max(start + (a.timeTakenSeconds + fraction) * 1000, ms(a.lastStartedMicros, style));
      const percentage =
        source === 'admin'
          ? Math.round((a.correct_count / a.total_questions) * 10000) / 100
          : Math.round((a.correct_count / a.total_questions) * 100);
      return {
        exam_id: String(a.examId),
        score: (a.correct_count * exam.markPerQuestionHundredths - a.incorrect_count * exam.negativeMarksHundredths) / 100,
        max_score: exam.variable_mark_per_question ? null : (a.total_questions * exam.markPerQuestionHundredths) / 100,
        percentage,
        // Only the admin API sends a verdict (`result`; "Not taken" while running).
        passed: source === 'admin' && completed ? percentage >= 40 : null,
        started_at: start,
        finished_at: completed ? (source === 'admin' ? lastAnswer / 1000 : estimate) : null,
        duration_seconds: a.timeTakenSeconds + fraction,
        status: completed ? 'finished' : 'in_progress',
        email: source === 'admin' ? users.get(a.userId).email : null,
        source_key: `attempt:${a.id}`,
      };
    });
}
