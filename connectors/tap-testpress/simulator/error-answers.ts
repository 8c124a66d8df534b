// The error answers Testpress (Django REST framework) is known to send, as the simulator's
// error-answer modes: DRF's `{"detail": ...}` bodies served with HTTP 200 (as a proxy or an older
// deployment rewriting the status would; inferred), field errors, and null and HTML.
import { commonErrorAnswers, type ErrorAnswers } from '@tapline/simulator-kit';

const json = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const TESTPRESS_ERROR_ANSWERS: ErrorAnswers = {
  /** DRF's not-found body (docs/providers/testpress.md) with HTTP 200: for an exam's attempts, the exam is gone. */
  'not-found-200': json({ detail: 'Not found.' }),
  /** DRF's permission-denied body (docs/providers/testpress.md) with HTTP 200. */
  'permission-denied-200': json({ detail: 'You do not have permission to perform this action.' }),
  /** DRF's field errors (docs/providers/testpress.md, drf-jwt's login failure) with HTTP 200. */
  'field-errors-200': json({ non_field_errors: ['Unable to log in with provided credentials.'] }),
  ...commonErrorAnswers('Testpress'),
};
