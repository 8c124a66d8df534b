import { describe, expect, it } from 'vitest';
import { createLogger, levelOfLine } from '../src/index.js';

const capture = (options: Parameters<typeof createLogger>[0] = {}) => {
  const lines: string[] = [];
  const log = createLogger({ env: {}, ...options, write: (line) => void lines.push(line) });
  return { log, lines };
};

describe('the logger', () => {
  it('writes Singer-style `LEVEL message` lines, fields as key=value, a source as a prefix', () => {
    const { log, lines } = capture();
    log.info('stream exams: 3 records', { pages: 2 });
    log.warn('listing cut short');
    log.log('error', 'refused', { source: 'target' });
    log.metric('counter', 'record_count', 3, { endpoint: 'exams' });
    expect(lines).toEqual([
      'INFO stream exams: 3 records pages=2\n',
      'WARN listing cut short\n',
      'ERROR [target] refused\n',
      'INFO METRIC: {"type":"counter","metric":"record_count","value":3,"tags":{"endpoint":"exams"}}\n',
    ]);
  });

  it('writes one JSON object per line in json format, with the level by name and an ISO time', () => {
    const { log, lines } = capture({ format: 'json' });
    log.warn('listing cut short', { stream: 'exams' });
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'warn',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      stream: 'exams',
      message: 'listing cut short',
    });
  });

  it('drops lines below its level; the level comes from TAPLINE_LOG_LEVEL when none is given', () => {
    const quiet = capture({ level: 'error' });
    quiet.log.warn('not shown');
    quiet.log.error('shown');
    expect(quiet.lines).toEqual(['ERROR shown\n']);
    const fromEnv = capture({ env: { TAPLINE_LOG_LEVEL: 'debug' } });
    fromEnv.log.debug('details');
    expect(fromEnv.lines).toEqual(['DEBUG details\n']);
    const byDefault = capture();
    byDefault.log.debug('details');
    expect(byDefault.lines).toEqual([]);
  });

  it('redacts each finished line', () => {
    const { log, lines } = capture({ redact: (line) => line.replaceAll('s3cret', '[REDACTED]') });
    log.info('key s3cret', { url: '/x?key=s3cret' });
    expect(lines).toEqual(['INFO key [REDACTED] url=/x?key=[REDACTED]\n']);
  });
});

describe("reading the level of another program's line", () => {
  it.each([
    ['WARN stream exams: cut short', 'warn', 'stream exams: cut short'],
    ['WARNING stream exams: cut short', 'warn', 'stream exams: cut short'],
    ['2026-01-02T03:04:05.000Z WARN old tap-kit line', 'warn', 'old tap-kit line'],
    ['2026-01-02 03:04:05,678 | WARNING  | tap-foo | a Meltano SDK line', 'warn', 'tap-foo | a Meltano SDK line'],
    ['INFO fake-tap starting', 'info', 'fake-tap starting'],
    ['DEBUG details', 'debug', 'details'],
    ['CRITICAL the API key was rejected', 'error', 'CRITICAL the API key was rejected'],
    ['a line with no level', 'info', 'a line with no level'],
    ['{"level":"warn","time":"2026-01-02T03:04:05Z","message":"cut short","stream":"exams"}', 'warn', 'cut short'],
    ['{"level":40,"msg":"pino default keys"}', 'warn', 'pino default keys'],
  ])('%s', (line, level, message) => {
    expect(levelOfLine(line)).toMatchObject({ level, message });
  });
});
