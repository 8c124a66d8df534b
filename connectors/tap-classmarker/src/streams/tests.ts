// tests: every test assigned to a group or link the API key can see, from v1.json (full table).
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { catalogTests, classmarker } from '../api.js';

export const tests = classmarker.stream({
  name: 'tests',
  description: 'Tests (exams) assigned to the groups and links the API key can access.',
  // Full table with ACTIVATE_VERSION: a test deleted in ClassMarker is dropped (or marked deleted) downstream.
  activateVersion: true,
  key: ['test_id'],
  // A missing or blank name is null, never a stopped stream.
  record: z.object({ test_id: coerce.integer(), test_name: coerce.emptyAsNull(coerce.text()) }),
  fetch: catalogTests,
});
