// `results`: every candidate's results of each exam (task=api.queryResults, or the v1 API), incremental on endTime per exam.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { examSkips, INDEX_PHP, legacyQuery, oem, resultsEndpoint } from '../api.js';
import { attemptId, candidateId } from '../coerce.js';
import { exams } from './exams.js';

/** The `status` codes (docs/providers/onlineexammaker.md). */
const STATUS_MEANING: Record<number, string> = {
  0: 'in progress',
  1: 'submitted',
  2: 'timed out',
  3: 'forced by admin',
  4: 'submitted by system',
};

export const results = oem.stream({
  name: 'results',
  description:
    'Candidates’ results per exam, keyed by exam + candidate + start time (`tid`, the attempt id, is not sent by every deployment).',
  path: INDEX_PHP,
  parent: exams.each((exam) => ({ eid: exam.eid })),
  query: ({ context }) => ({ ...legacyQuery('api.queryResults'), eid: context.eid }),
  endpoint: ({ config, context }) => resultsEndpoint(config, context.eid),
  classify: ({ context }) => examSkips(context.eid),
  // Not `tid`: the document's answer and the v1 API do not send it, and a deployment may start to send
  // it later. One key for every payload keeps one attempt one row whatever the server sends, and a table
  // keeps the key it was created with (the targets refuse to re-key rows; docs/providers/onlineexammaker.md, "Keys").
  key: ['eid', 'sid', 'startTime'],
  // No server-side filter exists: every page is read and records before the look-back are dropped here.
  // A result still in progress has no endTime, so it is sent on every run until it finishes.
  // Inferred (the document and research say nothing on it): a result can appear after later ones, with
  // an endTime behind the bookmark; the simulator's advance adds finished results that ended up to 1 h
  // earlier (world.ts). As every page is read anyway, the look-back costs only re-sent rows, which
  // targets de-duplicate by key, so it is twice that.
  incremental: { cursor: 'endTime', sorted: false, partitioned: true, lookback: '2h' },
  // A new signed link on every answer: a result set aside and read again within the look-back keeps its reject_id.
  volatileFields: ['viewResult'],
  // A result without sid (the document's one-candidate shape, served for every candidate) has no key:
  // `sid` refuses it (candidateId), so it is set aside whole in _sdc_rejected_records and the run goes on.
  transform: (raw: Record<string, unknown>) => {
    const status = raw.status === undefined || raw.status === null || raw.status === '' ? null : Number(raw.status);
    return {
      ...raw,
      status,
      // 0 while the candidate is still answering (inferred: no in-progress sample in the document);
      // absent or null are read the same way rather than failing the run.
      endTime: raw.endTime === 0 || raw.endTime === '0' || raw.endTime === '' || raw.endTime == null ? null : raw.endTime,
      status_meaning: status === null ? null : (STATUS_MEANING[status] ?? null),
    };
  },
  record: z.object({
    eid: coerce.integer().describe('Exam id.'),
    sid: candidateId().describe('Candidate id (part of the key: a result without it is set aside in _sdc_rejected_records).'),
    name: coerce.emptyAsNull(coerce.text()).optional().describe('Candidate name (absent from the one-candidate answer).'),
    loginValue: coerce.emptyAsNull(coerce.text()).optional().describe('Candidate login (v1 API only).'),
    score: coerce
      .emptyAsNull(coerce.decimal())
      .describe('Score, exact; null when sent empty ("" or null, e.g. while the candidate is still answering; inferred).'),
    // Sent as 1/0, "1"/"0", true/false or "true"/"false" depending on the deployment (docs/providers/onlineexammaker.md).
    passed: coerce
      .emptyAsNull(coerce.booleanFromYesNo())
      .optional()
      .describe('Whether the candidate passed, as the exam’s own pass mark decides; absent where the deployment does not send it.'),
    tid: attemptId()
      .optional()
      .describe('The attempt id some deployments send (used as the certificate number); absent from the document’s answer and the v1 API.'),
    startTime: coerce.isoFromUnixSeconds().describe('When the candidate started (sent as UNIX seconds).'),
    endTime: coerce.isoFromUnixSeconds().nullable().describe('When the paper was submitted; null while in progress.'),
    // The document's section (2) sample of the every-candidate answer has no status; real deployments send it.
    status: coerce
      .emptyAsNull(coerce.integer())
      .describe('0 in progress, 1 submitted, 2 timed out, 3 forced by admin, 4 submitted by system; null where the API does not send it.'),
    status_meaning: z.string().nullable().describe('`status` in words; null without `status`.'),
    viewResult: coerce
      .emptyAsNull(coerce.text())
      .optional()
      .describe('Link to the detailed result. It expires 30 minutes after it was read: stored for reference, not for later use.'),
  }),
});
