// The error answers ClassMarker is known to send, as the simulator's error-answer modes: its error
// envelope on HTTP 200 [doc: "All ClassMarker's requests return a HTTP 200 Success header even if an
// API system error occurs"; docs/providers/classmarker.md], the 2012 sample's request_limit_reached, other error
// spellings seen in client code, plus null and HTML.
import { commonErrorAnswers, type ErrorAnswers } from '@tapline/simulator-kit';

const json = (body: unknown) => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});
const at = 1_700_000_000;

export const CLASSMARKER_ERROR_ANSWERS: ErrorAnswers = {
  /** A code the tap does not know, in the documented envelope. */
  'unknown-code-200': json({
    status: 'error',
    request_path: 'v1',
    server_timestamp: at,
    error: { error_code: 'accountLocked', error_message: 'Access denied. This account is locked.' },
  }),
  /** The documented envelope with its words under error.message instead of error.error_message (inferred). */
  'error-message-200': json({
    status: 'error',
    request_path: 'v1',
    server_timestamp: at,
    error: { message: 'Access denied. Your API key authorization failed.' },
  }),
  /** `{"error": "..."}` without `status`, as a gateway in front of the API answers (inferred). */
  'bare-error-200': json({ error: 'Forbidden' }),
  /** internalError101 in the documented envelope: retried. */
  'internal-error-200': json({
    status: 'error',
    request_path: 'v1',
    server_timestamp: at,
    error: {
      error_code: 'internalError101',
      error_message: 'Internal database error. Contact ClassMarker with API Error code 101 if error persists.',
    },
  }),
  /** The 2012 sample's rate-limit status [doc CM-S1]. */
  'request-limit-reached-200': json({ status: 'request_limit_reached', request_path: 'v1', server_timestamp: at }),
  ...commonErrorAnswers('ClassMarker'),
};
