// Settings: misspelt keys refused with the closest valid name, .env read, variables typed by the setting.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestName, loadConfig } from '../src/config.js';
import { runTapCli } from '../src/index.js';
import { examTap } from './support/exam-tap.js';

const settings = z.object({
  api_key: z.string().min(1),
  api_secret: z.string().min(1),
  start_date: z.string().optional(),
  page_size: z.number().int().min(1).default(200),
  include_archived: z.boolean().default(false),
  exam_ids: z.array(z.number().int()).optional(),
  mode: z.enum(['stop', 'wait']).default('stop'),
  pairs: z.array(z.object({ group_id: z.number().int(), test_id: z.number().int() })).optional(),
});

function dir(files: Record<string, string> = {}): string {
  const path = mkdtempSync(join(tmpdir(), 'tap-kit-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
  return path;
}

function load(options: { config?: Record<string, unknown>; env?: NodeJS.ProcessEnv; dotenv?: string }) {
  const cwd = dir(options.dotenv !== undefined ? { '.env': options.dotenv } : {});
  const files = options.config ? [join(cwd, 'config.json')] : [];
  if (options.config) writeFileSync(files[0]!, JSON.stringify(options.config));
  return loadConfig({ tapName: 'tap-exams', schema: settings, files, env: options.env ?? {}, cwd });
}

const CREDENTIALS = { api_key: 'k', api_secret: 's3cr3t-value' };

describe('a key that names no setting', () => {
  it('is an error naming it and the closest valid setting, with the file it is in', () => {
    const cwd = dir({ 'config.json': JSON.stringify({ api_key: 'k', api_secert: 's3cr3t-value' }) });
    const file = join(cwd, 'config.json');
    const load = () => loadConfig({ tapName: 'tap-exams', schema: settings, files: [file], env: {}, cwd });
    expect(load).toThrow(`config: unknown setting "api_secert" in ${file} (did you mean "api_secret"?).`);
    expect(load).not.toThrow(/s3cr3t-value/);
  });

  it('lists the settings when no name is close', () => {
    expect(() => load({ config: { ...CREDENTIALS, colour: 'blue' } })).toThrow(
      /unknown setting "colour" in .*config\.json \(the settings here are api_key, api_secret, start_date, page_size, include_archived, exam_ids, mode, pairs, request_timeout, max_response_mb\)/,
    );
  });

  it('is found inside lists of objects too, with its path', () => {
    expect(() =>
      load({
        config: {
          ...CREDENTIALS,
          pairs: [
            { group_id: 1, test_id: 2 },
            { group_id: 3, tset_id: 4 },
          ],
        },
      }),
    ).toThrow(/unknown setting "pairs\[1\]\.tset_id" in .*config\.json \(did you mean "pairs\[1\]\.test_id"\?\)/);
  });

  it('is reported before a missing setting it may explain', () => {
    expect(() => load({ config: { api_key: 'k', api_secert: 'x' } })).toThrow(/^config: unknown setting "api_secert"/);
  });

  it('leaves keys starting with "_" to tools (notes, Meltano extras)', () => {
    expect(load({ config: { ...CREDENTIALS, _comment: 'school A', _select: ['exams.*'] } })).toMatchObject(CREDENTIALS);
  });

  it('in a variable: an error when it is a misspelling of a setting', () => {
    expect(() => load({ config: CREDENTIALS, env: { TAP_EXAMS_PAGESIZE: '50' } })).toThrow(
      'config: unknown setting "pagesize" from TAP_EXAMS_PAGESIZE (did you mean TAP_EXAMS_PAGE_SIZE?).',
    );
  });

  it("in a variable: left alone when it is another tool's (Meltano extras, an inheriting plugin's settings, unrelated names)", () => {
    const env = {
      TAP_EXAMS__SELECT: '["exams.*"]',
      TAP_EXAMS__LOAD_SCHEMA: 'exams',
      TAP_EXAMS_SCHOOL_A_API_KEY: 'other',
      TAP_EXAMS_SCHOOL_A_PAGE_SIZE: '10',
      TAP_EXAMS_HOME: '/srv/exams',
    };
    expect(load({ config: CREDENTIALS, env })).toMatchObject({ ...CREDENTIALS, page_size: 200 });
  });

  it('the CLI: one CRITICAL line and exit 3 (config)', async () => {
    const cwd = dir({ 'config.json': JSON.stringify({ base_url: 'http://127.0.0.1:9', api_kye: 'k' }) });
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (chunk) => (err += chunk));
    const code = await runTapCli(examTap, ['--config', join(cwd, 'config.json')], { stdout: new PassThrough(), stderr, env: {}, cwd });
    expect(code).toBe(3);
    expect(err).toBe(`CRITICAL config: unknown setting "api_kye" in ${join(cwd, 'config.json')} (did you mean "api_key"?).\n`);
  });
});

describe('closestName', () => {
  it.each([
    ['api_secert', 'api_secret'],
    ['startdate', 'start_date'],
    ['PAGE_SIZE', 'page_size'],
    ['page-size', 'page_size'],
    ['api_kye', 'api_key'],
    ['secret', undefined],
    ['colour', undefined],
  ])('%s -> %s', (name, expected) => {
    expect(closestName(name, Object.keys(settings.shape))).toBe(expected);
  });
});

describe('TAP_<NAME>_<KEY> variables take the setting’s type', () => {
  it('numbers, booleans and arrays (as JSON); text stays text', () => {
    const env = {
      TAP_EXAMS_API_KEY: '00123',
      TAP_EXAMS_API_SECRET: 'true',
      TAP_EXAMS_PAGE_SIZE: '50',
      TAP_EXAMS_INCLUDE_ARCHIVED: 'yes',
      TAP_EXAMS_EXAM_IDS: '[1, 2]',
      TAP_EXAMS_MODE: 'wait',
    };
    expect(load({ env })).toEqual({
      api_key: '00123',
      api_secret: 'true',
      page_size: 50,
      include_archived: true,
      exam_ids: [1, 2],
      mode: 'wait',
    });
  });

  it('refuses text that is not of the type, naming the variable and never its value', () => {
    const env = {
      ...{ TAP_EXAMS_API_KEY: 'k', TAP_EXAMS_API_SECRET: 's' },
      TAP_EXAMS_PAGE_SIZE: '5O',
      TAP_EXAMS_INCLUDE_ARCHIVED: 'maybe',
      TAP_EXAMS_EXAM_IDS: '1,2',
    };
    expect(() => load({ env })).toThrow(
      'config: setting "page_size" from TAP_EXAMS_PAGE_SIZE must be an integer; setting "include_archived" from TAP_EXAMS_INCLUDE_ARCHIVED must be true or false; setting "exam_ids" from TAP_EXAMS_EXAM_IDS must be a JSON array.',
    );
  });

  it('an empty variable is unset for a typed setting', () => {
    expect(load({ config: CREDENTIALS, env: { TAP_EXAMS_PAGE_SIZE: '' } })).toMatchObject({ page_size: 200 });
  });
});

describe('.env in the working directory', () => {
  it('is read for TAP_<NAME>_<KEY> variables, typed the same way', () => {
    expect(load({ dotenv: 'TAP_EXAMS_API_KEY=k\nexport TAP_EXAMS_API_SECRET="s 1"\n# a note\nTAP_EXAMS_PAGE_SIZE=25\n' })).toMatchObject({
      api_key: 'k',
      api_secret: 's 1',
      page_size: 25,
    });
  });

  it('loses to the environment, and both lose to --config files', () => {
    const dotenv = 'TAP_EXAMS_API_KEY=from-dotenv\nTAP_EXAMS_API_SECRET=from-dotenv\nTAP_EXAMS_PAGE_SIZE=25\n';
    const config = load({ dotenv, env: { TAP_EXAMS_API_SECRET: 'from-env', TAP_EXAMS_PAGE_SIZE: '30' }, config: { page_size: 40 } });
    expect(config).toMatchObject({ api_key: 'from-dotenv', api_secret: 'from-env', page_size: 40 });
  });

  it('names itself in errors, never the values', () => {
    const attempt = () => load({ dotenv: 'TAP_EXAMS_API_KEY=k\nTAP_EXAMS_API_SECRET=hunter2\nTAP_EXAMS_PAGE_SIZE=hunter2\n' });
    expect(attempt).toThrow('config: setting "page_size" from TAP_EXAMS_PAGE_SIZE in .env must be an integer.');
    expect(attempt).not.toThrow(/hunter2/);
  });

  it('is optional', () => {
    expect(load({ config: CREDENTIALS })).toMatchObject(CREDENTIALS);
  });
});
