/**
 * The PostgreSQL message store's schema: the versioned migrations in
 * `migrations/`, applied once each, in order, on first start.
 *
 * @module
 */
import type { Sql } from "postgres";

/** The migration files, in order; the number before `_` is the version. */
export const MIGRATIONS: readonly string[] = ["001_messages.sql"];

/** Any number, shared by every process: the lock that serializes migrating. */
const MIGRATION_LOCK = 0x46545f4d; // "FT_M"

async function readMigration(name: string): Promise<string> {
  const url = new URL(`../migrations/${name}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`Cannot read migration ${url}: HTTP ${response.status}`);
  }
  return await response.text();
}

/**
 * Applies the migrations the database lacks, in one transaction under an
 * advisory lock (several processes starting at once apply each one once).
 * Resolves with the versions it applied.
 */
export async function migrate(sql: Sql): Promise<number[]> {
  const texts = await Promise.all(MIGRATIONS.map(readMigration));
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS ft_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const done = new Set(
      (await tx`SELECT version FROM ft_schema_migrations`).map((row) =>
        Number(row.version)
      ),
    );
    const applied: number[] = [];
    for (const [index, name] of MIGRATIONS.entries()) {
      const version = Number.parseInt(name, 10);
      if (done.has(version)) continue;
      await tx.unsafe(texts[index]);
      await tx`INSERT INTO ft_schema_migrations (version, name)
        VALUES (${version}, ${name})`;
      applied.push(version);
    }
    return applied;
  });
}
