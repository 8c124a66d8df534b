// Accounts: the schema each account's tables go to, the refusal of two accounts sharing tables, and
// the account a stored state belongs to (compared on every run, stored without any secret).
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { normaliseName } from '@tapline/target-kit';
import { TaplineError } from './errors.js';
import type { Logger } from './log.js';
import type { PipelinePlan } from './pipeline.js';
import { describeCommand, isProvider, parseCommand, type Warehouse } from './plugins.js';
import type { Project } from './project.js';
import { readBinding, readState, type StateLocation, writeBinding } from './state-store.js';
import { PLACES } from './warehouse.js';

/**
 * The schema a tap's tables go to on a bundled target: the tap's own `schema`, else the target's
 * `default_target_schema`, else the tap's name: one schema per account (README, "Several accounts").
 */
export function accountSchema(project: Project, tapName: string, targetConfig: Record<string, unknown>): string | undefined {
  const tap = project.taps[tapName];
  if (tap?.schema !== undefined) return tap.schema;
  if (targetConfig.default_target_schema !== undefined) return String(targetConfig.default_target_schema);
  return isProvider(tap?.type ?? tapName) ? tapName : undefined;
}

/** The vendor a tap reads: its bundled connector, or the command of a third-party tap. */
export function vendorOf(project: Project, tapName: string, cwd: string): string {
  const tap = project.taps[tapName];
  if (tap?.command) return describeCommand(parseCommand(tap.command, cwd));
  return tap?.type ?? tapName;
}

/** Where a pipeline's tables go: the warehouse (for equality only: it may hold a password) and the schema. */
export interface TableHome {
  pipeline: string;
  tap: string;
  vendor: string;
  target: string;
  warehouse: string;
  schema: string;
}

/** One warehouse's identity from a target config: the DuckDB file, or the PostgreSQL server and database. */
export function warehouseIdentity(kind: Warehouse, config: Record<string, unknown>, cwd: string): string {
  return PLACES[kind].identity(config, cwd);
}

/**
 * Refuses a run whose tap would load into the tables another pipeline of the project loads another
 * account of the same vendor into: its rows would overwrite that account's rows of equal keys, and
 * its ACTIVATE_VERSION retire the rest.
 */
export function refuseSharedTables(run: TableHome, others: readonly TableHome[], projectFile: string | undefined): void {
  const schema = normaliseName(run.schema, 63);
  const clash = others.find(
    (other) =>
      other.pipeline !== run.pipeline &&
      other.tap !== run.tap &&
      other.vendor === run.vendor &&
      other.warehouse === run.warehouse &&
      normaliseName(other.schema, 63) === schema,
  );
  if (!clash) return;
  throw new TaplineError(
    `${projectFile ?? 'tapline.yml'}: pipelines ${run.pipeline} (tap ${run.tap}) and ${clash.pipeline} (tap ${clash.tap}) both load ${run.vendor} into schema ${schema} ` +
      `of the same warehouse, so each account's rows and ACTIVATE_VERSION would overwrite and retire the other's: ` +
      `give each tap its own schema (leave default_target_schema unset, and each loads into a schema named after its tap, or set taps.<name>.schema).`,
  );
}

/** What makes two taps the same account of one vendor, holding no secret: stored with the state, compared on every run. */
export interface AccountBinding {
  /** The tap's name in tapline.yml (the model's `account`), when the state was bound. */
  account: string;
  vendor: string;
  /** The API address (without user info, query, and on loopback without port), or null. */
  base_url: string | null;
  /** A keyed hash (HMAC-SHA256, 128 bits) of the settings that name the account, or null when there are none. */
  credentials: string | null;
}

/** Settings that say whose account it is (ClassMarker api_key, Testpress username, OnlineExamMaker code, a token). */
const IDENTIFYING =
  /^(key|api_key|access_key|client_id|username|user|login|email|account|account_id|code|token|subdomain|tenant)$|_(api_key|token)$/i;
/** Secrets that only prove it: used when nothing identifies the account, so rotating one keeps the binding otherwise. */
const SECRET = /^(secret|password|passwd)$|_(secret|password)$/i;

/** The settings whose values name the account, sorted by key. */
function namingSettings(config: Record<string, unknown>): [string, unknown][] {
  const valued = Object.entries(config).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  const identifying = valued.filter(([k]) => IDENTIFYING.test(k));
  return (identifying.length > 0 ? identifying : valued.filter(([k]) => SECRET.test(k))).sort(([a], [b]) => (a < b ? -1 : 1));
}

export function accountBinding(account: string, vendor: string, config: Record<string, unknown>): AccountBinding {
  const chosen = namingSettings(config);
  const credentials =
    chosen.length === 0
      ? null
      : createHmac('sha256', `tapline account ${vendor}`).update(JSON.stringify(chosen)).digest('hex').slice(0, 32);
  const url = config.base_url ?? config.api_url ?? config.url;
  return { account, vendor, base_url: typeof url === 'string' ? plainBaseUrl(url) : null, credentials };
}

/**
 * A base URL as an account's address: no user info, query or fragment (they may hold secrets), and
 * no port on loopback, where a simulator or tunnel takes any free port for the same account.
 */
