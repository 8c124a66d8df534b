// The orchestrator recipes of docs/orchestrators/: what can be checked without Airflow, Dagster,
// Kubernetes or Docker (none is installable here). YAML parses, the CronJob's project is one tapline
// accepts and its failure policy is the README's exit-code table, the cron wrapper is run, and the
// Python files compile.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exitOf } from './processes.js';

const repo = new URL('../../..', import.meta.url).pathname;
const recipes = join(repo, 'docs/orchestrators');
const tapline = join(repo, 'packages/cli/bin/tapline.js');
/** The codes a retry can help with; every recipe retries exactly these (docs/orchestrators/README.md). */
const RETRIED = [4, 10, 11, 130];
/** The codes that end a Kubernetes Job at once: a person must act (1-3), or the next schedule carries on (6). */
const FAIL_JOB = [1, 2, 3, 6];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function yamlDocuments(file: string): Record<string, any>[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(documents)) return [];
  for (const document of documents) if (document.errors.length > 0) throw document.errors[0];
  return documents.map((document) => document.toJS() as Record<string, any>);
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tapline-orchestrators-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the Kubernetes recipe', () => {
  const manifests = filesUnder(join(recipes, 'kubernetes')).filter((file) => file.endsWith('.yaml'));
  const cronJobFile = yamlDocuments(join(recipes, 'kubernetes/tapline-cronjob.yaml'));
  const cronJob = cronJobFile.find((d) => d.kind === 'CronJob') ?? {};
  const jobSpec = cronJob.spec?.jobTemplate?.spec ?? {};

  it.each(manifests.map((file) => [file.slice(recipes.length + 1), file]))('%s is valid YAML with a kind on every document', (_, file) => {
    expect(yamlDocuments(file).every((document) => typeof document.kind === 'string')).toBe(true);
  });

  it('never runs two Jobs at once, ends the Job at once on 1, 2, 3 and 6, and retries the rest', () => {
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    expect(jobSpec.template.spec.restartPolicy).toBe('Never');
    const failJob = jobSpec.podFailurePolicy.rules.find((rule: any) => rule.action === 'FailJob');
    expect(failJob.onExitCodes).toEqual({ containerName: 'tapline', operator: 'In', values: FAIL_JOB });
    expect(jobSpec.backoffLimit).toBeGreaterThan(0);
  });

  it('runs the image as its unprivileged user, with the Secret as the environment', () => {
    const pod = jobSpec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.containers[0].args.slice(0, 2)).toEqual(['run', '--all']);
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'tapline-secrets' } }]);
  });

  it('holds a tapline.yml that tapline accepts, with every ${ENV} it names in the Secret (an unreachable warehouse: exit 4, not 3)', async () => {
    const secret = cronJobFile.find((d) => d.kind === 'Secret')?.stringData as Record<string, string>;
    const project = cronJobFile.find((d) => d.kind === 'ConfigMap')?.data['tapline.yml'] as string;
    const named = [...project.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
    expect(Object.keys(secret).sort()).toEqual([...new Set(named)].sort());

    const dir = join(scratch, 'k8s-project');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tapline.yml'), project);
    const env = { ...process.env, ...secret, DATABASE_URL: 'postgres://tapline@127.0.0.1:1/warehouse' };
    const run = await exitOf(spawn(process.execPath, [tapline, 'run', '--all', '--summary-json'], { cwd: dir, env }));
    expect(run.code, run.stderr).toBe(4);
  });
});

describe('the cron recipe (cron/run-tapline.sh, with a stand-in tapline exiting with a given code)', () => {
  const script = join(recipes, 'cron/run-tapline.sh');
  let project: string;
  let bin: string;
  beforeAll(() => {
    project = join(scratch, 'cron-project');
    bin = join(scratch, 'bin');
    mkdirSync(project);
    mkdirSync(bin);
    writeFileSync(join(bin, 'tapline'), '#!/bin/sh\necho \'{"pipeline":"p","status":"stand-in"}\'\nexit "$STAND_IN_CODE"\n');
    chmodSync(join(bin, 'tapline'), 0o755);
  });
  const runWith = (code: number) =>
    exitOf(
      spawn(script, [project, '--all'], {
        env: { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, STAND_IN_CODE: String(code) },
      }),
    );

  it.each([[0, 0], [6, 0], ...RETRIED.map((code) => [code, code])])(
    'tapline exiting %i ends the cron job with %i and nothing on stderr',
    async (code, expected) => {
      const run = await runWith(code);
      expect(run.code).toBe(expected);
      expect(run.stderr).toBe('');
    },
  );

  it.each([1, 2, 3])('tapline exiting %i ends it with %i and a sentence on stderr, which cron mails', async (code) => {
    const run = await runWith(code);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(new RegExp(`tapline exited ${code}: fix the configuration`));
  });

  it('appends every summary line to logs/summary.jsonl', () => {
    const lines = readFileSync(join(project, 'logs/summary.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ pipeline: 'p', status: 'stand-in' });
  });

  it('skips a run, exit 0, while the previous one holds the lock', async () => {
    const holder = spawn('flock', [join(project, '.tapline-run.lock'), 'sleep', '30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const run = await runWith(3);
      expect(run.code).toBe(0);
      expect(readFileSync(join(project, 'logs/tapline.log'), 'utf8')).toContain('previous run still going; skipped');
    } finally {
      holder.kill();
    }
  });
});

describe('the Airflow and Dagster recipes (Airflow and Dagster are not installable here: no PyPI)', () => {
  const pythonFiles = filesUnder(recipes).filter((file) => file.endsWith('.py'));
  const python = spawn('python3', ['--version'], { stdio: 'ignore' });
  const hasPython = new Promise<boolean>((resolve) => {
    python.on('error', () => resolve(false));
    python.on('close', (code) => resolve(code === 0));
  });

  it.for(pythonFiles.map((file) => [file.slice(recipes.length + 1), file] as const))(
    '%s compiles with python3 -m py_compile (skipped where python3 is missing)',
    async ([, file], context) => {
      if (!(await hasPython)) return context.skip();
      const compiled = join(scratch, 'compiled.pyc');
      const run = await exitOf(spawn('python3', ['-m', 'py_compile', file], { env: { ...process.env, PYTHONPYCACHEPREFIX: compiled } }));
      expect(run.code, run.stderr).toBe(0);
    },
  );

  it.each(pythonFiles.map((file) => [file.slice(recipes.length + 1), file]))(
    '%s maps 6 to a warning or skip, and retries exactly 4, 10, 11 and 130',
    (_, file) => {
      const source = readFileSync(file, 'utf8');
      expect(source).toMatch(/skip_on_exit_code=6|returncode == 6/);
      if (source.includes('RETRIED')) expect(source).toContain(`RETRIED = {${RETRIED.join(', ')}}`);
    },
  );
});
