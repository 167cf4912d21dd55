/**
 * golang-migrate style migrations: files `NNNNNN_name.up.sql` / `NNNNNN_name.down.sql` in
 * `migrations/<svc>/`, and the pure rules of what to apply given the database's
 * `schema_migrations` state (one row: the current version and whether it is dirty).
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../lib/paths.ts";

/** The folder of the migrations (`migrations/<svc>/`). */
export const MIGRATIONS_ROOT: string = join(ROOT, "migrations");

/** One migration: its version, name and the paths of its up and (optional) down files. */
export interface Migration {
  version: number;
  name: string;
  up?: string;
  down?: string;
}

/** The parts of a migration file name. */
export interface MigrationFileName {
  version: number;
  name: string;
  direction: "up" | "down";
}

const FILE_RE = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.(up|down)\.sql$/;

/**
 * Parses `000001_outbox.up.sql`; other names give undefined (they are ignored, like
 * golang-migrate does).
 *
 * @example
 * ```ts
 * parseMigrationFileName("000002_orders.down.sql"); // { version: 2, name: "orders", direction: "down" }
 * ```
 */
export function parseMigrationFileName(file: string): MigrationFileName | undefined {
  const m = FILE_RE.exec(file);
  if (!m) return undefined;
  const version = Number(m[1]);
  if (!Number.isSafeInteger(version) || version < 1) return undefined;
  return { version, name: m[2]!, direction: m[3] as "up" | "down" };
}

/**
 * Groups file names into migrations sorted by version; two files for the same version and
 * direction, or one version under two names, throw.
 *
 * @param dir Prefixed to the file names to form the paths.
 */
export function collectMigrations(files: readonly string[], dir = ""): Migration[] {
  const byVersion = new Map<number, Migration>();
  for (const file of files) {
    const p = parseMigrationFileName(file);
    if (!p) continue;
    const m = byVersion.get(p.version) ?? { version: p.version, name: p.name };
    if (m.name !== p.name) {
      throw new Error(`migration ${p.version} has two names: ${m.name} and ${p.name}`);
    }
    if (m[p.direction]) throw new Error(`migration ${p.version} has two ${p.direction} files`);
    m[p.direction] = dir ? join(dir, file) : file;
    byVersion.set(p.version, m);
  }
  const out = [...byVersion.values()].sort((a, b) => a.version - b.version);
  for (const m of out) {
    if (!m.up) throw new Error(`migration ${m.version}_${m.name} has no .up.sql file`);
  }
  return out;
}

/** The migrations in a folder (none when it does not exist). */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return collectMigrations(files, dir);
}

/** The `schema_migrations` state: no row is version null. */
export interface MigrationState {
  version: number | null;
  dirty: boolean;
}

/** A refusal to migrate: the database needs a human first. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

function checkState(migrations: readonly Migration[], state: MigrationState, svc: string): void {
  if (state.version === null) return;
  if (state.dirty) {
    const prev = migrations.filter((m) => m.version < state.version!).at(-1)?.version ?? 0;
    throw new MigrationError(
      `migration ${state.version} of ${svc} is dirty: it failed or was interrupted. Fix the ` +
        `database by hand, then record the version it is really at with ` +
        `\`deno task service-init ${svc} --force <version>\` (${prev} if migration ` +
        `${state.version} left nothing behind, which is the usual case since each migration ` +
        `runs in a transaction; ${state.version} if it was applied) and run service-init again.`,
    );
  }
  if (!migrations.some((m) => m.version === state.version)) {
    throw new MigrationError(
      `${svc}'s database is at migration ${state.version}, which is not among its files ` +
        `(${migrations.map((m) => m.version).join(", ") || "none"}): is the checkout older ` +
        "than the database?",
    );
  }
}

/**
 * The migrations to apply, in order, to bring a database at `state` up to date.
 * A dirty state, or a version with no file, throws a {@linkcode MigrationError}.
 */
export function planUp(
  migrations: readonly Migration[],
  state: MigrationState,
  svc: string,
): Migration[] {
  checkState(migrations, state, svc);
  return migrations.filter((m) => state.version === null || m.version > state.version);
}

/** One step down: run `migration`'s down file, then record `target` (null: none applied). */
export interface DownStep {
  migration: Migration;
  target: number | null;
}

/** The steps to roll back the last `n` applied migrations. */
export function planDown(
  migrations: readonly Migration[],
  state: MigrationState,
  n: number,
  svc: string,
): DownStep[] {
  checkState(migrations, state, svc);
  if (state.version === null) return [];
  const applied = migrations.filter((m) => m.version <= state.version!);
  const steps: DownStep[] = [];
  for (let i = applied.length - 1; i >= 0 && steps.length < n; i--) {
    const m = applied[i]!;
    if (!m.down) {
      throw new MigrationError(`migration ${m.version}_${m.name} of ${svc} has no .down.sql file`);
    }
    steps.push({ migration: m, target: applied[i - 1]?.version ?? null });
  }
  return steps;
}