export function plainBaseUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname);
  return `${url.protocol}//${url.hostname}${loopback || url.port === '' ? '' : `:${url.port}`}${url.pathname.replace(/\/+$/, '')}`;
}

const sameAccount = (a: AccountBinding, b: AccountBinding): boolean =>
  a.vendor === b.vendor && a.base_url === b.base_url && a.credentials === b.credentials;

/** How a binding reads in a message: the vendor and address, never a credential or its hash. */
const describeAccount = (b: AccountBinding): string =>
  `the ${b.vendor} account at ${b.base_url ?? 'its default address'} (tap ${b.account})`;

/** How the bound account and the tap's differ, naming settings but never their values. */
function differences(bound: AccountBinding, current: AccountBinding, config: Record<string, unknown>): string {
  const said: string[] = [];
  if (bound.vendor !== current.vendor) said.push(`${bound.vendor} then, ${current.vendor} now`);
  if (bound.base_url !== current.base_url) said.push(`${bound.base_url ?? 'no address'} then, ${current.base_url ?? 'no address'} now`);
  if (bound.credentials !== current.credentials) {
    const names = namingSettings(config).map(([k]) => k);
    said.push(names.length > 0 ? `another ${names.join(' or ')}` : 'credentials then, none now');
  }
  return said.join('; ');
}

/** Where a pipeline's binding is kept: beside its state, in the warehouse or in .tapline/state/. */
interface BindingStore {
  read(): Promise<AccountBinding | undefined>;
  write(binding: AccountBinding): Promise<void>;
}

function bindingStore(plan: PipelinePlan, location: StateLocation | undefined, stateFile: string): BindingStore {
  if (location) return { read: () => readBinding(location, plan.name), write: (b) => writeBinding(location, plan.name, b) };
  const file = stateFile.replace(/\.json$/, '.account.json');
  return {
    read: async () => (existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as AccountBinding) : undefined),
    write: async (b) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify(b)}\n`);
    },
  };
}

export interface AccountCheck {
  plan: PipelinePlan;
  location: StateLocation | undefined;
  stateFile: string;
  /** `--new-account`: start this account from no state and bind the pipeline to it. */
  newAccount?: boolean | undefined;
  log: Logger;
}

/**
 * The state this run may resume from, after checking it was read from the account the tap now
 * points at. Another account's state is refused (resuming would skip this account's history); a
 * state stored before states were bound is bound now, and the log says so.
 */
export async function stateForAccount(state: unknown, check: AccountCheck): Promise<unknown> {
  const { plan, log } = check;
  const current = accountBinding(plan.tap.name, plan.tap.vendor, plan.tap.config);
  const store = bindingStore(plan, check.location, check.stateFile);
  const bound = await store.read();
  const same = bound !== undefined && sameAccount(bound, current);
  if (check.newAccount) {
    await store.write(current);
    const other = bound !== undefined && !same ? `; the stored state was ${describeAccount(bound)}'s, whose rows stay where they are` : '';
    log.warn(
      `pipeline ${plan.name}: --new-account: ${describeAccount(current)} starts from no state (a full sync) and the pipeline is bound to it${other}`,
    );
    return undefined;
  }
  if (state === undefined) {
    if (check.location) await refuseStateLeftBehind(plan, check.location);
    if (!same) await store.write(current);
    return undefined;
  }
  if (bound === undefined) {
    await store.write(current);
    log.warn(
      `pipeline ${plan.name}: its stored state was bound to no account (it was stored by an older tapline); it is bound now to ${describeAccount(current)}, ` +
        `which this run reads: if that state came from another account, stop this pipeline and run tapline state clear ${plan.name}`,
    );
    return state;
  }
  if (same) return state;
  throw new TaplineError(
    `Pipeline ${plan.name}'s stored state was read from another account than tap ${plan.tap.name} now reads (${differences(bound, current, plan.tap.config)}), ` +
      `and resuming from it would skip this account's history: start this account fresh by running again with --new-account ` +
      `(or tapline state clear ${plan.name} first), or give it a tap of its own in tapline.yml so it loads beside the other account.`,
  );
}

/**
 * A tap named otherwise than its connector loaded into the connector's schema before taps had
 * schemas of their own: a state left there means this is no first run, and a full sync into a new
 * schema would surprise. Says how to go on there, or to start in the tap's schema on purpose.
 */
async function refuseStateLeftBehind(plan: PipelinePlan, location: StateLocation): Promise<void> {
  const { name: tap, vendor } = plan.tap;
  if (!isProvider(vendor) || tap === vendor || location.config.default_target_schema !== tap) return;
  const before = { ...location, config: { ...location.config, default_target_schema: vendor } };
  if ((await readState(before, plan.name)) === undefined) return;
  throw new TaplineError(
    `Pipeline ${plan.name} has no state in schema ${tap}, where tap ${tap} now loads (a schema per account), but has one in schema ${vendor}, ` +
      `where its tables were loaded before: to go on there, set taps.${tap}.schema: ${vendor} in tapline.yml; to load this account into ${tap} from the beginning, run again with --new-account.`,
  );
}
