// links: every link the API key can see, from v1.json (full table).
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { assignedTestIds, catalogList, classmarker } from '../api.js';

export const links = classmarker.stream({
  name: 'links',
  description: 'Links (anonymous/public exam URLs) the API key can access, with their assigned test ids.',
  // Full table with ACTIVATE_VERSION: a link deleted in ClassMarker is dropped (or marked deleted) downstream.
  activateVersion: true,
  key: ['link_id'],
  record: z.object({
    link_id: coerce.integer().describe("ClassMarker's link id."),
    // a missing or blank name is null, never a stopped stream
    link_name: coerce.emptyAsNull(coerce.text()).describe("The link's name; null when missing or blank."),
    // Only sent when the key's permissions allow it / an access list is assigned [doc: Links Notes 1 and 2].
    link_url_id: coerce
      .text()
      .nullable()
      .describe(
        "The link's quiz id, which starts its exam (https://www.classmarker.com/online-test/start/?quiz=<link_url_id>); null unless the API key's permissions include it.",
      ),
    access_list_id: coerce
      .integer()
      .nullable()
      .describe('The id of the access list assigned to the link (the list `access-codes` edits); null when none is assigned.'),
    assigned_test_ids: z.array(coerce.integer()).describe('Ids of the tests assigned to the link (their names are in `tests`).'),
  }),
  fetch: catalogList('links'),
  // Read into assigned_test_ids (the tests' names land in `tests`), so not kept again in _sdc_extra.
  consumes: ['assigned_tests'],
  transform: (raw) => ({
    link_id: raw.link_id,
    link_name: raw.link_name,
    link_url_id: raw.link_url_id ?? null,
    access_list_id: raw.access_list_id ?? null,
    assigned_test_ids: assignedTestIds(raw),
  }),
});
