// The `classmarker-simulator` bin: --port N --seed S --rate-limit-per-hour N (+ data and quirk switches).
import { parseErrorAnswers, runSimulatorCli } from '@tapline/simulator-kit';
import { startClassMarkerSimulator } from './index.js';

await runSimulatorCli({
  name: 'classmarker-simulator',
  description: 'A local ClassMarker v1 API (JSON and XML) with seeded results, signature checks and the hourly limit.',
  flags: {
    'rate-limit-per-hour': { type: 'number', default: 30, description: 'requests per API key per window' },
    'rate-limit-window-seconds': { type: 'number', default: 3600, description: 'length of the rate-limit window' },
    'group-results': { type: 'number', default: 500, description: 'seeded group results' },
    'link-results': { type: 'number', default: 2000, description: 'seeded link results' },
    'numbers-as-strings': {
      type: 'boolean',
      default: false,
      description: 'send result ids/percentages/timestamps as strings (2012 sample form)',
    },
    'legacy-payload': {
      type: 'boolean',
      default: false,
      description: 'the older result form: numbers as strings, no status/passed/percentage_passmark/certificate fields',
    },
    'null-names': { type: 'boolean', default: false, description: 'some results carry null first and/or last names' },
    'blank-emails': { type: 'boolean', default: false, description: 'group results too may carry a blank e-mail ("" or spaces)' },
    'awaiting-grading': {
      type: 'number',
      description: 'the latest N group and N link results still require grading (default: about 1 in 10 of the last 3 days)',
    },
    'error-http-status': { type: 'boolean', default: false, description: 'send 4xx/429/5xx with error envelopes instead of HTTP 200' },
    'error-answer': {
      type: 'string',
      description:
        'serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes unknown-code-200, error-message-200, bare-error-200, internal-error-200, request-limit-reached-200, null, html',
    },
    anchor: { type: 'number', description: 'UNIX seconds the seeded results end at (default: now)' },
    'link-url-id': {
      type: 'boolean',
      default: false,
      description: "send links' link_url_id (off by default, as for an API key without that permission)",
    },
    'view-results-url': {
      type: 'boolean',
      default: false,
      description: "send results' view_results_url (off by default, as in ClassMarker's API settings)",
    },
    monitoring: {
      type: 'boolean',
      default: false,
      description: 'variant: results carry the newer test_type and monitor_events (proctoring) fields',
    },
    'split-seconds-at-page-edge': {
      type: 'boolean',
      default: false,
      description: 'cut pages at limit even inside a second (the hazardous reading; the document promises no loss)',
    },
  },
  start: ({ port, host, seed, faults, flags }) =>
    startClassMarkerSimulator({
      port,
      host,
      seed,
      faults,
      rateLimitPerHour: flags['rate-limit-per-hour'] as number,
      rateLimitWindowSeconds: flags['rate-limit-window-seconds'] as number,
      groupResults: flags['group-results'] as number,
      linkResults: flags['link-results'] as number,
      numbersAsStrings: flags['numbers-as-strings'] as boolean,
      errorHttpStatus: flags['error-http-status'] as boolean,
      legacyPayload: flags['legacy-payload'] as boolean,
      nullNames: flags['null-names'] as boolean,
      blankEmails: flags['blank-emails'] as boolean,
      awaitingGrading: flags['awaiting-grading'] as number | undefined,
      anchor: flags.anchor as number | undefined,
      linkUrlId: flags['link-url-id'] as boolean,
      viewResultsUrl: flags['view-results-url'] as boolean,
      monitoring: flags.monitoring as boolean,
      splitSecondsAtPageEdge: flags['split-seconds-at-page-edge'] as boolean,
      errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
    }),
});
