// The bundled targets as libraries: their config schema and dialect, so tapline checks a target's
// config as the target will, and reads and writes state in exactly the table the target uses.

import {
  type BaseTargetConfig,
  type Dialect,
  stateTableRef,
  type TableRef,
  type Warehouse as TargetWarehouse,
  type WarehouseSession,
} from '@tapline/target-kit';
import type { z } from 'zod';
import { ExitCode, TaplineError } from './errors.js';
import { targetPackage, type Warehouse } from './plugins.js';

export interface TargetLibrary {
  dialect: Dialect<BaseTargetConfig>;
  configSchema: z.ZodObject;
  /** How the runner opens the warehouse and keeps its own tables there. */
  warehouse: TargetWarehouse;
}

/** Where opening a warehouse says it is waiting for another process's lock, and whom it waited for. */
export interface WaitLog {
  info(message: string): void;
  warn(message: string): void;
}

const EXPORTS: Record<Warehouse, [dialect: string, schema: string, warehouse: string]> = {
  postgres: ['postgresDialect', 'postgresConfigSchema', 'postgresWarehouse'],
  duckdb: ['duckdbDialect', 'duckdbConfigSchema', 'duckdbWarehouse'],
};

/** The target package of a warehouse, imported on first use (it may not be built yet). */
export async function targetLibrary(kind: Warehouse): Promise<TargetLibrary> {
  const [dialect, schema, warehouse] = EXPORTS[kind];
  let module: Record<string, unknown>;
  try {
    module = (await import(targetPackage(kind))) as Record<string, unknown>;
  } catch {
    throw new TaplineError(`${targetPackage(kind)} is not installed or not built yet: run \`pnpm install && pnpm build\` first.`);
  }
  if (!module[dialect] || !module[schema] || !module[warehouse]) {
    throw new TaplineError(`${targetPackage(kind)} does not export ${dialect}, ${schema} and ${warehouse}: rebuild it (\`pnpm build\`).`);
  }
  return {
    dialect: module[dialect] as Dialect<BaseTargetConfig>,
    configSchema: module[schema] as z.ZodObject,
    warehouse: module[warehouse] as TargetWarehouse,
  };
}

/**
 * Validates a target config as the target will, so a wrong setting is one sentence naming where it
 * was written (`describeKey`), exit 2, before anything starts. Unknown keys are left to the target
 * (it warns about them).
 */
export function checkTargetConfig(
  library: TargetLibrary,
  config: Record<string, unknown>,
  describeKey: (key: string) => string,
): BaseTargetConfig {
  const result = library.configSchema.safeParse(config);
  if (result.success) return result.data as BaseTargetConfig;
  const issue = result.error.issues[0]!;
  const [key, ...rest] = issue.path.map(String);
  const where = key === undefined ? describeKey('') : `${describeKey(key)}${rest.map((p) => `.${p}`).join('')}`;
  throw new TaplineError(`${where}: ${issue.message}.`);
}

/** The state table a parsed target config names, exactly as the target's loader resolves it. */
export function stateTableOf(library: TargetLibrary, config: BaseTargetConfig): TableRef {
  const table = stateTableRef(config, library.dialect as Dialect<unknown>);
  if (!table) throw new TaplineError('No state_table is set in the target config.');
  return table;
}

/** A session of the target's own, for the runner; a connection failure is a sentence with exit 4 (transient). */
export async function targetSession(
  library: TargetLibrary,
  config: BaseTargetConfig,
  doing: string,
  log?: WaitLog,
): Promise<WarehouseSession> {
  try {
    return await library.warehouse.open(config, log);
  } catch (error) {
    throw new TaplineError(`Cannot ${doing}: ${(error as Error).message}`, ExitCode.stateFailed);
  }
}
