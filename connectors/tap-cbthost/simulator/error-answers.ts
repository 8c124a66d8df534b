// The error answers CBTHost is known to send, as the simulator's error-answer modes: the document's
// envelopes (docs/providers/cbthost.md) also served with HTTP 200, as PHP backends do, plus null and HTML.
import { commonErrorAnswers, type ErrorAnswers } from '@tapline/simulator-kit';

const json = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const CBTHOST_ERROR_ANSWERS: ErrorAnswers = {
  /** The mass endpoint's documented "no results" 404 body, with HTTP 200. */
  'no-results-200': json({ status: 'error', message: 'No results found for this test ID' }),
  /** The single endpoint's documented "not found" 404 body, with HTTP 200. */
  'invalid-pass-code-200': json({ serverstatus: 404, message: 'cbt pass code is invalid, or no record found' }),
  /** The single endpoint's documented 400 body, with HTTP 200. */
  'missing-headers-200': json({ serverstatus: 400, message: 'Missing required headers: cbt_pass_code, test_id' }),
  /** A refused pass code in the mass envelope, with HTTP 200 (inferred). */
  'unauthorized-200': json({ status: 'error', message: 'Unauthorized' }),
  /** A server failure reported in the body, with HTTP 200 (inferred). */
  'server-error-200': json({ serverstatus: 500, message: 'Server Error' }),
  ...commonErrorAnswers('CBTHost'),
};
