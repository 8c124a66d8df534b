// The simulator's side of ClassMarker's webhook (docs/providers/classmarker.md, "Webhooks"): a
// stored result as the payload ClassMarker posts, in PHP's JSON (`\/` escapes), signed over exactly
// the bytes sent, and sent again on anything but 2xx.
import { createHmac } from 'node:crypto';
import { sendWebhook, sendWebhooksInTurn, type WebhookSendOptions, type WebhookSendResult } from '@tapline/simulator-kit';
import type { ClassMarkerData, GroupResult, LinkResult } from './world.js';

/** PHP's json_encode escapes `/` as `\/` (inferred from the vendor's PHP stack): the signature covers these bytes. */
const phpJson = (value: unknown): string => JSON.stringify(value).replace(/\//g, '\\/');

export interface WebhookPayloadOptions {
  /** `verify`: the sample "Verify on Save" sends. */
  status?: 'live' | 'verify';
  /** Include questions and category results (a webhook setting) [doc]. */
  questions?: boolean;
}

/** The webhook body for one stored group or link result. */
export function resultWebhookBody(data: ClassMarkerData, result: GroupResult | LinkResult, options: WebhookPayloadOptions = {}): string {
  const test = data.tests.find((t) => t.test_id === result.test_id);
  const { status: _status, ...common } = result;
  const isLink = 'link_result_id' in result;
  const body: Record<string, unknown> = {
    payload_type: isLink ? 'single_user_test_results_link' : 'single_user_test_results_group',
    payload_status: options.status ?? 'live',
    test: { test_id: result.test_id, test_name: test?.test_name ?? '' },
  };
  if (isLink) {
    const link = data.links.find((l) => l.link_id === result.link_id);
    const { access_code, extra_info, extra_info2, extra_info3, extra_info4, extra_info5, ...rest } = common as LinkResult;
    body.link = { link_id: result.link_id, link_name: link?.link_name ?? '', link_url_id: link?.link_url_id ?? '' };
    body.result = {
      ...rest,
      access_code_question: 'Access code',
      access_code_used: access_code,
      ...Object.fromEntries(
        (['', '2', '3', '4', '5'] as const).flatMap((n, i) => [
          [`extra_info${n}_question`, `Question ${i + 1}`],
          [`extra_info${n}_answer`, [extra_info, extra_info2, extra_info3, extra_info4, extra_info5][i]],
        ]),
      ),
    };
  } else {
    const group = data.groups.find((g) => g.group_id === (result as GroupResult).group_id);
    body.group = { group_id: (result as GroupResult).group_id, group_name: group?.group_name ?? '' };
    // Webhooks send user_id as a string [doc CM-S5].
    body.result = { ...common, user_id: String((result as GroupResult).user_id) };
  }
  if (options.questions) {
    const scored = result.points_scored;
    body.questions = [
      {
        question_id: 1,
        question_type: 'multiplechoice',
        category_id: 1,
        points_available: result.points_available,
        points_scored: scored,
        question: 'Which is right?',
        options: { A: { content: 'This/that' }, B: { content: 'Other' } },
        correct_option: 'A',
        user_response: scored > 0 ? 'A' : 'B',
        result: scored > 0 ? 'correct' : 'incorrect',
        feedback: '',
      },
    ];
    body.category_results = [
      { category_id: 1, name: 'General', percentage: result.percentage, points_available: result.points_available, points_scored: scored },
    ];
  }
  return phpJson(body);
}

/** Signs the body (base64 HMAC-SHA256 with the webhook's secret phrase) and posts it until a 2xx. */
export function sendResultWebhook(url: string, secret: string, body: string, options?: WebhookSendOptions): Promise<WebhookSendResult> {
  const signature = createHmac('sha256', secret).update(body).digest('base64');
  return sendWebhook(url, body, { 'content-type': 'application/json', 'x-classmarker-hmac-sha256': signature }, options);
}

/** The bin's `--webhook-url`: the newest `count` results, group and link in turn, each sent until acknowledged (or its tries run out). */
export function sendNewestResults(data: ClassMarkerData, url: string, secret: string, options: { count: number; questions: boolean }) {
  const newest = (results: (GroupResult | LinkResult)[]) => [...results].sort((a, b) => b.time_finished - a.time_finished);
  const groups = newest(data.groupResults.map((s) => s.result));
  const links = newest(data.linkResults.map((s) => s.result));
  const results = Array.from({ length: Math.max(groups.length, links.length) }, (_, i) => [groups[i], links[i]])
    .flat()
    .filter((r): r is GroupResult | LinkResult => r !== undefined)
    .slice(0, options.count);
  return sendWebhooksInTurn(
    'classmarker-simulator',
    url,
    results.map((result) => ({
      label: 'link_result_id' in result ? `link_result_id ${result.link_result_id}` : `group ${result.group_id}, user ${result.user_id}`,
      send: () => sendResultWebhook(url, secret, resultWebhookBody(data, result, { questions: options.questions })),
    })),
  );
}
