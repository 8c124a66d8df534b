// `tap-classmarker access-codes add|remove --list ID --file codes.txt`: the access-list write API.
import { readFileSync } from 'node:fs';
import { createHttpClient } from '@tapline/http';
import { type Subcommand, TapError, UsageError } from '@tapline/tap-kit';
import { classMarkerHttp } from './api.js';
import type { ClassMarkerConfig } from './config.js';

const BATCH = 100; // "A maximum of 100 Codes can be Added per request" (and Removed) [doc]
const MAX_CODE_LENGTH = 255; // [doc]

/** One code per line; blank lines and repeats are dropped; a bad line is named by its number. */
export function readCodes(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TapError(`Cannot read the codes file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`, 'config');
  }
  const codes = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    const code = line.trim();
    if (code === '') return;
    if (code.length > MAX_CODE_LENGTH) {
      throw new TapError(
        `${file} line ${index + 1}: an access code is at most ${MAX_CODE_LENGTH} characters (this one has ${code.length}).`,
        'config',
      );
    }
    codes.add(code);
  });
  if (codes.size === 0) throw new TapError(`${file} holds no access codes (one per line).`, 'config');
  return [...codes];
}

export const accessCodes: Subcommand<ClassMarkerConfig> = {
  description: 'add or remove access codes of an access list, in batches of 100',
  usage: 'add|remove --list ID --file codes.txt',
  async run({ args, flags, config, log }) {
    const action = args[0];
    if (action !== 'add' && action !== 'remove') throw new UsageError('access-codes needs "add" or "remove".');
    const list = flags.list ?? '';
    if (!/^\d+$/.test(list)) throw new UsageError('access-codes needs --list with the numeric access list id.');
    if (!flags.file || flags.file === 'true') throw new UsageError('access-codes needs --file with one code per line.');
    const codes = readCodes(flags.file);
    // "API Rate Limits do not apply when adding or removing Access codes" [doc]: no hourly budget here.
    const http = createHttpClient({
      ...classMarkerHttp(config, { budget: false }),
      baseUrl: config.base_url,
      logger: log,
      secrets: { values: [config.api_key, config.api_secret] },
    });
    try {
      let changed = 0;
      let total: unknown;
      for (let start = 0; start < codes.length; start += BATCH) {
        const batch = codes.slice(start, start + BATCH);
        const response = await http.request<{ access_lists?: { access_list?: Record<string, unknown> } }>({
          method: action === 'add' ? 'POST' : 'DELETE',
          path: `v1/accesslists/${list}.json`,
          body: JSON.stringify(batch),
          endpoint: 'v1/accesslists/{id}.json',
        });
        const summary = response.body.access_lists?.access_list ?? {};
        changed += Number(String(summary[action === 'add' ? 'num_codes_added' : 'num_codes_deleted'] ?? 0));
        total = summary.num_codes_total;
        log.info(`access list ${list}: batch ${start / BATCH + 1} of ${Math.ceil(codes.length / BATCH)} sent (${batch.length} codes).`);
      }
      log.info(
        `access list ${list}: ${changed} of ${codes.length} codes ${action === 'add' ? 'added' : 'removed'}; the list now holds ${String(total)} codes.`,
      );
    } finally {
      await http.close();
    }
  },
};
