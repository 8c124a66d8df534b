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
  record: z.object({
    test_id: coerce.integer().describe("ClassMarker's test id."),
    test_name: coerce.emptyAsNull(coerce.text()).describe("The test's name; null when missing or blank."),
  }),
  fetch: catalogTests,
});
