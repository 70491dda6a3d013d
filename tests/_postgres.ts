/**
 * Test helpers for the PostgreSQL message store: the database URLs from
 * `FT_POSTGRES_URL` and `FT_POSTGRES_OUTAGE_URL` (set by `.ci/postgres.sh`),
 * a fresh database per test, `pg_ctl` on the outage cluster
 * (`FT_POSTGRES_OUTAGE_DATA`, `FT_POSTGRES_BIN`, `FT_POSTGRES_RUN_AS`: only
 * that cluster is ever stopped, so test files running in parallel on the
 * shared one never see an outage that is not theirs), and the rule that CI
 * runs these tests: with `CI=true` and no URL, {@linkcode requirePostgres}
 * fails instead of the tests being skipped.
 *
 * @module
 */
import postgres from "postgres";
import {
  createScratchDatabase,
  type ScratchDatabase,
} from "../servers/postgres_scratch_database.ts";

/** The test cluster's database URL, when one is given. */
export const POSTGRES_URL: string | undefined = Deno.env.get(
  "FT_POSTGRES_URL",
) || undefined;

/** True when the PostgreSQL tests cannot run: ignore them (but see {@linkcode requirePostgres}). */
export const NO_POSTGRES: boolean = POSTGRES_URL === undefined;

/** The cluster the outage tests stop and start, when one is given. */
export const OUTAGE_POSTGRES_URL: string | undefined = Deno.env.get(
  "FT_POSTGRES_OUTAGE_URL",
) || undefined;

/** True when the outage tests cannot run (no cluster of their own to stop). */
export const NO_OUTAGE_POSTGRES: boolean = OUTAGE_POSTGRES_URL === undefined;

/**
 * A test that fails in CI when the PostgreSQL tests did not run, and says how
 * to run them locally otherwise.
 */
export function requirePostgres(file: string): void {
  const ci = Deno.env.get("CI") === "true";
  Deno.test({
    name:
      `${file}: the PostgreSQL tests run (FT_POSTGRES_URL and FT_POSTGRES_OUTAGE_URL are set)`,
    // Outside CI, a database without an outage cluster runs what it can.
    ignore: !ci && (NO_POSTGRES || NO_OUTAGE_POSTGRES),
    fn() {
      if (NO_POSTGRES || NO_OUTAGE_POSTGRES) {
        throw new Error(
          "Cannot run the PostgreSQL tests: FT_POSTGRES_URL or FT_POSTGRES_OUTAGE_URL is not set; in CI .ci/run sources .ci/postgres.sh, which sets them (locally: source .ci/postgres.sh)",
        );
      }
    },
  });
}

/**
 * Makes an empty database on a test cluster (the shared one unless told),
 * for one test; dropped on dispose (after starting the outage cluster again
 * if the test left it stopped).
 */
export async function freshDatabase(
  cluster: string = POSTGRES_URL!,
): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(cluster, "ft_test");
  return {
    ...db,
    async [Symbol.asyncDispose]() {
      await ensureStarted();
      await db.drop();
    },
  };
}

/** Runs a query on a database with a short-lived connection. */
export async function query(
  url: string,
  text: string,
): Promise<Record<string, unknown>[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return [...await sql.unsafe(text)];
  } finally {
    await sql.end();
  }
}

let running = true;

/** Runs `pg_ctl` on the outage cluster (as `FT_POSTGRES_RUN_AS` when set). */
async function pgCtl(args: string[]): Promise<void> {
  const data = Deno.env.get("FT_POSTGRES_OUTAGE_DATA");
  const bin = Deno.env.get("FT_POSTGRES_BIN");
  if (!data || !bin) {
    throw new Error(
      "Cannot stop or start PostgreSQL: FT_POSTGRES_OUTAGE_DATA and FT_POSTGRES_BIN are not set (source .ci/postgres.sh)",
    );
  }
  const runAs = Deno.env.get("FT_POSTGRES_RUN_AS");
  const command = [`${bin}/pg_ctl`, "-D", data, "-w", "-t", "60", ...args];
  const [program, ...rest] = runAs
    ? ["runuser", "-u", runAs, "--", ...command]
    : command;
  const output = await new Deno.Command(program, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(90_000),
  }).output();
  if (!output.success) {
    throw new Error(
      `pg_ctl ${args.join(" ")} failed: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

/** Stops the outage cluster (`pg_ctl stop -m fast`: every session is cut). */
export async function stopPostgres(): Promise<void> {
  await pgCtl(["-m", "fast", "stop"]);
  running = false;
}

/** Starts the outage cluster again and waits until it accepts connections. */
export async function startPostgres(): Promise<void> {
  const data = Deno.env.get("FT_POSTGRES_OUTAGE_DATA");
  await pgCtl(["-l", `${data}/server.log`, "start"]);
  running = true;
}

/** Starts the outage cluster if a test stopped it and failed before starting it. */
export async function ensureStarted(): Promise<void> {
  if (!running) await startPostgres();
}
