// The live progress line: drawn on stderr only when stderr is a terminal, never on stdout, and
// stepped aside for every log line.
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap, runTapCli } from '../src/index.js';
import { jsonFile } from './support/run-cli.js';

const ERASE = '\r\x1b[K';

/** A tap whose one stream yields a page, pauses past the progress line's first redraw (500 ms), logs, then yields another. */
const api = defineApi({ config: z.object({ base_url: z.string() }), baseUrl: (config) => config.base_url });
const ticks = api.stream({
  name: 'ticks',
  key: ['id'],
  record: z.object({ id: z.number().int() }),
  async *fetch({ log }) {
    yield [{ id: 1 }, { id: 2 }, { id: 3 }];
    await sleep(700);
    log.info('between pages'); // a log line while the progress line is drawn
    await sleep(300);
    yield [{ id: 4 }];
  },
});
const slowTap = defineTap({ name: 'tap-ticks', description: 'Ticks slowly.', version: '1.0.0', api, streams: [ticks] });

/** Runs the CLI with stderr posing as a terminal (isTTY, 80 columns) or as a pipe. */
async function runOnce(terminal: boolean) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), terminal ? { isTTY: true, columns: 80 } : {});
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await runTapCli(slowTap, ['--config', jsonFile({ base_url: 'http://127.0.0.1:9' })], { stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}

// One run per kind of stderr, shared by the tests that read it (each run takes about a second).
const runs = new Map<boolean, ReturnType<typeof runOnce>>();
const run = (terminal: boolean) => runs.get(terminal) ?? runs.set(terminal, runOnce(terminal)).get(terminal)!;

describe('the live progress line', () => {
  it('is drawn on a terminal stderr, as "stream: N records (R/s)", and never written to stdout', async () => {
    const tty = await run(true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/\r\x1b\[Kticks: 3 records \(\d+\/s\)/);
    // stdout is Singer messages only: one JSON object per line, no carriage return or escape code.
    expect(tty.stdout).not.toMatch(/[\r\x1b]/);
    for (const line of tty.stdout.trimEnd().split('\n')) expect(JSON.parse(line)).toHaveProperty('type');
    const records = tty.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((m) => m.type === 'RECORD');
    expect(records.map((m) => m.record.id)).toEqual([1, 2, 3, 4]);
  });

  it('is erased before every log line and at the end, so log lines stay whole', async () => {
    const { stderr } = await run(true);
    const between = stderr.indexOf('between pages');
    expect(between).toBeGreaterThan(0);
    // Before the log line's level there are only drawn-and-erased progress lines: any drawn one is erased first.
    const lineStart = stderr.lastIndexOf('\n', between) + 1;
    expect(stderr.slice(lineStart, between)).toMatch(/^(?:\r\x1b\[K(?:ticks: [^\r\n]*)?)*INFO $/);
    // Nothing is left drawn after the last line.
    expect(stderr.endsWith('\n') || stderr.endsWith(ERASE)).toBe(true);
    expect(stderr.slice(stderr.lastIndexOf('\n') + 1)).toMatch(/^(\r\x1b\[K(ticks: [^\r]*)?)*$/);
  });

  it('is not drawn when stderr is a pipe: plain log lines only', async () => {
    const piped = await run(false);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/[\r\x1b]/);
    expect(piped.stderr).toContain('between pages');
  });
});
