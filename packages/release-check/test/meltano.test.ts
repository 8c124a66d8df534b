// What Meltano reads from our plugins: `--about --format json` in the Meltano SDK's shape, secrets
// marked, and the plugin definitions and meltano.yml under docs/meltano/ generated from it.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type About, aboutOfAsync, meltanoFiles, meltanoSetting, plugins } from '../../../scripts/meltano-plugins.mjs';

const SECRETS: Record<string, string[]> = {
  'tap-classmarker': ['api_key', 'api_secret'],
  'tap-testpress': ['password'],
  'tap-onlineexammaker': ['code'],
  'tap-cbthost': ['pass_codes'],
  'target-postgres': ['connection_string', 'sqlalchemy_url', 'password'],
  'target-duckdb': [],
};

const abouts: About[] = [];
beforeAll(async () => {
  for (const plugin of plugins()) abouts.push(await aboutOfAsync(plugin));
}, 300_000);

describe('--about --format json, as Meltano reads it', () => {
  it('covers every tap and target', () => {
    expect(abouts.map((about) => about.name).sort()).toEqual(Object.keys(SECRETS).sort());
  });

  it.each(Object.entries(SECRETS))('%s marks exactly its secret settings secret and writeOnly', (name, secrets) => {
    const about = abouts.find((a) => a.name === name);
    const marked = Object.entries(about?.settings.properties ?? {}).filter(([, schema]) => schema.secret === true);
    expect(marked.map(([key]) => key).sort()).toEqual([...secrets].sort());
    expect(marked.every(([, schema]) => schema.writeOnly === true)).toBe(true);
  });

  it('carries the fields the Meltano SDK emits, and no deprecated capability', () => {
    for (const about of abouts) {
      expect(Object.keys(about)).toEqual([
        'name',
        'description',
        'version',
        'sdk_version',
        'supported_python_versions',
        'capabilities',
        'settings',
      ]);
      expect(about.sdk_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(about.capabilities).not.toContain('properties');
    }
  });
});

describe('Meltano plugin definitions (docs/meltano/)', () => {
  it('give each setting its Meltano kind', () => {
    expect(meltanoSetting('api_secret', { type: 'string', secret: true, writeOnly: true })).toMatchObject({
      kind: 'password',
      sensitive: true,
    });
    expect(meltanoSetting('mode', { type: 'string', enum: ['a', 'b'], default: 'a' })).toMatchObject({
      kind: 'options',
      value: 'a',
      options: [
        { label: 'a', value: 'a' },
        { label: 'b', value: 'b' },
      ],
    });
    expect(meltanoSetting('start_date', { type: 'string', format: 'date-time' })).toMatchObject({ kind: 'date_iso8601' });
    expect(meltanoSetting('page_size', { type: 'integer' })).toMatchObject({ kind: 'integer' });
    expect(meltanoSetting('timeout', { type: 'number' })).toMatchObject({ kind: 'decimal' });
    expect(meltanoSetting('ids', { type: 'array' })).toMatchObject({ kind: 'array' });
  });

  it('match what the plugins say now (regenerate with node scripts/meltano-plugins.mjs)', () => {
    for (const [path, text] of meltanoFiles(abouts)) {
      expect(existsSync(path), `${path} is missing`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${path} is stale`).toBe(text);
    }
  });
});
