// groups: every group the API key can see, from v1.json (full table).
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { assignedTestIds, catalogList, classmarker } from '../api.js';

export const groups = classmarker.stream({
  name: 'groups',
  description: 'Groups (registered-user exams) the API key can access, with their assigned test ids.',
  // Full table with ACTIVATE_VERSION: a group deleted in ClassMarker is dropped (or marked deleted) downstream.
  activateVersion: true,
  key: ['group_id'],
  record: z.object({
    group_id: coerce.integer().describe("ClassMarker's group id."),
    // a missing or blank name is null, never a stopped stream
    group_name: coerce.emptyAsNull(coerce.text()).describe("The group's name; null when missing or blank."),
    assigned_test_ids: z.array(coerce.integer()).describe('Ids of the tests assigned to the group (their names are in `tests`).'),
  }),
  fetch: catalogList('groups'),
  // Read into assigned_test_ids (the tests' names land in `tests`), so not kept again in _sdc_extra.
  consumes: ['assigned_tests'],
  transform: (raw) => ({ group_id: raw.group_id, group_name: raw.group_name, assigned_test_ids: assignedTestIds(raw) }),
});
