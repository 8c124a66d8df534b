// The `classmarker-simulator` bin: --port N --seed S --rate-limit-per-hour N (+ data and quirk switches),
// and --webhook-url to post its newest results as ClassMarker's webhooks (e.g. to `tapline serve`).
import { parseErrorAnswers, runSimulatorCli, sendWebhooksInTurn } from '@tapline/simulator-kit';
import type { GroupResult, LinkResult } from './data.js';
import { type ClassMarkerSimulator, resultWebhookBody, sendResultWebhook, startClassMarkerSimulator } from './index.js';

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
    'webhook-url': {
      type: 'string',
      description: 'once started, post the newest results to this URL as ClassMarker webhooks (e.g. a tapline serve receiver)',
    },
    'webhook-secret': { type: 'string', description: "the webhook's secret phrase the deliveries are signed with (with --webhook-url)" },
    'webhook-count': { type: 'number', default: 10, description: 'how many results to send, group and link results in turn' },
    'webhook-questions': {
      type: 'boolean',
      default: false,
      description: 'include questions and category results (the webhook setting of that name)',
    },
  },
  start: async ({ port, host, seed, faults, flags }) => {
    const url = flags['webhook-url'] as string | undefined;
    const secret = flags['webhook-secret'] as string | undefined;
    if (url !== undefined && !secret) throw new Error('--webhook-url needs --webhook-secret (the webhook secret phrase to sign with)');
    const simulator = await startClassMarkerSimulator({
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
    });
    if (url !== undefined)
      void sendResults(simulator, url, secret!, flags['webhook-count'] as number, flags['webhook-questions'] as boolean);
    return simulator;
  },
});

/** The newest `count` results, group and link in turn, each signed and sent until acknowledged (or its tries run out). */
function sendResults(simulator: ClassMarkerSimulator, url: string, secret: string, count: number, questions: boolean) {
  const newest = (results: (GroupResult | LinkResult)[]) => [...results].sort((a, b) => b.time_finished - a.time_finished);
  const groups = newest(simulator.data.groupResults.map((s) => s.result));
  const links = newest(simulator.data.linkResults.map((s) => s.result));
  const results = Array.from({ length: Math.max(groups.length, links.length) }, (_, i) => [groups[i], links[i]])
    .flat()
    .filter((r): r is GroupResult | LinkResult => r !== undefined)
    .slice(0, count);
  return sendWebhooksInTurn(
    'classmarker-simulator',
    url,
    results.map((result) => ({
      label: 'link_result_id' in result ? `link_result_id ${result.link_result_id}` : `group ${result.group_id}, user ${result.user_id}`,
      send: () => sendResultWebhook(url, secret, resultWebhookBody(simulator.data, result, { questions })),
    })),
  );
}
