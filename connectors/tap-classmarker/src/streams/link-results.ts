// link_results: results of link (public URL) takers, incremental on time_finished.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { classmarker } from '../api.js';
import { recentResultsIncremental, resultFields, resultsWithTestNames, resultTransform } from './result-fields.js';

/** What the taker typed or the integrator passed: text, or digits sent as a number; blank is null. */
const answer = coerce.emptyAsNull(coerce.text()).optional();

export const linkResults = classmarker.stream({
  name: 'link_results',
  description: 'Recent results from every link (or the configured link/test pairs), oldest first.',
  path: 'v1/links/recent_results.json',
  partitions: (config) => (config.link_tests?.length ? config.link_tests : [{}]),
  // A configured link/test pair reads that pair's own list.
  endpoint: ({ context }) =>
    context.link_id === undefined ? undefined : { path: 'v1/links/{link_id}/tests/{test_id}/recent_results.json' },
  // "Unique 'Test Result ID'" [doc]; a re-opened exam is re-sent with the same id.
  key: ['link_result_id'],
  record: z.object({
    link_result_id: coerce
      .integer()
      .describe('ClassMarker\'s unique id of this result ("Test Result ID"); a re-opened exam is re-sent with it.'),
    link_id: coerce.integer().describe("ClassMarker's id of the link the test was taken through."),
    ...resultFields,
    access_code: answer.describe('The access code the taker used to start the test; null when none.'),
    extra_info: answer.describe("The taker's answer to the link's first extra-information question; null when blank."),
    extra_info2: answer.describe("The taker's answer to the second extra-information question; null when blank."),
    extra_info3: answer.describe("The taker's answer to the third extra-information question; null when blank."),
    extra_info4: answer.describe("The taker's answer to the fourth extra-information question; null when blank."),
    extra_info5: answer.describe("The taker's answer to the fifth extra-information question; null when blank."),
    cm_user_id: answer.describe("The cm_user_id your system passed in the link's start URL (kept as text); null when none."),
    ip_address: answer.describe("The taker's IP address; null when not sent."),
  }),
  query: (ctx) => ({ limit: ctx.config.page_size }),
  incremental: recentResultsIncremental,
  records: resultsWithTestNames,
  transform: resultTransform,
});
