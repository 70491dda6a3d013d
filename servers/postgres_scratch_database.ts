/**
 * A PostgreSQL database made for one run and dropped after it: what the
 * message store's tests, its benchmark and the conformance runner use to
 * keep each scenario's messages apart on one server. The URL's user needs
 * the CREATEDB privilege.
 *
 * @module
 */
import postgres from "postgres";

/** A database made by {@linkcode createScratchDatabase}. */
export interface ScratchDatabase extends AsyncDisposable {
  /** Its URL: the given one with the database name replaced. */
  url: string;
  /** Its name. */
  name: string;
  /** Drops it, cutting whoever is still connected. */
  drop(): Promise<void>;
}

async function run(url: string, statement: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end();
  }
}

/**
 * Makes an empty database on the server `url` points at, named
 * `<prefix>_<pid>_<random>` (letters, digits and `_` only in `prefix`): unique
 * across processes and across the workers of one (`deno test --parallel`).
 *
 * @example Usage
 * ```ts ignore
 * import { createScratchDatabase } from "./postgres_scratch_database.ts";
 * await using db = await createScratchDatabase("postgres://ft@127.0.0.1:5432/ft");
 * console.log(db.url); // postgres://ft@127.0.0.1:5432/ft_scratch_1234_3f9a0c12e7b4
 * ```
 */
export async function createScratchDatabase(
  url: string,
  prefix = "ft_scratch",
): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) {
    throw new RangeError(
      `Cannot name a scratch database "${prefix}_...": expected lower-case letters, digits and _`,
    );
  }
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const name = `${prefix}_${Deno.pid}_${suffix}`;
  await run(url, `CREATE DATABASE ${name}`);
  const at = new URL(url);
  at.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const drop = () =>
    dropped ??= run(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  return { url: at.href, name, drop, [Symbol.asyncDispose]: drop };
}
