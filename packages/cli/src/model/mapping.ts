// What a provider's mapping into the unified exam model declares.

import type { Provider } from '../plugins.js';
import type { Columns } from './columns.js';

/** The columns of `exam_results`, in view order (documented in packages/cli/README.md). */
export const RESULT_COLUMNS = [
  'exam_id',
  'exam_title',
  'candidate_id',
  'candidate_name',
  'email',
  'score',
  'max_score',
  'percentage',
  'passed',
  'started_at',
  'finished_at',
  'duration_seconds',
  'status',
  'source_key',
] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];

/**
 * Where `max_score` and `passed` came from, after `source_key` in `exam_results`: `provider` (the
 * vendor's data), `tapline.yml` (the user's exam settings, used only where the vendor sends nothing),
 * or NULL with the value. Filled by the model for every provider, not by the mappings.
 */
export const PROVENANCE_COLUMNS = ['max_score_source', 'passed_source'] as const;

/** Every column of `exam_results` after `provider`, in view order. */
export const MODEL_COLUMNS = [...RESULT_COLUMNS, ...PROVENANCE_COLUMNS] as const;

/** A table joined to a source for extra fields (e.g. the exam title), LEFT JOINed when it exists. */
export interface Lookup {
  alias: string;
  table: string;
  on: (source: Columns, lookup: Columns) => string;
}

/** One provider table of attempts, mapped column by column to `exam_results`. */
export interface ResultSource {
  table: string;
  /**
   * The table's key columns (its tap's key_properties): a table of that name without them is
   * another provider's (OnlineExamMaker's and CBTHost's are both `results` when loaded into one schema).
   */
  key: string[];
  lookups?: Lookup[];
  map: (source: Columns, lookups: Record<string, Columns>) => Record<ResultColumn, string>;
}

/** A provider table listing exams (so `exams` shows exams nobody has taken yet). */
export interface ExamSource {
  table: string;
  map: (source: Columns) => { exam_id: string; exam_title: string };
}

export interface ProviderModel {
  provider: Provider;
  results: ResultSource[];
  exams: ExamSource[];
}

/** `first last` with either part missing, or NULL when both are. */
export const fullName = (first: string, last: string): string => `NULLIF(trim(COALESCE(${first}, '') || ' ' || COALESCE(${last}, '')), '')`;

/** A timestamptz as whole unix seconds in text: the same in every session time zone and in both databases. */
export const unixSeconds = (timestamp: string): string => `CAST(CAST(floor(EXTRACT(EPOCH FROM ${timestamp})) AS BIGINT) AS VARCHAR)`;
