// tapline.yml's `queue:`: where `tapline worker` and `tapline schedule` keep the job queue, and how
// it retries and recovers. Only zod here: project.ts reads it.
import { z } from 'zod';

const positiveInteger = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
  z.number().int().min(1),
);

export const queueObjectSchema = z.strictObject({
  /** The PostgreSQL database of the queue (default: the one the project's PostgreSQL targets load into). */
  url: z.string().min(1).optional(),
  /** The schema graphile-worker keeps its tables in: tapline's own, so another graphile-worker app in the database is left alone. */
  schema: z.string().min(1).default('tapline_queue'),
  /** Attempts of one run before its job is left failed (graphile-worker backs off exp(attempt) seconds between them). */
  max_attempts: positiveInteger.default(8),
  /** How often a worker looks for jobs held by workers that died (a SIGKILL, a lost machine) and frees them. */
  dead_worker_check_seconds: positiveInteger.default(30),
});

/** `queue: postgres://...` or `queue: {url, schema, max_attempts, dead_worker_check_seconds}`. */
export const queueSchema = z.preprocess((value) => (typeof value === 'string' ? { url: value } : value), queueObjectSchema);
export type QueueSettings = z.infer<typeof queueObjectSchema>;
