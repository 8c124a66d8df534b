// The error answers OnlineExamMaker is known to send, as the simulator's error-answer modes: the
// documented `{"status":"error","error":...}` object on HTTP 200 (docs/providers/onlineexammaker.md),
// other spellings PHP APIs use (inferred), and null, false and HTML.
import { commonErrorAnswers, type ErrorAnswers } from '@tapline/simulator-kit';

const json = (body: unknown) => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

export const OEM_ERROR_ANSWERS: ErrorAnswers = {
  /** The documented error object about one exam (an exam deleted since the list was read): the exam is skipped. */
  'exam-not-found-200': json({ status: 'error', error: 'The exam does not exist' }),
  /** The documented error object about the account. */
  'account-error-200': json({ status: 'error', error: 'Invalid verification code' }),
  /** The same with its words under `msg` (inferred: PHP APIs' other spelling). */
  'msg-error-200': json({ status: 'error', msg: 'Invalid verification code' }),
  /** A server failure reported in the body as `{"code": 500, "message": ...}` (inferred). */
  'server-error-200': json({ code: 500, message: 'Internal Server Error' }),
  /** PHP's json_encode(false) when a query fails (inferred). */
  'false-200': json(false),
  ...commonErrorAnswers('OnlineExamMaker'),
};
