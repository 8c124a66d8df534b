// Settings that exist for tests and diagnosis, not for users: given to `runTarget` as options.

/** Test and diagnosis settings of a run (none is a config key: they never change what is loaded). */
export interface TargetKnobs {
  /** Input read on the main thread before encode workers start (default 8 MiB; tests set 0 to run every record through the workers). */
  readonly workersAfterBytes?: number;
  /** Input per block handed to a worker (default 1 MiB; tests set 1: a line per block). */
  readonly workerBlockBytes?: number;
  /**
   * Every row written from a plain record's bytes is also encoded the parsing way, and any
   * difference stops the load as a bug (the repository's test suites run with it).
   */
  readonly checkPlainRows?: boolean;
}

/**
 * The knobs as the environment sets them: TAPLINE_WORKERS_AFTER_BYTES, TAPLINE_WORKER_BLOCK_BYTES
 * and TAPLINE_CHECK_PLAIN_ROWS=1. Read at the edges only (the CLI, and `runTarget` when its caller
 * gives none), so that a test suite's setting reaches targets run in-process and as children alike.
 */
export function knobsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TargetKnobs {
  const size = (name: string) => {
    const value = Number(env[name]);
    return env[name] !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const workersAfterBytes = size('TAPLINE_WORKERS_AFTER_BYTES');
  const workerBlockBytes = size('TAPLINE_WORKER_BLOCK_BYTES');
  return {
    ...(workersAfterBytes === undefined ? {} : { workersAfterBytes }),
    ...(workerBlockBytes === undefined ? {} : { workerBlockBytes }),
    checkPlainRows: env.TAPLINE_CHECK_PLAIN_ROWS === '1',
  };
}
