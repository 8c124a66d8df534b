// tapline.yml: `${NAME}` values take the type of the setting they fill; .env is read under the environment.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/project.js';

const PROJECT = `
taps:
  classmarker:
    config:
      api_key: \${CM_KEY}
      api_secret: \${CM_SECRET}
      page_size: \${CM_PAGE_SIZE}
      requests_per_hour: \${CM_BUDGET:-20}
      group_tests: \${CM_GROUP_TESTS}
      base_url: http://\${CM_HOST}
  custom:
    command: ./tap-custom.js
    config:
      page_size: \${CM_PAGE_SIZE}
targets:
  duckdb:
    config:
      path: \${DUCKDB_PATH}
      batch_size_rows: \${ROWS}
      hard_delete: \${HARD_DELETE}
`;

function projectDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tapline-project-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const ENV = {
  CM_KEY: '00123',
  CM_SECRET: 'true',
  CM_PAGE_SIZE: '50',
  CM_GROUP_TESTS: '[{"group_id": 1, "test_id": 2}]',
  CM_HOST: '127.0.0.1:8080',
  DUCKDB_PATH: 'exams.duckdb',
  ROWS: '5000',
  HARD_DELETE: 'yes',
};

describe('tapline.yml: ${NAME} takes the type of the setting it fills', () => {
  it('numbers, booleans and JSON for a bundled tap and target; text settings stay text, even when they look like numbers', async () => {
    const { project } = await loadProject(undefined, projectDir({ 'tapline.yml': PROJECT }), ENV);
    expect(project.taps.classmarker!.config).toEqual({
      api_key: '00123',
      api_secret: 'true',
      page_size: 50,
      requests_per_hour: 20,
      group_tests: [{ group_id: 1, test_id: 2 }],
      base_url: 'http://127.0.0.1:8080',
    });
    expect(project.targets.duckdb!.config).toEqual({ path: 'exams.duckdb', batch_size_rows: 5000, hard_delete: true });
  });

  it('a tap run by command declares no settings here: its values stay text', async () => {
    const { project } = await loadProject(undefined, projectDir({ 'tapline.yml': PROJECT }), ENV);
    expect(project.taps.custom!.config).toEqual({ page_size: '50' });
  });

  it('text that is not of the type is an error naming the file, the key and the reference, never the value', async () => {
    const dir = projectDir({ 'tapline.yml': PROJECT });
    const load = loadProject(undefined, dir, { ...ENV, CM_PAGE_SIZE: 'fifty-s3cret' });
    await expect(load).rejects.toThrow(
      `${path.join(dir, 'tapline.yml')}: taps.classmarker.config.page_size: \${CM_PAGE_SIZE} must be an integer for this setting.`,
    );
    await expect(loadProject(undefined, dir, { ...ENV, CM_PAGE_SIZE: 'fifty-s3cret' })).rejects.not.toThrow(/s3cret/);
  });
});

describe('tapline.yml: .env in the working directory', () => {
  it('fills ${NAME} where the environment does not; the environment wins', async () => {
    const dotenv = 'CM_KEY=from-dotenv\nCM_SECRET=from-dotenv\nROWS=100\n';
    const { project } = await loadProject(undefined, projectDir({ 'tapline.yml': PROJECT, '.env': dotenv }), {
      ...ENV,
      CM_KEY: undefined,
      CM_SECRET: 'from-env',
      ROWS: undefined,
    });
    expect(project.taps.classmarker!.config).toMatchObject({ api_key: 'from-dotenv', api_secret: 'from-env' });
    expect(project.targets.duckdb!.config).toMatchObject({ batch_size_rows: 100 });
  });

  it('is optional: an unset variable is still an error naming it', async () => {
    const dir = projectDir({ 'tapline.yml': PROJECT });
    await expect(loadProject(undefined, dir, { ...ENV, CM_KEY: undefined })).rejects.toThrow(
      'taps.classmarker.config.api_key: environment variable CM_KEY is not set',
    );
  });
});
