// The tap's settings (snake_case, as Singer users expect), validated with zod.
import { SECRET_SETTING } from '@tapline/singer';
import { z } from 'zod';

const groupTest = z.object({ group_id: z.coerce.number().int().positive(), test_id: z.coerce.number().int().positive() });
const linkTest = z.object({ link_id: z.coerce.number().int().positive(), test_id: z.coerce.number().int().positive() });

export const configSchema = z.object({
  api_key: z.string().min(1).describe('ClassMarker API key (My Account > API/Webhooks).').meta(SECRET_SETTING),
  api_secret: z.string().min(1).describe('ClassMarker API secret; only ever used to sign requests.').meta(SECRET_SETTING),
  signature_algorithm: z
    .enum(['md5', 'sha256'])
    .default('md5')
    .describe('Hash for the request signature: md5 (the API document) or sha256 (what ClassMarker clients send since 2025).'),
  base_url: z.url().default('https://api.classmarker.com').describe('API base URL; point it at classmarker-simulator for local runs.'),
  start_date: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'Earliest time_finished to read on the first run (ISO 8601). ClassMarker serves at most ~3 months back; older values are clamped.',
    ),
  group_tests: z
    .array(groupTest)
    .optional()
    .describe('Read group results only for these {group_id, test_id} pairs (default: recent results of every group the key can see).'),
  link_tests: z
    .array(linkTest)
    .optional()
    .describe('Read link results only for these {link_id, test_id} pairs (default: recent results of every link the key can see).'),
  on_rate_limit: z
    .enum(['stop', 'wait'])
    .default('stop')
    .describe('On the hourly limit: stop (end cleanly with state saved, exit 0, log when to run next) or wait until allowed.'),
  requests_per_hour: z
    .number()
    .int()
    .min(1)
    .max(30)
    .default(30)
    .describe("The tap's own request budget per hour (ClassMarker allows 30 per API key)."),
  lookback_days: z
    .number({ error: 'is invalid: expected a whole number of days' })
    .int({ error: 'is invalid: expected a whole number of days' })
    .min(0, { error: 'is too small: expected 0 days or more' })
    .max(88, { error: 'is too large: ClassMarker serves results at most 3 months back, so at most 88 days' })
    .default(2)
    .describe(
      "Days before the bookmark every run reads again, so that an administrator's later edit of a graded result's points reaches the warehouse (each run re-reads that window; 0 turns it off).",
    ),
  grading_hold_days: z
    .number({ error: 'is invalid: expected a whole number of days' })
    .int({ error: 'is invalid: expected a whole number of days' })
    .min(0, { error: 'is too small: expected 0 days or more' })
    .max(88, { error: 'is too large: ClassMarker serves results at most 3 months back, so at most 88 days' })
    .default(14)
    .describe(
      'Days a result that still requires grading holds the bookmark, so every run re-reads it until its grade arrives; after that a WARNING names it and the bookmark moves on (0: never hold).',
    ),
  page_size: z.number().int().min(1).max(200).default(200).describe('Results per request (limit); 200 is the maximum and the default.'),
});

export type ClassMarkerConfig = z.output<typeof configSchema>;
