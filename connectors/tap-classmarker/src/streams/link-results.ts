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
    link_result_id: coerce.integer(),
    link_id: coerce.integer(),
    ...resultFields,
    access_code: answer,
    extra_info: answer,
    extra_info2: answer,
    extra_info3: answer,
    extra_info4: answer,
    extra_info5: answer,
    cm_user_id: answer,
    ip_address: answer,
  }),
  query: (ctx) => ({ limit: ctx.config.page_size }),
  incremental: recentResultsIncremental,
  records: resultsWithTestNames,
  transform: resultTransform,
});
